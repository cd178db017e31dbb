package oauth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

const (
	clientID     = "client-123"
	clientSecret = "client-s3cret-xyz"
	publicURL    = "http://switchboard.test"
)

// provider is a fake OAuth 2.0 provider: codes bound to a PKCE challenge,
// access tokens that expire in 120 s and rotating refresh tokens.
type provider struct {
	srv *httptest.Server

	mu        sync.Mutex
	codes     map[string]string // code -> PKCE challenge
	n         int
	access    string // the last access token issued
	refresh   string // the one valid refresh token
	refreshes int
	refuse    bool // refreshes answer invalid_grant
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	p := &provider{codes: map[string]string{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.token))
	t.Cleanup(p.srv.Close)
	return p
}

// approve plays the user approving in a browser: it mints a code bound to
// the authorization URL's PKCE challenge.
func (p *provider) approve(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	code = fmt.Sprintf("code-%d", p.n)
	p.codes[code] = u.Query().Get("code_challenge")
	return code, u.Query().Get("state")
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":%q}`, code)
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	if r.URL.Path != "/token" || id != clientID || secret != clientSecret {
		fail("invalid_client")
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Form.Get("grant_type") {
	case "authorization_code":
		challenge, ok := p.codes[r.Form.Get("code")]
		delete(p.codes, r.Form.Get("code"))
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			fail("invalid_grant")
			return
		}
	case "refresh_token":
		p.refreshes++
		if p.refuse || r.Form.Get("refresh_token") != p.refresh {
			fail("invalid_grant")
			return
		}
	default:
		fail("unsupported_grant_type")
		return
	}
	p.n++
	p.access, p.refresh = fmt.Sprintf("at-%d", p.n), fmt.Sprintf("rt-%d", p.n)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": p.access, "refresh_token": p.refresh,
		"token_type": "Bearer", "expires_in": 120, "scope": "orders.read"})
}

// tokens returns the last access token, the refresh token and the number of
// refreshes asked for.
func (p *provider) tokens() (access, refresh string, refreshes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.access, p.refresh, p.refreshes
}

type env struct {
	m     *oauth.Manager
	reg   *registry.Registry
	store switchboard.Store
	box   *secretbox.Box
	clock *cachetest.Clock
	p     *provider
	admin *switchboard.Principal // of org acme, where the app "shop" is installed
}

// newEnv wires a Manager to a registry on its own SQLite database, with the
// app "shop" registered for org acme, its OAuth 2.0 client pointing at a
// fake provider.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clock := cachetest.NewClock()
	reg := registry.New(registry.Config{Store: store, Box: box, Now: clock.Now})
	m := oauth.New(oauth.Config{Registry: reg, Store: store, Box: box, Now: clock.Now,
		Outbound:  outbound.New(outbound.Config{AllowPrivateNetworks: true}),
		PublicURL: publicURL, ReturnURLs: []string{"https://desk.example.com/"}})
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_, key, err := reg.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := reg.Authenticate(key)
	if err != nil {
		t.Fatal(err)
	}
	p := newProvider(t)
	def := `{"app":"shop","version":"1.0.0","title":"Shop",
		"auth":{"type":"oauth2","grantType":"authorization_code","authorizationUrl":"https://provider.example.com/authorize",
			"tokenUrl":"` + p.srv.URL + `/token","scopes":["orders.read"],
			"clientId":{"key":"shop.default.clientId"},"clientSecret":{"key":"shop.default.clientSecret"},
			"extraAuthorizeParams":{"prompt":"consent"}}}`
	if _, err := reg.Register(ctx, admin, []byte(def), false); err != nil {
		t.Fatal(err)
	}
	e := &env{m: m, reg: reg, store: store, box: box, clock: clock, p: p, admin: admin}
	e.putSettings(t, `{"default":{"clientId":"`+clientID+`","clientSecret":"`+clientSecret+`"}}`)
	return e
}

func (e *env) putSettings(t *testing.T, body string) {
	t.Helper()
	v, err := jsonv.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.reg.PutSettings(t.Context(), e.admin, "shop", v); err != nil {
		t.Fatal(err)
	}
}

// mustAuthorize starts an authorization and returns its URL.
func (e *env) mustAuthorize(t *testing.T, name, returnURL string) *url.URL {
	t.Helper()
	a, err := e.m.Authorize(t.Context(), e.admin, "shop", name, returnURL)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(a.AuthorizationURL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// mustConnect connects the account "default" through the whole flow.
func (e *env) mustConnect(t *testing.T) *oauth.AccountInfo {
	t.Helper()
	code, state := e.p.approve(t, e.mustAuthorize(t, "default", "").String())
	info, _, err := e.m.Callback(t.Context(), "shop_acme", url.Values{"code": {code}, "state": {state}})
	if err != nil {
		t.Fatalf("callback: %v", err)
	}
	return info
}

func (e *env) mustInstalled(t *testing.T) *registry.Installed {
	t.Helper()
	state, err := e.reg.Org(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	inst := state.App("shop_acme")
	if inst == nil {
		t.Fatal("shop_acme is not installed")
	}
	return inst
}

func (e *env) mustAccount(t *testing.T) switchboard.Account {
	t.Helper()
	a, err := e.store.Account(t.Context(), "acme", "shop_acme", "default")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuthorize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u := e.mustAuthorize(t, "default", "https://desk.example.com/settings")
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != "https://provider.example.com/authorize" {
		t.Errorf("authorization URL = %s", u)
	}
	want := map[string]string{
		"response_type":         "code",
		"client_id":             clientID,
		"redirect_uri":          publicURL + oauth.RedirectPath("shop_acme"),
		"scope":                 "orders.read",
		"code_challenge_method": "S256",
		"access_type":           "offline",
		"prompt":                "consent",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// A state of 32 random bytes; an S256 challenge is a SHA-256, base64url.
	if n := len(q.Get("state")); n != 43 {
		t.Errorf("state %q has %d characters, want 43", q.Get("state"), n)
	}
	if n := len(q.Get("code_challenge")); n != 43 {
		t.Errorf("code_challenge %q has %d characters, want 43", q.Get("code_challenge"), n)
	}
	// Each authorization has its own state and verifier.
	q2 := e.mustAuthorize(t, "default", "").Query()
	if q2.Get("state") == q.Get("state") || q2.Get("code_challenge") == q.Get("code_challenge") {
		t.Errorf("two authorizations share a state or a challenge: %v and %v", q, q2)
	}
	// The state is stored as its hash only, bound to org, app and account.
	sum := sha256.Sum256([]byte(q.Get("state")))
	st, err := e.store.TakeOAuthState(t.Context(), fmt.Sprintf("%x", sum))
	if err != nil {
		t.Fatalf("the state is not stored under its hash: %v", err)
	}
	if st.OrgID != "acme" || st.AppID != "shop_acme" || st.Account != "default" || st.ReturnURL != "https://desk.example.com/settings" ||
		!st.ExpiresAt.Equal(e.clock.Now().Add(oauth.StateTTL)) || bytes.Contains(st.Verifier, []byte(q.Get("code_challenge"))) {
		t.Errorf("stored state = %+v", st)
	}
}

func TestAuthorizeRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name, app, account, returnURL string
		want                          switchboard.Code
	}{
		{"invalid account name", "shop", "de fault", "", switchboard.CodeInvalidInput},
		{"return URL not allowed", "shop", "default", "https://evil.example.com/", switchboard.CodeInvalidInput},
		{"app not installed", "nosuchapp", "default", "", switchboard.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.Authorize(t.Context(), e.admin, tt.app, tt.account, tt.returnURL)
			if got := switchboard.ErrorCode(err); got != tt.want {
				t.Errorf("error = %v, want code %q", err, tt.want)
			}
		})
	}
	t.Run("no client secret", func(t *testing.T) {
		e.putSettings(t, `{"default":{"clientSecret":null}}`)
		_, err := e.m.Authorize(t.Context(), e.admin, "shop", "default", "")
		if got := switchboard.ErrorCode(err); got != switchboard.CodeInvalidInput {
			t.Errorf("error = %v, want code invalid_input", err)
		}
	})
}

func TestCallbackRefusesState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// query returns the callback's query from a fresh authorization's
		// code and state.
		query func(t *testing.T, e *env, code, state string) url.Values
		appID string
		// connected is set when the account was connected before the
		// refused callback.
		connected bool
	}{
		{"no state", func(_ *testing.T, _ *env, code, _ string) url.Values { return url.Values{"code": {code}} }, "shop_acme", false},
		{"tampered state", func(_ *testing.T, _ *env, code, state string) url.Values {
			b := []byte(state)
			b[0] ^= 1 // one bit flipped
			return url.Values{"code": {code}, "state": {string(b)}}
		}, "shop_acme", false},
		{"unknown state", func(_ *testing.T, _ *env, code, _ string) url.Values {
			return url.Values{"code": {code}, "state": {strings.Repeat("A", 43)}}
		}, "shop_acme", false},
		{"another app", func(_ *testing.T, _ *env, code, state string) url.Values {
			return url.Values{"code": {code}, "state": {state}}
		}, "other_acme", false},
		{"expired state", func(_ *testing.T, e *env, code, state string) url.Values {
			e.clock.Advance(oauth.StateTTL)
			return url.Values{"code": {code}, "state": {state}}
		}, "shop_acme", false},
		{"replayed state", func(t *testing.T, e *env, code, state string) url.Values {
			q := url.Values{"code": {code}, "state": {state}}
			if _, _, err := e.m.Callback(t.Context(), "shop_acme", q); err != nil {
				t.Fatalf("first use: %v", err)
			}
			return q
		}, "shop_acme", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			code, state := e.p.approve(t, e.mustAuthorize(t, "default", "").String())
			_, _, err := e.m.Callback(t.Context(), tt.appID, tt.query(t, e, code, state))
			if got := switchboard.ErrorCode(err); got != switchboard.CodeInvalidInput {
				t.Fatalf("error = %v, want code invalid_input", err)
			}
			if tt.connected {
				return
			}
			if _, err := e.store.Account(t.Context(), "acme", "shop_acme", "default"); !switchboard.IsNotFound(err) {
				t.Errorf("an account was stored after a refused callback: %v", err)
			}
		})
	}
}

func TestCallbackStoresEncryptedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	code, state := e.p.approve(t, e.mustAuthorize(t, "default", "https://desk.example.com/done").String())
	info, returnURL, err := e.m.Callback(t.Context(), "shop_acme", url.Values{"code": {code}, "state": {state}})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if returnURL != "https://desk.example.com/done" {
		t.Errorf("returnUrl = %q", returnURL)
	}
	// The expiry is on the manager's clock, give or take the time the test
	// takes on the real one.
	if d := info.ExpiresAt.Sub(now.Add(120 * time.Second)); d > 0 || d < -5*time.Second {
		t.Errorf("expiresAt = %v, want about %v", info.ExpiresAt, now.Add(120*time.Second))
	}
	want := oauth.AccountInfo{Name: "default", Status: switchboard.AccountConnected, Scopes: []string{"orders.read"},
		ExpiresAt: info.ExpiresAt, LastRefreshedAt: now, ConnectedAt: now}
	if diff := cmp.Diff(want, *info); diff != "" {
		t.Errorf("account info (-want +got):\n%s", diff)
	}

	a := e.mustAccount(t)
	access, refresh, _ := e.p.tokens()
	for _, tok := range []struct{ kind, plain string }{{"access", access}, {"refresh", refresh}} {
		stored := a.AccessToken
		if tok.kind == "refresh" {
			stored = a.RefreshToken
		}
		if len(stored) == 0 || bytes.Contains(stored, []byte(tok.plain)) {
			t.Errorf("the %s token is stored as %q, which holds %q", tok.kind, stored, tok.plain)
		}
		got, err := e.box.Open(stored, switchboard.TokenAAD("acme", "shop_acme", "default", tok.kind))
		if err != nil || string(got) != tok.plain {
			t.Errorf("the %s token decrypts to %q, %v; want %q", tok.kind, got, err, tok.plain)
		}
	}
	if a.Status != switchboard.AccountConnected || a.TokenType != "Bearer" || !a.ExpiresAt.Equal(info.ExpiresAt) {
		t.Errorf("stored account = %+v", a)
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		advance time.Duration
		// refused, when set, is an upstream refusing the current token.
		refused bool
		refresh bool // whether a new token is fetched
	}{
		{"just connected", 0, false, false},
		{"61s before expiry", 59 * time.Second, false, false},
		{"59s before expiry", 61 * time.Second, false, true},
		{"expired", 5 * time.Minute, false, true},
		{"refused by an upstream", 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.mustConnect(t)
			connected, _, _ := e.p.tokens()
			inst := e.mustInstalled(t)
			// A first Token caches the token, so that both the cache and
			// the store decide below.
			if got, err := e.m.Token(t.Context(), inst, "default"); err != nil || got != connected {
				t.Fatalf("Token = %q, %v; want %q", got, err, connected)
			}

			e.clock.Advance(tt.advance)
			var got string
			var err error
			if tt.refused {
				got, err = e.m.Refresh(t.Context(), inst, "default", connected)
			} else {
				got, err = e.m.Token(t.Context(), inst, "default")
			}
			if err != nil {
				t.Fatal(err)
			}
			access, _, refreshes := e.p.tokens()
			if want := map[bool]int{false: 0, true: 1}[tt.refresh]; refreshes != want {
				t.Errorf("refreshes = %d, want %d", refreshes, want)
			}
			if got != access {
				t.Errorf("token = %q, want the provider's latest, %q", got, access)
			}
			if tt.refresh {
				a := e.mustAccount(t)
				if !a.LastRefreshedAt.Equal(e.clock.Now()) || !a.ExpiresAt.After(e.clock.Now().Add(time.Minute)) {
					t.Errorf("after a refresh the account = %+v", a)
				}
			}
			// Asked again at once, the token is current: no refresh.
			if again, err := e.m.Token(t.Context(), inst, "default"); err != nil || again != got {
				t.Errorf("Token again = %q, %v; want %q", again, err, got)
			}
			if _, _, n := e.p.tokens(); n != refreshes {
				t.Errorf("refreshes after asking again = %d, want %d", n, refreshes)
			}
		})
	}
}

func TestTokenInvalidGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.mustConnect(t)
	inst := e.mustInstalled(t)
	e.p.mu.Lock()
	e.p.refuse = true
	e.p.mu.Unlock()
	e.clock.Advance(61 * time.Second)

	_, err := e.m.Token(t.Context(), inst, "default")
	if got := switchboard.ErrorCode(err); got != switchboard.CodeAccountDisconnected {
		t.Fatalf("error = %v, want code account_disconnected", err)
	}
	// Refused once, the account is not offered to the provider again. (The
	// oauth2 library may send a refused refresh twice, once per client
	// authentication style, so the count is compared, not fixed.)
	_, _, refused := e.p.tokens()
	if refused == 0 {
		t.Fatal("the provider was not asked to refresh")
	}
	_, err = e.m.Token(t.Context(), inst, "default")
	if got := switchboard.ErrorCode(err); got != switchboard.CodeAccountDisconnected {
		t.Fatalf("Token again: error = %v, want code account_disconnected", err)
	}
	if _, _, n := e.p.tokens(); n != refused {
		t.Errorf("refreshes asked for = %d after asking again, want %d", n, refused)
	}
	a := e.mustAccount(t)
	if a.Status != switchboard.AccountNeedsReauthorization || !a.UpdatedAt.Equal(e.clock.Now()) {
		t.Errorf("account = %+v, want status %s", a, switchboard.AccountNeedsReauthorization)
	}
}
