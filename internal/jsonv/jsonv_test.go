package jsonv

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"b":1,"a":[1.0,"x",null,true,false],"c":{"z":{},"y":[]}}`, `{"b":1,"a":[1.0,"x",null,true,false],"c":{"z":{},"y":[]}}`},
		{` { "a" : 1 , "b":2, "a": 3 } `, `{"a":3,"b":2}`}, // JSON.parse: first position, last value
		{`"<&>\u2028"`, "\"<&>\u2028\""},
		{`12345678901234567890123`, `12345678901234567890123`},
		{`"\ud800"`, "\"\ufffd\""},
	}
	for _, tt := range tests {
		v, err := Decode([]byte(tt.in))
		if err != nil {
			t.Fatalf("Decode(%s): %v", tt.in, err)
		}
		got, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("round trip of %s = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
	}{
		{"{\n  \"a\": 1,\n  \"b\": }", 3, 8},
		{`{"a":1} x`, 1, 9},
		{`{"a":`, 1, 6},
		{``, 1, 1},
		{"[1,\n2,]", 2, 2}, // the trailing comma
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("Decode(%q) error = %v, want a *SyntaxError", tt.in, err)
		}
		if se.Line != tt.line || se.Column != tt.col {
			t.Errorf("Decode(%q) at %d:%d, want %d:%d (%v)", tt.in, se.Line, se.Column, tt.line, tt.col, se)
		}
	}
}

func TestObject(t *testing.T) {
	o := NewObject(0)
	for i := 0; i < 40; i++ {
		o.Set(string(rune('a'+i)), i)
	}
	o.Set("c", "x")
	if v, _ := o.Get("c"); v != "x" || o.Len() != 40 || o.Members[2].Key != "c" {
		t.Fatalf("Set replaced wrongly: %v", o.Members[2])
	}
	o.Delete("b")
	if _, ok := o.Get("b"); ok || o.Len() != 39 {
		t.Fatal("Delete left the key")
	}
	if v, _ := o.Get("d"); v != 3 {
		t.Fatalf("index not rebuilt after Delete: d = %v", v)
	}
	c := Clone(o).(*Object)
	c.Set("zz", 1)
	if _, ok := o.Get("zz"); ok {
		t.Fatal("Clone shares the index")
	}
}

func TestAppendMaps(t *testing.T) {
	got, err := Marshal(map[string]any{"b": json.Number("2"), "a": map[string]string{"y": "1", "x": "0"}})
	if err != nil || string(got) != `{"a":{"x":"0","y":"1"},"b":2}` {
		t.Fatalf("Marshal(map) = %s, %v", got, err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}]}`, `"x"`, `[`, `{"a":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			return
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal after Decode: %v", err)
		}
		v2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-Decode of %s: %v", enc, err)
		}
		enc2, _ := Marshal(v2)
		if string(enc) != string(enc2) {
			t.Fatalf("not stable: %s then %s", enc, enc2)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(`{"body":{"foo":12,"refundOption":true,"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]},"headers":{"Authorization":"Bearer {{authToken}}"},"args":{"store":"dunder-mifflin"}}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLocate(t *testing.T) {
	data := []byte("{\n  \"a\": [1, {\"b\": 2}],\n  \"c\": \"x\"\n}")
	pos := Locate(data)
	want := map[string][2]int{"": {1, 1}, "/a": {2, 3}, "/a/0": {2, 9}, "/a/1": {2, 12}, "/a/1/b": {2, 13}, "/c": {3, 3}}
	for p, w := range want {
		if pos[p] != w {
			t.Errorf("Locate %q = %v, want %v", p, pos[p], w)
		}
	}
}
