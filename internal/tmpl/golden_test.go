package tmpl

// The golden cases compare this package with handlebars.js itself:
// testdata/golden.json holds, for every case of testdata/gen/cases.json, the
// output of Handlebars.compile(template)(data) from npm handlebars@4.7.8, or
// "error": true when handlebars.js throws. This test reads only
// golden.json; it never runs node. To regenerate it after editing
// cases.json (this needs node and npm):
//
//	cd internal/tmpl/testdata/gen && npm ci && node gen.js
//
// or `go generate ./internal/tmpl` (the directive below).

//go:generate sh -c "cd testdata/gen && npm ci --no-audit --no-fund && node gen.js"

import (
	"fmt"
	"os"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

type goldenCase struct {
	name, template string
	data           any
	output         string
	wantErr        bool
	diverge        string
}

func loadGolden(t testing.TB, path string) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// jsonv keeps numbers as written (1.0 stays "1.0") and objects in order,
	// as JSON.parse in node read them.
	v, err := jsonv.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	for _, e := range v.([]any) {
		o := e.(*jsonv.Object)
		get := func(k string) any { x, _ := o.Get(k); return x }
		c := goldenCase{name: get("name").(string), template: get("template").(string), data: get("data")}
		if out, ok := o.Get("output"); ok {
			c.output = out.(string)
		} else {
			c.wantErr = true
		}
		if d, ok := o.Get("diverge"); ok {
			c.diverge = d.(string)
		}
		cases = append(cases, c)
	}
	return cases
}

func TestGolden(t *testing.T) {
	cases := loadGolden(t, "testdata/golden.json")
	if len(cases) < 250 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp, err := Parse(c.template)
			if c.diverge != "" {
				// Deliberately stricter than handlebars.js: a parse error.
				if err == nil {
					t.Fatalf("Parse(%q) succeeded; want an error (%s)", c.template, c.diverge)
				}
				return
			}
			if c.wantErr {
				if err != nil {
					return
				}
				out, err := tp.Render(c.data)
				if err == nil {
					t.Fatalf("Parse(%q) and Render succeeded with %q; handlebars.js throws", c.template, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", c.template, err)
			}
			out, err := tp.Render(c.data)
			if err != nil {
				t.Fatalf("Render(%q): %v", c.template, err)
			}
			if out != c.output {
				t.Errorf("Render(%q)\n got  %q\n want %q", c.template, out, c.output)
			}
			// Append into a non-empty buffer gives the same.
			b, _ := tp.Append([]byte("prefix:"), c.data)
			if string(b) != "prefix:"+c.output {
				t.Errorf("Append: got %q", b)
			}
		})
	}
}

// TestExternalGolden runs a golden file given by $TMPL_GOLDEN, such as one
// of random templates made by `node gen.js --random N --seed S` (see
// gen.js), and reports every difference from handlebars.js. Parse errors
// where handlebars.js rendered are reported too: they are either this
// package's deliberate strictness (an unknown helper in a branch that never
// runs, a helper call with only a hash) or bugs.
func TestExternalGolden(t *testing.T) {
	path := os.Getenv("TMPL_GOLDEN")
	if path == "" {
		t.Skip("TMPL_GOLDEN not set")
	}
	fails := 0
	for _, c := range loadGolden(t, path) {
		tp, err := Parse(c.template)
		var msg string
		switch {
		case c.wantErr && err == nil:
			if out, rerr := tp.Render(c.data); rerr == nil {
				msg = fmt.Sprintf("handlebars.js throws; got %q", out)
			}
		case !c.wantErr && err != nil:
			msg = fmt.Sprintf("handlebars.js renders %q; Parse: %v", c.output, err)
		case !c.wantErr:
			if out, _ := tp.Render(c.data); out != c.output {
				msg = fmt.Sprintf("\n got  %q\n want %q", out, c.output)
			}
		}
		if msg != "" {
			t.Errorf("%s %q: %s", c.name, c.template, msg)
			if fails++; fails >= 20 {
				t.Fatal("too many differences")
			}
		}
	}
}
