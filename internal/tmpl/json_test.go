package tmpl

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func renderJSON(t *testing.T, tmpl, data string) string {
	t.Helper()
	jt, err := CompileJSON(mustDecode(t, tmpl))
	if err != nil {
		t.Fatalf("CompileJSON(%s): %v", tmpl, err)
	}
	d := mustDecode(t, data)
	before, _ := jsonv.Marshal(d)
	v, err := jt.Render(d)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	after, _ := jsonv.Marshal(d)
	if string(before) != string(after) {
		t.Errorf("Render changed its data: %s -> %s", before, after)
	}
	out, err := jsonv.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestJSONTemplate(t *testing.T) {
	data := `{
		"response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"ok": true, "n": 1.50}},
		"items": [{"id": "a1", "tags": ["x", "y"]}, {"id": "b2"}],
		"name": "O'Neil <o@x>", "nothing": null, "zero": 0, "empty": ""
	}`
	tests := []struct{ name, tmpl, want string }{
		{"substitution keeps types",
			`{"status": "/#response.status", "body": "/#response.body", "tags": "/#items.0.tags", "nothing": "/#nothing", "zero": "/#zero", "empty": "/#empty"}`,
			`{"status":200,"body":{"ok":true,"n":1.50},"tags":["x","y"],"nothing":null,"zero":0,"empty":""}`},
		{"hyphenated keys", `{"ct": "/#response.headers.content-type"}`, `{"ct":"application/json"}`},
		{"array index", `["/#items.1.id", "/#items.0.tags.1"]`, `["b2","y"]`},
		{"absent member removed",
			`{"a": "/#missing", "b": "/#items.5.id", "c": "/#items.1.tags", "d": "/#name.length", "e": 1}`,
			`{"e":1}`},
		{"absent element removed", `["/#missing", 1, "/#items.x", "/#zero"]`, `[1,0]`},
		{"handlebars strings", `{"greeting": "Hi {{name}}", "raw": "{{{name}}}", "n": "{{response.body.n}}", "list": "{{#each items}}{{id}};{{/each}}"}`,
			`{"greeting":"Hi O&#x27;Neil &lt;o@x&gt;","raw":"O'Neil <o@x>","n":"1.5","list":"a1;b2;"}`},
		{"static strings, keys and scalars", `{"{{k}}": "plain", "n": 1.0, "b": false, "z": null, "nested": [[{"x": "\\{{y}}"}]]}`,
			`{"{{k}}":"plain","n":1.0,"b":false,"z":null,"nested":[[{"x":"{{y}}"}]]}`},
		{"/# alone is a string", `{"a": "/#", "b": "/", "c": " /#x"}`, `{"a":"/#","b":"/","c":" /#x"}`},
		{"top-level substitution", `"/#items.0"`, `{"id":"a1","tags":["x","y"]}`},
		{"top-level absent", `"/#nope"`, `null`},
		{"top-level template", `"{{response.status}}"`, `"200"`},
		{"order kept", `{"z": 1, "a": "/#zero", "m": 2}`, `{"z":1,"a":0,"m":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := renderJSON(t, tt.tmpl, data); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONTemplateCopies(t *testing.T) {
	jt, err := CompileJSON(mustDecode(t, `{"body": "/#b", "list": ["/#b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"b": map[string]any{"k": []any{"v"}}}
	v, _ := jt.Render(data)
	body, _ := v.(*jsonv.Object).Get("body")
	body.(*jsonv.Object).Set("k", "changed")
	if got := data["b"].(map[string]any)["k"].([]any)[0]; got != "v" {
		t.Errorf("changing the output changed the data: %v", got)
	}
	// Rendering twice gives equal, independent values.
	a, _ := jt.Render(data)
	b, _ := jt.Render(data)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("renders differ")
	}
	a.(*jsonv.Object).Set("body", 1)
	c, _ := jt.Render(data)
	if !reflect.DeepEqual(b, c) {
		t.Errorf("changing an output changed the template")
	}
}

func TestJSONTemplateScopes(t *testing.T) {
	jt, err := CompileJSON(mustDecode(t, `{"id": "/#id", "host": "/#host", "url": "https://{{host}}/{{id}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := jt.Render(Scopes{map[string]any{"id": "7"}, map[string]string{"host": "h", "id": "no"}})
	out, _ := jsonv.Marshal(v)
	if string(out) != `{"id":"7","host":"h","url":"https://h/7"}` {
		t.Errorf("got %s", out)
	}
}

func TestJSONTemplateErrors(t *testing.T) {
	_, err := CompileJSON(mustDecode(t, `{
		"headers": {"authorization": "Bearer {{foo bar}}", "ok": "{{x}}"},
		"list": ["fine", "x\n{{#if a}}"],
		"a/b~c": "{{/if}}",
		"": "{{> p}}"
	}`))
	var errs JSONErrors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want JSONErrors", err)
	}
	want := []struct {
		ptr          string
		line, column int
	}{
		{"/headers/authorization", 1, 8},
		{"/list/1", 2, 1},
		{"/a~1b~0c", 1, 1},
		{"/", 1, 1},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors: %v", len(errs), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.Pointer != w.ptr || e.Err.Line != w.line || e.Err.Column != w.column {
			t.Errorf("error %d: got %s %d:%d, want %s %d:%d", i, e.Pointer, e.Err.Line, e.Err.Column, w.ptr, w.line, w.column)
		}
	}
	if !strings.Contains(err.Error(), "/headers/authorization: line 1, column 8: unknown helper") {
		t.Errorf("Error() = %q", err.Error())
	}
	var one *JSONError
	if !errors.As(err, &one) || one.Pointer != "/headers/authorization" {
		t.Errorf("errors.As *JSONError: %v", one)
	}
	_, err = CompileJSON("{{#if}}")
	if !errors.As(err, &one) || one.Pointer != "" || !strings.HasPrefix(err.Error(), "(root): ") {
		t.Errorf("root string error: %v", err)
	}
}

func TestJSONTemplateNames(t *testing.T) {
	jt, err := CompileJSON(mustDecode(t, `{"a": "/#response.body", "b": ["{{x}} {{#each l}}{{y}}{{/each}}", "/#items.0"], "c": "{{lookup this k}}"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jt.Names(), []string{"items", "k", "l", "response", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
	if !jt.ReadsRoot() {
		t.Errorf("ReadsRoot = false")
	}
}
