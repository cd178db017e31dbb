package tmpl

import (
	"os"
	"testing"
)

func TestRandScratch(t *testing.T) {
	p := os.Getenv("RAND_GOLDEN")
	if p == "" {
		t.Skip()
	}
	fails := 0
	for _, c := range loadGolden(t, p) {
		tp, err := Parse(c.template)
		if c.wantErr {
			if err == nil {
				out, _ := tp.Render(c.data)
				t.Errorf("%s: %q: want error, got %q", c.name, c.template, out)
				fails++
			}
		} else if err != nil {
			t.Errorf("%s: %q: %v", c.name, c.template, err)
			fails++
		} else if out, _ := tp.Render(c.data); out != c.output {
			t.Errorf("%s: %q\n got  %q\n want %q", c.name, c.template, out, c.output)
			fails++
		}
		if fails > 15 {
			t.Fatal("too many")
		}
	}
}
