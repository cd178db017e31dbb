package outbound

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// startDNS starts a tiny DNS server on 127.0.0.1 UDP that answers every A
// question with 127.0.0.1, and NXDOMAIN for names starting with "nx". It
// returns a Resolver that uses it. The resolver's own connection to the DNS
// server is not a dial of the guarded dialer.
func startDNS(t testing.TB) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n]); resp != nil {
				pc.WriteTo(resp, addr)
			}
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

// dnsAnswer answers one DNS query (RFC 1035 4.1), nil if it cannot be read.
func dnsAnswer(q []byte) []byte {
	if len(q) < 12 {
		return nil
	}
	// The question: labels up to the root label, then QTYPE and QCLASS.
	i := 12
	for i < len(q) && q[i] != 0 {
		i += int(q[i]) + 1
	}
	if i+5 > len(q) {
		return nil
	}
	qend := i + 5
	qtype := binary.BigEndian.Uint16(q[i+1:])
	nx := len(q) > 14 && q[13] == 'n' && q[14] == 'x'

	resp := append([]byte(nil), q[0], q[1]) // ID
	rcode := byte(0)
	if nx {
		rcode = 3 // NXDOMAIN
	}
	resp = append(resp, 0x81, 0x80|rcode) // QR, RD, RA
	answers := byte(0)
	if qtype == 1 && !nx {
		answers = 1
	}
	resp = append(resp, 0, 1, 0, answers, 0, 0, 0, 0)
	resp = append(resp, q[12:qend]...)
	if answers == 1 {
		// Name (pointer to the question), A, IN, TTL 60, 4 bytes: 127.0.0.1.
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
	}
	return resp
}

// server is an httptest server that counts the connections it accepted and
// the requests it served.
type server struct {
	*httptest.Server
	conns, reqs atomic.Int64
}

func newServer(t testing.TB, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.reqs.Add(1)
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// port returns the server's port.
func (s *server) port() string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func ok(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"ok":true}`)) }

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func get(t testing.TB, u string) *Request {
	return &Request{URL: mustURL(t, u)}
}

// newTestClient returns a client with the guard off, closed at the end of
// the test.
func newTestClient(t testing.TB, cfg Config) *Client {
	cfg.AllowPrivateNetworks = true
	c := New(cfg)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// wantError checks that err is a *switchboard.Error with code whose detail
// contains every one of parts.
func wantError(t testing.TB, err error, code switchboard.Code, parts ...string) *switchboard.Error {
	t.Helper()
	var e *switchboard.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want a *switchboard.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (error: %v)", e.Code, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(e.Detail, p) {
			t.Errorf("detail %q does not contain %q", e.Detail, p)
		}
	}
	if e.Err == nil {
		t.Errorf("the error wraps no cause")
	}
	return e
}

// wantOK checks that c still works for a normal request to s.
func wantOK(t testing.TB, c *Client, s *server) {
	t.Helper()
	resp, err := c.Do(context.Background(), get(t, s.URL))
	if err != nil {
		t.Fatalf("a normal request failed: %v", err)
	}
	if resp.Status != 200 || string(resp.Body) != `{"ok":true}` {
		t.Fatalf("a normal request got %d %q", resp.Status, resp.Body)
	}
}
