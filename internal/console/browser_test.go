package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/browsertest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// EnvScreenshots names a directory: the browser tests save a PNG of each
// page there.
const EnvScreenshots = "SWITCHBOARD_TEST_SCREENSHOTS"

const (
	apiToken     = "tok-5ecret-value-9f8e7d"
	clientID     = "client-123"
	clientSecret = "client-s3cret-xyz"
)

// provider is a fake OAuth 2.0 provider whose user approves at once: its
// authorization page redirects straight back with a code bound to the PKCE
// challenge, and its token endpoint checks the client and the verifier.
type provider struct {
	srv   *httptest.Server
	mu    sync.Mutex
	codes map[string]string // code -> PKCE challenge
	n     int
}

func newProvider(t *testing.T) *provider {
	p := &provider{codes: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != clientID || q.Get("code_challenge_method") != "S256" || q.Get("state") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		p.n++
		code := fmt.Sprintf("code-%d", p.n)
		p.codes[code] = q.Get("code_challenge")
		p.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		p.mu.Lock()
		challenge, known := p.codes[r.Form.Get("code")]
		delete(p.codes, r.Form.Get("code"))
		p.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		w.Header().Set("Content-Type", "application/json")
		if id != clientID || secret != clientSecret || !known || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"orders.read"}`)
	})
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// upstream is the shop's API: it wants the secret token and echoes it
// back, so that the test sees the runner redact it.
func newUpstream(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+apiToken {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"order": strings.TrimPrefix(r.URL.Path, "/orders/"),
			"items": []map[string]any{{"sku": "A-1", "qty": 2}}, "echo": r.Header.Get("Authorization")})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func shopDefinition(p *provider, up *httptest.Server, method string) string {
	return `{
  "app": "shop",
  "version": "1.0.0",
  "title": "Shop",
  "settings": {"default": {
    "apiToken": {"type": "secret", "required": true, "description": "The shop API's token"},
    "clientId": {"type": "string", "description": "OAuth client id"},
    "clientSecret": {"type": "secret", "description": "OAuth client secret"}
  }},
  "auth": {"type": "oauth2", "grantType": "authorization_code",
    "authorizationUrl": "` + p.srv.URL + `/authorize", "tokenUrl": "` + p.srv.URL + `/token", "scopes": ["orders.read"],
    "clientId": {"key": "shop.default.clientId"}, "clientSecret": {"key": "shop.default.clientSecret"}},
  "commands": [{
    "name": "getOrder",
    "url": "` + up.URL + `/orders/{{order}}",
    "httpMethod": "` + method + `",
    "permittedArgs": ["order"],
    "auditLogging": true,
    "cacheSeconds": 60,
    "appSettings": {"apiToken": {"key": "shop.default.apiToken"}}
  }],
  "actions": [{
    "name": "lookup",
    "type": "rest_api",
    "appSettings": {"apiToken": {"key": "shop.default.apiToken"}},
    "inputTemplate": {"uri": "` + up.URL + `/orders/{{order}}", "method": "get", "headers": {"Authorization": "Bearer {{apiToken}}"}, "json": true},
    "outputTemplate": {"order": "/#body.order", "first": "/#body.items"}
  }]
}`
}

func TestConsoleInBrowserSQLite(t *testing.T) {
	t.Parallel()
	testConsoleInBrowser(t, "sqlite", nil)
}

func TestConsoleInBrowserPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	store, err := postgres.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	testConsoleInBrowser(t, "postgres", store)
}

// page is a browser tab on the console, with the steps the test takes.
type page struct {
	t     *testing.T
	b     *browsertest.Browser
	base  string
	shots string // where screenshots go ("": none)
	store string
}

// waitFor evaluates expr until it is true (pages load and navigate
// meanwhile), and fails the test with what the page shows if it never is.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	deadline := time.Now().Add(browsertest.Timeout)
	for {
		var ok bool
		if err := p.b.EvalErr("document.readyState === 'complete' && !!("+expr+")", &ok); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			var text string
			_ = p.b.EvalErr("location.href + '\\n' + document.body.innerText", &text)
			p.t.Fatalf("waiting for %s (%s): the page shows\n%s", what, expr, text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *page) open(path string) { p.t.Helper(); p.b.Open(p.t, p.base+path) }

// eval runs a statement in the page.
func (p *page) eval(js string) { p.t.Helper(); p.b.Eval(p.t, "(() => {"+js+"})()", nil) }

func (p *page) text() string {
	p.t.Helper()
	var s string
	p.b.Eval(p.t, "document.body.innerText", &s)
	return s
}

func (p *page) html() string {
	p.t.Helper()
	var s string
	p.b.Eval(p.t, "document.documentElement.outerHTML", &s)
	return s
}

// fill sets form fields by id.
func (p *page) fill(fields map[string]string) {
	p.t.Helper()
	for id, v := range fields {
		b, _ := json.Marshal(v)
		p.eval(`document.getElementById(` + jsQuote(id) + `).value = ` + string(b))
	}
}

// submit clicks a button (a selector) and waits for the next page.
func (p *page) submit(sel, what, until string) {
	p.t.Helper()
	p.eval(`window.__left = true; document.querySelector(` + jsQuote(sel) + `).click()`)
	p.waitFor(what, "!window.__left && ("+until+")")
}

func (p *page) shot(name string) {
	p.t.Helper()
	if p.shots != "" {
		p.b.Screenshot(p.t, filepath.Join(p.shots, p.store+"-"+name+".png"))
	}
}

func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func testConsoleInBrowser(t *testing.T, storeName string, store switchboard.Store) {
	b := browsertest.New(t) // first: it skips when there is no browser
	b.Do(t, chromedp.EmulateViewport(1280, 900))
	prov := newProvider(t)
	up := newUpstream(t)
	env := apitest.New(t, apitest.Options{Store: store, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	adminKey, admin := mustOrg(t, env, "acme")
	auditor, err := admin.CreateKey(context.Background(), "Ann Auditor", "auditor")
	if err != nil {
		t.Fatal(err)
	}
	p := &page{t: t, b: b, base: env.URL, shots: os.Getenv(EnvScreenshots), store: storeName}
	if p.shots != "" {
		if err := os.MkdirAll(p.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("sign in", func(t *testing.T) {
		p.t = t
		p.open("/console/apps")
		p.waitFor("the sign-in page", `document.getElementById('key')`)
		p.shot("sign-in")
		p.fill(map[string]string{"key": adminKey})
		p.submit("form[action='/console/sign-in'] button", "the apps page", `location.pathname === '/console/apps'`)
		if !strings.Contains(p.text(), "No apps yet") {
			t.Errorf("the empty apps page does not say what to do:\n%s", p.text())
		}
		p.shot("apps-empty")
		var stored string
		p.b.Eval(t, "document.cookie + JSON.stringify(localStorage) + JSON.stringify(sessionStorage)", &stored)
		if strings.Contains(stored, adminKey) || strings.Contains(stored, "sb_console") {
			t.Errorf("the page can read the key or the session cookie: %s", stored)
		}
	})

	t.Run("register a definition with an error, then fixed", func(t *testing.T) {
		p.t = t
		p.open("/console/register")
		bad := shopDefinition(prov, up, "fetch")
		p.fill(map[string]string{"definition": bad})
		p.submit("#register", "the problems", `document.getElementById('problems')`)
		line := 0
		for i, l := range strings.Split(bad, "\n") {
			if strings.Contains(l, `"httpMethod"`) {
				line = i + 1
			}
		}
		col := strings.Index(strings.Split(bad, "\n")[line-1], `"httpMethod"`) + 1 // the member's name
		var marker string
		p.b.Eval(t, `document.querySelector('.marker[data-line="`+fmt.Sprint(line)+`"]')?.innerText ?? ''`, &marker)
		want := fmt.Sprintf("line %d, column %d", line, col)
		if !strings.Contains(marker, want) || !strings.Contains(marker, "/commands/0/httpMethod") {
			t.Errorf("the problem beside line %d = %q, want %q at /commands/0/httpMethod", line, marker, want)
		}
		var kept string
		p.b.Eval(t, `document.getElementById('definition').value`, &kept)
		if kept != bad {
			t.Errorf("the text area lost the submitted text")
		}
		p.shot("register-problems")

		// The fixed definition, uploaded as a file: the script puts it in
		// the text area, where it can be fixed again if need be.
		file := filepath.Join(t.TempDir(), "shop.json")
		if err := os.WriteFile(file, []byte(shopDefinition(prov, up, "get")), 0o644); err != nil {
			t.Fatal(err)
		}
		b.Do(t, chromedp.SetUploadFiles("#file", []string{file}))
		p.waitFor("the file in the text area", `document.getElementById('definition').value.includes('"get"')`)
		p.submit("#register", "the registered app", `document.getElementById('registered')`)
		if txt := p.text(); !strings.Contains(txt, "Registered shop_acme 1.0.0") {
			t.Errorf("after registering:\n%s", txt)
		}
		p.shot("registered")
	})

	t.Run("set a secret and see it redacted", func(t *testing.T) {
		p.t = t
		p.open("/console/apps/shop_acme")
		p.waitFor("the settings", `document.querySelector('[data-setting="default.apiToken"].missing')`)
		p.fill(map[string]string{"s-default.apiToken": apiToken, "s-default.clientId": clientID, "s-default.clientSecret": clientSecret})
		p.submit("#settings button[type=submit]", "the saved settings", `location.search.includes('done=settings')`)
		html := p.html()
		for _, secret := range []string{apiToken, clientSecret} {
			if strings.Contains(html, secret) {
				t.Errorf("the app page shows a secret value %q", secret)
			}
		}
		var state string
		p.b.Eval(t, `document.querySelector('[data-setting="default.apiToken"] .secret-state')?.innerText ?? document.body.innerText`, &state)
		if !strings.Contains(state, "set (write-only)") {
			t.Errorf("the secret's state = %q, want set (write-only)", state)
		}
		if strings.Contains(html, `class="field missing"`) {
			t.Errorf("a set secret is still flagged missing")
		}
		var client string
		p.b.Eval(t, `document.getElementById('s-default.clientId').value`, &client)
		if client != clientID {
			t.Errorf("the client id field = %q, want %q", client, clientID)
		}
		p.shot("app")
	})

	t.Run("connect an OAuth account", func(t *testing.T) {
		p.t = t
		p.waitFor("the accounts", `document.getElementById('connect')`)
		// Connect leads to the provider, which approves and sends the
		// browser back through the redirect URI to the app's page.
		p.submit("#connect", "the connected account", `location.pathname === '/console/apps/shop_acme' && document.querySelector('[data-account="default"] [data-status="connected"]')`)
		if !strings.Contains(p.text(), "The account is connected.") {
			t.Errorf("no confirmation after connecting:\n%s", p.text())
		}
		if strings.Contains(p.html(), "at-1") || strings.Contains(p.html(), "rt-1") {
			t.Errorf("the app page shows a token")
		}
		p.shot("app-connected")
	})

	t.Run("set a rate limit, wrong then fixed, and remove it", func(t *testing.T) {
		p.t = t
		const name = "kustomer.app.shop_acme.lookup"
		p.open("/console/apps/shop_acme#limits")
		p.waitFor("the limits", `document.getElementById('rps-`+name+`')`)
		p.fill(map[string]string{"rps-" + name: "fast", "burst-" + name: "5"})
		p.submit(`[id="set-`+name+`"]`, "the problem beside the field", `document.getElementById('rps-`+name+`-problem')`)
		var problem, kept string
		p.b.Eval(t, `document.getElementById('rps-`+name+`-problem').innerText`, &problem)
		p.b.Eval(t, `document.getElementById('rps-`+name+`').value`, &kept)
		if !strings.Contains(problem, "runsPerSecond must be a number") || kept != "fast" {
			t.Errorf("beside the field: %q, the field keeps %q", problem, kept)
		}
		p.fill(map[string]string{"rps-" + name: "0.5"})
		p.submit(`[id="set-`+name+`"]`, "the saved limit", `location.search.includes('done=limits')`)
		var current string
		p.b.Eval(t, `document.querySelector('[data-limit="`+name+`"] .limit-current').innerText`, &current)
		if current != "0.5 a second, burst 5" {
			t.Errorf("the limit shown = %q, want 0.5 a second, burst 5", current)
		}
		p.shot("app-limits")
		p.submit(`[id="remove-`+name+`"]`, "the removed limit", `location.search.includes('done=unlimited')`)
		p.b.Eval(t, `document.querySelector('[data-limit="`+name+`"] .limit-current').innerText`, &current)
		if current != "none" {
			t.Errorf("the limit shown after removing = %q, want none", current)
		}
	})

	t.Run("run in the playground", func(t *testing.T) {
		p.t = t
		p.open("/console/playground?kind=command&name=kustomer.app.shop_acme.getOrder")
		p.waitFor("the playground", `document.getElementById('run')`)
		p.fill(map[string]string{"args": "order=42", "headers": "Authorization: Bearer {{apiToken}}"})
		p.submit("#run", "the answer", `document.getElementById('status')`)
		var got struct{ Status, Cache, Body, Curl, CLI, SDK string }
		p.b.Eval(t, `({status: document.getElementById('status').innerText, cache: document.getElementById('cache').innerText,
			body: document.getElementById('body-out').innerText, curl: document.getElementById('curl').innerText,
			cli: document.getElementById('cli').innerText, sdk: document.getElementById('sdk').innerText})`, &got)
		if got.Status != "200" || got.Cache != "miss" {
			t.Errorf("status %q cache %q, want 200 miss", got.Status, got.Cache)
		}
		if !strings.Contains(got.Body, "\n  \"order\": \"42\"") || !strings.Contains(got.Body, `"echo": "Bearer [redacted]"`) {
			t.Errorf("the answer's body is not pretty-printed with the secret redacted:\n%s", got.Body)
		}
		if strings.Contains(p.html(), apiToken) {
			t.Errorf("the playground shows the secret")
		}
		for what, want := range map[string]string{
			got.Curl: env.URL + "/v1/commands/kustomer.app.shop_acme.getOrder/run",
			got.CLI:  "switchboard commands run kustomer.app.shop_acme.getOrder",
			got.SDK:  `sb.command.run("kustomer.app.shop_acme.getOrder", {headers: {"Authorization":"Bearer {{apiToken}}"}, urlArgs: {"order":"42"}})`,
		} {
			if !strings.Contains(what, want) {
				t.Errorf("snippet %q lacks %q", what, want)
			}
		}
		p.shot("playground")
		// The same run again is served from the cache.
		p.submit("#run", "the second answer", `document.getElementById('cache')?.innerText === 'hit'`)

		// On a phone the form and the answer stack.
		b.Do(t, chromedp.EmulateViewport(390, 844))
		var stacked bool
		p.b.Eval(t, `document.getElementById('answer').getBoundingClientRect().top > document.getElementById('run-form').getBoundingClientRect().bottom`, &stacked)
		if !stacked {
			t.Errorf("on a phone, the answer is not below the form")
		}
		p.shot("playground-phone")
		b.Do(t, chromedp.EmulateViewport(1280, 900))

		// An action: choosing it loads its form (the script), which takes
		// an input.
		p.eval(`const s = document.getElementById('name'); s.value = 'kustomer.app.shop_acme.lookup';
			window.__left = true; s.dispatchEvent(new Event('change'))`)
		p.waitFor("the action's form", `!window.__left && document.getElementById('kind').value === 'action' && !document.getElementById('args')`)
		p.fill(map[string]string{"body": `{"order": "7"}`})
		p.submit("#run", "the action's answer", `document.getElementById('body-out')`)
		var out, cli string
		p.b.Eval(t, `document.getElementById('body-out').innerText`, &out)
		p.b.Eval(t, `document.getElementById('cli').innerText`, &cli)
		if !strings.Contains(out, `"order": "7"`) || !strings.Contains(cli, `switchboard actions run kustomer.app.shop_acme.lookup --input '{"order":"7"}'`) {
			t.Errorf("the action's answer %q, CLI %q", out, cli)
		}
	})

	t.Run("find the run in the audit log", func(t *testing.T) {
		p.t = t
		p.open("/console/audit?command=shop.getOrder")
		p.waitFor("the audit log", `document.querySelector('#audit tr[data-command="kustomer.app.shop_acme.getOrder"][data-via="console"]')`)
		var rows int
		p.b.Eval(t, `document.querySelectorAll('#audit tbody tr').length`, &rows)
		if rows != 2 {
			t.Errorf("the audit log filtered by the command shows %d entries, want its 2 runs", rows)
		}
		txt := p.text()
		if !strings.Contains(txt, "/orders/42") || !strings.Contains(txt, "admin") {
			t.Errorf("the audit entry lacks its URL or actor:\n%s", txt)
		}
		var localized bool
		p.b.Eval(t, `[...document.querySelectorAll('#audit time')].every(e => e.title.endsWith('UTC') && e.innerText !== e.title)`, &localized)
		if !localized {
			t.Errorf("the audit log's times are not in the viewer's locale")
		}
		p.shot("audit")

		// The time filters are the viewer's local times, sent with a zone.
		p.eval(`const d = new Date(Date.now() - 3600e3), pad = n => String(n).padStart(2, '0');
			document.querySelector('input[name=since]').value = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes())`)
		p.submit("#audit-filters button", "the filtered log", `location.search.includes('since=') && document.querySelector('#audit tbody tr')`)
		var search, shown string
		p.b.Eval(t, `location.search`, &search)
		p.b.Eval(t, `document.querySelector('input[name=since]').value`, &shown)
		if q, _ := url.ParseQuery(strings.TrimPrefix(search, "?")); !strings.HasSuffix(q.Get("since"), "Z") || shown == "" {
			t.Errorf("since sent as %q, shown as %q: want an RFC 3339 time with its zone, shown again", q.Get("since"), shown)
		}
		p.eval(`document.querySelector('input[name=since]').value = ''; document.querySelector('input[name=until]').value = '2020-01-01T00:00'`)
		p.submit("#audit-filters button", "the empty log", `document.querySelector('.empty')`)
		if !strings.Contains(p.text(), "No entries match these filters") {
			t.Errorf("an empty filtered log does not say so:\n%s", p.text())
		}
	})

	t.Run("keys and sessions", func(t *testing.T) {
		p.t = t
		p.open("/console/keys")
		p.fill(map[string]string{"key-name": "ci-bot"})
		p.submit("form[action='/console/keys'] button", "the created key", `document.getElementById('new-key')`)
		var key string
		p.b.Eval(t, `document.getElementById('new-key').innerText`, &key)
		if !strings.HasPrefix(key, "sbk_") {
			t.Errorf("created key = %q", key)
		}
		p.shot("keys")
		p.open("/console/keys")
		if strings.Contains(p.html(), key) {
			t.Errorf("the key is shown again")
		}
		p.open("/console/sessions")
		p.fill(map[string]string{"commands": "shop.getOrder", "subject": "ann"})
		p.submit("form[action='/console/sessions'] button", "the minted session", `document.getElementById('session-token')`)
		var tok string
		p.b.Eval(t, `document.getElementById('session-token').innerText`, &tok)
		if !strings.HasPrefix(tok, "sbs_") {
			t.Errorf("minted token = %q", tok)
		}
		// The token runs its command through the browser SDK.
		p.fill(map[string]string{"try-args": `{"order": "9"}`, "try-headers": `{"Authorization": "Bearer {{apiToken}}"}`})
		p.eval(`document.getElementById('try-run').click()`)
		p.waitFor("the SDK's answer", `document.getElementById('try-out').textContent.includes('"status": 200')`)
		var sdkOut string
		p.b.Eval(t, `document.getElementById('try-out').textContent`, &sdkOut)
		if !strings.Contains(sdkOut, `"order": "9"`) || strings.Contains(sdkOut, apiToken) {
			t.Errorf("the SDK's answer:\n%s", sdkOut)
		}
		p.shot("sessions")
	})

	// Errors in the console so far fail the test; the refusals that the
	// next steps provoke log a 403 each, and only those are let through.
	seen := 0
	checkErrors := func(t *testing.T, refusals bool) {
		errs := b.Errors()
		for _, m := range errs[seen:] {
			if refusals && strings.Contains(m.Text, "status of 403 (Forbidden)") {
				continue
			}
			t.Errorf("the page logged %s (at %s:%d)", m, m.URL, m.Line+1)
		}
		seen = len(errs)
	}
	t.Run("no console errors on any page", func(t *testing.T) { checkErrors(t, false) })

	t.Run("a CSRF-less post is refused", func(t *testing.T) {
		p.t = t
		p.open("/console/keys")
		var status int
		p.b.Eval(t, `fetch('/console/keys', {method: 'POST', body: new URLSearchParams({name: 'x', role: 'admin'})}).then(r => r.status)`, &status)
		if status != http.StatusForbidden {
			t.Errorf("a same-origin post without the token: %d, want 403", status)
		}
	})

	t.Run("sign out and be refused", func(t *testing.T) {
		p.t = t
		p.open("/console/apps")
		p.submit("#sign-out", "the sign-in page", `location.pathname === '/console/sign-in'`)
		p.open("/console/apps")
		p.waitFor("the sign-in page", `location.pathname === '/console/sign-in' && document.getElementById('key')`)
		var status int
		p.b.Eval(t, `fetch('/console/keys', {redirect: 'manual'}).then(r => r.status)`, &status)
		if status == http.StatusOK {
			t.Errorf("the keys page answers 200 after signing out")
		}
	})

	t.Run("an auditor cannot post a form", func(t *testing.T) {
		p.t = t
		p.open("/console/sign-in")
		p.fill(map[string]string{"key": auditor.Key})
		p.submit("form[action='/console/sign-in'] button", "the audit log", `location.pathname === '/console/audit'`)
		var forms int
		p.b.Eval(t, `document.querySelectorAll('form[method=post]:not([action="/console/sign-out"])').length`, &forms)
		if forms != 0 {
			t.Errorf("the auditor's page has %d forms that post", forms)
		}
		p.shot("audit-auditor")
		// With the session's own token, taken from the sign-out form.
		var res struct {
			Status int
			Text   string
		}
		p.b.Eval(t, `fetch('/console/keys', {method: 'POST', body: new URLSearchParams({name: 'x', role: 'admin',
			csrf: document.querySelector('input[name=csrf]').value})}).then(async r => ({status: r.status, text: await r.text()}))`, &res)
		if res.Status != http.StatusForbidden || !strings.Contains(res.Text, "may not use this page") {
			t.Errorf("an auditor's post to /console/keys: %d, want 403", res.Status)
		}
		for _, path := range []string{"/console/apps", "/console/playground", "/console/keys"} {
			p.open(path)
			if !strings.Contains(p.text(), "Forbidden") {
				t.Errorf("the auditor reaches %s:\n%s", path, p.text())
			}
		}
		p.open("/console/audit")
		p.submit("#sign-out", "the sign-in page", `location.pathname === '/console/sign-in'`)
	})

	t.Run("only the provoked refusals logged errors", func(t *testing.T) { checkErrors(t, true) })

	t.Run("the operator's orgs and public apps", func(t *testing.T) {
		p.t = t
		p.open("/console/sign-in")
		p.fill(map[string]string{"key": apitest.OperatorKey})
		p.submit("form[action='/console/sign-in'] button", "the apps page", `location.pathname === '/console/apps'`)
		p.open("/console/orgs")
		p.fill(map[string]string{"org-id": "globex", "org-name": "Globex"})
		p.submit("form[action='/console/orgs'] button", "the created org", `document.getElementById('admin-key')`)
		p.fill(map[string]string{"rps-globex": "10", "burst-globex": "20"})
		p.submit("#set-globex", "the org's saved limit", `location.search.includes('done=limits')`)
		var limit string
		p.b.Eval(t, `document.querySelector('#org-list tr[data-org="globex"] .limit-current').innerText`, &limit)
		if limit != "10 a second, burst 20" {
			t.Errorf("globex's limit shown = %q, want 10 a second, burst 20", limit)
		}
		var orgs []string
		p.b.Eval(t, `[...document.querySelectorAll('#org-list tr[data-org]')].map(r => r.dataset.org)`, &orgs)
		if strings.Join(orgs, " ") != "globex acme" {
			t.Errorf("the orgs listed = %v, want globex acme (newest first)", orgs)
		}
		p.shot("orgs")
		p.open("/console/register")
		if !strings.Contains(p.text(), "public") {
			t.Errorf("the operator's register page does not say it registers public apps")
		}
	})

	t.Run("no console errors on the operator's pages", func(t *testing.T) { checkErrors(t, false) })

	t.Run("no secret or key in the log", func(t *testing.T) {
		logs := env.Logs.String()
		for _, s := range []string{apiToken, clientSecret, adminKey, auditor.Key, "at-1", "rt-1"} {
			if strings.Contains(logs, s) {
				t.Errorf("the server log holds %q", s)
			}
		}
	})
}
