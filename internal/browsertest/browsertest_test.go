package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/internal/browsertest"
)

// The harness itself: a page on a Site runs, Eval returns JSON values and
// awaits promises, the console and uncaught exceptions are recorded, and a
// Site's proxy makes another server's routes same-origin.
func TestBrowser(t *testing.T) {
	t.Parallel()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"path":"` + r.URL.Path + `","host":"` + r.Host + `"}`))
	}))
	t.Cleanup(backend.Close)
	site := browsertest.NewSite(t)
	site.Proxy("/api/", backend.URL)
	page := site.Page("/index.html", browsertest.HTML(
		`<script>window.answer = 42; console.log("hello", 1); console.error("boom"); setTimeout(() => { throw new Error("late") }, 0);</script>`))

	b := browsertest.New(t)
	b.Open(t, page)

	t.Run("eval", func(t *testing.T) {
		var got struct {
			Answer int
			Origin string
		}
		b.Eval(t, `({answer: window.answer, origin: location.origin})`, &got)
		if got.Answer != 42 || got.Origin != site.URL {
			t.Errorf("eval = %+v, want answer 42 and origin %s", got, site.URL)
		}
		var n int
		b.Eval(t, `new Promise(r => setTimeout(() => r(7), 10))`, &n)
		if n != 7 {
			t.Errorf("awaited promise = %d, want 7", n)
		}
		var null *int
		b.Eval(t, `undefined`, &null)
		if null != nil {
			t.Errorf("undefined = %v, want null", *null)
		}
	})
	t.Run("a rejection is an error", func(t *testing.T) {
		err := b.EvalErr(`Promise.reject(new Error("no"))`, nil)
		if err == nil || !strings.Contains(err.Error(), "no") {
			t.Errorf("EvalErr = %v, want the rejection", err)
		}
	})
	t.Run("proxy", func(t *testing.T) {
		var got map[string]string
		b.Eval(t, `fetch("/api/x").then(r => r.json())`, &got)
		want := map[string]string{"path": "/api/x", "host": strings.TrimPrefix(backend.URL, "http://")}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("proxied answer (-want +got):\n%s", diff)
		}
	})
	t.Run("console", func(t *testing.T) {
		b.Eval(t, `new Promise(r => setTimeout(r, 50))`, nil) // the uncaught "late" has been thrown
		var texts []string
		for _, m := range b.Messages() {
			texts = append(texts, string(m.Type)+": "+m.Text)
		}
		for _, want := range []string{"log: hello 1", "error: boom"} {
			if !contains(texts, want) {
				t.Errorf("messages %q lack %q", texts, want)
			}
		}
		var errs []string
		for _, m := range b.Errors() {
			errs = append(errs, m.String())
		}
		if len(errs) != 2 || errs[0] != "error: boom" || !strings.Contains(errs[1], "late") || !b.Errors()[1].IsException() {
			t.Errorf("errors = %q, want boom and the uncaught exception late", errs)
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
