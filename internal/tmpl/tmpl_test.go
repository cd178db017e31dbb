package tmpl

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func render(t testing.TB, src string, data any) string {
	t.Helper()
	tp, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	out, err := tp.Render(data)
	if err != nil {
		t.Fatalf("Render(%q): %v", src, err)
	}
	return out
}

func TestNames(t *testing.T) {
	tests := []struct {
		src       string
		names     []string
		readsRoot bool
	}{
		{"Bearer {{authToken}}", []string{"authToken"}, false},
		{"static", nil, false},
		{"{{a.b}} {{{c}}} {{&d}} {{a}}", []string{"a", "c", "d"}, false},
		{"{{#if x}}{{y}}{{else}}{{z}}{{/if}}", []string{"x", "y", "z"}, false},
		{"{{#unless x}}{{y}}{{/unless}}", []string{"x", "y"}, false},
		{"{{#if a}}{{else if b}}{{c}}{{/if}}", []string{"a", "b", "c"}, false},
		{"{{#each items}}{{name}}{{../title}}{{@root.r}}{{/each}}", []string{"items", "r", "title"}, false},
		{"{{#each items}}{{else}}{{empty}}{{/each}}", []string{"empty", "items"}, false},
		{"{{#with a}}{{b}}{{/with}}", []string{"a"}, false},
		{"{{#with a}}{{b}}{{else}}{{c}}{{/with}}", []string{"a", "c"}, false},
		{"{{#with a as |b|}}{{b.c}}{{/with}}", []string{"a"}, false},
		{"{{#with this as |r|}}{{r.c}}{{/with}}", []string{"c"}, false},
		{"{{#with this}}{{a}}{{/with}}", []string{"a"}, false},
		{"{{#with @root}}{{a}}{{/with}}", []string{"a"}, false},
		{"{{#each a}}{{#each b}}{{../../c}}{{../d}}{{/each}}{{/each}}", []string{"a", "c"}, false},
		{"{{#if x}}{{../y}}{{/if}}", []string{"x"}, false}, // ../ from the root is undefined
		{"{{#x}}{{y}}{{/x}}", []string{"x", "y"}, false},   // x may be true: y may be a root name
		{"{{@root.x}} {{@root}}", []string{"x"}, false},
		{"{{[weird key]}} {{\"lit\"}} {{1}}", []string{"1", "lit", "weird key"}, false},
		{"{{lookup this 'k'}} {{lookup @root 2}}", []string{"2", "k"}, false},
		{"{{lookup this key}}", []string{"key"}, true},
		{"{{#each this}}{{/each}}", nil, true},
		{"{{#each (lookup this 'list')}}{{x}}{{/each}}", []string{"list"}, false},
		{"{{#if (lookup a 'b')}}{{c}}{{/if}}", []string{"a", "c"}, false},
		{"{{log x}}", []string{"x"}, false},
		{"{{this}} {{.}}", nil, false},
	}
	for _, tt := range tests {
		tp, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		if got := tp.Names(); !reflect.DeepEqual(got, tt.names) {
			t.Errorf("Names(%q) = %q, want %q", tt.src, got, tt.names)
		}
		if got := tp.ReadsRoot(); got != tt.readsRoot {
			t.Errorf("ReadsRoot(%q) = %v, want %v", tt.src, got, tt.readsRoot)
		}
	}
}

func TestStatic(t *testing.T) {
	tests := []struct {
		src    string
		want   string
		static bool
	}{
		{"", "", true},
		{"plain text", "plain text", true},
		{"a{{! comment }}b{{!-- {{x}} --}}c", "abc", true},
		{"\\{{x}}", "{{x}}", true},
		{"a \\\\{{x}}", "", false},
		{"a  {{~! c ~}}  b", "ab", true},
		{"a\n  {{! standalone }}\nb", "a\nb", true},
		{"{{x}}", "", false},
		{"{{#if a}}{{/if}}", "", false},
		{"{{log 'x'}}", "", false},
	}
	for _, tt := range tests {
		tp, err := Parse(tt.src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.src, err)
		}
		got, ok := tp.Static()
		if ok != tt.static || got != tt.want {
			t.Errorf("Static(%q) = %q, %v; want %q, %v", tt.src, got, ok, tt.want, tt.static)
		}
		if ok {
			if out := render(t, tt.src, nil); out != got {
				t.Errorf("Render(%q) = %q, Static %q", tt.src, out, got)
			}
		}
	}
}

func TestSegments(t *testing.T) {
	tp, err := Parse("https://{{{store}}}.example.com/{{! c }}orders/{{id}}?{{#if q}}q={{q}}{{/if}}{{lookup a 'b'}}\\{{x}}{{&raw}}")
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{
		{Text: "https://"},
		{Text: "{{{store}}}", Expr: true, Simple: true, Path: "store"},
		{Text: ".example.com/orders/"},
		{Text: "{{id}}", Expr: true, Simple: true, Escaped: true, Path: "id"},
		{Text: "?"},
		{Text: "{{#if q}}q={{q}}{{/if}}", Expr: true, Block: true, Path: "if"},
		{Text: "{{lookup a 'b'}}", Expr: true, Escaped: true, Path: "lookup"},
		{Text: "{{x}}"},
		{Text: "{{&raw}}", Expr: true, Simple: true, Path: "raw"},
	}
	if got := tp.Segments(); !reflect.DeepEqual(got, want) {
		t.Errorf("Segments:\n got  %+v\n want %+v", got, want)
	}
	// Whitespace control is applied to the text.
	tp = MustParse("a  {{~x~}}  b")
	if got := tp.Segments(); got[0].Text != "a" || got[2].Text != "b" {
		t.Errorf("Segments with ~: %+v", got)
	}
}

func TestScopes(t *testing.T) {
	args := map[string]any{"id": json.Number("7"), "shared": "from-args", "nul": nil}
	settings := mustDecode(t, `{"shared":"from-settings","host":"h.example","nul":"from-settings","2":"two","a":"A"}`)
	root := Scopes{args, "not an object", settings}
	tests := []struct{ src, want string }{
		{"{{id}} {{host}}", "7 h.example"},
		{"{{shared}}", "from-args"},                      // the first scope wins
		{"[{{nul}}]", "[]"},                              // present (null) in the first scope
		{"{{missing}}", ""},                              //
		{"{{#with this}}{{host}}{{/with}}", "h.example"}, // Scopes is one object
		{"{{@root.id}}", "7"},
		{"{{this}}", "[object Object]"},
		{"{{#each this}}{{@key}}={{this}};{{/each}}", "2=two;id=7;nul=;shared=from-args;host=h.example;a=A;"},
		{"{{lookup this 'host'}}", "h.example"},
		{"{{#each l}}{{../id}}{{/each}}", ""}, // l missing
	}
	for _, tt := range tests {
		if got := render(t, tt.src, root); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestGoValues(t *testing.T) {
	data := map[string]any{
		"i": 42, "i64": int64(1) << 60, "f": 0.1, "f21": 1e21, "b": true,
		"ss": []string{"<a>", "b"}, "ms": map[string]string{"k": "v"},
		"m":   map[string]any{"b": 1, "a": 2, "10": 3, "9": 4, "x": 5},
		"big": json.Number("12345678901234567890"), "neg0": json.Number("-0"),
	}
	tests := []struct{ src, want string }{
		{"{{i}} {{i64}} {{f}} {{f21}} {{b}}", "42 1152921504606847000 0.1 1e+21 true"},
		{"{{ss}} {{{ss}}} {{ss.length}} {{ss.[1]}}", "&lt;a&gt;,b <a>,b 2 b"},
		{"{{ms.k}} {{ms}}", "v [object Object]"},
		{"{{#each m}}{{@key}},{{/each}}", "9,10,a,b,x,"}, // integer keys first, then sorted
		{"{{big}} {{neg0}} {{#if neg0}}t{{else}}f{{/if}}", "12345678901234567000 0 f"},
	}
	for _, tt := range tests {
		if got := render(t, tt.src, data); got != tt.want {
			t.Errorf("Render(%q) = %q, want %q", tt.src, got, tt.want)
		}
	}
}

func TestCyclicData(t *testing.T) {
	a := []any{1, nil}
	a[1] = a // a cycle only Go can build
	out := render(t, "{{a}}", map[string]any{"a": a})
	if !strings.HasPrefix(out, "1,1,1") {
		t.Errorf("got %.20q", out)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src          string
		line, column int
		msg          string
	}{
		{"ab\n  {{foo bar}}", 2, 3, "unknown helper"},
		{"é{{foo x}}", 1, 2, "unknown helper"}, // columns count runes
		{"{{#if a}}\n{{/each}}", 2, 1, "doesn't match"},
		{"x\n{{#if a}}\nfoo", 2, 1, "unclosed block"},
		{"{{> partial}}", 1, 1, "partials are not supported"},
		{"a {{#> p}}x{{/p}}", 1, 3, "partials are not supported"},
		{"{{* dec}}", 1, 1, "decorators are not supported"},
		{"{{#*inline \"x\"}}{{/inline}}", 1, 1, "decorators are not supported"},
		{"{{else}}", 1, 1, "outside a block"},
		{"{{/if}}", 1, 1, "without an opening block"},
		{"{{#if}}{{/if}}", 1, 1, "#if needs exactly one argument"},
		{"{{if x}}", 1, 1, "can only be used as a block"},
		{"{{lookup a}}", 1, 1, "lookup needs exactly two arguments"},
		{"{{#if a}}{{lookup (foo) 'x'}}{{/if}}", 1, 19, "unknown helper \"foo\" in a sub-expression"},
		{"{{#if a as |b|}}{{/if}}", 1, 9, "block parameters"},
		{"{{a.0}}", 1, 5, "unexpected"},
		{"{{a/../b}}", 1, 3, "invalid path"},
		{"a\x00", 1, 2, "NUL"},
		{"{{!-- open", 1, 1, "unclosed comment"},
		{"{{{{raw}}}}x{{{{/raw}}}}", 1, 1, "raw blocks"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want *Error", tt.src, err)
			continue
		}
		if e.Line != tt.line || e.Column != tt.column || !strings.Contains(e.Message, tt.msg) {
			t.Errorf("Parse(%q): got %d:%d %q, want %d:%d containing %q", tt.src, e.Line, e.Column, e.Message, tt.line, tt.column, tt.msg)
		}
		if want := "line "; !strings.HasPrefix(e.Error(), want) {
			t.Errorf("Error() = %q", e.Error())
		}
	}
	deep := strings.Repeat("{{#if a}}", maxNesting+1) + strings.Repeat("{{/if}}", maxNesting+1)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nest") {
		t.Errorf("deep nesting: %v", err)
	}
	ok := strings.Repeat("{{#if a}}", maxNesting) + "x" + strings.Repeat("{{/if}}", maxNesting)
	if got := render(t, ok, map[string]any{"a": true}); got != "x" {
		t.Errorf("nesting at the limit: %q", got)
	}
}

func TestNoReevaluation(t *testing.T) {
	data := map[string]any{"x": "{{y}}{{#each z}}{{/each}}\\{{y}}", "y": "Y", "l": []any{"{{y}}"}}
	if got := render(t, "{{{x}}}|{{x}}|{{#each l}}{{{this}}}{{/each}}", data); got != "{{y}}{{#each z}}{{/each}}\\{{y}}|{{y}}{{#each z}}{{/each}}\\{{y}}|{{y}}" {
		t.Errorf("got %q", got)
	}
}

func TestEscape(t *testing.T) {
	if got := Escape(`<a href="x">&'b'` + "`=`</a>"); got != "&lt;a href&#x3D;&quot;x&quot;&gt;&amp;&#x27;b&#x27;&#x60;&#x3D;&#x60;&lt;/a&gt;" {
		t.Errorf("Escape: %q", got)
	}
}

func TestConcurrentRender(t *testing.T) {
	tp := MustParse("{{#each items as |it i|}}{{i}}:{{it.name}}{{#if @last}}.{{else}},{{/if}}{{../title}}{{/each}}")
	data := mustDecode(t, `{"title":"T","items":[{"name":"a"},{"name":"b"},{"name":"c"}]}`)
	const want = "0:a,T1:b,T2:c.T"
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := 0; i < 200; i++ {
				var err error
				buf, err = tp.Append(buf[:0], data)
				if err != nil || string(buf) != want {
					t.Errorf("got %q, %v", buf, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestAppendAllocs(t *testing.T) {
	tp := MustParse("Bearer {{authToken}}")
	data := mustDecode(t, `{"authToken":"abc.def"}`)
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = tp.Append(buf[:0], data)
	})
	if allocs != 0 {
		t.Errorf("Append allocates %v times per run", allocs)
	}
	if string(buf) != "Bearer abc.def" {
		t.Errorf("got %q", buf)
	}
}

func TestNestedAndCyclicScopes(t *testing.T) {
	inner := Scopes{map[string]any{"a": "inner-a"}}
	s := Scopes{map[string]any{"b": "B"}, inner, nil}
	s[2] = s // a cycle
	if got := render(t, "{{a}} {{b}} {{c}} {{#each this}}{{@key}}{{/each}}", s); got != "inner-a B  ba" {
		t.Errorf("got %q", got)
	}
}

func TestJSONTemplateCyclicData(t *testing.T) {
	jt, err := CompileJSON(map[string]any{"x": "/#a"})
	if err != nil {
		t.Fatal(err)
	}
	a := []any{nil}
	a[0] = a
	if _, err := jt.Render(map[string]any{"a": a}); err == nil {
		t.Error("no error for a cyclic value")
	}
	v, err := jt.Render(map[string]any{"a": map[string]any{"2": 1, "1": []string{"s"}, "b": Scopes{map[string]any{"k": 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jsonv.Marshal(v)
	if string(out) != `{"x":{"1":["s"],"2":1,"b":{"k":1}}}` {
		t.Errorf("got %s", out)
	}
}

// A secret passed as Opaque prints whole but cannot be taken apart.
func TestOpaque(t *testing.T) {
	data := Scopes{map[string]any{"authToken": Opaque("s3cret<")}, map[string]string{"arg": "x", "s3cret<": "guessed"}}
	tests := map[string]string{
		"Bearer {{authToken}}":                   "Bearer s3cret&lt;",
		"Bearer {{{authToken}}}":                 "Bearer s3cret<",
		"{{authToken.length}}":                   "",
		"{{authToken.[0]}}":                      "",
		"{{lookup authToken 0}}":                 "",
		`{{lookup authToken "1"}}`:               "",
		"{{#each authToken}}{{this}}{{/each}}":   "",
		"{{#with authToken}}{{length}}{{/with}}": "",
		"{{lookup this authToken}}":              "",
		"{{#if authToken}}set{{/if}}":            "set",
	}
	for src, want := range tests {
		got, err := MustParse(src).Render(data)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", src, got, err, want)
		}
	}
	jt, err := CompileJSON(map[string]any{"token": "/#authToken", "len": "/#authToken.length"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := jt.Render(data)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := jsonv.Marshal(out)
	if string(b) != `{"token":"s3cret<"}` {
		t.Errorf("JSON template = %s", b)
	}
}
