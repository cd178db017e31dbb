package browsertest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Site is a web origin of its own for test pages: an httptest server on
// 127.0.0.1 (another port is another origin, so a page here loads the
// Switchboard server's files cross-origin, as an embedding page does).
type Site struct {
	// URL is the origin, such as http://127.0.0.1:41234.
	URL string

	mu      sync.Mutex
	pages   map[string]string
	proxies map[string]*httputil.ReverseProxy // path prefix → proxy
}

// NewSite starts a site that stops when the test ends.
func NewSite(t testing.TB) *Site {
	t.Helper()
	s := &Site{pages: map[string]string{}, proxies: map[string]*httputil.ReverseProxy{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Page serves html at path (such as "/classic.html") and returns the page's
// URL.
func (s *Site) Page(path, html string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = html
	return s.URL + path
}

// Proxy forwards every request whose path starts with prefix (such as
// "/v1/") to target, so that a page can reach target's routes as its own
// origin's, without CORS.
func (s *Site) Proxy(prefix, target string) {
	u, err := url.Parse(target)
	if err != nil {
		panic("browsertest: proxy target " + target + ": " + err.Error())
	}
	p := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = u.Host
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				return // the page went away or aborted its request
			}
			http.Error(w, "browsertest proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proxies[prefix] = p
}

func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	html, ok := s.pages[r.URL.Path]
	var proxy *httputil.ReverseProxy
	for prefix, p := range s.proxies {
		if strings.HasPrefix(r.URL.Path, prefix) {
			proxy = p
		}
	}
	s.mu.Unlock()
	switch {
	case ok:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(html))
	case proxy != nil:
		proxy.ServeHTTP(w, r)
	case r.URL.Path == "/favicon.ico":
		w.WriteHeader(http.StatusNoContent) // no "404" in the console
	default:
		http.NotFound(w, r)
	}
}

// HTML is a page of the given head elements, for Site.Page: a doctype, a
// charset and a title, so that the browser logs no warning of its own.
func HTML(head ...string) string {
	return "<!doctype html><html><head><meta charset=\"utf-8\"><title>test</title>" + strings.Join(head, "") + "</head><body></body></html>"
}
