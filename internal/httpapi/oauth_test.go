package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// provider is a fake OAuth 2.0 provider: it checks PKCE and client
// credentials, issues access tokens and rotating refresh tokens, can revoke,
// and serves an API that wants a current access token.
type provider struct {
	srv *httptest.Server

	mu        sync.Mutex
	codes     map[string]string // code -> PKCE challenge
	access    map[string]bool   // valid access tokens
	refresh   string            // the one valid refresh token
	n         int
	refreshes atomic.Int64
	revoked   []string
	refuse    bool // refresh answers invalid_grant
	apiCalls  atomic.Int64
}

const (
	clientID     = "client-123"
	clientSecret = "client-s3cret-xyz"
)

func newProvider(t *testing.T) *provider {
	p := &provider{codes: map[string]string{}, access: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		p.mu.Lock()
		p.revoked = append(p.revoked, r.Form.Get("token"))
		p.mu.Unlock()
	})
	mux.HandleFunc("/api/orders", func(w http.ResponseWriter, r *http.Request) {
		p.apiCalls.Add(1)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		ok := p.access[tok]
		p.mu.Unlock()
		if !ok {
			http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"orders":[1,2],"token_seen":%q}`, tok)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// authorize plays the user approving in a browser: it checks the request
// the platform built and mints a code bound to its PKCE challenge.
func (p *provider) authorize(t *testing.T, authURL string) (code, state, redirect string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/authorize" || q.Get("response_type") != "code" || q.Get("client_id") != clientID ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("scope") != "orders.read orders.write" || q.Get("prompt") != "consent" {
		t.Fatalf("authorization URL = %s", authURL)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	code = fmt.Sprintf("code-%d", p.n)
	p.codes[code] = q.Get("code_challenge")
	return code, q.Get("state"), q.Get("redirect_uri")
}

func (p *provider) issue(w http.ResponseWriter, withRefresh bool) {
	p.n++
	at := fmt.Sprintf("at-%d", p.n)
	p.access[at] = true
	res := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 120, "scope": "orders.read orders.write"}
	if withRefresh {
		p.refresh = fmt.Sprintf("rt-%d", p.n)
		res["refresh_token"] = p.refresh
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
	}
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":%q}`, code)
	}
	if id != clientID || secret != clientSecret {
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
		p.issue(w, true)
	case "refresh_token":
		p.refreshes.Add(1)
		if p.refuse || r.Form.Get("refresh_token") != p.refresh {
			fail("invalid_grant")
			return
		}
		p.issue(w, true) // rotation: the old refresh token stops working
	case "client_credentials":
		p.issue(w, false)
	default:
		fail("unsupported_grant_type")
	}
}

// expireAll invalidates every access token at the provider.
func (p *provider) expireAll() {
	p.mu.Lock()
	p.access = map[string]bool{}
	p.mu.Unlock()
}

type oauthEnv struct {
	env   *apitest.Env
	p     *provider
	clock *cachetest.Clock
	admin *client.Client
}

func newOAuthEnv(t *testing.T, grant string) *oauthEnv {
	t.Helper()
	p := newProvider(t)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true},
		ReturnURLs: []string{"https://desk.example.com/"}})
	admin := env.Org(t, "acme")
	registerOAuthApp(t, admin, p, grant)
	return &oauthEnv{env: env, p: p, clock: clock, admin: admin}
}

// registerOAuthApp registers the app "shop" with an OAuth 2.0 client of
// the provider, a command and an action that use its default account, and
// sets the client's id and secret.
func registerOAuthApp(t *testing.T, admin *client.Client, p *provider, grant string) {
	t.Helper()
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
		"auth":{"type":"oauth2","grantType":"`+grant+`","authorizationUrl":"`+p.srv.URL+`/authorize","tokenUrl":"`+p.srv.URL+`/token",
			"revocationUrl":"`+p.srv.URL+`/revoke","scopes":["orders.read","orders.write"],
			"clientId":{"key":"shop.default.clientId"},"clientSecret":{"key":"shop.default.clientSecret"},
			"extraAuthorizeParams":{"prompt":"consent"}},
		"commands":[{"name":"orders","url":"`+p.srv.URL+`/api/orders","httpMethod":"get","appAccountName":"default","auditLogging":true}],
		"actions":[{"name":"list","type":"rest_api","appAccountName":"default",
			"inputTemplate":{"uri":"`+p.srv.URL+`/api/orders","method":"get","headers":{"Authorization":"Bearer {{authToken}}"},"json":true},
			"outputTemplate":{"orders":"/#body.orders"}}]}`)
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"default": {"clientId": clientID, "clientSecret": clientSecret}}); err != nil {
		t.Fatal(err)
	}
}

// connect runs the whole authorization code dance.
func (e *oauthEnv) connect(t *testing.T, name string) {
	t.Helper()
	var res struct {
		AuthorizationURL string `json:"authorizationUrl"`
	}
	raw, err := e.admin.Raw(context.Background(), "POST", "/v1/apps/shop/accounts/"+name+"/authorize", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &res)
	code, state, redirect := e.p.authorize(t, res.AuthorizationURL)
	if redirect != e.env.URL+"/v1/apps/shop_acme/authorize/oauth2/redirect" {
		t.Fatalf("redirect_uri = %s", redirect)
	}
	status, body := e.browse(t, redirect+"?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state))
	if status != 200 || !strings.Contains(body, "is connected") {
		t.Fatalf("redirect answered %d: %s", status, body)
	}
}

// browse is a browser following the provider's redirect (without following
// any further redirect).
func (e *oauthEnv) browse(t *testing.T, u string) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusFound {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func (e *oauthEnv) run(t *testing.T, c *client.Client) (*client.RunResult, error) {
	return c.RunCommand(context.Background(), "shop.orders", client.RunRequest{Headers: map[string]string{"Authorization": "Bearer {{authToken}}"}})
}

type accountsAnswer struct {
	Items []struct {
		Name, Status string
		Scopes       []string
		ExpiresAt    time.Time
	}
}

func (e *oauthEnv) accounts(t *testing.T) accountsAnswer {
	t.Helper()
	raw, err := e.admin.Raw(context.Background(), "GET", "/v1/apps/shop/accounts", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out accountsAnswer
	json.Unmarshal(raw, &out)
	if strings.Contains(string(raw), "at-") || strings.Contains(string(raw), "rt-") || strings.Contains(string(raw), "oken\"") {
		t.Fatalf("the account list shows a token: %s", raw)
	}
	return out
}

func TestOAuthAuthorizationCode(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, "authorization_code")
	ctx := context.Background()
	agent := apitest.Key(t, e.admin, "agent")

	t.Run("before connecting, runs say how to connect", func(t *testing.T) {
		_, err := e.run(t, agent)
		ce := wantProblem(t, err, 424, "account_disconnected")
		if !strings.Contains(ce.Detail, "switchboard accounts connect") {
			t.Errorf("detail = %s", ce.Detail)
		}
	})

	if !t.Run("the authorization code flow connects the account with its scopes", func(t *testing.T) {
		e.connect(t, "default")
		acc := e.accounts(t)
		if len(acc.Items) != 1 || acc.Items[0].Status != "connected" || strings.Join(acc.Items[0].Scopes, " ") != "orders.read orders.write" ||
			!acc.Items[0].ExpiresAt.After(e.clock.Now()) {
			t.Fatalf("accounts = %+v", acc)
		}
	}) {
		return
	}

	t.Run("a command run uses the token and the token it echoes is redacted", func(t *testing.T) {
		res, err := e.run(t, agent)
		if err != nil || res.Status != 200 {
			t.Fatalf("run = %+v, %v", res, err)
		}
		if strings.Contains(string(res.Body), "at-") || !strings.Contains(string(res.Body), "[redacted]") {
			t.Errorf("the token leaked: %s", res.Body)
		}
	})

	t.Run("an action run uses the account", func(t *testing.T) {
		out, err := agent.RunAction(ctx, "shop.list", nil)
		if err != nil || string(out) != `{"orders":[1,2]}` {
			t.Fatalf("action = %s, %v", out, err)
		}
	})

	if !t.Run("50 concurrent runs finding the token expired make one refresh", func(t *testing.T) {
		e.clock.Advance(2 * time.Minute)
		concurrently(t, 50, func(int) error {
			if res, err := e.run(t, agent); err != nil || res.Status != 200 {
				return fmt.Errorf("%v %v", res, err)
			}
			return nil
		})
		if n := e.p.refreshes.Load(); n != 1 {
			t.Fatalf("refreshes for 50 concurrent runs = %d, want 1", n)
		}
	}) {
		return
	}

	if !t.Run("the rotated refresh token is the one used at the next expiry", func(t *testing.T) {
		e.clock.Advance(2 * time.Minute)
		if _, err := e.run(t, agent); err != nil {
			t.Fatalf("run after a second expiry (rotated refresh token): %v", err)
		}
		if n := e.p.refreshes.Load(); n != 2 {
			t.Fatalf("refreshes = %d, want 2", n)
		}
	}) {
		return
	}

	if !t.Run("an upstream 401 makes one refresh and one retry", func(t *testing.T) {
		e.p.expireAll()
		calls := e.p.apiCalls.Load()
		res, err := e.run(t, agent)
		if err != nil || res.Status != 200 {
			t.Fatalf("run after a 401 = %+v, %v", res, err)
		}
		if n := e.p.refreshes.Load(); n != 3 || e.p.apiCalls.Load()-calls != 2 {
			t.Fatalf("after a 401: %d refreshes (want 3), %d upstream calls (want 2)", n, e.p.apiCalls.Load()-calls)
		}
	}) {
		return
	}

	t.Run("a refused refresh leaves the account needing reauthorization", func(t *testing.T) {
		e.p.refuse = true
		e.clock.Advance(5 * time.Minute)
		_, err := e.run(t, agent)
		ce := wantProblem(t, err, 424, "account_disconnected")
		if !strings.Contains(ce.Detail, "accounts connect shop_acme default") {
			t.Errorf("detail = %s", ce.Detail)
		}
		if acc := e.accounts(t); acc.Items[0].Status != "needs_reauthorization" {
			t.Fatalf("status = %s", acc.Items[0].Status)
		}
		_, err = agent.RunAction(ctx, "shop.list", nil)
		wantProblem(t, err, 424, "account_disconnected")
	})

	if !t.Run("connecting again mends the account", func(t *testing.T) {
		e.p.refuse = false
		e.connect(t, "default")
		if _, err := e.run(t, agent); err != nil {
			t.Fatal(err)
		}
	}) {
		return
	}

	t.Run("tokens are in no audit entry or log line and not in plain text on disk", func(t *testing.T) {
		entries, _, err := e.admin.AuditLogs(ctx, client.AuditQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(entries)
		logs := e.env.Logs.String()
		for i := 1; i <= e.p.n; i++ {
			for _, tok := range []string{fmt.Sprintf("at-%d\"", i), fmt.Sprintf("rt-%d\"", i)} {
				if strings.Contains(string(b), tok) || strings.Contains(logs, tok) {
					t.Errorf("%s appears in the audit log or the server log", tok)
				}
			}
		}
		files, _ := filepath.Glob(filepath.Join(e.env.Dir, "*"))
		if len(files) == 0 {
			t.Fatal("no database files to check")
		}
		for _, f := range files {
			data, _ := os.ReadFile(f)
			if strings.Contains(string(data), "at-1") || strings.Contains(string(data), e.p.refresh) || strings.Contains(string(data), clientSecret) {
				t.Errorf("a token or the client secret is in plain text in %s", f)
			}
		}
	})

	t.Run("disconnecting revokes the refresh token at the provider", func(t *testing.T) {
		current := e.p.refresh
		if _, err := e.admin.Raw(ctx, "DELETE", "/v1/apps/shop/accounts/default", nil); err != nil {
			t.Fatal(err)
		}
		if len(e.p.revoked) != 1 || e.p.revoked[0] != current {
			t.Errorf("revoked = %v, want [%s]", e.p.revoked, current)
		}
		if acc := e.accounts(t); len(acc.Items) != 0 {
			t.Errorf("accounts after disconnecting = %+v", acc)
		}
		_, err := e.run(t, agent)
		wantProblem(t, err, 424, "account_disconnected")
	})
}

// A state is random, single use, expires in 10 minutes and is bound to its
// org, app and account: anything else is refused.
func TestOAuthStates(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, "authorization_code")
	ctx := context.Background()
	start := func(body any) (code, state string) {
		raw, err := e.admin.Raw(ctx, "POST", "/v1/apps/shop/accounts/default/authorize", body)
		if err != nil {
			t.Fatal(err)
		}
		var res struct{ AuthorizationURL string }
		json.Unmarshal(raw, &res)
		code, state, _ = e.p.authorize(t, res.AuthorizationURL)
		return code, state
	}
	redirect := func(app, code, state string) (int, string) {
		return e.browse(t, e.env.URL+"/v1/apps/"+app+"/authorize/oauth2/redirect?code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state))
	}
	// Tampered.
	code, state := start(nil)
	if s, body := redirect("shop_acme", code, state+"x"); s != 400 || !strings.Contains(body, "not valid") {
		t.Errorf("tampered state: %d %s", s, body)
	}
	// The good one still works once, then is spent.
	if s, _ := redirect("shop_acme", code, state); s != 200 {
		t.Errorf("valid state: %d", s)
	}
	code2, _ := start(nil)
	if s, _ := redirect("shop_acme", code2, state); s != 400 {
		t.Errorf("replayed state: %d", s)
	}
	// Expired.
	code, state = start(nil)
	e.clock.Advance(11 * time.Minute)
	if s, _ := redirect("shop_acme", code, state); s != 400 {
		t.Errorf("expired state: %d", s)
	}
	// Another org's app: the same app id in another org.
	other := e.env.Org(t, "other")
	apitest.Register(t, other, `{"app":"shop","version":"1.0.0","title":"Shop"}`)
	code, state = start(nil)
	if s, _ := redirect("shop_other", code, state); s != 400 {
		t.Errorf("a state used for another org's app: %d", s)
	}
	// A returnUrl on the allow-list is where the browser goes; others are
	// refused when authorizing.
	_, err := e.admin.Raw(ctx, "POST", "/v1/apps/shop/accounts/default/authorize", map[string]string{"returnUrl": "https://evil.example.com/"})
	wantProblem(t, err, 400, "invalid_input")
	code, state = start(map[string]string{"returnUrl": "https://desk.example.com/settings"})
	if s, loc := redirect("shop_acme", code, state); s != 302 || loc != "https://desk.example.com/settings" {
		t.Errorf("allowed returnUrl: %d %s", s, loc)
	}
}

func TestOAuthClientCredentials(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t, "client_credentials")
	raw, err := e.admin.Raw(context.Background(), "POST", "/v1/apps/shop/accounts/authorize", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"status":"connected"`) || strings.Contains(string(raw), "at-") {
		t.Fatalf("client credentials authorize = %s", raw)
	}
	res, err := e.run(t, e.admin)
	if err != nil || res.Status != 200 {
		t.Fatalf("run = %+v, %v", res, err)
	}
	// Expired: a new token by client credentials (there is no refresh token).
	e.clock.Advance(5 * time.Minute)
	if res, err := e.run(t, e.admin); err != nil || res.Status != 200 {
		t.Fatalf("run after expiry = %+v, %v", res, err)
	}
}

func TestOAuthDefinitionChecks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{})
	admin := env.Org(t, "acme")
	_, err := admin.RegisterApp(context.Background(), []byte(`{"app":"x","version":"1.0.0","title":"X",
		"commands":[{"name":"c","url":"https://a.com","httpMethod":"get","appAccountName":"default"}]}`), false)
	ce := wantProblem(t, err, 400, "invalid_definition")
	if ce.Errors[0].Location != "/commands/0/appAccountName" {
		t.Errorf("problems = %+v", ce.Errors)
	}
	_, err = admin.RegisterApp(context.Background(), []byte(`{"app":"x","version":"1.0.0","title":"X",
		"auth":{"type":"oauth2","grantType":"password","tokenUrl":"ftp://x","clientId":{"key":"x.default.id"},"clientSecret":{"key":"y.default.s"}}}`), false)
	ce = wantProblem(t, err, 400, "invalid_definition")
	var locs []string
	for _, p := range ce.Errors {
		locs = append(locs, p.Location)
	}
	if strings.Join(locs, " ") != "/auth/grantType /auth/tokenUrl /auth/clientSecret/key" {
		t.Errorf("problems at %v", locs)
	}
}
