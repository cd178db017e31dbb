package outbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// TestGuard checks that a guarded client refuses every non-public address,
// whether written in the URL or resolved from a name, before connecting: the
// local servers the URLs point at never see a connection.
func TestGuard(t *testing.T) {
	v4 := newServer(t, ok)
	port := v4.port()
	// A server on [::1] too, when the host has IPv6, so that the [::1] case
	// would reach it were it not refused.
	var v6 *server
	if l, err := net.Listen("tcp6", "[::1]:"+port); err == nil {
		l.Close()
		v6 = newServerOn(t, "[::1]:"+port, ok)
	}

	c := New(Config{Resolver: startDNS(t), Timeout: 5 * time.Second})
	t.Cleanup(c.CloseIdleConnections)
	hosts := []struct{ host, reason string }{
		{"127.0.0.1", reasonLoopback},
		{"127.0.0.2", reasonLoopback},
		{"[::1]", reasonLoopback},
		{"169.254.169.254", reasonMetadata},
		{"0.0.0.0", ""}, // Go may dial it as 127.0.0.1 or ::1: the class varies
		{"[::]", ""},
		{"10.0.0.1", reasonPrivate},
		{"192.168.0.1", reasonPrivate},
		{"[::ffff:127.0.0.1]", reasonLoopback},
		{"[::ffff:169.254.169.254]", reasonMetadata},
		{"100.64.0.1", reasonShared},
		{"100.100.100.200", reasonMetadata},
		{"[fe80::1]", reasonLinkLocal},
		{"[fe80::1%25lo]", reasonLinkLocal},
		{"[fd00:ec2::254]", reasonMetadata},
		{"[64:ff9b::7f00:1]", reasonLoopback},
		{"[2002:7f00:1::]", reasonLoopback},
		{"localhost", reasonLoopback},
		{"api.example.test", reasonLoopback}, // the test DNS answers 127.0.0.1
	}
	for _, h := range hosts {
		t.Run(h.host, func(t *testing.T) {
			u := "http://" + h.host + ":" + port + "/path?token=secret"
			start := time.Now()
			_, err := c.Do(context.Background(), get(t, u))
			e := wantError(t, err, switchboard.CodeUpstreamForbidden, "are not allowed", "--allow-private-networks")
			if h.reason != "" && !strings.Contains(e.Detail, "requests to "+h.reason) {
				t.Errorf("detail %q does not name %q", e.Detail, h.reason)
			}
			if strings.Contains(e.Detail, "secret") {
				t.Errorf("detail %q leaks the query string", e.Detail)
			}
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Errorf("the error does not wrap a *RefusedError: %v", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("refusing took %v", d)
			}
		})
	}
	if n, r := v4.conns.Load(), v4.reqs.Load(); n != 0 || r != 0 {
		t.Errorf("the IPv4 server saw %d connections and %d requests, want none", n, r)
	}
	if v6 != nil {
		if n, r := v6.conns.Load(), v6.reqs.Load(); n != 0 || r != 0 {
			t.Errorf("the IPv6 server saw %d connections and %d requests, want none", n, r)
		}
	}
}

func newServerOn(t *testing.T, addr string, h http.HandlerFunc) *server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.reqs.Add(1); h(w, r) }),
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.conns.Add(1)
			}
		},
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func TestGuardDetail(t *testing.T) {
	c := New(Config{Resolver: startDNS(t)})
	t.Cleanup(c.CloseIdleConnections)
	tests := []struct{ url, want string }{
		{"http://api.example.test/", "requests to loopback addresses are not allowed (api.example.test resolved to 127.0.0.1); start the server with --allow-private-networks to allow them"},
		{"https://10.0.0.1/", "requests to private network addresses are not allowed (10.0.0.1); start the server with --allow-private-networks to allow them"},
	}
	for _, tt := range tests {
		_, err := c.Do(context.Background(), get(t, tt.url))
		if e := wantError(t, err, switchboard.CodeUpstreamForbidden); e.Detail != tt.want {
			t.Errorf("detail = %q\nwant     %q", e.Detail, tt.want)
		}
	}
}

// holeFor returns a policy that lets dials to s through and judges every
// other address as a guarded client does: the stand-in for a public
// upstream in tests where every server is local.
func holeFor(t *testing.T, s *server) guardPolicy {
	ap := netip.MustParseAddrPort(s.Listener.Addr().String())
	return func(got netip.AddrPort) error {
		if got == ap {
			return nil
		}
		return defaultPolicy(got)
	}
}

func TestRedirectToPrivateIsRefused(t *testing.T) {
	internal := newServer(t, ok)
	public := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		ok(w, r)
	})
	c := newClient(Config{Resolver: startDNS(t)}, holeFor(t, public))
	t.Cleanup(c.CloseIdleConnections)

	// The hole works: the "public" server is reachable, redirects included.
	wantOK(t, c, public)
	if _, err := c.Do(context.Background(), get(t, public.URL+"/?to=/final")); err != nil {
		t.Fatal(err)
	}

	tests := []struct{ to, want string }{
		{internal.URL + "/", "requests to loopback addresses are not allowed (127.0.0.1)"},
		{"http://127.0.0.2:" + internal.port() + "/", "(127.0.0.1 redirected to 127.0.0.2)"},
		{"http://internal.test:" + internal.port() + "/", "(127.0.0.1 redirected to internal.test, which resolved to 127.0.0.1)"},
		{"http://169.254.169.254/latest/meta-data/", "requests to cloud metadata addresses"},
	}
	for _, tt := range tests {
		_, err := c.Do(context.Background(), get(t, public.URL+"/?to="+url.QueryEscape(tt.to)))
		wantError(t, err, switchboard.CodeUpstreamForbidden, tt.want)
	}
	if n := internal.conns.Load(); n != 0 {
		t.Errorf("the internal server saw %d connections, want none", n)
	}
}

func TestRedirectLimits(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case r.URL.Path == "/ftp":
			http.Redirect(w, r, "ftp://example.com/file", http.StatusFound)
		case r.URL.Path == "/file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default:
			if _, err := fmt.Sscanf(r.URL.Path, "/r/%d", &n); err != nil || n == 0 {
				ok(w, r)
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusMovedPermanently)
		}
	})
	c := newTestClient(t, Config{})
	ctx := context.Background()

	resp, err := c.Do(ctx, get(t, s.URL+"/r/5"))
	if err != nil || resp.Status != 200 {
		t.Fatalf("5 redirects: %v", err)
	}
	_, err = c.Do(ctx, get(t, s.URL+"/r/6"))
	wantError(t, err, switchboard.CodeUpstreamError, "more than 5 redirects")
	before := s.reqs.Load()
	_, err = c.Do(ctx, get(t, s.URL+"/loop"))
	wantError(t, err, switchboard.CodeUpstreamError, "more than 5 redirects")
	if n := s.reqs.Load() - before; n != 6 {
		t.Errorf("a redirect loop made %d requests, want 6", n)
	}
	_, err = c.Do(ctx, get(t, s.URL+"/ftp"))
	wantError(t, err, switchboard.CodeUpstreamError, `redirected to an unsupported scheme "ftp"`)
	_, err = c.Do(ctx, get(t, s.URL+"/file"))
	wantError(t, err, switchboard.CodeUpstreamError, `unsupported scheme "file"`)

	two := newTestClient(t, Config{MaxRedirects: 2})
	_, err = two.Do(ctx, get(t, s.URL+"/r/3"))
	wantError(t, err, switchboard.CodeUpstreamError, "more than 2 redirects")

	none := newTestClient(t, Config{MaxRedirects: -1})
	resp, err = none.Do(ctx, get(t, s.URL+"/r/3"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusMovedPermanently || resp.Header.Get("Location") != "/r/2" {
		t.Errorf("with redirects off: %d, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	wantOK(t, c, s)
}

// TestRedirectCredentials checks which headers survive a redirect: all of
// them within the origin of the first request, none of the credentials
// once a hop has left it (another host name, even a subdomain or the same
// server; another port; a downgrade).
func TestRedirectCredentials(t *testing.T) {
	type seen struct {
		header http.Header
		body   string
		method string
	}
	var mu sync.Mutex
	var last seen
	handler := func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			code := http.StatusFound
			if r.Method == http.MethodPost {
				code = http.StatusTemporaryRedirect
			}
			http.Redirect(w, r, to, code)
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		last = seen{r.Header.Clone(), string(body), r.Method}
		mu.Unlock()
		ok(w, r)
	}
	a := newServer(t, handler)
	b := newServer(t, handler)
	aURL := "http://a.test:" + a.port()
	bURL := "http://b.test:" + b.port()
	c := newTestClient(t, Config{Resolver: startDNS(t)})

	credentials := []string{"Authorization", "Cookie", "X-Api-Key", "x-lower-secret"}
	via := func(from, to string) string { return from + "/?to=" + url.QueryEscape(to) }
	tests := []struct {
		name string
		url  string
		kept bool
	}{
		{"same origin", via(aURL, "/final"), true},
		{"same origin, absolute", via(aURL, aURL+"/final"), true},
		{"same origin, two hops", via(aURL, via(aURL, "/final")), true},
		{"other host", via(aURL, bURL+"/final"), false},
		{"subdomain, same server", via(aURL, "http://sub.a.test:"+a.port()+"/final"), false},
		{"same host name, other port", via(aURL, "http://a.test:"+b.port()+"/final"), false},
		{"away and back", via(aURL, via(bURL, aURL+"/final")), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req := &Request{
					Method: method,
					URL:    mustURL(t, tt.url),
					Header: http.Header{
						"Authorization":  {"Bearer secret"},
						"Cookie":         {"session=secret"},
						"X-Api-Key":      {"secret"},
						"x-lower-secret": {"secret"}, // not canonical: must be found all the same
						"X-Other":        {"kept"},
					},
					SensitiveHeaders: []string{"X-Api-Key", "X-Lower-Secret"},
				}
				if method == http.MethodPost {
					req.Body = []byte(`{"a":1}`)
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := c.Do(context.Background(), req)
				if err != nil || resp.Status != 200 {
					t.Fatalf("%s: %v", method, err)
				}
				mu.Lock()
				got := last
				mu.Unlock()
				for _, k := range credentials {
					if has := got.header.Get(k) != ""; has != tt.kept {
						t.Errorf("%s: %s arrived: %v, want %v", method, k, has, tt.kept)
					}
				}
				if got.header.Get("X-Other") != "kept" {
					t.Errorf("%s: X-Other was dropped", method)
				}
				if ref := got.header.Get("Referer"); ref != "" {
					t.Errorf("%s: Referer %q was added", method, ref)
				}
				if method == http.MethodPost && (got.method != http.MethodPost || got.body != `{"a":1}`) {
					t.Errorf("after a 307: %s %q, want the POST and its body again", got.method, got.body)
				}
			}
		})
	}
	// The caller's header is not modified by the stripping.
	h := http.Header{"Authorization": {"x"}, "Connection": {"close"}}
	if _, err := c.Do(context.Background(), &Request{URL: mustURL(t, via(aURL, bURL+"/final")), Header: h}); err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h.Get("Authorization") != "x" || h.Get("Connection") != "close" {
		t.Errorf("the caller's header was modified: %v", h)
	}
}

func TestHopByHopHeaders(t *testing.T) {
	var got atomic.Pointer[http.Request]
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/raw" {
			// A raw response, so that the server library does not tidy the
			// headers up before the client sees them.
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\n" +
				"Content-Length: 2\r\n" +
				"Connection: keep-alive, X-Hop-Response\r\n" +
				"X-Hop-Response: 1\r\n" +
				"Keep-Alive: timeout=5\r\n" +
				"Proxy-Authenticate: Basic\r\n" +
				"Proxy-Connection: keep-alive\r\n" +
				"Upgrade: h2c\r\n" +
				"Trailer: X-Trailer\r\n" +
				"Te: trailers\r\n" +
				"X-Kept: yes\r\n" +
				"Content-Type: text/plain\r\n" +
				"\r\nok")
			buf.Flush()
			return
		}
		r.Body.Close()
		got.Store(r)
		ok(w, r)
	})
	c := newTestClient(t, Config{})

	req := &Request{
		Method: http.MethodPost,
		URL:    mustURL(t, s.URL+"/in"),
		Header: http.Header{
			"Connection":          {"X-Hop-Request"},
			"X-Hop-Request":       {"1"},
			"Keep-Alive":          {"timeout=5"},
			"Proxy-Connection":    {"keep-alive"},
			"Proxy-Authenticate":  {"Basic"},
			"Proxy-Authorization": {"Basic c2VjcmV0"},
			"Te":                  {"trailers"},
			"Trailer":             {"X-Trailer"},
			"transfer-encoding":   {"chunked"},
			"Upgrade":             {"websocket"},
			"Host":                {"evil.example"},
			"content-length":      {"999"},
			"X-Kept":              {"yes"},
		},
		Body: []byte("abc"),
	}
	resp, err := c.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 {
		t.Fatalf("status %d", resp.Status)
	}
	r := got.Load()
	for _, k := range []string{"Connection", "X-Hop-Request", "Keep-Alive", "Proxy-Connection",
		"Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Upgrade"} {
		if v := r.Header.Get(k); v != "" {
			t.Errorf("the upstream received %s: %q", k, v)
		}
	}
	if len(r.TransferEncoding) != 0 || r.ContentLength != 3 || len(r.Header["Content-Length"]) != 1 {
		t.Errorf("the upstream received Transfer-Encoding %v, Content-Length %d; want none, 3", r.TransferEncoding, r.ContentLength)
	}
	if r.Host != s.Listener.Addr().String() {
		t.Errorf("the upstream received Host %q", r.Host)
	}
	if r.Header.Get("X-Kept") != "yes" {
		t.Error("X-Kept was dropped")
	}
	if len(req.Header) != 13 {
		t.Errorf("the caller's header was modified: %v", req.Header)
	}

	resp, err = c.Do(context.Background(), get(t, s.URL+"/raw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Connection", "X-Hop-Response", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Connection", "Upgrade", "Trailer", "Te", "Content-Length"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("the response kept %s: %q", k, v)
		}
	}
	if resp.Header.Get("X-Kept") != "yes" || resp.Header.Get("Content-Type") != "text/plain" || string(resp.Body) != "ok" {
		t.Errorf("response: %v %q", resp.Header, resp.Body)
	}
}

func TestKeepAlive(t *testing.T) {
	s := newServer(t, ok)
	c := newTestClient(t, Config{})
	for i := range 100 {
		req := get(t, s.URL)
		if i%2 == 1 {
			req.Method = http.MethodPost
			req.Body = []byte(`{"i":1}`)
		}
		if _, err := c.Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.conns.Load(); n != 1 {
		t.Errorf("100 sequential requests used %d connections, want 1", n)
	}

	// A chunked body of unknown length is read to its end too.
	chunked := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("part one, "))
		http.NewResponseController(w).Flush()
		w.Write([]byte("part two"))
	})
	for range 20 {
		resp, err := c.Do(context.Background(), get(t, chunked.URL))
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != "part one, part two" {
			t.Fatalf("body %q", resp.Body)
		}
	}
	if n := chunked.conns.Load(); n != 1 {
		t.Errorf("20 sequential chunked requests used %d connections, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	const timeout = 300 * time.Millisecond
	normal := newServer(t, ok)
	c := newTestClient(t, Config{Timeout: timeout, Resolver: startDNS(t)})

	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}

	t.Run("hangs before answering", func(t *testing.T) {
		s := newServer(t, hang)
		start := time.Now()
		_, err := c.Do(context.Background(), get(t, s.URL))
		wantError(t, err, switchboard.CodeUpstreamTimeout, "127.0.0.1 did not answer within 300ms")
		if d := time.Since(start); d > timeout+time.Second {
			t.Errorf("the timeout struck after %v", d)
		}
		wantOK(t, c, normal)
	})

	t.Run("stalls in the body", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("the beginning"))
			http.NewResponseController(w).Flush()
			hang(w, r)
		})
		_, err := c.Do(context.Background(), get(t, s.URL))
		wantError(t, err, switchboard.CodeUpstreamTimeout, "did not answer within 300ms")
		wantOK(t, c, normal)
	})

	// The cases below fail at once, not by the timeout: a client with a
	// generous one keeps a TLS handshake on a loaded machine (under -race)
	// from turning into a timeout.
	sure := newTestClient(t, Config{Timeout: 10 * time.Second, Resolver: startDNS(t)})
	raw := func(response string) *server {
		return newServer(t, func(w http.ResponseWriter, r *http.Request) {
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString(response)
			buf.Flush()
			conn.Close()
		})
	}
	for _, tt := range []struct{ name, response string }{
		{"closes in a fixed-length body", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this"},
		{"closes in a chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"},
		{"closes in the headers", "HTTP/1.1 200 OK\r\nContent-Type: text/pl"},
		{"closes without answering", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := raw(tt.response)
			_, err := sure.Do(context.Background(), get(t, s.URL+"/?q=secret"))
			e := wantError(t, err, switchboard.CodeUpstreamUnreachable, "could not reach "+strings.TrimPrefix(s.URL, "http://")+": the connection closed before the response was complete")
			if strings.Contains(e.Detail, "secret") {
				t.Errorf("detail %q leaks the query string", e.Detail)
			}
			wantOK(t, sure, normal)
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		_, err = sure.Do(context.Background(), get(t, "http://"+addr+"/"))
		wantError(t, err, switchboard.CodeUpstreamUnreachable, "could not reach "+addr+": connection refused")
		wantOK(t, sure, normal)
	})

	t.Run("no such host", func(t *testing.T) {
		_, err := sure.Do(context.Background(), get(t, "http://nx.example.test/"))
		wantError(t, err, switchboard.CodeUpstreamUnreachable, "could not reach nx.example.test:80: no such host")
		wantOK(t, sure, normal)
	})

	t.Run("not TLS", func(t *testing.T) {
		_, err := sure.Do(context.Background(), get(t, "https://"+normal.Listener.Addr().String()+"/"))
		wantError(t, err, switchboard.CodeUpstreamUnreachable, "the server answered in plain HTTP, not TLS")
		wantOK(t, sure, normal)
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		s := newTLSServer(t)
		_, err := sure.Do(context.Background(), get(t, s.URL))
		wantError(t, err, switchboard.CodeUpstreamUnreachable, "TLS certificate verification failed")
		wantOK(t, sure, normal)
	})

	t.Run("caller's deadline", func(t *testing.T) {
		s := newServer(t, hang)
		slow := newTestClient(t, Config{Timeout: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := slow.Do(ctx, get(t, s.URL))
		wantError(t, err, switchboard.CodeUpstreamTimeout, "127.0.0.1 did not answer before the request's deadline")
	})

	t.Run("caller cancels", func(t *testing.T) {
		s := newServer(t, hang)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Do(ctx, get(t, s.URL))
		wantError(t, err, switchboard.CodeUpstreamUnreachable, "the request to 127.0.0.1 was canceled")
		if !errors.Is(err, context.Canceled) {
			t.Errorf("errors.Is(%v, context.Canceled) = false", err)
		}
		wantOK(t, c, normal)
	})
}

func newTLSServer(t *testing.T) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(ok))
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// TestLargeResponses checks that a body over the limit is an error, found
// without reading much more than the limit.
func TestLargeResponses(t *testing.T) {
	const size = 50 << 20
	normal := newServer(t, ok)
	c := newTestClient(t, Config{Timeout: 20 * time.Second})

	for _, announced := range []bool{false, true} {
		t.Run(fmt.Sprintf("announced=%v", announced), func(t *testing.T) {
			var written atomic.Int64
			done := make(chan struct{})
			s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				if announced {
					w.Header().Set("Content-Length", fmt.Sprint(size))
				}
				chunk := bytes.Repeat([]byte("x"), 32<<10)
				for written.Load() < size {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
				}
			})
			start := time.Now()
			_, err := c.Do(context.Background(), get(t, s.URL))
			wantError(t, err, switchboard.CodeUpstreamError, "the response from 127.0.0.1 exceeds 5 MiB")
			elapsed := time.Since(start)
			<-done
			// What the server wrote is what the client read plus what the
			// kernel buffers held when the client hung up.
			if n := written.Load(); n > 25<<20 {
				t.Errorf("the server wrote %d MiB before the client hung up", n>>20)
			}
			t.Logf("server wrote %.1f MiB; the client gave up after %v", float64(written.Load())/(1<<20), elapsed)
			wantOK(t, c, normal)
		})
	}
}

func TestBodyLimit(t *testing.T) {
	const max = 1000
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(r.URL.Query().Get("n"), "%d", &n)
		body := bytes.Repeat([]byte("y"), n)
		if r.URL.Query().Get("chunked") == "" {
			w.Header().Set("Content-Length", fmt.Sprint(n))
			w.Write(body)
			return
		}
		for len(body) > 0 { // flushed pieces: chunked, length unknown
			k := min(len(body), 300)
			w.Write(body[:k])
			http.NewResponseController(w).Flush()
			body = body[k:]
		}
	})
	c := newTestClient(t, Config{MaxResponseBytes: max})
	for _, chunked := range []string{"", "1"} {
		for _, n := range []int{0, 1, max - 1, max, max + 1, 3 * max} {
			resp, err := c.Do(context.Background(), get(t, fmt.Sprintf("%s/?n=%d&chunked=%s", s.URL, n, chunked)))
			if n <= max {
				if err != nil {
					t.Errorf("n=%d chunked=%q: %v", n, chunked, err)
				} else if len(resp.Body) != n {
					t.Errorf("n=%d chunked=%q: got %d bytes", n, chunked, len(resp.Body))
				}
				continue
			}
			wantError(t, err, switchboard.CodeUpstreamError, "exceeds 1000 bytes")
		}
	}
	// HEAD announces a length but has no body: no limit applies.
	resp, err := c.Do(context.Background(), &Request{Method: http.MethodHead, URL: mustURL(t, s.URL+"/?n=5000")})
	if err != nil || len(resp.Body) != 0 || resp.Status != 200 {
		t.Errorf("HEAD: %v %v", resp, err)
	}
}

// TestGzipBomb checks that the limit applies to the decompressed body.
func TestGzipBomb(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			t.Errorf("Accept-Encoding %q", r.Header.Get("Accept-Encoding"))
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(zipped.Bytes())
	})
	c := newTestClient(t, Config{MaxResponseBytes: 1 << 20})
	_, err := c.Do(context.Background(), get(t, s.URL))
	wantError(t, err, switchboard.CodeUpstreamError, "exceeds 1 MiB")
}

func TestInvalidRequests(t *testing.T) {
	c := newTestClient(t, Config{})
	tests := []struct {
		name string
		req  *Request
		want string
	}{
		{"nil", nil, "no URL"},
		{"no URL", &Request{}, "no URL"},
		{"ftp", get(t, "ftp://example.com/"), `unsupported URL scheme "ftp"`},
		{"relative", get(t, "/path"), `unsupported URL scheme ""`},
		{"no host", get(t, "http:///path"), "no host"},
		{"method", &Request{Method: "GET /x", URL: mustURL(t, "http://example.com/")}, "invalid HTTP method"},
		{"header value", &Request{URL: mustURL(t, "http://example.com/"), Header: http.Header{"X-A": {"a\r\nX-Injected: 1"}}}, `invalid value for header "X-A"`},
		{"header name", &Request{URL: mustURL(t, "http://example.com/"), Header: http.Header{"X A": {"a"}}}, `invalid header name "X A"`},
	}
	for _, tt := range tests {
		_, err := c.Do(context.Background(), tt.req)
		var e *switchboard.Error
		if !errors.As(err, &e) || e.Code != switchboard.CodeInvalidInput || !strings.Contains(e.Detail, tt.want) {
			t.Errorf("%s: %v, want invalid_input with %q", tt.name, err, tt.want)
		}
	}
}

func TestHTTPClient(t *testing.T) {
	s := newServer(t, ok)
	guarded := New(Config{}).HTTPClient()
	_, err := guarded.Get(s.URL)
	var re *RefusedError
	if !errors.As(err, &re) || re.Reason != reasonLoopback || re.Host != "127.0.0.1" {
		t.Errorf("guarded HTTPClient: %v, want a *RefusedError for loopback", err)
	}
	if n := s.conns.Load(); n != 0 {
		t.Errorf("the server saw %d connections", n)
	}

	open := newTestClient(t, Config{Timeout: 3 * time.Second}).HTTPClient()
	if open.Timeout != 3*time.Second || open.CheckRedirect == nil {
		t.Errorf("HTTPClient: Timeout %v, CheckRedirect set %v", open.Timeout, open.CheckRedirect != nil)
	}
	resp, err := open.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

func TestResponse(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		w.Write(body)
	})
	c := newTestClient(t, Config{})
	body := []byte(`{"hello":"world"}`)
	resp, err := c.Do(context.Background(), &Request{Method: "PATCH", URL: mustURL(t, s.URL), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusTeapot || string(resp.Body) != string(body) ||
		resp.Header.Get("X-Method") != "PATCH" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response %d %v %q", resp.Status, resp.Header, resp.Body)
	}
	if resp.Duration <= 0 {
		t.Errorf("duration %v", resp.Duration)
	}
	// The body is the caller's: a second response does not overwrite it.
	first := resp.Body
	if _, err := c.Do(context.Background(), &Request{Method: "PUT", URL: mustURL(t, s.URL), Body: []byte("zzzzzzzzzzzzzzzzz")}); err != nil {
		t.Fatal(err)
	}
	if string(first) != string(body) {
		t.Errorf("the first body changed to %q", first)
	}
}

// A context's idempotency key is sent on the request, without touching the
// caller's header.
func TestIdempotencyKey(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Idempotency-Key")
	}))
	defer srv.Close()
	c := New(Config{AllowPrivateNetworks: true})
	u, _ := url.Parse(srv.URL)
	h := http.Header{"Idempotency-Key": {"caller"}}
	if _, err := c.Do(WithIdempotencyKey(context.Background(), "run_1.refund"), &Request{URL: u, Header: h}); err != nil {
		t.Fatal(err)
	}
	if k := <-got; k != "run_1.refund" {
		t.Errorf("Idempotency-Key = %q, want run_1.refund", k)
	}
	if h.Get("Idempotency-Key") != "caller" {
		t.Errorf("the caller's header was modified: %v", h)
	}
}
