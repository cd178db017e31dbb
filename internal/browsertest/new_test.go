package browsertest_test

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/browsertest"
)

// outcome records how New ended a test, without ending the real one.
type outcome struct {
	testing.TB
	fatal, skip string
}

func (o *outcome) Helper() {}

func (o *outcome) Fatalf(format string, args ...any) {
	o.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (o *outcome) Skipf(format string, args ...any) {
	o.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// newIn runs browsertest.New as a test would, and reports how it ended.
func newIn(t *testing.T) *outcome {
	o := &outcome{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		browsertest.New(o)
	}()
	<-done
	return o
}

// A Chromium that is named but missing, or that does not start, fails the
// test: it never skips what the environment asked to run. (Not parallel:
// it sets the environment.)
func TestNewFails(t *testing.T) {
	t.Run("named but missing", func(t *testing.T) {
		t.Setenv(browsertest.EnvRequired, "")
		t.Setenv(browsertest.EnvChromium, filepath.Join(t.TempDir(), "chromium"))
		if o := newIn(t); o.skip != "" || !strings.Contains(o.fatal, "browsertest: "+browsertest.EnvChromium) {
			t.Errorf("New: fatal %q, skip %q; want it to fail naming %s", o.fatal, o.skip, browsertest.EnvChromium)
		}
	})
	t.Run("does not start", func(t *testing.T) {
		t.Setenv(browsertest.EnvRequired, "1")
		t.Setenv(browsertest.EnvChromium, "false") // exits at once
		if o := newIn(t); o.skip != "" || !strings.Contains(o.fatal, "browsertest: start ") {
			t.Errorf("New: fatal %q, skip %q; want it to fail to start", o.fatal, o.skip)
		}
	})
}
