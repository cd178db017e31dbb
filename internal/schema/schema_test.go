package schema

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	switchboard "github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func compile(t testing.TB, s string) *Schema {
	t.Helper()
	sch, probs := Compile(decode(t, s), "/inputSchema")
	if len(probs) > 0 {
		t.Fatalf("Compile(%s): %v", s, probs)
	}
	return sch
}

func marshal(t testing.TB, v any) string {
	t.Helper()
	b, err := jsonv.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const seedSchema = `{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":false,"required":["foo"]}`

func TestSeedExample(t *testing.T) {
	s := compile(t, seedSchema)
	_, probs := s.Input(decode(t, `{"refundOption": true}`), "/body")
	want := []switchboard.Problem{
		{Message: "must have required property 'foo'", Location: "/body/foo"},
		{Message: "must NOT have additional properties", Location: "/body/refundOption"},
	}
	if d := cmp.Diff(want, probs); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	out, probs := s.Input(decode(t, `{"foo": 12}`), "/body")
	if len(probs) > 0 {
		t.Errorf("problems = %v", probs)
	}
	if got := marshal(t, out); got != `{"foo":"12"}` {
		t.Errorf("converted = %s", got)
	}
}

func TestCompileProblems(t *testing.T) {
	const base = "/commands/0/inputSchema"
	tests := []struct {
		schema string
		want   []string // "location: message prefix"
	}{
		{`{"type":"string","minLength":1}`, []string{base + `/minLength: unsupported keyword "minLength"`}},
		{`{"type":"strin"}`, []string{base + `/type: unknown type "strin"`}},
		{`{"type":["string",5,"foo","string"]}`, []string{
			base + `/type/1: must be a type name`,
			base + `/type/2: unknown type "foo"`,
			base + `/type/3: type "string" is listed twice`,
		}},
		{`{"type":[]}`, []string{base + `/type: must not be an empty array`}},
		{`{"type":7}`, []string{base + `/type: must be a type name or an array`}},
		{`{"properties":[]}`, []string{base + `/properties: must be an object`}},
		{`{"properties":{"a":5,"b/c":{"enum":[1]},"d":{"type":"number"}}}`, []string{
			base + `/properties/a: must be a schema`,
			base + `/properties/b~1c/enum: unsupported keyword "enum"`,
		}},
		{`{"required":"a"}`, []string{base + `/required: must be an array`}},
		{`{"required":["a",1,"a"]}`, []string{
			base + `/required/1: must be a property name`,
			base + `/required/2: property "a" is listed twice`,
		}},
		{`{"additionalProperties":5}`, []string{base + `/additionalProperties: must be a schema`}},
		{`{"additionalProperties":{"pattern":"x"}}`, []string{base + `/additionalProperties/pattern: unsupported keyword "pattern"`}},
		{`{"items":[{"type":"string"}]}`, []string{base + `/items: must be a schema: the array form`}},
		{`{"items":{"format":"date"}}`, []string{base + `/items/format: unsupported keyword "format"`}},
		{`{"default":1,"$ref":"#","oneOf":[],"enum":[1],"nullable":true}`, []string{
			base + `/default: unsupported keyword`,
			base + `/$ref: unsupported keyword`,
			base + `/oneOf: unsupported keyword`,
			base + `/enum: unsupported keyword`,
			base + `/nullable: unsupported keyword`,
		}},
		{`{"title":5,"description":[],"examples":{},"$comment":null,"$schema":1}`, []string{
			base + `/title: must be a string`,
			base + `/description: must be a string`,
			base + `/examples: must be an array`,
			base + `/$comment: must be a string`,
			base + `/$schema: must be a string`,
		}},
		{`"string"`, []string{base + `: must be a schema`}},
		{`null`, []string{base + `: must be a schema`}},
		{`{"properties":{"a":{"properties":{"b":{"items":{"type":"nope"}}}}}}`, []string{
			base + `/properties/a/properties/b/items/type: unknown type "nope"`,
		}},
		{`{"properties":{"~":{"minimum":1}}}`, []string{base + `/properties/~0/minimum: unsupported keyword`}},
		// Accepted: annotations, boolean schemas, no type.
		{`{"$schema":"http://json-schema.org/draft-07/schema#","title":"t","description":"d","examples":[1],"$comment":"c"}`, nil},
		{`true`, nil},
		{`false`, nil},
		{`{"properties":{"a":false,"b":true},"items":true,"additionalProperties":{"type":"number"}}`, nil},
		{`{"type":["integer","null"],"required":[]}`, nil},
	}
	for _, tt := range tests {
		s, probs := Compile(decode(t, tt.schema), base)
		if (s == nil) != (len(probs) > 0) {
			t.Errorf("Compile(%s): schema %v with problems %v", tt.schema, s, probs)
		}
		if len(probs) != len(tt.want) {
			t.Errorf("Compile(%s) = %v, want %d problems %v", tt.schema, probs, len(tt.want), tt.want)
			continue
		}
		for i, p := range probs {
			if got := p.Location + ": " + p.Message; !strings.HasPrefix(got, tt.want[i]) {
				t.Errorf("Compile(%s) problem %d = %q, want prefix %q", tt.schema, i, got, tt.want[i])
			}
		}
	}
}

func TestCompileMapSchema(t *testing.T) {
	s, probs := Compile(map[string]any{
		"type":       "object",
		"properties": map[string]any{"n": map[string]any{"type": []string{"integer", "null"}}},
		"required":   []string{"n"},
	}, "")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	out, probs := s.Input(map[string]any{"n": "5"}, "")
	if len(probs) > 0 || marshal(t, out) != `{"n":5}` {
		t.Errorf("Input = %s, %v", marshal(t, out), probs)
	}
}

func TestInputLocations(t *testing.T) {
	s := compile(t, `{"type":"object","properties":{
		"items":{"type":"array","items":{"type":"object","properties":{"a":{"type":"integer"}},"required":["b/c"],"additionalProperties":false}},
		"m~n":{"type":"number"}}}`)
	_, probs := s.Input(decode(t, `{"items":[{"a":1},{"a":"2"},{"a":"x","z~":1}],"m~n":"y"}`), "/body")
	want := []switchboard.Problem{
		{Message: "must have required property 'b/c'", Location: "/body/items/0/b~1c"},
		{Message: "must have required property 'b/c'", Location: "/body/items/1/b~1c"},
		{Message: "must have required property 'b/c'", Location: "/body/items/2/b~1c"},
		{Message: "must NOT have additional properties", Location: "/body/items/2/z~0"},
		{Message: "must be integer", Location: "/body/items/2/a"},
		{Message: "must be number", Location: "/body/m~0n"},
	}
	if d := cmp.Diff(want, probs); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
}

func TestInputGoForms(t *testing.T) {
	s := compile(t, `{"type":"object","properties":{"s":{"type":"string"},"n":{"type":"number"},"i":{"type":"integer"},"b":{"type":"boolean"},"o":{"properties":{"x":{"type":"number"}}}}}`)
	in := map[string]any{"s": 1.5, "n": 7, "i": float64(3), "b": 1, "o": map[string]string{"x": "0x10", "y": "z"}}
	out, probs := s.Input(in, "")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if got, want := marshal(t, out), `{"b":true,"i":3,"n":7,"o":{"x":16,"y":"z"},"s":"1.5"}`; got != want {
		t.Errorf("Input = %s, want %s", got, want)
	}
	// An int beyond 2^53 prints as JavaScript prints the double.
	out, _ = compile(t, `{"type":"string"}`).Input(1<<60+1, "")
	if out != "1152921504606847000" {
		t.Errorf("Input(2^60+1) = %v", out)
	}
}

func TestInputNonFinite(t *testing.T) {
	s := compile(t, `{"type":"object","properties":{"n":{"type":"number"}}}`)
	out, probs := s.Input(decode(t, `{"n":"Infinity"}`), "")
	if len(probs) > 0 {
		t.Fatalf("problems %v (Ajv accepts \"Infinity\" for a number)", probs)
	}
	if n, _ := jsonv.Get(out, "n"); n != math.Inf(1) {
		t.Errorf("n = %#v, want +Inf", n)
	}
	if got := marshal(t, out); got != `{"n":null}` { // as JSON.stringify
		t.Errorf("marshal = %s", got)
	}
	// A JSON number too large for a double is Infinity, which Ajv's
	// strictNumbers refuses as a number.
	_, probs = s.Input(decode(t, `{"n":1e400}`), "")
	if len(probs) != 1 || probs[0].Message != "must be number" {
		t.Errorf("problems = %v", probs)
	}
}

func TestNilSchema(t *testing.T) {
	var s *Schema
	if out, probs := s.Input("x", ""); out != "x" || probs != nil {
		t.Error("nil schema Input")
	}
	if out := s.Output("x"); out != "x" {
		t.Error("nil schema Output")
	}
}

func TestOutput(t *testing.T) {
	tests := []struct {
		name, schema, in, want string
	}{
		{"seed", seedSchema, `{"refundOption":true,"foo":12}`, `{"foo":"12"}`},
		{"missing required stays absent", seedSchema, `{}`, `{}`},
		{"unconvertible property removed", seedSchema, `{"foo":{},"x":1}`, `{}`},
		{"root unconvertible unchanged", seedSchema, `"abc"`, `"abc"`},
		{"root unconvertible not filtered", `{"type":"string","properties":{"a":{"type":"number"}}}`, `{"a":"x"}`, `{"a":"x"}`},
		{"root coerced", `{"type":"integer"}`, `"0x10"`, `16`},
		{"root false schema", `false`, `{"a":1}`, `{"a":1}`},
		{"array elements dropped", `{"type":"array","items":{"type":"integer"}}`, `["1","x",2,"1.5",null,true,[]]`, `[1,2,0,1]`},
		{"nested", `{"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}},"additionalProperties":false}}}`,
			`{"user":{"id":"7","tags":[1,{},"x",null],"secret":"s"},"other":1}`, `{"user":{"id":7,"tags":["1","x",""]},"other":1}`},
		{"additional schema filters", `{"properties":{"a":{"type":"string"}},"additionalProperties":{"type":"number"}}`, `{"a":1,"b":"2","c":"x","d":{}}`, `{"a":"1","b":2}`},
		{"false property removed", `{"properties":{"a":false}}`, `{"a":1,"b":2}`, `{"b":2}`},
		{"items false empties", `{"items":false}`, `[1,2]`, `[]`},
		{"non-finite coercion removed", `{"properties":{"n":{"type":"number"},"i":{"type":"integer"},"s":{"type":"string"}}}`, `{"n":"Infinity","i":"1e400","s":1e400}`, `{"s":"Infinity"}`},
		{"non-finite number removed", `{"properties":{"n":{"type":"number"}}}`, `{"n":1e400}`, `{}`},
		{"multi type", `{"type":"array","items":{"type":["integer","null"]}}`, `["1","",0,false,"x",1.5]`, `[1,null,0,0]`},
		{"many members with index", `{"additionalProperties":false,"properties":{"k0":{"type":"string"},"k1":{},"k2":{},"k3":{},"k4":{},"k5":{},"k6":{},"k7":{},"k8":{},"k9":{}}}`,
			`{"a0":0,"k0":0,"a1":0,"a2":0,"a3":0,"a4":0,"a5":0,"a6":0,"a7":0,"a8":0,"a9":0,"k1":1,"b0":0,"b1":0,"b2":0,"b3":0,"b4":0,"b5":0,"k9":9}`, `{"k0":"0","k1":1,"k9":9}`},
	}
	for _, tt := range tests {
		s := compile(t, tt.schema)
		out := s.Output(decode(t, tt.in))
		if got := marshal(t, out); got != tt.want {
			t.Errorf("%s: Output = %s, want %s", tt.name, got, tt.want)
		}
		again := s.Output(out)
		if got := marshal(t, again); got != tt.want {
			t.Errorf("%s: Output(Output) = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestOutputMap(t *testing.T) {
	s := compile(t, seedSchema)
	out := s.Output(map[string]any{"foo": json.Number("1e21"), "bar": 1})
	if got := marshal(t, out); got != `{"foo":"1e+21"}` {
		t.Errorf("Output = %s", got)
	}
	out = s.Output(map[string]any{"foo": []any{}})
	if got := marshal(t, out); got != `{}` {
		t.Errorf("Output = %s", got)
	}
}

// TestOutputObjectIndex checks that removals keep a large object's lookup
// index right (jsonv keeps one above 16 members).
func TestOutputObjectIndex(t *testing.T) {
	s := compile(t, `{"properties":{"n":{"type":"number"}},"additionalProperties":{"type":"string"}}`)
	o := jsonv.NewObject(0)
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r"} {
		o.Set(k, json.Number("1"))
	}
	o.Set("x", []any{})
	o.Set("n", "x")
	out := s.Output(o).(*jsonv.Object)
	if _, ok := out.Get("x"); ok {
		t.Error("x kept")
	}
	if _, ok := out.Get("n"); ok {
		t.Error("n kept")
	}
	if v, ok := out.Get("r"); !ok || v != "1" {
		t.Errorf("r = %#v", v)
	}
	out.Set("z", true)
	if v, _ := out.Get("z"); v != true {
		t.Error("index broken")
	}
}

// TestDeepLocation checks locations deeper than the walker keeps inline.
func TestDeepLocation(t *testing.T) {
	schema, data := `{"type":"integer"}`, `"x"`
	want := "/body"
	for i := 0; i < 40; i++ {
		if i%2 == 0 {
			schema = `{"items":` + schema + `}`
			data = `[0,` + data + `]`
		} else {
			schema = `{"properties":{"k/` + strconv.Itoa(i) + `":` + schema + `}}`
			data = `{"k/` + strconv.Itoa(i) + `":` + data + `}`
		}
	}
	for i := 39; i >= 0; i-- {
		if i%2 == 0 {
			want += "/1"
		} else {
			want += "/k~1" + strconv.Itoa(i)
		}
	}
	_, probs := compile(t, schema).Input(decode(t, data), "/body")
	if len(probs) != 1 || probs[0].Location != want || probs[0].Message != "must be integer" {
		t.Errorf("problems = %v, want one at %s", probs, want)
	}
}

func TestProperties(t *testing.T) {
	tests := []struct {
		schema string
		names  []string
		open   bool
	}{
		{`{"properties":{"a":{},"b":{}},"additionalProperties":false}`, []string{"a", "b"}, false},
		{`{"properties":{"a":{}}}`, []string{"a"}, true},
		{`{"properties":{"a":{}},"additionalProperties":{"type":"string"}}`, []string{"a"}, true},
		{`{"additionalProperties":false}`, nil, false},
		{`false`, nil, false},
	}
	for _, tt := range tests {
		raw, err := jsonv.Decode([]byte(tt.schema))
		if err != nil {
			t.Fatal(err)
		}
		s, probs := Compile(raw, "")
		if len(probs) > 0 {
			t.Fatalf("Compile(%s): %v", tt.schema, probs)
		}
		names, open := s.Properties()
		if !cmp.Equal(names, tt.names) || open != tt.open {
			t.Errorf("Properties(%s) = %v, %v; want %v, %v", tt.schema, names, open, tt.names, tt.open)
		}
	}
	if _, open := (*Schema)(nil).Properties(); !open {
		t.Error("a nil schema is not open")
	}
}
