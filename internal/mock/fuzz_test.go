package mock

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// FuzzLoad feeds Load arbitrary files: it must never panic, must fail only
// with an *InvalidError that names a problem, and a mock it loads must
// answer requests without panicking.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`{"routes": [{"path": "/"}]}`,
		`{"routes": [{"method": "POST", "host": "{s}.example.com", "path": "/orders/{id}", "status": 201,
			"headers": {"X-A": "{{header.x-a}}"}, "body": {"id": "{{path.id}}", "b": "/#body.x", "l": [1, "{{query.q}}"]}}]}`,
		`{"routes": [{"path": "/f/{rest...}", "body": "{{#each header}}{{@key}}={{this}};{{/each}}"}]}`,
		`{"routes": [{"path": "/", "body": "/#body"}, {"path": "/x", "status": 204}]}`,
		`{"routes": [{"path": "x{", "status": 1e3, "headers": {"a b": 1}, "body": "{{"}], "extra": null}`,
		`[]`, `{"routes": []}`, `{`, `"`, ``,
	} {
		f.Add(s)
	}
	if b, err := os.ReadFile("../../testdata/mocks/ecommstore.json"); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, src string) {
		m, err := Load([]byte(src))
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("Load error %T %v, want an *InvalidError with problems", err, err)
			}
			if m != nil {
				t.Fatal("Load returned a mock with its error")
			}
			return
		}
		if len(m.Routes()) == 0 {
			t.Fatal("a loaded mock has no route")
		}
		requests := []*http.Request{
			httptest.NewRequest("GET", "/", nil),
			httptest.NewRequest("POST", "http://a.example.com/orders/1?q=x", strings.NewReader(`{"x": [1, {"y": null}]}`)),
			httptest.NewRequest("PUT", "/f/a%2F/b/", strings.NewReader("text")),
		}
		requests[1].Header.Set("X-A", "v")
		for _, r := range requests {
			w := httptest.NewRecorder()
			m.ServeHTTP(w, r)
			if w.Code < 100 || w.Code > 599 {
				t.Fatalf("status %d", w.Code)
			}
		}
	})
}
