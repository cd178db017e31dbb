package appdef

import (
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/tmpl"
)

func mustShape(t testing.TB, src string) *URLShape {
	t.Helper()
	s, err := ParseURLShape(tmpl.MustParse(src))
	if err != nil {
		t.Fatalf("ParseURLShape(%q): %v", src, err)
	}
	return s
}

// Every spelling of a value that would leave its path segment or query
// parameter is refused, naming the value and the character; ordinary
// values, percent-encoded ones included, pass unchanged.
func TestURLShapeRefuses(t *testing.T) {
	const path = "https://api.example.com/orders/{{{order}}}"
	const escaped = "https://api.example.com/orders/{{order}}/items"
	const query = "https://api.example.com/orders?id={{{order}}}&x=1"
	const suffix = "https://api.example.com/files/.{{{order}}}"
	tests := []struct {
		tmpl, value string
		want        string // a piece of the refusal; "" when the value is accepted
		rendered    string // when accepted
	}{
		{path, "1234", "", "https://api.example.com/orders/1234"},
		{path, "a%20b", "", "https://api.example.com/orders/a%20b"},
		{path, "caf%C3%A9", "", "https://api.example.com/orders/caf%C3%A9"},
		{path, "%41%42", "", "https://api.example.com/orders/%41%42"},
		{path, "a.b", "", "https://api.example.com/orders/a.b"},
		{path, "...", "", "https://api.example.com/orders/..."},
		{path, "a&b=c;d", "", "https://api.example.com/orders/a&b=c;d"},
		{path, "", "", "https://api.example.com/orders/"},
		{path, "1/../../secret", `contain '/'`, ""},
		{path, "1?admin=true", `contain '?'`, ""},
		{path, "1#frag", `contain '#'`, ""},
		{path, `1\..\secret`, `contain '\'`, ""},
		{path, "1%2f..%2fsecret", `not even percent-encoded`, ""},
		{path, "1%2F..", `not even percent-encoded`, ""},
		{path, "1%5c", `contain '\', not even percent-encoded`, ""},
		{path, "1%3Fadmin", `contain '?', not even percent-encoded`, ""},
		{path, "1%23x", `contain '#', not even percent-encoded`, ""},
		{path, "1%252F..", `not even percent-encoded twice`, ""},
		{path, "1%25252F", "", "https://api.example.com/orders/1%25252F"}, // three levels: data
		{path, "..", `makes the segment '..'`, ""},
		{path, ".", `makes the segment '.'`, ""},
		{path, "%2E%2E", `makes the segment '%2E%2E'`, ""},
		{path, "%2e.", `makes the segment '%2e.'`, ""},
		{path, ".%2E", `makes the segment '.%2E'`, ""},
		{path, "%252e%252e", `makes the segment '%252e%252e'`, ""},
		{suffix, ".", `makes the segment '..'`, ""},
		{suffix, "x", "", "https://api.example.com/files/.x"},
		{suffix, "", `makes the segment '.'`, ""},
		{escaped, "o'1", `contain '#'`, ""}, // {{order}} escapes ' to &#x27;
		{escaped, "a&b", "", "https://api.example.com/orders/a&amp;b/items"},
		{query, "42", "", "https://api.example.com/orders?id=42&x=1"},
		{query, "a/b?c", "", "https://api.example.com/orders?id=a/b?c&x=1"},
		{query, "a%26b", "", "https://api.example.com/orders?id=a%26b&x=1"},
		{query, "1&admin=true", `contain '&'`, ""},
		{query, "1;admin", `contain ';'`, ""},
		{query, "1=2", `contain '='`, ""},
		{query, "1#x", `contain '#'`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+" "+tt.value, func(t *testing.T) {
			s := mustShape(t, tt.tmpl)
			out, refused := s.Render(nil, map[string]string{"order": tt.value})
			if tt.want == "" {
				if refused != nil {
					t.Fatalf("refused: %s", refused.Reason)
				}
				if string(out) != tt.rendered {
					t.Fatalf("rendered %q, want %q", out, tt.rendered)
				}
				whole, _ := tmpl.MustParse(tt.tmpl).Render(map[string]string{"order": tt.value})
				if string(out) != whole {
					t.Fatalf("the shape rendered %q, the template %q", out, whole)
				}
				return
			}
			if refused == nil {
				t.Fatalf("accepted as %q, want a refusal with %q", out, tt.want)
			}
			if refused.Name != "order" {
				t.Errorf("Name = %q, want order", refused.Name)
			}
			if !strings.Contains(refused.Reason, tt.want) {
				t.Errorf("Reason = %q, want it to contain %q", refused.Reason, tt.want)
			}
			if strings.Contains(refused.Reason, tt.value) && len(tt.value) > 3 && !strings.Contains(tt.want, "makes the segment") {
				t.Errorf("Reason = %q repeats the value", refused.Reason)
			}
		})
	}
}

// Whitespace control strips the literal text beside an expression; the
// shape renders what the whole template renders.
func TestURLShapeWhitespaceControl(t *testing.T) {
	for _, src := range []string{"https://a.example.com/x/ {{~id}}", "https://a.example.com/x/{{~id~}} /y", "https://a.example.com/x/{{id}} "} {
		s := mustShape(t, src)
		data := map[string]string{"id": "7"}
		out, r := s.Render(nil, data)
		whole, _ := tmpl.MustParse(src).Render(data)
		if r != nil || string(out) != whole {
			t.Errorf("%q: the shape rendered %q (%v), the template %q", src, out, r, whole)
		}
	}
}

// A block's whole output is held to its part's rules, as a value is.
func TestURLShapeBlock(t *testing.T) {
	s := mustShape(t, "https://a.example.com/x/{{#if id}}{{id}}{{else}}none{{/if}}")
	if out, r := s.Render(nil, map[string]string{"id": "7"}); r != nil || string(out) != "https://a.example.com/x/7" {
		t.Fatalf("Render = %q, %v", out, r)
	}
	if _, r := s.Render(nil, map[string]string{"id": "7/.."}); r == nil || r.Name != "id" {
		t.Fatalf("Render with a slash = %v, want a refusal naming id", r)
	}
}

// structure is what a rendered URL's values may not change: the path's
// segments (with the dot-segments among them marked) and the query's names.
func structure(raw string) (segments int, dots []bool, names []string, fragment bool) {
	rest := raw[strings.Index(raw, "://")+3:]
	if i := strings.IndexAny(rest, "#"); i >= 0 {
		rest, fragment = rest[:i], true
	}
	path, query, _ := strings.Cut(rest, "?")
	_, path, _ = strings.Cut(path, "/")
	for _, seg := range strings.Split(path, "/") {
		bad, d := false, seg
		for range 3 { // raw, decoded once, decoded twice
			bad = bad || d == "." || d == ".." || strings.ContainsAny(d, `/\?#`)
			d = percentDecode(d)
		}
		dots = append(dots, bad)
		segments++
	}
	if query != "" {
		for _, p := range strings.FieldsFunc(query, func(r rune) bool { return r == '&' || r == ';' }) {
			name, _, _ := strings.Cut(p, "=")
			names = append(names, name)
		}
	}
	return
}

// FuzzURLShape renders random values into URL templates and checks that
// whenever a run would be accepted, the URL has the template's structure:
// as many path segments, none of them a dot-segment or hiding a delimiter
// in any encoding up to two levels, the same query names, and no fragment.
func FuzzURLShape(f *testing.F) {
	templates := []string{
		"https://api.example.com/orders/{{{a}}}",
		"https://api.example.com/orders/{{a}}/items/{{{b}}}?x={{{b}}}&y=1",
		"https://api.example.com/v1/.{{{a}}}/{{b}}.json?k={{a}}",
		"https://{{{a}}}.example.com/x/{{{b}}}",
	}
	for _, seed := range []string{"1", "..", "%2e%2E", "1/../x", "a?b", "a#b", `a\b`, "%252f", "1&x=2", "a;b", "o'1", "%", "%zz", ".%2e", "é"} {
		f.Add(0, seed, "v")
		f.Add(1, "v", seed)
		f.Add(2, seed, seed)
	}
	shapes := make([]*URLShape, len(templates))
	skeletons := make([]string, len(templates))
	for i, src := range templates {
		shapes[i] = mustShape(f, src)
		skeletons[i], _ = tmpl.MustParse(src).Render(map[string]string{"a": "v", "b": "v"})
	}
	f.Fuzz(func(t *testing.T, which int, a, b string) {
		i := (which%len(templates) + len(templates)) % len(templates)
		out, refused := shapes[i].Render(nil, map[string]string{"a": a, "b": b})
		if refused != nil {
			return
		}
		if i == 3 && !isLabel(a) {
			return // the host is Origin's to check
		}
		gotSeg, gotDots, gotNames, gotFrag := structure(string(out))
		wantSeg, _, wantNames, _ := structure(skeletons[i])
		if gotSeg != wantSeg {
			t.Fatalf("%q has %d path segments, the template %d", out, gotSeg, wantSeg)
		}
		for k, dot := range gotDots {
			if dot {
				t.Fatalf("%q: segment %d is a dot-segment or hides a delimiter", out, k)
			}
		}
		if strings.Join(gotNames, "&") != strings.Join(wantNames, "&") {
			t.Fatalf("%q has the query names %q, the template %q", out, gotNames, wantNames)
		}
		if gotFrag {
			t.Fatalf("%q has a fragment", out)
		}
	})
}
