package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// DialAddr sends every request to one address, whatever host the URL names,
// and the Host header still names the URL's host.
func TestDialAddrSendsEveryRequestToOnePlace(t *testing.T) {
	var gotHost string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost = r.Host
		w.Write([]byte("local"))
	}))
	defer srv.Close()
	c := New(Config{AllowPrivateNetworks: true, DialAddr: srv.Listener.Addr().String()})
	defer c.CloseIdleConnections()
	for _, raw := range []string{"http://api.example.invalid/x", "http://other.example.invalid:8443/y"} {
		u, _ := url.Parse(raw)
		resp, err := c.Do(context.Background(), &Request{Method: "GET", URL: u})
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if string(resp.Body) != "local" || gotHost != u.Host {
			t.Errorf("%s: body %q, Host %q; want the local server with Host %q", raw, resp.Body, gotHost, u.Host)
		}
	}
}

// The guard still checks the address DialAddr names: it opens no hole.
func TestDialAddrIsStillGuarded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the guard let a request reach loopback")
	}))
	defer srv.Close()
	c := New(Config{DialAddr: srv.Listener.Addr().String()})
	u, _ := url.Parse("http://api.example.com/x")
	_, err := c.Do(context.Background(), &Request{Method: "GET", URL: u})
	if switchboard.ErrorCode(err) != switchboard.CodeUpstreamForbidden {
		t.Fatalf("err = %v, want upstream_forbidden", err)
	}
}
