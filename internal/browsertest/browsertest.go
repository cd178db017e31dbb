// Package browsertest runs a headless Chromium inside a test, through
// chromedp, so that the browser SDK is tested in a real browser: real
// module loading, real CORS, real fetch. It records what the page writes to
// the console (and every uncaught exception) so that a test can assert that
// a page ran without errors, and it serves test pages from an origin of
// their own (Site). Like net/http/httptest, it is for tests only.
//
// A test that needs a browser skips when no Chromium is installed, unless
// SWITCHBOARD_TEST_BROWSER is set (as .ci/run sets it): then a missing or
// broken Chromium fails the test. SWITCHBOARD_TEST_CHROMIUM names the
// binary when it is not chromium on PATH or /usr/bin/chromium.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The environment variables that choose what New does.
const (
	// EnvRequired, when set to anything, makes a missing or broken Chromium
	// a failure instead of a skip.
	EnvRequired = "SWITCHBOARD_TEST_BROWSER"
	// EnvChromium names the Chromium binary (a path or a name on PATH).
	EnvChromium = "SWITCHBOARD_TEST_CHROMIUM"
)

// Timeout bounds each step (starting the browser, loading a page,
// evaluating an expression), so that a hung page fails its test instead of
// the whole run.
const Timeout = 30 * time.Second

// Browser is one headless Chromium with one tab, for one test.
type Browser struct {
	ctx context.Context // the tab's; its first Run started the browser

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// New starts a headless Chromium that lives until the test ends. It skips
// the test when no Chromium is installed and neither EnvRequired nor
// EnvChromium is set; it fails the test when one is set and Chromium is
// missing, or whenever a Chromium it found does not start.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := chromiumPath(os.Getenv(EnvChromium), defaultChromiums)
	if err != nil {
		if os.Getenv(EnvRequired) != "" || os.Getenv(EnvChromium) != "" {
			t.Fatalf("browsertest: %v (%s or %s is set, so the browser tests must run)", err, EnvRequired, EnvChromium)
		}
		t.Skipf("browsertest: %v; install Chromium (apt-get install chromium) or set %s to run the browser tests", err, EnvChromium)
	}

	var output lockedBuffer // Chromium's stdout and stderr, shown only when it fails
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&output),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		// chromedp's own complaints (a write to a browser that exited) go
		// with the browser's output, not to the standard logger.
		chromedp.WithErrorf(output.printf), chromedp.WithLogf(output.printf))
	b := &Browser{ctx: ctx}

	// The first Run starts the browser and binds its life to ctx, so it may
	// not be given a timeout; a timer cancels it instead.
	timer := time.AfterFunc(Timeout, cancelTab)
	err = chromedp.Do(ctx)
	stopped := timer.Stop()
	if err != nil {
		cancelTab()
		cancelAlloc()
		if !stopped {
			err = fmt.Errorf("%w (it did not start within %v)", err, Timeout)
		}
		t.Fatalf("browsertest: start %s: %v\n%s", path, err, output.tail(4096))
	}

	// Subscribe before anything navigates, so that no message is lost.
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return // the tab closed
			}
			b.mu.Lock()
			b.messages = append(b.messages, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: close the browser: %v", err)
		}
		cancelTab()
		cancelAlloc() // waits for the process to exit
		<-done
	})
	return b
}

// defaultChromiums are where New looks when EnvChromium is unset.
var defaultChromiums = []string{"chromium", "/usr/bin/chromium"}

// chromiumPath finds the browser: the named one when name is set, else the
// first of candidates that exists (a name on PATH or a path).
func chromiumPath(name string, candidates []string) (string, error) {
	if name != "" {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvChromium, name, err)
		}
		return p, nil
	}
	for _, c := range candidates {
		if p, err := exec.LookPath(c); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (looked for %s)", strings.Join(candidates, ", "))
}

// Open loads url in the tab and waits for its load event, by which time its
// classic and module scripts have run.
func (b *Browser) Open(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("browsertest: open %s: %v%s", url, err, b.errorReport())
	}
}

// Eval evaluates a JavaScript expression in the page, awaits it when it is
// a promise, and decodes its value, as JSON.stringify gives it, into out (a
// pointer; nil to ignore the value). A thrown exception or a rejected
// promise fails the test: an expression that tests a rejection catches it
// and returns what it wants to check.
func (b *Browser) Eval(t testing.TB, expr string, out any) {
	t.Helper()
	if err := b.EvalErr(expr, out); err != nil {
		t.Fatalf("browsertest: eval %s: %v%s", expr, err, b.errorReport())
	}
}

// EvalErr is Eval that returns its error.
func (b *Browser) EvalErr(expr string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	// JSON.stringify in the page decides what a value is (getters that are
	// not enumerable, undefined members and functions drop out, as they do
	// for any JSON that a page sends), and a string always comes back.
	wrapped := "(async () => JSON.stringify((await (" + expr + "\n)) ?? null))()"
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](wrapped, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("decode %s: %w", s, err)
	}
	return nil
}

// Messages returns every console message so far: console API calls,
// uncaught exceptions and unhandled rejections, and the browser's own log
// (a refused CORS request, a script that failed to load).
func (b *Browser) Messages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.messages...)
}

// Errors returns the messages of type error and the exceptions.
func (b *Browser) Errors() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range b.Messages() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m)
		}
	}
	return out
}

// NoErrors fails the test when the page logged an error or threw an
// exception that nothing caught, other than those whose text contains one
// of expected.
func (b *Browser) NoErrors(t testing.TB, expected ...string) {
	t.Helper()
	for _, m := range b.Errors() {
		if !containsAny(m.Text, expected) {
			t.Errorf("browsertest: the page logged %s (at %s:%d)", m, m.URL, m.Line+1)
		}
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// errorReport lists the console's errors, for a failure's message.
func (b *Browser) errorReport() string {
	errs := b.Errors()
	if len(errs) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("\nthe page's console errors:")
	for _, m := range errs {
		sb.WriteString("\n  " + m.String())
	}
	return sb.String()
}

// lockedBuffer collects the browser's output, written by chromedp's
// goroutines and read when the start fails.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, format+"\n", args...)
}

func (l *lockedBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buf.Bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
