package tmpl

import (
	"os"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// fuzzData is a context with a bit of everything, for the fuzz targets.
var fuzzData = func() any {
	v, err := jsonv.Decode([]byte(`{
		"a": {"b": {"c": "C<&>"}, "n": 0, "arr": [1, [2, null], {"k": "v"}]},
		"items": [{"id": 1, "name": "x"}, {"id": 2.50, "name": "y", "tags": ["p", "q"]}],
		"s": "str😀", "t": true, "f": false, "z": 0, "nul": null, "e": "", "empty": [], "obj": {},
		"o": {"2": "two", "b": "B", "1": "one"}, "big": 1e21, "small": 1e-7,
		"if": "IF", "this": "THIS", "length": 3, "0": "zero"
	}`))
	if err != nil {
		panic(err)
	}
	return Scopes{v, map[string]any{"extra": []string{"e1", "e2"}}}
}()

func addSeeds(f *testing.F) {
	for _, c := range []string{"", "{{a.b.c}}", "{{#each items}}{{@index}}{{name}}{{else}}none{{/each}}",
		"{{#if t}}\n  x\n{{else if f}}\n  y\n{{/if}}\n", "\\{{x}}\\\\{{a}}", "{{! c }}{{!-- d --}}",
		"{{#with a as |q|}}{{q.n}}{{../s}}{{/with}}", "{{lookup o 1}}{{lookup (lookup a 'b') 'c'}}",
		"{{#o}}{{this}}{{/o}}{{^e}}E{{/e}}", "{{~x~}}", "{{{s}}}{{&s}}", "{{#each o as |v k|}}{{k}}={{v}}{{/each}}",
		"{{#each items}}{{#each tags}}{{../name}}{{@../index}}{{/each}}{{/each}}", "{{[if]}}{{[this]}}{{\"a\"}}",
		"{{#unless z includeZero=true}}zero{{/unless}}", "{{@root.a.n}}{{@first.x}}", "{{log 'x'}}"} {
		f.Add(c)
	}
	// Every golden template is a seed.
	if raw, err := os.ReadFile("testdata/golden.json"); err == nil {
		if v, err := jsonv.Decode(raw); err == nil {
			for _, e := range v.([]any) {
				s, _ := jsonv.Get(e, "template")
				f.Add(s.(string))
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse error of type %T", err)
			}
			return
		}
		out, err := tp.Render(fuzzData)
		if err != nil {
			t.Fatalf("Render(%q): %v", src, err)
		}
		if s, ok := tp.Static(); ok && s != out {
			t.Fatalf("Static %q, Render %q", s, out)
		}
		tp.Names()
		tp.Segments()
		if _, err := tp.Render(nil); err != nil {
			t.Fatalf("Render(%q, nil): %v", src, err)
		}
	})
}

func FuzzRenderNoReeval(f *testing.F) {
	for _, s := range []string{"", "{{x}}", "{{#each l}}{{this}}{{/each}}", "\\{{x}}", "<&>\"'`=", "{{{{raw}}}}", "{{> p}}", "😀\x00\xff"} {
		f.Add(s)
	}
	raw := MustParse("{{{x}}}")
	amp := MustParse("{{&x}}")
	esc := MustParse("{{x}}")
	each := MustParse("{{#each l}}{{{this}}}|{{this}}{{/each}}")
	lookup := MustParse("{{{lookup this 'x'}}}")
	jt, err := CompileJSON(map[string]any{"v": "/#x", "s": "{{{x}}}"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		data := map[string]any{"x": s, "y": "Y", "l": []any{s}}
		check := func(tp *Template, want string) {
			t.Helper()
			got, err := tp.Render(data)
			if err != nil || got != want {
				t.Fatalf("%s with x=%q: got %q, %v; want %q", tp.Source(), s, got, err, want)
			}
		}
		check(raw, s)
		check(amp, s)
		check(esc, Escape(s))
		check(each, s+"|"+Escape(s))
		check(lookup, s)
		v, err := jt.Render(data)
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*jsonv.Object)
		if got, _ := o.Get("v"); got != s {
			t.Fatalf("/#x: got %q", got)
		}
		if got, _ := o.Get("s"); got != s {
			t.Fatalf("{{{x}}} in JSON: got %q", got)
		}
		if strings.ContainsAny(Escape(s), "<>&\"'`=") && !strings.Contains(Escape(s), "&") {
			t.Fatalf("Escape(%q) left a special character", s)
		}
	})
}

func FuzzJSONTemplate(f *testing.F) {
	for _, s := range []string{`{"a":"/#a.b","b":["{{s}}","/#items.0.id","/#nope"],"c":{"d":"{{#each items}}{{id}}{{/each}}"}}`,
		`"/#o"`, `["/#", "/#.", "/#a..b", 1, null, true, {"{{x}}": "{{x}}"}]`, `{"x":"{{#if}}"}`, `"{{"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		v, err := jsonv.Decode([]byte(doc))
		if err != nil {
			return
		}
		jt, err := CompileJSON(v)
		if err != nil {
			if _, ok := err.(JSONErrors); !ok {
				t.Fatalf("error of type %T", err)
			}
			return
		}
		out, err := jt.Render(fuzzData)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := jsonv.Marshal(out); err != nil {
			t.Fatalf("output does not marshal: %v", err)
		}
		jt.Names()
	})
}
