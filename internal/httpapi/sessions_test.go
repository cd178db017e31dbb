package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

const sessionDef = `{"app":"shop","version":"1.0.0","title":"Shop",
	"commands":[
		{"name":"refund","httpMethod":"post","url":"UP/orders?store={{{store}}}","permittedArgs":["store","note"],"auditLogging":true,
			"appSettings":{"authToken":{"key":"shop.default.authToken"}}},
		{"name":"lookup","httpMethod":"get","url":"UP/orders/1"},
		{"name":"secret","httpMethod":"get","url":"UP/admin"}]}`

type sessionEnv struct {
	env   *apitest.Env
	up    *upstream
	admin *client.Client
	agent *client.Client
	clock *cachetest.Clock
}

func newSessionEnv(t *testing.T) *sessionEnv {
	t.Helper()
	up := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.record(r)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"auth":%q}`, r.URL.RequestURI(), r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, strings.ReplaceAll(sessionDef, "UP", srv.URL))
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"default": {"authToken": "s3cret"}}); err != nil {
		t.Fatal(err)
	}
	return &sessionEnv{env: env, up: up, admin: admin, agent: apitest.Key(t, admin, "agent"), clock: clock}
}

// raw sends a request with a bearer token and an Origin, and returns the
// status, the CORS header and the body.
func raw(t *testing.T, method, url, token, origin, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const page = "https://desk.example.com"

// Sessions as SPEC 10 has them: scoped, pinned, bound to origins, audited
// as their key, never more than their key, and ended by expiry, revocation
// or their key's revocation.
func TestSessions(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t)
	ctx := context.Background()
	s, err := e.agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.refund", "kustomer.app.shop.lookup"},
		Args: map[string]string{"store": "dunder"}, Origins: []string{"https://Desk.example.com"}, Subject: "pam@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, name, origin, body string) (int, http.Header, string) {
		t.Helper()
		return raw(t, "POST", e.env.URL+"/v1/commands/"+name+"/run", s.Token, origin, body)
	}

	t.Run("the minted session is canonical, with a token shown once", func(t *testing.T) {
		if !strings.HasPrefix(s.Token, "sbs_") || s.ID == "" {
			t.Fatalf("session %+v", s)
		}
		want := []string{"kustomer.app.shop_acme.refund", "kustomer.app.shop_acme.lookup"}
		if fmt.Sprint(s.Commands) != fmt.Sprint(want) || fmt.Sprint(s.Origins) != "[https://desk.example.com]" {
			t.Errorf("commands %v origins %v", s.Commands, s.Origins)
		}
		if d := s.ExpiresAt.Sub(e.clock.Now()); d != 900*time.Second {
			t.Errorf("expires in %s, want 900s", d)
		}
		list, err := e.agent.Sessions(ctx)
		if err != nil || len(list) != 1 || list[0].Token != "" || list[0].ID != s.ID {
			t.Errorf("Sessions = %+v, %v", list, err)
		}
	})
	t.Run("it runs its commands with the pinned args, from its origin", func(t *testing.T) {
		code, h, body := run(t, "shop.refund", page, `{"headers":{"Authorization":"Bearer {{authToken}}"}}`)
		if code != 200 || !strings.Contains(body, `store=dunder`) || strings.Contains(body, "s3cret") {
			t.Fatalf("%d %s", code, body)
		}
		if h.Get("Access-Control-Allow-Origin") != page || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("CORS headers %v", h)
		}
		code, _, body = run(t, "shop.refund", page, `{"args":{"store":"dunder","note":"ok"}}`)
		if code != 200 {
			t.Errorf("the pinned value given again: %d %s", code, body)
		}
	})
	t.Run("a pinned arg cannot be overridden", func(t *testing.T) {
		code, _, body := run(t, "shop.refund", page, `{"args":{"store":"other"}}`)
		if code != 400 || !strings.Contains(body, "/args/store") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("another origin, or none, is refused", func(t *testing.T) {
		for _, o := range []string{"https://evil.example.com", ""} {
			if code, h, body := run(t, "shop.lookup", o, `{}`); code != 403 || (o != "" && h.Get("Access-Control-Allow-Origin") != o) {
				t.Errorf("origin %q: %d %s %v", o, code, body, h)
			}
		}
	})
	t.Run("a command outside the session is not found, and describing works for its own", func(t *testing.T) {
		if code, _, body := run(t, "shop.secret", page, `{}`); code != 404 {
			t.Errorf("run outside: %d %s", code, body)
		}
		if code, _, body := raw(t, "GET", e.env.URL+"/v1/commands/shop.lookup", s.Token, page, ""); code != 200 {
			t.Errorf("describe: %d %s", code, body)
		}
		if code, _, body := raw(t, "GET", e.env.URL+"/v1/commands/shop.secret", s.Token, page, ""); code != 404 {
			t.Errorf("describe outside: %d %s", code, body)
		}
	})
	t.Run("every other route refuses a session token", func(t *testing.T) {
		for _, rt := range httpapi.RouteTable(e.env.Handler.(*httpapi.Server)) {
			if rt.Roles == nil || rt.Pattern == "POST /v1/commands/{name}/run" || rt.Pattern == "GET /v1/commands/{name}" {
				continue
			}
			method, path, _ := strings.Cut(rt.Pattern, " ")
			path = pathParam.ReplaceAllString(path, "placeholder")
			if code, _, body := raw(t, method, e.env.URL+path, s.Token, page, ""); code != 403 || !strings.Contains(body, "session token may only") {
				t.Errorf("%s: %d %s", rt.Pattern, code, body)
			}
		}
	})
	t.Run("runs are audited as the minting key, with the session", func(t *testing.T) {
		entries, _, err := e.admin.AuditLogs(ctx, client.AuditQuery{Command: "shop.refund"})
		if err != nil || len(entries) == 0 {
			t.Fatalf("%v %v", entries, err)
		}
		got := entries[0]
		if got.Actor.Name != "test agent" || got.Session == nil || got.Session.ID != s.ID || got.Session.Subject != "pam@example.com" {
			t.Errorf("entry %+v (session %+v)", got, got.Session)
		}
	})
	t.Run("expiry ends it", func(t *testing.T) {
		short, err := e.agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}, TTLSeconds: 60})
		if err != nil {
			t.Fatal(err)
		}
		if code, _, _ := raw(t, "POST", e.env.URL+"/v1/commands/shop.lookup/run", short.Token, "", `{}`); code != 200 {
			t.Fatalf("before expiry: %d", code)
		}
		e.clock.Advance(61 * time.Second)
		if code, _, body := raw(t, "POST", e.env.URL+"/v1/commands/shop.lookup/run", short.Token, "", `{}`); code != 401 || !strings.Contains(body, "expired") {
			t.Errorf("after expiry: %d %s", code, body)
		}
	})
	t.Run("revoking it ends it", func(t *testing.T) {
		if err := e.agent.DeleteSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if code, _, body := run(t, "shop.lookup", page, `{}`); code != 401 {
			t.Errorf("after revocation: %d %s", code, body)
		}
	})
	t.Run("revoking its key ends it", func(t *testing.T) {
		k, err := e.admin.CreateKey(ctx, "widget", "agent")
		if err != nil {
			t.Fatal(err)
		}
		s2, err := e.admin.WithKey(k.Key).CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.admin.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if code, _, body := raw(t, "POST", e.env.URL+"/v1/commands/shop.lookup/run", s2.Token, "", `{}`); code != 401 {
			t.Errorf("after the key's revocation: %d %s", code, body)
		}
	})
}

// A session never does more than its key, and minting refuses what it
// cannot honour, naming each problem.
func TestSessionMinting(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t)
	ctx := context.Background()
	auditor := apitest.Key(t, e.admin, "auditor")
	if _, err := auditor.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}}); problemOf(err) == nil || problemOf(err).Status != 403 {
		t.Errorf("an auditor minted a session: %v", err)
	}
	other := e.env.Org(t, "other")
	if _, err := other.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}}); problemOf(err) == nil || problemOf(err).Status != 400 {
		t.Errorf("another org minted a session for acme's command: %v", err)
	}
	_, err := e.agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.nosuch", "nope.*"}, Origins: []string{"desk.example.com", "https://x.example.com/path"}, TTLSeconds: 3601})
	ce := problemOf(err)
	if ce == nil || ce.Status != 400 {
		t.Fatalf("bad request: %v", err)
	}
	var locs []string
	for _, p := range ce.Errors {
		locs = append(locs, p.Location)
	}
	if want := "[/ttlSeconds /commands/0 /commands/1 /origins/0 /origins/1]"; fmt.Sprint(locs) != want {
		t.Errorf("problems at %v, want %s", locs, want)
	}
	s, err := e.agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.*"}, TTLSeconds: 3600})
	if err != nil || fmt.Sprint(s.Commands) != "[kustomer.app.shop_acme.*]" {
		t.Fatalf("app.*: %+v %v", s, err)
	}
	for name, body := range map[string]string{"shop.refund": `{"args":{"store":"x"}}`, "shop.secret": `{}`} {
		if code, _, body := raw(t, "POST", e.env.URL+"/v1/commands/"+name+"/run", s.Token, "", body); code != 200 {
			t.Errorf("%s under shop.*: %d %s", name, code, body)
		}
	}
	// A session token cannot mint another.
	if code, _, _ := raw(t, "POST", e.env.URL+"/v1/sessions", s.Token, "", `{"commands":["shop.lookup"]}`); code != 403 {
		t.Errorf("a session minted a session: %d", code)
	}
}

// CORS only on the two session routes: a preflight from any origin, the
// actual answer's header echoing it, and none anywhere else.
func TestSessionCORS(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t)
	for _, path := range []string{"/v1/commands/shop.refund/run", "/v1/commands/shop.refund"} {
		req, _ := http.NewRequest("OPTIONS", e.env.URL+path, nil)
		req.Header.Set("Origin", "https://any.example.org")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://any.example.org" ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || h.Get("Access-Control-Max-Age") == "" ||
			h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight of %s: %d %v", path, resp.StatusCode, h)
		}
	}
	org, err := e.env.Operator.CreateOrg(context.Background(), "cors", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/keys", "/v1/apps/available", "/v1/commands", "/healthz", "/v1/sessions"} {
		if _, h, _ := raw(t, "GET", e.env.URL+path, org.AdminKey, page, ""); h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s sends CORS headers: %v", path, h)
		}
	}
}

// Across instances: a session minted on one runs on the other, and its
// revocation, or its key's, takes effect there within a second.
func TestSessionsTwoInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	instance := func() *apitest.Env {
		store, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return apitest.New(t, apitest.Options{Store: store, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	}
	one, two := instance(), instance()
	ctx := context.Background()
	admin := one.Org(t, "acme")
	apitest.Register(t, admin, strings.ReplaceAll(sessionDef, "UP", srv.URL))
	k, err := admin.CreateKey(ctx, "widget", "agent")
	if err != nil {
		t.Fatal(err)
	}
	agent := admin.WithKey(k.Key)
	runOn := func(env *apitest.Env, token string) error {
		code, _, body := raw(t, "POST", env.URL+"/v1/commands/shop.lookup/run", token, "", `{}`)
		if code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	}
	refused := func(env *apitest.Env, token string) func() error {
		return func() error {
			if code, _, body := raw(t, "POST", env.URL+"/v1/commands/shop.lookup/run", token, "", `{}`); code != 401 {
				return fmt.Errorf("still answers %d %s", code, body)
			}
			return nil
		}
	}
	s1, err := agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the session on instance two", func() error { return runOn(two, s1.Token) })
	start := time.Now()
	if err := agent.DeleteSession(ctx, s1.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the revoked session on instance two", refused(two, s1.Token))
	if d := time.Since(start); d > time.Second {
		t.Errorf("the revocation took %s to reach instance two", d)
	}
	s2, err := agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"shop.lookup"}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second session on instance two", func() error { return runOn(two, s2.Token) })
	start = time.Now()
	if err := admin.DeleteKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the session of a revoked key on instance two", refused(two, s2.Token))
	if d := time.Since(start); d > time.Second {
		t.Errorf("the key's revocation took %s to reach instance two", d)
	}
}
