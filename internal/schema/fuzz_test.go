package schema

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// FuzzSchema compiles random schemas and applies them to random data:
// nothing panics, Output is stable (Output of Output changes nothing), and
// what Output returns passes Input but for missing required properties.
func FuzzSchema(f *testing.F) {
	for _, c := range loadGolden(f) {
		sb, err := jsonv.Marshal(c.schema)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(sb), c.data)
	}
	f.Add(`{"type":"object","properties":{"a":{"type":["integer","null"]},"b":{"items":{"type":"boolean"}}},"required":["a","c"],"additionalProperties":{"type":"string"}}`,
		`{"a":"1","b":["true",0,"x"],"c":null,"d":[]}`)
	f.Add(`{"properties":{"p1":{},"p2":{},"p3":{},"p4":{},"p5":{},"p6":{},"p7":{},"p8":{},"p9":{"type":"number"}},"additionalProperties":false}`,
		`{"p9":"1e400","p10":1,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1}`)
	f.Fuzz(func(t *testing.T, schemaJSON, dataJSON string) {
		raw, err := jsonv.Decode([]byte(schemaJSON))
		if err != nil {
			return
		}
		s, probs := Compile(raw, "/s")
		if (s == nil) != (len(probs) > 0) {
			t.Fatalf("Compile returned schema %v and problems %v", s, probs)
		}
		for _, p := range probs {
			if !strings.HasPrefix(p.Location, "/s") || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if s == nil {
			return
		}
		data, err := jsonv.Decode([]byte(dataJSON))
		if err != nil {
			return
		}
		in, _ := s.Input(jsonv.Clone(data), "/body")
		if _, err := jsonv.Marshal(in); err != nil {
			t.Fatalf("Input result does not encode: %v", err)
		}

		out := s.Output(jsonv.Clone(data))
		first, err := jsonv.Marshal(out)
		if err != nil {
			t.Fatalf("Output result does not encode: %v", err)
		}
		again := s.Output(jsonv.Clone(out))
		second, _ := jsonv.Marshal(again)
		if !bytes.Equal(first, second) {
			t.Fatalf("Output is not stable:\n%s\n%s", first, second)
		}

		// When the root converts, Output's result has nothing left to
		// convert or remove: Input finds at most missing properties.
		if rootConverts(s.root, jsonv.Clone(data)) {
			conv, probs := s.Input(jsonv.Clone(out), "")
			for _, p := range probs {
				if !strings.HasPrefix(p.Message, "must have required property") {
					t.Fatalf("Output result %s has problem %+v", first, p)
				}
			}
			if b, _ := jsonv.Marshal(conv); !bytes.Equal(b, first) {
				t.Fatalf("Input changed Output's result:\n%s\n%s", first, b)
			}
		}
	})
}

func rootConverts(n *node, v any) bool {
	if n.never {
		return false
	}
	if len(n.types) == 0 {
		return true
	}
	c, ok := coerce(n.types, v)
	if f, isFloat := c.(float64); ok && isFloat && !finite(f) {
		return false
	}
	return ok
}
