package sdk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/browsertest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

const seedSecret = "s3cr3t-seed-token"

// The seed's command, as the seed writes it (its real host, reached here
// through a local TLS upstream), with an input schema that takes the body
// of the seed's own Cards SDK example, and one that fails upstream.
const seedDefinition = `{"app":"ecommstore","version":"1.0.0","title":"E-comm Store","commands":[
	{"name":"ecommstore.app.store.refundOrder","permittedArgs":["store"],
		"url":"https://{{{store}}}.example-ecommstore.com/orders","httpMethod":"post","auditLogging":true,
		"appSettings":{"authToken":{"key":"ecommstore.default.authToken"}},
		"inputSchema":{"type":"object","properties":{"refundOption":{"type":"boolean"}},"additionalProperties":false}},
	{"name":"ecommstore.app.store.broken","permittedArgs":["store"],
		"url":"https://{{{store}}}.example-ecommstore.com/broken","httpMethod":"get"},
	{"name":"ecommstore.app.store.private","url":"https://dunder-mifflin.example-ecommstore.com/private","httpMethod":"get"}]}`

type seedUpstream struct {
	mu   sync.Mutex
	seen []struct{ Path, Auth, Body string }
}

func (u *seedUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.seen = append(u.seen, struct{ Path, Auth, Body string }{r.URL.Path, r.Header.Get("Authorization"), string(b)})
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/broken" {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, `{"error":"boom"}`)
		return
	}
	// An upstream that echoes the token it was sent: the page must still
	// never see it.
	_ = json.NewEncoder(w).Encode(map[string]any{"refunded": true, "sawAuthorization": r.Header.Get("Authorization")})
}

// The browser path of SPEC 10 end to end: a page on another origin holds a
// session token minted by its server, loads the SDK from Switchboard, runs
// the seed's refundOrder, is refused what the session does not allow, has
// an expired token renewed through getToken, and never sees the secret; and
// the seed's own Cards SDK snippet runs unchanged.
func TestSDKSessions(t *testing.T) {
	t.Parallel()
	b := browsertest.New(t)
	up := &seedUpstream{}
	tls, pool := apitest.TLSUpstream(t, up, "*.example-ecommstore.com")
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true, RootCAs: pool,
		Remap: map[string]string{"dunder-mifflin.example-ecommstore.com:443": tls.Listener.Addr().String()}}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, seedDefinition)
	ctx := context.Background()
	if _, err := admin.PutSettings(ctx, "ecommstore", client.Settings{"default": {"authToken": seedSecret}}); err != nil {
		t.Fatal(err)
	}
	agent := apitest.Key(t, admin, "agent")
	site := browsertest.NewSite(t)
	mint := func(ttl int) *client.Session {
		t.Helper()
		s, err := agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"ecommstore.store.refundOrder", "ecommstore.store.broken"},
			Args: map[string]string{"store": "dunder-mifflin"}, Origins: []string{site.URL}, Subject: "pam", TTLSeconds: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first, fresh := mint(60), mint(900)
	b.Open(t, site.Page("/card.html", browsertest.HTML(
		`<script src="`+env.URL+`/sdk/v1/switchboard.js"></script>`, outcomeJS,
		`<script>
		window.tokenCalls = 0;
		window.sb = Switchboard.connect({server: "`+env.URL+`", token: "`+first.Token+`",
			getToken: () => { window.tokenCalls++; return {token: "`+fresh.Token+`", expiresAt: "`+fresh.ExpiresAt.Format(time.RFC3339)+`"}; }});
		</script>`)))
	e := &sdkEnv{b: b}

	t.Run("the seed's refundOrder runs with the session, the secret injected and never shown", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("ecommstore.store.refundOrder", {body: {refundOption: true}, headers: {Authorization: "Bearer {{authToken}}"}})`)
		if !o.Resolved || o.Doc["status"] != 200.0 {
			t.Fatalf("outcome %+v", o)
		}
		body, _ := o.Doc["body"].(map[string]any)
		if body["sawAuthorization"] != "Bearer [redacted]" {
			t.Errorf("the echoed token came back as %v", body["sawAuthorization"])
		}
		up.mu.Lock()
		last := up.seen[len(up.seen)-1]
		up.mu.Unlock()
		if last.Auth != "Bearer "+seedSecret || last.Body != `{"refundOption":true}` {
			t.Errorf("the upstream got %+v", last)
		}
	})
	t.Run("an upstream 500 rejects with [err, data]", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("ecommstore.store.broken")`)
		wantRejected(t, o, "upstream_status", 500)
	})
	t.Run("a command outside the session is not found", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("ecommstore.store.private")`)
		wantRejected(t, o, "not_found", 404)
	})
	t.Run("an expired token is renewed through getToken, once", func(t *testing.T) {
		clock.Advance(2 * time.Minute) // the first token's 60 s are over
		o := e.mustRun(t, `sb.command.run("ecommstore.store.refundOrder", {body: {refundOption: false}})`)
		var calls int
		b.Eval(t, `window.tokenCalls`, &calls)
		if !o.Resolved || calls != 1 {
			t.Errorf("outcome %+v after %d getToken calls, want resolved after 1", o, calls)
		}
	})
	t.Run("the seed's Cards SDK snippet runs unchanged", func(t *testing.T) {
		before := len(up.seen)
		var result struct{ Errors int }
		b.Eval(t, `(async () => {
			const Kustomer = Switchboard.kustomer(sb);
			let errors = 0;
			const consoleError = console.error;
			console.error = (...a) => { errors++; consoleError(...a); };
			// The seed's snippet, verbatim:
			const refundOrder = async () => {
			  try {
			    const response = await Kustomer.command.run('ecommstore.store.refundOrder', {
			      body: { "refundOption": true},
			      headers: {
			       Authorization: "Bearer {{authToken}}"
			      },
			      urlArgs: {
			       store: "dunder-mifflin"
			      }
			    })
			    // do something with the response
			  } catch(errResp) {
			    const [err, data] = errResp;
			    console.error(err);
			  }
			};
			await refundOrder();
			console.error = consoleError;
			return {errors};
		})()`, &result)
		up.mu.Lock()
		got := up.seen[len(up.seen)-1]
		n := len(up.seen)
		up.mu.Unlock()
		if result.Errors != 0 || n != before+1 || got.Auth != "Bearer "+seedSecret || got.Body != `{"refundOption":true}` {
			t.Errorf("errors %d, upstream calls %d, last %+v", result.Errors, n-before, got)
		}
	})
	t.Run("the page never held the secret", func(t *testing.T) {
		var page string
		b.Eval(t, `document.documentElement.outerHTML + JSON.stringify(Object.keys(window))`, &page)
		if strings.Contains(page, seedSecret) {
			t.Error("the secret reached the page")
		}
		for _, m := range b.Messages() {
			if strings.Contains(m.Text, seedSecret) {
				t.Errorf("the console saw the secret: %s", m.Text)
			}
		}
	})
	b.NoErrors(t, "status of 401", "status of 404", "status of 500")
}
