package runner

import (
	"encoding/json"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// The expectations were printed by npm qs 6 (qs.stringify with its
// defaults), which Node's request library uses.
func TestStringifyQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":"b c","d":1.0,"e":true,"f":null}`, "a=b%20c&d=1&e=true&f="},
		{`{"list":["x","y"],"o":{"k":"v","n":{"m":1}}}`, "list%5B0%5D=x&list%5B1%5D=y&o%5Bk%5D=v&o%5Bn%5D%5Bm%5D=1"},
		{`{"empty":[],"obj":{},"u":"ü&=?/"}`, "u=%C3%BC%26%3D%3F%2F"},
		{`{"n":1e21}`, "n=1e%2B21"},
	}
	for _, tt := range tests {
		v, err := jsonv.Decode([]byte(tt.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := stringifyQuery(v); got != tt.want {
			t.Errorf("stringifyQuery(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := redactor{"secret-long", "secret"} // longest first, as registry sorts them
	if got := r.String("a secret-long and a secret"); got != "a [redacted] and a [redacted]" {
		t.Errorf("String = %q", got)
	}
	v, _ := jsonv.Decode([]byte(`{"k":["x secret y",{"secret-long":"v"}],"n":1}`))
	out, _ := jsonv.Marshal(r.Value(v))
	want := `{"k":["x [redacted] y",{"[redacted]":"v"}],"n":1}`
	if string(out) != want {
		t.Errorf("Value = %s, want %s", out, want)
	}
	var empty redactor
	if empty.String("secret") != "secret" || empty.Value(json.Number("1")) != json.Number("1") {
		t.Error("an empty redactor changed a value")
	}
}

// An arg given as a number prints as JavaScript prints it, whichever way
// the run came (REST or MCP).
func TestArgString(t *testing.T) {
	for _, tt := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"x", "x", true}, {json.Number("1.0"), "1", true}, {json.Number("1e21"), "1e+21", true},
		{true, "true", true}, {nil, "", false}, {[]any{"a"}, "", false},
	} {
		if got, ok := ArgString(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ArgString(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
