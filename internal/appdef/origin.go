package appdef

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Origin is the scheme and authority a URL template may yield. SPEC 4.3: after
// rendering, the scheme, host and port must be what the template yields when
// each interpolation in the host part is one DNS label of [a-z0-9-], so that
// an arg such as "evil.com#" can never move a request to another origin.
type Origin struct {
	Scheme string
	// Parts are the literal pieces of the authority around its
	// interpolations: len(Parts) is one more than the number of slots.
	Parts []string
}

// ParseOrigin reads the origin of a compiled URL template from its top-level
// segments. The scheme must be literal, and the authority may only use plain
// interpolations ({{x}}, {{{x}}}, {{&x}}), not blocks.
func ParseOrigin(t *tmpl.Template) (Origin, error) {
	var o Origin
	var lit strings.Builder // literal text before "://"
	inAuthority, done := false, false
	cur := strings.Builder{}
	for _, seg := range t.Segments() {
		if done {
			break
		}
		if !inAuthority {
			if seg.Expr {
				return o, errors.New("the URL's scheme (http:// or https://) must be written out, not interpolated")
			}
			lit.WriteString(seg.Text)
			s := lit.String()
			i := strings.Index(s, "://")
			if i < 0 {
				continue
			}
			o.Scheme = strings.ToLower(s[:i])
			inAuthority = true
			seg.Text = s[i+3:]
		}
		if seg.Expr {
			if !seg.Simple || seg.Block {
				return o, errors.New("the URL's host may only use plain interpolations such as {{{store}}}, not blocks or helpers")
			}
			o.Parts = append(o.Parts, cur.String())
			cur.Reset()
			continue
		}
		if i := strings.IndexAny(seg.Text, "/?#"); i >= 0 {
			cur.WriteString(seg.Text[:i])
			done = true
			continue
		}
		cur.WriteString(seg.Text)
	}
	if !inAuthority {
		return o, errors.New("the URL must start with http:// or https://")
	}
	o.Parts = append(o.Parts, cur.String())
	if o.Scheme != "http" && o.Scheme != "https" {
		return o, fmt.Errorf("the URL's scheme is %q; only http and https are allowed", o.Scheme)
	}
	return o, nil
}

// Check reports whether a rendered, parsed URL keeps the template's origin.
func (o *Origin) Check(u *url.URL) error {
	if u.Scheme != o.Scheme {
		return fmt.Errorf("the URL's scheme became %q, not %q", u.Scheme, o.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return errors.New("the URL has no host")
	}
	authority := u.Host
	if u.User != nil {
		authority = u.User.String() + "@" + u.Host
	}
	if !matchParts(authority, o.Parts) {
		if len(o.Parts) == 1 {
			return fmt.Errorf("the URL's host became %q, not %q", authority, o.Parts[0])
		}
		return fmt.Errorf("the URL's host became %q: each value interpolated into the host must be one DNS label of lowercase letters, digits and '-'", authority)
	}
	return nil
}

// Literal reports the authority when it has no interpolation.
func (o *Origin) Literal() (string, bool) {
	if len(o.Parts) == 1 {
		return o.Parts[0], true
	}
	return "", false
}

// matchParts matches s against parts[0] slot parts[1] slot ... parts[n],
// where a slot is 1 to 63 of [a-z0-9-]. Labels are short, so trying each
// length is cheap and handles literal parts that start with label characters.
func matchParts(s string, parts []string) bool {
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	if len(parts) == 1 {
		return s == ""
	}
	for n := 1; n <= 63 && n <= len(s); n++ {
		c := s[n-1]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			break
		}
		if matchParts(s[n:], parts[1:]) {
			return true
		}
	}
	return false
}
