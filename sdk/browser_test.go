package sdk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/browsertest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// sdkEnv is a Switchboard server with an app "shop" whose commands reach a
// local upstream, a browser, and a second origin for the test's pages.
type sdkEnv struct {
	server string // the Switchboard server's URL
	key    string // an agent key (until session tokens exist, the token the pages use)
	site   *browsertest.Site
	b      *browsertest.Browser
}

func newSDKEnv(t *testing.T) *sdkEnv {
	t.Helper()
	b := browsertest.New(t) // first: it skips when there is no browser
	up := httptest.NewServer(http.HandlerFunc(upstream))
	t.Cleanup(up.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
		{"name":"ok","url":"`+up.URL+`/ok","httpMethod":"get"},
		{"name":"missing","permittedArgs":["store"],"url":"`+up.URL+`/missing","httpMethod":"get"},
		{"name":"slow","url":"`+up.URL+`/slow","httpMethod":"get"},
		{"name":"echo","permittedArgs":["store"],"url":"`+up.URL+`/echo?store={{store}}","httpMethod":"post"}]}`)
	k, err := admin.CreateKey(context.Background(), "sdk test", "agent")
	if err != nil {
		t.Fatal(err)
	}
	return &sdkEnv{server: env.URL, key: k.Key, site: browsertest.NewSite(t), b: b}
}

// upstream answers the shop's commands: /ok 200, /missing 404, /slow after
// 5 seconds (or when the run is cancelled), /echo what it received.
func upstream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/ok":
		_, _ = io.WriteString(w, `{"ok":true}`)
	case "/missing":
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"error":"no such order"}`)
	case "/slow":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	case "/echo":
		body, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "store": r.URL.Query().Get("store"),
			"test": r.Header.Get("X-Test"), "body": json.RawMessage(body)})
	default:
		http.NotFound(w, r)
	}
}

// outcomeJS turns a run's promise into what the tests compare: how it
// settled, the seed platform's names (which JSON.stringify leaves out, as
// they are not enumerable), and for a rejection the [err, data] pair.
const outcomeJS = `<script>
window.outcome = (p) => p.then(
  (doc) => ({resolved: true, doc, keys: Object.keys(doc),
    seed: {statusCode: doc.statusCode, responseHeaders: doc.responseHeaders, responseBody: doc.responseBody, cacheFallback: doc.cacheFallback}}),
  (e) => {
    const [err, data] = e;
    return {resolved: false, pair: Array.isArray(e) && e.length === 2,
      err: {name: err.name, code: err.code, status: err.status, message: err.message, isError: err instanceof Error},
      data: data === undefined ? "undefined" : data,
      seed: data && {statusCode: data.statusCode, responseBody: data.responseBody, cacheFallback: data.cacheFallback}};
  });
</script>`

// outcome is outcomeJS's value.
type outcome struct {
	Resolved bool
	Doc      map[string]any
	Keys     []string
	Seed     map[string]any
	Pair     bool
	Err      struct {
		Name, Code, Message string
		Status              int
		IsError             bool
	}
	Data any
}

// mustRun evaluates a run's promise with outcomeJS.
func (e *sdkEnv) mustRun(t *testing.T, promise string) outcome {
	t.Helper()
	var o outcome
	e.b.Eval(t, "outcome("+promise+")", &o)
	return o
}

// wantRejected checks a rejection's [err, data].
func wantRejected(t *testing.T, o outcome, code string, status int) {
	t.Helper()
	if o.Resolved || !o.Pair {
		t.Fatalf("outcome = %+v, want a rejection with [err, data]", o)
	}
	if o.Err.Code != code || o.Err.Status != status || o.Err.Name != "SwitchboardError" || !o.Err.IsError || o.Err.Message == "" {
		t.Errorf("err = %+v, want a SwitchboardError (an Error) with code %q, status %d and a message", o.Err, code, status)
	}
}

// The SDK loads from the Switchboard server into a page of another origin,
// as a classic script and as a module, and the API has its shape. A run
// from that page reaches the run route, which answers CORS: an invalid token
// rejects with unauthorized and the problem document.
func TestSDKCrossOrigin(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	sdkURL := e.server + "/sdk/v1/switchboard.js"
	type shape struct {
		Connect, Kustomer, Version, Window string
		Leaked                             bool
		Named                              map[string]any
	}
	const shapeJS = `({connect: typeof Switchboard.connect, kustomer: typeof Switchboard.kustomer,
		version: Switchboard.version, window: typeof window.Switchboard,
		leaked: ["connect", "kustomer", "settle", "SwitchboardError"].some((n) => n in window),
		named: window.named})`
	want := shape{Connect: "function", Kustomer: "function", Version: "1.0.0", Window: "object"}

	t.Run("classic script", func(t *testing.T) {
		e.b.Open(t, e.site.Page("/classic.html", browsertest.HTML(`<script src="`+sdkURL+`"></script>`)))
		var got shape
		e.b.Eval(t, shapeJS, &got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("API (-want +got):\n%s", diff)
		}
	})
	t.Run("module", func(t *testing.T) {
		e.b.Open(t, e.site.Page("/module.html", browsertest.HTML(
			`<script type="module" src="`+sdkURL+`"></script>`,
			`<script type="module">
			import * as S from "`+e.server+`/sdk/v1/switchboard.mjs";
			window.named = {connect: typeof S.connect, kustomer: typeof S.kustomer, version: S.version,
				same: S.connect === globalThis.Switchboard.connect};
			</script>`)))
		var got shape
		e.b.Eval(t, shapeJS, &got)
		want := want
		want.Named = map[string]any{"connect": "function", "kustomer": "function", "version": "1.0.0", "same": true}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("API (-want +got):\n%s", diff)
		}
	})
	t.Run("a run from another origin", func(t *testing.T) {
		e.b.Open(t, e.site.Page("/run.html", browsertest.HTML(`<script src="`+sdkURL+`"></script>`, outcomeJS)))
		o := e.mustRun(t, `Switchboard.connect({server: "`+e.server+`", token: "sbs_invalid"}).command.run("shop.ok")`)
		wantRejected(t, o, "unauthorized", 401)
		if problem, _ := o.Data.(map[string]any); problem["code"] != "unauthorized" {
			t.Errorf("data = %v, want the unauthorized problem document", o.Data)
		}
	})
	e.b.NoErrors(t, "status of 401")
}

// Runs, made by a page that loads the SDK from the Switchboard server and
// reaches the run route through its own origin (the test site forwards
// /v1/), so that what the SDK does with each kind of answer is tested
// before the run route answers CORS.
func TestSDKRuns(t *testing.T) {
	t.Parallel()
	e := newSDKEnv(t)
	e.site.Proxy("/v1/", e.server)
	e.b.Open(t, e.site.Page("/runs.html", browsertest.HTML(
		`<script src="`+e.server+`/sdk/v1/switchboard.js"></script>`, outcomeJS,
		`<script>window.KEY = "`+e.key+`"; window.sb = Switchboard.connect({server: location.origin + "/", token: KEY});</script>`)))

	t.Run("an invalid token is unauthorized", func(t *testing.T) {
		o := e.mustRun(t, `Switchboard.connect({server: location.origin, token: "sbs_invalid"}).command.run("shop.ok")`)
		wantRejected(t, o, "unauthorized", 401)
		problem, _ := o.Data.(map[string]any)
		if problem["code"] != "unauthorized" || problem["status"] != 401.0 || problem["type"] == nil {
			t.Errorf("data = %v, want the problem document", o.Data)
		}
	})
	t.Run("a 2xx upstream resolves with the run document", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("shop.ok")`)
		if !o.Resolved {
			t.Fatalf("outcome = %+v, want it resolved", o)
		}
		if o.Doc["status"] != 200.0 || o.Doc["cache"] != "none" || !cmp.Equal(o.Doc["body"], map[string]any{"ok": true}) {
			t.Errorf("doc = %v, want status 200, cache none, body {ok: true}", o.Doc)
		}
		wantSeed := map[string]any{"statusCode": 200.0, "responseHeaders": o.Doc["headers"], "responseBody": map[string]any{"ok": true}, "cacheFallback": false}
		if diff := cmp.Diff(wantSeed, o.Seed); diff != "" {
			t.Errorf("the seed platform's names (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"status", "headers", "body", "cache"}, o.Keys); diff != "" {
			t.Errorf("enumerable keys, the server's document alone (-want +got):\n%s", diff)
		}
	})
	t.Run("the request is body, headers and urlArgs", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("shop.echo", {body: {refundOption: true}, headers: {"X-Test": "yes"}, urlArgs: {store: "dunder-mifflin"}})`)
		want := map[string]any{"method": "POST", "store": "dunder-mifflin", "test": "yes", "body": map[string]any{"refundOption": true}}
		if diff := cmp.Diff(want, o.Doc["body"]); !o.Resolved || diff != "" {
			t.Errorf("what the upstream received (-want +got):\n%s", diff)
		}
	})
	t.Run("a non-2xx upstream rejects with the run document", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("shop.missing")`)
		wantRejected(t, o, "upstream_status", 404)
		want := map[string]any{"statusCode": 404.0, "responseBody": map[string]any{"error": "no such order"}, "cacheFallback": false}
		if diff := cmp.Diff(want, o.Seed); diff != "" {
			t.Errorf("data's seed names (-want +got):\n%s", diff)
		}
		if doc, _ := o.Data.(map[string]any); doc["status"] != 404.0 {
			t.Errorf("data = %v, want the run document", o.Data)
		}
	})
	t.Run("a refusal rejects with the problem document", func(t *testing.T) {
		o := e.mustRun(t, `sb.command.run("shop.nothing")`)
		wantRejected(t, o, "not_found", 404)
		if problem, _ := o.Data.(map[string]any); problem["code"] != "not_found" {
			t.Errorf("data = %v, want the not_found problem", o.Data)
		}
		o = e.mustRun(t, `sb.command.run("shop.ok", {urlArgs: {store: "x"}})`)
		wantRejected(t, o, "invalid_input", 400)
	})

	t.Run("getToken after a 401: one fresh token, one retry", func(t *testing.T) {
		var got struct {
			Outcome outcome
			Calls   int
			Again   outcome
			After   int
		}
		e.b.Eval(t, `(async () => {
			let calls = 0;
			const c = Switchboard.connect({server: location.origin, token: "sbs_expired",
				getToken: async () => { calls++; return {token: KEY, expiresAt: new Date(Date.now() + 3600e3).toISOString()}; }});
			const o = await outcome(c.command.run("shop.ok"));
			const n = calls;
			return {outcome: o, calls: n, again: await outcome(c.command.run("shop.ok")), after: calls};
		})()`, &got)
		if !got.Outcome.Resolved || got.Calls != 1 || !got.Again.Resolved || got.After != 1 {
			t.Errorf("got %+v, want both runs resolved and getToken called once", got)
		}
	})
	t.Run("getToken whose token is refused too: no second retry", func(t *testing.T) {
		var got struct {
			Outcome outcome
			Calls   int
		}
		e.b.Eval(t, `(async () => {
			let calls = 0;
			const c = Switchboard.connect({server: location.origin, token: "sbs_a", getToken: () => { calls++; return "sbs_b"; }});
			return {outcome: await outcome(c.command.run("shop.ok")), calls};
		})()`, &got)
		wantRejected(t, got.Outcome, "unauthorized", 401)
		if got.Calls != 1 {
			t.Errorf("getToken called %d times, want 1", got.Calls)
		}
	})
	t.Run("getToken before a known expiry, once for concurrent runs", func(t *testing.T) {
		var got struct {
			Resolved []bool
			Calls    int
		}
		e.b.Eval(t, `(async () => {
			let calls = 0;
			const c = Switchboard.connect({server: location.origin, token: "sbs_expiring", expiresAt: Date.now() + 1000,
				getToken: () => new Promise((r) => setTimeout(() => { calls++; r(KEY); }, 20))});
			const all = await Promise.all([1, 2, 3].map(() => outcome(c.command.run("shop.ok"))));
			return {resolved: all.map((o) => o.resolved), calls};
		})()`, &got)
		if diff := cmp.Diff([]bool{true, true, true}, got.Resolved); diff != "" || got.Calls != 1 {
			t.Errorf("resolved %v, getToken called %d times; want three resolved runs and one call", got.Resolved, got.Calls)
		}
	})
	t.Run("getToken without a token to start with, and failing", func(t *testing.T) {
		var got struct{ First, Failing outcome }
		e.b.Eval(t, `(async () => ({
			first: await outcome(Switchboard.connect({server: location.origin, getToken: () => KEY}).command.run("shop.ok")),
			failing: await outcome(Switchboard.connect({server: location.origin, getToken: () => { throw new Error("signed out"); }}).command.run("shop.ok")),
		}))()`, &got)
		if !got.First.Resolved {
			t.Errorf("first run = %+v, want it resolved with getToken's token", got.First)
		}
		wantRejected(t, got.Failing, "token_unavailable", 0)
		if !strings.Contains(got.Failing.Err.Message, "signed out") {
			t.Errorf("message = %q, want getToken's error in it", got.Failing.Err.Message)
		}
	})
	t.Run("abort", func(t *testing.T) {
		var got struct{ Before, During outcome }
		e.b.Eval(t, `(async () => {
			const before = new AbortController();
			before.abort();
			const during = new AbortController();
			const p = outcome(sb.command.run("shop.slow", {signal: during.signal}));
			setTimeout(() => during.abort(), 100);
			return {before: await outcome(sb.command.run("shop.ok", {signal: before.signal})), during: await p};
		})()`, &got)
		wantRejected(t, got.Before, "aborted", 0)
		wantRejected(t, got.During, "aborted", 0)
	})

	t.Run("a card written for the seed platform", func(t *testing.T) {
		// The seed document's example, as written, after the one line that
		// makes Kustomer.
		var got struct {
			Response map[string]any
			Caught   struct{ Code, Name string }
		}
		e.b.Eval(t, `(async () => {
			const Kustomer = Switchboard.kustomer(sb);
			const refundOrder = async (command) => {
				try {
					const response = await Kustomer.command.run(command, {
						body: { "refundOption": true},
						headers: {
							"X-Test": "{{store}}'s card"
						},
						urlArgs: {
							store: "dunder-mifflin"
						}
					})
					return {response: response.responseBody};
				} catch(errResp) {
					const [err, data] = errResp;
					return {caught: {code: err.code, name: err.name}};
				}
			};
			return {...(await refundOrder("shop.echo")), ...(await refundOrder("shop.missing"))};
		})()`, &got)
		want := map[string]any{"method": "POST", "store": "dunder-mifflin", "test": "dunder-mifflin's card", "body": map[string]any{"refundOption": true}}
		if diff := cmp.Diff(want, got.Response); diff != "" {
			t.Errorf("responseBody (-want +got):\n%s", diff)
		}
		if got.Caught.Code != "upstream_status" || got.Caught.Name != "SwitchboardError" {
			t.Errorf("caught = %+v, want the upstream_status error", got.Caught)
		}
	})
	t.Run("Kustomer.command.run with a callback", func(t *testing.T) {
		type call struct {
			Err      *struct{ Code string }
			Status   float64
			Returned string
		}
		var got struct{ OK, Missing, Refused call }
		e.b.Eval(t, `(async () => {
			const Kustomer = Switchboard.kustomer(sb);
			const viaCallback = (name, options) => new Promise((resolve) => {
				let returned = "not yet";
				returned = String(Kustomer.command.run(name, options, (err, response) =>
					resolve({err: err && {code: err.code}, status: response && (response.statusCode ?? response.status), returned})));
			});
			return {ok: await viaCallback("shop.ok", {}), missing: await viaCallback("shop.missing", {}), refused: await viaCallback("shop.nothing")};
		})()`, &got)
		want := struct{ OK, Missing, Refused call }{
			OK:      call{Status: 200, Returned: "undefined"},
			Missing: call{Err: &struct{ Code string }{"upstream_status"}, Status: 404, Returned: "undefined"},
			Refused: call{Err: &struct{ Code string }{"not_found"}, Status: 404, Returned: "undefined"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("callbacks (-want +got):\n%s", diff)
		}
	})

	// Failed fetches are logged by the browser itself; nothing else is an
	// error, and no rejection went unhandled (as one would in the callback
	// form if the SDK let its promise reject).
	e.b.NoErrors(t, "Failed to load resource: the server responded with a status of 40", "net::ERR_ABORTED")
}
