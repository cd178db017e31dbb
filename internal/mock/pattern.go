package mock

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// A pattern is a route's path or host: literal parts and named parts that
// capture one part each; a path's last part may be {name...}, which captures
// the rest of the path. Parts are path segments or host labels.
type pattern struct {
	src   string
	parts []part
	rest  bool // the last part is {name...}
}

type part struct {
	lit  string // the literal (unescaped for paths, lower case for hosts)
	name string // the capture's name, or "" for a literal
}

// parsePath parses a path pattern such as /orders/{id} or /files/{p...}.
func parsePath(src string) (*pattern, error) {
	if !strings.HasPrefix(src, "/") {
		return nil, fmt.Errorf("must start with /, as in /orders/{id}")
	}
	if strings.ContainsAny(src, "?#") {
		return nil, fmt.Errorf("must be a path only: the query is matched by no pattern (echo it with {{query.name}})")
	}
	segs := strings.Split(src[1:], "/")
	p := &pattern{src: src}
	for i, s := range segs {
		name, rest, ok, err := capture(s)
		if err != nil {
			return nil, fmt.Errorf("segment %d (%q): %w", i+1, s, err)
		}
		if ok {
			if rest && i != len(segs)-1 {
				return nil, fmt.Errorf("segment %d (%q): {%s...} must be the last segment", i+1, s, name)
			}
			p.parts = append(p.parts, part{name: name})
			p.rest = rest
			continue
		}
		lit, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("segment %d (%q): bad percent-encoding", i+1, s)
		}
		p.parts = append(p.parts, part{lit: lit})
	}
	return p, nil
}

// parseHost parses a host pattern such as {store}.example-ecommstore.com.
func parseHost(src string) (*pattern, error) {
	if src == "" {
		return nil, fmt.Errorf("must not be empty: leave host out to match every host")
	}
	if strings.ContainsAny(src, ":/") {
		return nil, fmt.Errorf("must be a host name pattern without scheme, port or path, as in {store}.example.com")
	}
	p := &pattern{src: src}
	for i, l := range strings.Split(strings.TrimSuffix(src, "."), ".") {
		// No {name...} here: its dots split it, so that capture sees "{name".
		name, _, ok, err := capture(l)
		if err != nil {
			return nil, fmt.Errorf("label %d (%q): %w", i+1, l, err)
		}
		if ok {
			p.parts = append(p.parts, part{name: name})
			continue
		}
		if l == "" {
			return nil, fmt.Errorf("label %d is empty", i+1)
		}
		for _, c := range l {
			if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				return nil, fmt.Errorf("label %d (%q): %q is not a letter, digit, - or _", i+1, l, c)
			}
		}
		p.parts = append(p.parts, part{lit: strings.ToLower(l)})
	}
	return p, nil
}

// capture reports whether s is a capture, {name} or {name...}. A brace
// anywhere else is an error: captures are whole segments or labels, so that
// a pattern reads the way it matches.
func capture(s string) (name string, rest, ok bool, err error) {
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		if strings.ContainsAny(s, "{}") {
			return "", false, false, fmt.Errorf("a {name} must be a whole part")
		}
		return "", false, false, nil
	}
	name = s[1 : len(s)-1]
	if n, ok := strings.CutSuffix(name, "..."); ok {
		name, rest = n, true
	}
	if !isName(name) {
		return "", false, false, fmt.Errorf("%q is not a name (letters, digits and _, not first a digit)", name)
	}
	return name, rest, true, nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// names returns the pattern's capture names.
func (p *pattern) names() []string {
	var out []string
	for _, pt := range p.parts {
		if pt.name != "" {
			out = append(out, pt.name)
		}
	}
	return out
}

// matchPath matches an escaped request path and adds the unescaped captures
// to params, which may be partly filled when it fails: a caller passes a map
// per attempt. Segments are split before unescaping, so that %2F stays
// inside its segment.
func (p *pattern) matchPath(escaped string, params map[string]any) bool {
	if escaped == "" {
		escaped = "/"
	}
	segs := strings.Split(escaped[1:], "/")
	n := len(p.parts)
	if p.rest {
		n--
		if len(segs) < n {
			return false
		}
	} else if len(segs) != n {
		return false
	}
	for i := range n {
		s, err := url.PathUnescape(segs[i])
		if err != nil {
			return false
		}
		pt := p.parts[i]
		switch {
		case pt.name == "" && s != pt.lit:
			return false
		case pt.name != "" && s == "":
			return false
		case pt.name != "":
			params[pt.name] = s
		}
	}
	if p.rest {
		s, err := url.PathUnescape(strings.Join(segs[n:], "/"))
		if err != nil {
			return false
		}
		params[p.parts[n].name] = s
	}
	return true
}

// matchHost matches a request's Host (port, if any, and a final dot
// ignored; case-insensitive) and adds the captures to params, as matchPath.
func (p *pattern) matchHost(host string, params map[string]any) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	labels := strings.Split(strings.ToLower(strings.TrimSuffix(host, ".")), ".")
	if len(labels) != len(p.parts) {
		return false
	}
	for i, l := range labels {
		pt := p.parts[i]
		switch {
		case pt.name == "" && l != pt.lit:
			return false
		case pt.name != "" && l == "":
			return false
		case pt.name != "":
			params[pt.name] = l
		}
	}
	return true
}
