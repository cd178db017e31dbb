package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
)

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	adminKey, _ := mustOrg(t, env, "acme")

	t.Run("a wrong key is refused", func(t *testing.T) {
		u := newUser(t, env.URL)
		u.get("/console/sign-in")
		status, body, _ := u.post("/console/sign-in", url.Values{"key": {"sbk_not-a-key"}})
		if status != http.StatusUnauthorized || !strings.Contains(body, "not a valid API key") {
			t.Errorf("sign in with a wrong key: %d\n%s", status, body)
		}
	})
	t.Run("pages need a session", func(t *testing.T) {
		u := newUser(t, env.URL)
		status, _ := u.get("/console/apps")
		if status != http.StatusSeeOther {
			t.Errorf("GET /console/apps signed out: %d, want 303 to the sign-in page", status)
		}
	})

	u := mustSignIn(t, env.URL, adminKey)
	if status, body := u.get("/console/apps"); status != 200 || !strings.Contains(body, "No apps yet") {
		t.Fatalf("apps page: %d\n%s", status, body)
	}
	cookies := u.c.Jar.Cookies(mustURL(t, env.URL+"/console/"))
	if len(cookies) != 1 || cookies[0].Name != "sb_console" {
		t.Fatalf("cookies after sign-in = %v, want the session cookie only", cookies)
	}
	token := cookies[0].Value
	if strings.Contains(token, adminKey) || strings.Contains(env.Logs.String(), token) {
		t.Errorf("the session token holds the key, or was logged")
	}

	t.Run("the cookie's attributes", func(t *testing.T) {
		v := newUser(t, env.URL)
		v.get("/console/sign-in")
		_, _, h := v.post("/console/sign-in", url.Values{"key": {adminKey}})
		var set string
		for _, c := range h.Values("Set-Cookie") {
			if strings.HasPrefix(c, "sb_console=") {
				set = c
			}
		}
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/console/", "Max-Age=43200"} {
			if !strings.Contains(set, want) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		if strings.Contains(set, "Secure") {
			t.Errorf("Set-Cookie %q is Secure on plain HTTP: the browser would drop it", set)
		}
	})

	t.Run("signing in again replaces the session", func(t *testing.T) {
		v := mustSignIn(t, env.URL, adminKey)
		first := v.c.Jar.Cookies(mustURL(t, env.URL+"/console/"))[0].Value
		x := newUser(t, env.URL) // another tab with the first cookie
		x.c.Jar.SetCookies(mustURL(t, env.URL+"/console/"), []*http.Cookie{{Name: "sb_console", Value: first}})
		// The same browser signs in again, sending the first cookie.
		y := newUser(t, env.URL)
		y.get("/console/sign-in")
		y.c.Jar.SetCookies(mustURL(t, env.URL+"/console/"), []*http.Cookie{{Name: "sb_console", Value: first}})
		if status, _, _ := y.post("/console/sign-in", url.Values{"key": {adminKey}}); status != http.StatusSeeOther {
			t.Fatalf("sign in again: %d", status)
		}
		if status, _ := x.get("/console/keys"); status != http.StatusSeeOther {
			t.Errorf("the replaced session still works: %d", status)
		}
	})

	status, _, h := u.post("/console/sign-out", url.Values{})
	if status != http.StatusSeeOther || h.Get("Location") != "/console/sign-in" {
		t.Fatalf("sign out: %d %q", status, h.Get("Location"))
	}
	if status, _ := u.get("/console/apps"); status != http.StatusSeeOther {
		t.Errorf("after sign-out: %d, want 303 to the sign-in page", status)
	}
	// The session ended on the server: the old cookie, sent again, is
	// refused.
	replay := newUser(t, env.URL)
	replay.c.Jar.SetCookies(mustURL(t, env.URL+"/console/"), []*http.Cookie{{Name: "sb_console", Value: token}})
	if status, _ := replay.get("/console/apps"); status != http.StatusSeeOther {
		t.Errorf("the signed-out cookie replayed: %d, want 303 to the sign-in page", status)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	clock := cachetest.NewClock()
	env := newEnv(t, apitest.Options{Now: clock.Now})
	adminKey, _ := mustOrg(t, env, "acme")
	signedIn := func(u *user) bool {
		status, _ := u.get("/console/keys")
		return status == http.StatusOK
	}

	t.Run("idle", func(t *testing.T) {
		u := mustSignIn(t, env.URL, adminKey)
		clock.Advance(50 * time.Minute)
		if !signedIn(u) {
			t.Fatal("signed out after 50 minutes idle")
		}
		clock.Advance(50 * time.Minute) // 50 minutes after the last request
		if !signedIn(u) {
			t.Fatal("signed out 50 minutes after a request")
		}
		clock.Advance(61 * time.Minute)
		if signedIn(u) {
			t.Fatal("still signed in after 61 minutes idle")
		}
	})
	t.Run("absolute", func(t *testing.T) {
		u := mustSignIn(t, env.URL, adminKey)
		for range 12 {
			clock.Advance(59 * time.Minute)
			if !signedIn(u) {
				t.Fatal("signed out while active before 12 hours")
			}
		}
		clock.Advance(13 * time.Minute) // 12 h 1 min after signing in
		if signedIn(u) {
			t.Fatal("still signed in 12 hours after signing in")
		}
	})
}

// A revoked key's console sessions end at once.
func TestRevokedKey(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	_, admin := mustOrg(t, env, "acme")
	k, err := admin.CreateKey(context.Background(), "auditor", "auditor")
	if err != nil {
		t.Fatal(err)
	}
	u := mustSignIn(t, env.URL, k.Key)
	if status, _ := u.get("/console/audit"); status != 200 {
		t.Fatalf("audit page: %d", status)
	}
	if err := admin.DeleteKey(context.Background(), k.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := u.get("/console/audit"); status != http.StatusSeeOther {
		t.Errorf("after the key was revoked: %d, want 303 to the sign-in page", status)
	}
}

// Every state-changing form needs the session's CSRF token and the
// console's own origin; the sign-in form needs its own token.
func TestCSRF(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	adminKey, admin := mustOrg(t, env, "acme")
	u := mustSignIn(t, env.URL, adminKey)
	u.get("/console/keys")
	good := u.csrf

	created := func() int {
		keys, err := admin.Keys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	before := created()
	for _, tc := range []struct {
		name   string
		csrf   []string // nil: no field
		origin string
	}{
		{"no token", nil, ""},
		{"an empty token", []string{""}, ""},
		{"a wrong token", []string{"x" + good[1:]}, ""},
		{"another origin", []string{good}, "https://evil.example.com"},
		{"a null origin", []string{good}, "null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"name": {"ci"}, "role": {"agent"}}
			if tc.csrf != nil {
				form["csrf"] = tc.csrf
			} else {
				form["csrf"] = nil
				delete(form, "csrf")
			}
			req, _ := http.NewRequest("POST", env.URL+"/console/keys", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			status, body, _ := u.do(req)
			if status != http.StatusForbidden || !strings.Contains(body, "security token") {
				t.Errorf("POST /console/keys: %d, want 403 for a missing security token\n%s", status, body)
			}
		})
	}
	if n := created(); n != before {
		t.Fatalf("a refused form created a key: %d keys, want %d", n, before)
	}
	// The same form with its token goes through.
	status, body, _ := u.post("/console/keys", url.Values{"csrf": {good}, "name": {"ci"}, "role": {"agent"}})
	if status != http.StatusCreated || !strings.Contains(body, "sbk_") {
		t.Fatalf("POST /console/keys with its token: %d\n%s", status, body)
	}

	t.Run("sign-in", func(t *testing.T) {
		v := newUser(t, env.URL)
		status, _, _ := v.post("/console/sign-in", url.Values{"key": {adminKey}}) // no sign-in page first: no token cookie
		if status != http.StatusForbidden {
			t.Errorf("sign-in without the form's token: %d, want 403", status)
		}
		if cs := v.c.Jar.Cookies(mustURL(t, env.URL+"/console/")); slices.ContainsFunc(cs, func(c *http.Cookie) bool { return c.Name == "sb_console" }) {
			t.Errorf("a refused sign-in set a session cookie")
		}
	})
}

var pathValue = regexp.MustCompile(`\{[a-z]+\}`)

// TestConsoleRoles walks every page and form: each refuses the roles it
// does not list, as the REST routes do, and lets through those it lists.
func TestConsoleRoles(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	adminKey, admin := mustOrg(t, env, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"c","url":"http://127.0.0.1:1/","httpMethod":"get"}]}`)
	keys := map[switchboard.Role]string{switchboard.RoleAdmin: adminKey, switchboard.RoleOperator: apitest.OperatorKey}
	for _, role := range []string{"agent", "auditor"} {
		k, err := admin.CreateKey(context.Background(), role, role)
		if err != nil {
			t.Fatal(err)
		}
		keys[switchboard.Role(role)] = k.Key
	}
	routes := env.Instance.Console.Routes()
	// Who may use each page: the roles of the REST route that does the
	// same thing. An auditor reads the audit log and signs out, nothing
	// else, and posts no form but sign-out.
	all := "admin agent auditor operator"
	want := map[string]string{
		"GET /console/{$}": all, "POST /console/sign-out": all,
		"GET /console/apps": "admin agent operator", "GET /console/apps/{app}": "admin agent operator",
		"POST /console/apps/{app}/install": "admin", "POST /console/apps/{app}/uninstall": "admin",
		"POST /console/apps/{app}/settings": "admin", "POST /console/apps/{app}/accounts": "admin",
		"POST /console/apps/{app}/accounts/{name}/disconnect": "admin",
		"GET /console/register":                               "admin operator", "POST /console/register": "admin operator",
		"GET /console/playground": "admin agent", "POST /console/playground": "admin agent",
		"GET /console/audit": "admin auditor",
		"GET /console/keys":  "admin", "POST /console/keys": "admin", "POST /console/keys/{id}/revoke": "admin",
		"GET /console/sessions": "admin agent", "POST /console/sessions": "admin agent", "POST /console/sessions/{id}/revoke": "admin agent",
		"GET /console/orgs": "operator", "POST /console/orgs": "operator",
		"POST /console/apps/{app}/limits": "admin", "POST /console/orgs/{org}/limits": "operator",
	}
	for _, rt := range routes {
		var got []string
		for _, r := range rt.Roles {
			got = append(got, string(r))
		}
		slices.Sort(got)
		if w, ok := want[rt.Pattern]; !ok || strings.Join(got, " ") != w {
			t.Errorf("%s: roles %v, want %q", rt.Pattern, got, w)
		}
		delete(want, rt.Pattern)
	}
	for p := range want {
		t.Errorf("%s: no such console route", p)
	}
	for role, key := range keys {
		t.Run(string(role), func(t *testing.T) {
			u := mustSignIn(t, env.URL, key)
			for _, rt := range routes {
				method, path, _ := strings.Cut(rt.Pattern, " ")
				path = strings.TrimSuffix(path, "{$}")
				path = pathValue.ReplaceAllStringFunc(path, func(s string) string {
					return map[string]string{"{app}": "shop", "{name}": "default", "{id}": "nope", "{org}": "acme"}[s]
				})
				if path == "/console/sign-out" {
					continue // walked last
				}
				var status int
				var body string
				if method == "GET" {
					status, body = u.get(path)
				} else {
					u.get("/console/") // a fresh token
					status, body, _ = u.post(path, url.Values{})
				}
				allowed := slices.Contains(rt.Roles, role)
				refused := status == http.StatusForbidden && strings.Contains(body, "may not use this page")
				if allowed == refused || status == http.StatusUnauthorized || status >= 500 {
					t.Errorf("%s %s as %s: %d (listed roles: %v)\n%.400s", method, path, role, status, rt.Roles, body)
				}
			}
			if status, _, _ := u.post("/console/sign-out", url.Values{}); status != http.StatusSeeOther {
				t.Errorf("sign out as %s: %d", role, status)
			}
		})
	}
}

// Every page is served with a strict CSP and carries no inline script,
// style or event handler, which the CSP would refuse.
func TestNoInlineScript(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	adminKey, admin := mustOrg(t, env, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"token":{"type":"secret","required":true},"store":{"type":"string","defaultValue":"main"}}},
		"commands":[{"name":"c","url":"http://127.0.0.1:1/","httpMethod":"get"}]}`)
	u := mustSignIn(t, env.URL, adminKey)
	scripts := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)\sstyle=|\son[a-z]+=|javascript:|<style`)
	for _, path := range []string{"/console/sign-in", "/console/apps", "/console/apps/shop", "/console/register", "/console/playground",
		"/console/audit", "/console/keys", "/console/sessions", "/console/connected", "/console/nope"} {
		req, _ := http.NewRequest("GET", env.URL+path, nil)
		status, body, h := u.do(req)
		if status >= 500 {
			t.Errorf("GET %s: %d", path, status)
		}
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %s", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q allows inline script or eval", path, csp)
		}
		if m := inline.FindString(body); m != "" {
			t.Errorf("GET %s: inline style or handler %q", path, m)
		}
		tags := scripts.FindAllStringSubmatch(body, -1)
		if len(tags) != strings.Count(strings.ToLower(body), "<script") {
			t.Errorf("GET %s: a <script> tag without its end", path)
		}
		for _, m := range tags {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("GET %s: inline script %q", path, m[0])
			}
		}
	}
}
