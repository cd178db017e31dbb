package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestChromiumPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, env  string
		candidates []string
		want, err  string
	}{
		{name: "the first candidate that exists", candidates: []string{missing, exe}, want: exe},
		{name: "none exists", candidates: []string{missing}, err: "no Chromium found (looked for " + missing + ")"},
		{name: "the variable wins", env: exe, candidates: []string{missing}, want: exe},
		{name: "the variable names nothing", env: missing, candidates: []string{exe}, err: EnvChromium + "=" + missing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chromiumPath(tt.env, tt.candidates)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("chromiumPath = %q, %v; want an error with %q", got, err, tt.err)
				}
			case err != nil || got != tt.want:
				t.Errorf("chromiumPath = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
