package appdef

import (
	"errors"
	"fmt"
	"strings"

	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// URLShape is the structure of a URL template, read at registration, that
// a run's values may not change (SPEC 4.3): the literal text between its
// top-level expressions, and for each expression the part of the URL it is
// in. A value in the path stays inside one segment, a value in the query
// inside one parameter; the origin is Origin's to check. Rendering goes
// through the shape, piece by piece, so that the check knows which bytes
// came from a value without rendering twice.
type URLShape struct {
	lits   []string // the literal text around the pieces: len(pieces)+1
	pieces []urlPiece
}

type urlPart uint8

const (
	partAuthority urlPart = iota // checked by Origin
	partPath
	partQueryName
	partQueryValue
	partFragment // never sent
)

type urlPiece struct {
	t       *tmpl.Template // the expression alone
	part    urlPart
	name    string // what the expression reads, for the refusal's location
	escaped bool   // {{x}}: the value is HTML-escaped
}

// URLRefusal is a run's value that would change the URL's structure.
type URLRefusal struct {
	// Name is the value's name (the arg or input path), for a location
	// such as /args/<name>; "" when the expression names none.
	Name string
	// Reason says what was refused and why, without the value.
	Reason string
}

func (r *URLRefusal) Error() string { return r.Reason }

// ParseURLShape reads the shape of a compiled URL template whose origin
// ParseOrigin accepted. It fails when the template does not render piece by
// piece exactly as whole (a safety net: the parser has already applied
// whitespace control to the literal text).
func ParseURLShape(t *tmpl.Template) (*URLShape, error) {
	s := &URLShape{lits: []string{""}}
	part := partAuthority
	afterScheme := false
	var probe []string // each expression's output with no data, for the check below
	for _, seg := range t.Segments() {
		if !seg.Expr {
			s.lits[len(s.lits)-1] += seg.Text
			text := seg.Text
			if !afterScheme {
				i := strings.Index(text, "://")
				if i < 0 {
					continue
				}
				afterScheme, text = true, text[i+3:]
			}
			part = advance(part, text)
			continue
		}
		pt, err := tmpl.Parse(seg.Text)
		if err != nil {
			return nil, fmt.Errorf("the URL's expression %s cannot be compiled alone: %w", seg.Text, err)
		}
		p := urlPiece{t: pt, part: part, escaped: seg.Escaped}
		if seg.Simple && !seg.Block {
			p.name = seg.Path
		} else if names := pt.Names(); len(names) > 0 {
			p.name = names[0]
		}
		s.pieces = append(s.pieces, p)
		s.lits = append(s.lits, "")
		out, _ := pt.Render(nil)
		probe = append(probe, out)
	}
	// The pieces rendered alone must make what the whole template makes.
	var b strings.Builder
	for i, lit := range s.lits {
		b.WriteString(lit)
		if i < len(probe) {
			b.WriteString(probe[i])
		}
	}
	if whole, err := t.Render(nil); err != nil || whole != b.String() {
		return nil, errors.New("this URL template cannot be checked piece by piece; write it without whitespace control (~) and standalone blocks")
	}
	return s, nil
}

// advance moves through the parts of a URL over literal text.
func advance(part urlPart, text string) urlPart {
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case part == partFragment:
			return part
		case c == '#':
			part = partFragment
		case part == partAuthority && c == '/':
			part = partPath
		case (part == partAuthority || part == partPath) && c == '?':
			part = partQueryName
		case part == partQueryName && c == '=':
			part = partQueryValue
		case (part == partQueryName || part == partQueryValue) && (c == '&' || c == ';'):
			part = partQueryName
		}
	}
	return part
}

// Render appends the URL rendered with data to dst, and refuses a value
// that would leave its path segment or query parameter, or make a path
// segment "." or "..", in any spelling (raw, percent-encoded in either case,
// or encoded twice).
func (s *URLShape) Render(dst []byte, data any) ([]byte, *URLRefusal) {
	part := partAuthority
	segStart, segValue := 0, -1 // the current path segment, and the last piece in it
	var err error
	for i, lit := range s.lits {
		if i > 0 {
			p := &s.pieces[i-1]
			from := len(dst)
			if dst, err = p.t.Append(dst, data); err != nil {
				return dst, &URLRefusal{Name: p.name, Reason: "the URL could not be rendered: " + err.Error()}
			}
			if r := p.check(dst[from:]); r != nil {
				return dst, r
			}
			if p.part == partPath { // even empty: ".{{x}}" with x "" makes "."
				segValue = i - 1
			}
		} else if j := strings.Index(lit, "://"); j >= 0 { // ParseOrigin made sure the scheme is literal
			dst = append(dst, lit[:j+3]...)
			lit = lit[j+3:]
		}
		for k := 0; k < len(lit); k++ {
			c := lit[k]
			next := advance(part, lit[k:k+1])
			if part == partPath && (c == '/' || next != partPath) {
				if r := s.dotSegment(dst[segStart:], segValue); r != nil {
					return dst, r
				}
			}
			dst = append(dst, c)
			if c == '/' && next == partPath {
				segStart, segValue = len(dst), -1
			}
			part = next
		}
	}
	if part == partPath {
		if r := s.dotSegment(dst[segStart:], segValue); r != nil {
			return dst, r
		}
	}
	return dst, nil
}

// dotSegment refuses a path segment that a value (the piece at index
// value, -1 for none) made "." or "..".
func (s *URLShape) dotSegment(seg []byte, value int) *URLRefusal {
	if value < 0 || len(seg) == 0 || len(seg) > 12 {
		return nil // "%252E%252E" is the longest spelling
	}
	d := string(seg)
	for range 3 {
		if d == "." || d == ".." {
			name := s.pieces[value].name
			return &URLRefusal{Name: name, Reason: fmt.Sprintf(
				"the value of %s goes into the path of the URL and makes the segment '%s', which is refused: a dot-segment moves the request to another path (refused in every spelling, %%2E and %%252E included)",
				name, string(seg))}
		}
		if !strings.Contains(d, "%") {
			break
		}
		d = percentDecode(d)
	}
	return nil
}

// check refuses what a value may not contain in its part of the URL.
func (p *urlPiece) check(out []byte) *URLRefusal {
	switch p.part {
	case partPath:
		return p.checkPath(string(out))
	case partQueryName, partQueryValue:
		for i := 0; i < len(out); i++ {
			switch c := out[i]; c {
			case '&', ';':
				return p.refuse(c, "the query", "it would start another query parameter")
			case '=':
				return p.refuse(c, "the query", "it would split the parameter's name from its value elsewhere than the definition does")
			case '#':
				return p.refuse(c, "the query", "it would end the query and start a fragment")
			}
		}
	}
	return nil
}

var pathReasons = map[byte]string{
	'/':  "it would start another path segment",
	'\\': "servers may read it as '/', which would start another path segment",
	'?':  "it would end the path and start the query",
	'#':  "it would end the path and start a fragment",
}

func (p *urlPiece) checkPath(s string) *URLRefusal {
	for level := 0; level < 3; level++ {
		for i := 0; i < len(s); i++ {
			c := s[i]
			if why, ok := pathReasons[c]; ok {
				if level == 0 {
					return p.refuse(c, "the path", why)
				}
				return p.refuseEncoded(c, level, why)
			}
			if c == '%' && level < 2 && i+2 < len(s) {
				if d, ok := unhex(s[i+1], s[i+2]); ok {
					if why, ok := pathReasons[d]; ok {
						return p.refuseEncoded(d, level+1, why)
					}
				}
			}
		}
		if !strings.Contains(s, "%") {
			break
		}
		s = percentDecode(s)
	}
	return nil
}

func (p *urlPiece) refuse(c byte, where, why string) *URLRefusal {
	msg := fmt.Sprintf("the value of %s goes into %s of the URL, so it may not contain '%c': %s", p.name, where, c, why)
	if p.escaped && (c == '#' || c == '&' || c == ';') {
		msg += fmt.Sprintf(" (the definition writes {{%s}}, which HTML-escapes characters such as ' and = into entities like &#x27; that contain it)", p.name)
	}
	return &URLRefusal{Name: p.name, Reason: msg}
}

func (p *urlPiece) refuseEncoded(c byte, times int, why string) *URLRefusal {
	how := "percent-encoded"
	if times > 1 {
		how = "percent-encoded twice"
	}
	return &URLRefusal{Name: p.name, Reason: fmt.Sprintf(
		"the value of %s goes into the path of the URL, so it may not contain '%c', not even %s (servers may decode it before routing): %s",
		p.name, c, how, why)}
}

func unhex(a, b byte) (byte, bool) {
	h, ok1 := hexVal(a)
	l, ok2 := hexVal(b)
	return h<<4 | l, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// percentDecode decodes every valid %XX once and keeps anything else.
func percentDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if d, ok := unhex(s[i+1], s[i+2]); ok {
				b.WriteByte(d)
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
