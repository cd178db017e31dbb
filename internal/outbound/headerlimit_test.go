package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// hugeHeaders answers with response headers of 1.5 MiB.
func hugeHeaders(w http.ResponseWriter, r *http.Request) {
	for i := range 3 {
		w.Header().Add("X-Huge", strings.Repeat(string(rune('a'+i)), maxResponseHeaderBytes/2))
	}
	w.Write([]byte("{}"))
}

// doHTTP2 sends a request to an HTTP/2 upstream answering with h.
func doHTTP2(t *testing.T, h http.HandlerFunc) error {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	c := newTestClient(t, Config{RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs})
	_, err := c.Do(context.Background(), get(t, s.URL))
	return err
}

// Response headers over the limit are the upstream's error (its answer
// broke a limit), not a failure to reach it.
func TestResponseHeadersTooLarge(t *testing.T) {
	t.Parallel()
	normal := newServer(t, ok)
	t.Run("HTTP/1.1", func(t *testing.T) {
		c := newTestClient(t, Config{})
		s := newServer(t, hugeHeaders)
		_, err := c.Do(context.Background(), get(t, s.URL+"/?q=secret"))
		e := wantError(t, err, switchboard.CodeUpstreamError, "the response headers from 127.0.0.1 exceed 1 MiB")
		if strings.Contains(e.Detail, "secret") {
			t.Errorf("detail %q leaks the query string", e.Detail)
		}
		wantOK(t, c, normal)
	})
	t.Run("after a redirect", func(t *testing.T) {
		c := newTestClient(t, Config{Resolver: startDNS(t)})
		huge := newServer(t, hugeHeaders)
		port := huge.URL[strings.LastIndex(huge.URL, ":"):]
		from := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://huge.example.test"+port+"/", http.StatusFound)
		})
		_, err := c.Do(context.Background(), get(t, from.URL))
		wantError(t, err, switchboard.CodeUpstreamError, "the response headers from huge.example.test (redirected from 127.0.0.1) exceed 1 MiB")
	})
	t.Run("HTTP/2, the last field over the limit", func(t *testing.T) {
		// The field that goes over ends the header block: the client says
		// that the list is over its limit. HTTP/2 allows 320 bytes more
		// (its fields count 32 bytes each).
		err := doHTTP2(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Huge", strings.Repeat("z", maxResponseHeaderBytes+300))
		})
		wantError(t, err, switchboard.CodeUpstreamError, "the response headers from 127.0.0.1 exceed 1 MiB")
	})
	t.Run("HTTP/2, over the limit by frames", func(t *testing.T) {
		// More frames follow the one that went over: the client closes the
		// connection as on any frame that breaks the protocol.
		err := doHTTP2(t, hugeHeaders)
		wantError(t, err, switchboard.CodeUpstreamError, "the response from 127.0.0.1 broke HTTP/2 (response headers over 1 MiB do")
	})
}
