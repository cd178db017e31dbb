package apptest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// mustRun runs the cases of fixtures against def and returns the result
// and the report.
func mustRun(t *testing.T, def []byte, f *File, o Options) (*Result, string) {
	t.Helper()
	var out bytes.Buffer
	o.Definition, o.File, o.Out = def, f, &out
	if o.FixturesPath == "" {
		o.FixturesPath = "fixtures.json"
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return res, out.String()
}

func TestStarterPasses(t *testing.T) {
	t.Parallel()
	def := mustRead(t, filepath.Join("testdata", "contacts.json"))
	f := mustParse(t, mustRead(t, filepath.Join("testdata", "contacts.fixtures.json")))
	res, out := mustRun(t, def, f, Options{})
	if res.Failed != 0 || res.Passed != 4 {
		t.Fatalf("result %+v, want 4 passed\n%s", res, out)
	}
	t.Log(out)
}
