package jsonv

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
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

// DecodeStrict refuses bytes that are not UTF-8, in strings and in names,
// at the offending byte and with the pointer of the value (or, for a name,
// of the object) that holds them.
func TestDecodeStrictInvalidUTF8(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
		ptr, msg  string
	}{
		{"\"\xff\"", 1, 2, "", "invalid UTF-8 in a string"},
		{"{\"a\":\"x\xffy\"}", 1, 8, "/a", "invalid UTF-8 in a string"},
		{"{\"a\":\"\xe2\x82\"}", 1, 7, "/a", "invalid UTF-8 in a string"},
		{"{\"a\":\"\xe2\x82\xe2\x82\xac\"}", 1, 7, "/a", "invalid UTF-8 in a string"},
		{"{\"a\":{\"b\":[1,\n \"é\xff\"]}}", 2, 5, "/a/b/1", "invalid UTF-8 in a string"},
		{"{\"a\xff\":1}", 1, 4, "", "invalid UTF-8 in a string"},
		{"{\"a\":{\"x\":1,\"\xe2\x82\":2}}", 1, 14, "/a", "invalid UTF-8 in a string"},
		{"{\"a~/\":{\"\xff\":2}}", 1, 10, "/a~0~1", "invalid UTF-8 in a string"},
		{"[\"\\ud800\", \"\xff\"]", 1, 13, "/1", "invalid UTF-8 in a string"},
		{"{\"a\":\"\xff", 1, 7, "/a", "invalid UTF-8 in a string"},                                         // unfinished
		{"{\"a\":\"\xff\x01\"}", 1, 7, "/a", "invalid UTF-8 in a string"},                                  // then a control character
		{"{\"a\xff", 1, 4, "", "invalid UTF-8 in a string"},                                                // an unfinished name
		{"{\"a\":\"\xe2\x82", 1, 7, "/a", "invalid UTF-8 in a string"},                                     // truncated at the end
		{"\"ok\" \"\xff\"", 1, 7, "", "invalid UTF-8 in a string"},                                         // after the value
		{"{\"a\" 1, \"b\":\"\xff\"}", 1, 6, "", "invalid character '1' after object name (expecting ':')"}, // an earlier error first
		{"[\xff]", 1, 2, "", "invalid character '\\xff' at start of value"},
	}
	for _, tt := range tests {
		v, err := DecodeStrict([]byte(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Fatalf("DecodeStrict(%q) = %v, %v; want a *SyntaxError", tt.in, v, err)
		}
		if se.Line != tt.line || se.Column != tt.col || se.Pointer != tt.ptr || se.Msg != tt.msg {
			t.Errorf("DecodeStrict(%q): %q at %d:%d %q; want %q at %d:%d %q", tt.in, se.Msg, se.Line, se.Column, se.Pointer, tt.msg, tt.line, tt.col, tt.ptr)
		}
	}
}

// Valid non-ASCII text decodes the same, strict or not; a lone escaped
// surrogate is accepted, as JSON.parse accepts it, and becomes U+FFFD.
// Decode (for what upstreams answer) still replaces bytes that are not UTF-8.
func TestDecodeStrictValid(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"é":"café 😀"}`, `{"é":"café 😀"}`},
		{`["\ud83d\ude00","\u00e9"]`, `["😀","é"]`},
		{`{"\ud800":"\udc00x\ud800"}`, "{\"\ufffd\":\"\ufffdx\ufffd\"}"},
	}
	for _, tt := range tests {
		for _, decode := range []func([]byte) (any, error){Decode, DecodeStrict} {
			v, err := decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("decode(%s): %v", tt.in, err)
			}
			if got, _ := Marshal(v); string(got) != tt.want {
				t.Errorf("decode(%s) = %s, want %s", tt.in, got, tt.want)
			}
		}
	}
	v, err := Decode([]byte("\"a\xffb\""))
	if err != nil || v != "a\ufffdb" {
		t.Errorf("Decode of invalid UTF-8 = %q, %v; want it replaced", v, err)
	}
}

// DecodeStrict accepts exactly what Decode accepts that is UTF-8, and
// decodes it the same.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"a":["é",{"b":"\ud800"}]}`, "\"\xff\"", "{\"\xe2\x82\":1}", `[`, "[\"x\",\n\"\xff"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		sv, serr := DecodeStrict(data)
		if !utf8.Valid(data) {
			var se *SyntaxError
			if !errors.As(serr, &se) {
				t.Fatalf("DecodeStrict(%q) = %v, %v; want a *SyntaxError", data, sv, serr)
			}
			if se.Msg == ErrInvalidUTF8.Error() && (se.Offset >= int64(len(data)) || utf8.FullRune(data[se.Offset:]) && utf8.Valid(data[se.Offset:se.Offset+1])) {
				t.Fatalf("DecodeStrict(%q) reports invalid UTF-8 at %d, a valid byte", data, se.Offset)
			}
			return
		}
		if (err == nil) != (serr == nil) {
			t.Fatalf("Decode(%q) error %v, DecodeStrict error %v", data, err, serr)
		}
		if err != nil {
			if err.Error() != serr.Error() {
				t.Fatalf("Decode(%q) error %v, DecodeStrict error %v", data, err, serr)
			}
			return
		}
		a, _ := Marshal(v)
		b, _ := Marshal(sv)
		if string(a) != string(b) {
			t.Fatalf("Decode(%q) = %s, DecodeStrict = %s", data, a, b)
		}
	})
}
