package console

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
)

// Cookies are Secure behind TLS: on a TLS connection, or when the server
// is published at an https:// URL (a TLS proxy in front of plain HTTP).
func TestSecureCookie(t *testing.T) {
	for _, tc := range []struct {
		name, public string
		tls          bool
		want         bool
	}{
		{"plain HTTP", "http://127.0.0.1:8080", false, false},
		{"TLS", "", true, true},
		{"behind a TLS proxy", "https://switchboard.example.com", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Console{cfg: Config{PublicURL: tc.public}}
			r := httptest.NewRequest("POST", "/console/sign-in", nil)
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			c.setCookie(w, r, sessionCookie, "v", 60)
			set := w.Header().Get("Set-Cookie")
			if got := strings.Contains(set, "; Secure"); got != tc.want {
				t.Errorf("Set-Cookie %q: Secure %v, want %v", set, got, tc.want)
			}
			if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") {
				t.Errorf("Set-Cookie %q lacks HttpOnly or SameSite=Strict", set)
			}
		})
	}
}

// A CSRF token belongs to its session: another session's does not pass.
func TestCSRFForSession(t *testing.T) {
	a, b := newToken(), newToken()
	if csrfFor(a) == csrfFor(b) || csrfFor(a) != csrfFor(a) || strings.Contains(csrfFor(a), a) {
		t.Fatal("csrfFor is not a per-session secret")
	}
	if equalTokens("", "") {
		t.Error("an empty token passes")
	}
}
