package appdef

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
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
	// interpolations: len(Parts) is one more than len(Slots).
	Parts []string
	// Slots name the arg interpolated at each place in the authority.
	Slots []string
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
			if !seg.Simple || seg.Block || !argNamePattern.MatchString(seg.Path) {
				return o, errors.New("the URL's host may only interpolate args by name, such as {{{store}}}: no paths, blocks or helpers")
			}
			o.Slots = append(o.Slots, seg.Path)
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

// Check reports whether a rendered, parsed URL keeps the template's origin:
// every value interpolated into the authority is one DNS label, and the
// parsed URL's scheme and authority are exactly the template's with those
// labels in place.
func (o *Origin) Check(u *url.URL, value func(name string) string) error {
	want := o.Parts[0]
	for i, slot := range o.Slots {
		v := value(slot)
		if !isLabel(v) {
			return fmt.Errorf("the arg %s goes into the URL's host, so it must be one DNS label (1 to 63 of lowercase letters, digits and '-'); got %q", slot, v)
		}
		want += v + o.Parts[i+1]
	}
	if u.Scheme != o.Scheme {
		return fmt.Errorf("the URL's scheme became %q, not %q", u.Scheme, o.Scheme)
	}
	authority := u.Host
	if u.User != nil {
		authority = u.User.String() + "@" + u.Host
	}
	if u.Opaque != "" || authority != want {
		return fmt.Errorf("the URL's host became %q, not %q", authority, want)
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

var argNamePattern = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$-]*$`)

// isLabel reports whether s is one DNS label of [a-z0-9-].
func isLabel(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
