package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

// rawRun runs a command over plain HTTP, for the status and headers that
// the client does not return.
func rawRun(t *testing.T, base, key, name string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/v1/commands/"+name+"/run", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("run %s answered %d %s", name, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, doc
}

type limitEnv struct {
	env   *apitest.Env
	clock *cachetest.Clock
	up    *flaky
	srv   *httptest.Server
	admin *client.Client
	key   string // the admin's key
}

// newLimitEnv starts an instance with the org acme and the app shop: an
// uncached command get, a cached command cached and an action act, all
// calling up.
func newLimitEnv(t *testing.T, opts apitest.Options) *limitEnv {
	t.Helper()
	e := &limitEnv{clock: cachetest.NewClock(), up: &flaky{}}
	e.up.set("ok")
	e.srv = httptest.NewServer(e.up)
	t.Cleanup(e.srv.Close)
	if opts.Now == nil {
		opts.Now = e.clock.Now
	}
	opts.Outbound = outbound.Config{AllowPrivateNetworks: true, Timeout: 5 * time.Second}
	e.env = apitest.New(t, opts)
	org, err := e.env.Operator.CreateOrg(context.Background(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	e.key = org.AdminKey
	e.admin = client.New(e.env.URL, org.AdminKey, nil)
	registerShop(t, e.admin, e.srv.URL)
	return e
}

func registerShop(t *testing.T, admin *client.Client, upstream string) {
	t.Helper()
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
		{"name":"get","url":"`+upstream+`/get","httpMethod":"get","auditLogging":true},
		{"name":"other","url":"`+upstream+`/other","httpMethod":"get"},
		{"name":"cached","url":"`+upstream+`/cached","httpMethod":"get","cacheSeconds":30}],
		"actions":[{"name":"act","type":"rest_api","inputTemplate":{"uri":"`+upstream+`/act","method":"get","json":true}}]}`)
}

// A burst of N passes, the next is refused with the right Retry-After and
// the IETF fields, nothing reaches the upstream, and time lets runs
// through again at the rate; cache hits are not counted.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	e := newLimitEnv(t, apitest.Options{})
	ctx := context.Background()

	if !t.Run("the operator sets the org's limit: a burst of 3 passes, the 4th is a 429", func(t *testing.T) {
		got, err := e.env.Operator.PutOrgLimit(ctx, "acme", &client.Rate{RunsPerSecond: 1, Burst: 3})
		if err != nil || got.Rate == nil || got.Rate.RunsPerSecond != 1 || got.Rate.Burst != 3 {
			t.Fatalf("PutOrgLimit = %+v, %v", got, err)
		}
		for i := range 3 {
			if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.get"); status != 200 {
				t.Fatalf("run %d: %d %v", i+1, status, doc)
			}
		}
		calls := e.up.calls.Load()
		status, h, doc := rawRun(t, e.env.URL, e.key, "shop.get")
		if status != 429 || doc["code"] != "rate_limited" {
			t.Fatalf("run 4: %d %v, want 429 rate_limited", status, doc)
		}
		if h.Get("Retry-After") != "1" || h.Get("RateLimit-Policy") != `"org";q=3;w=3` || h.Get("RateLimit") != `"org";r=0;t=1` {
			t.Errorf("run 4 headers: Retry-After %q, RateLimit-Policy %q, RateLimit %q", h.Get("Retry-After"), h.Get("RateLimit-Policy"), h.Get("RateLimit"))
		}
		if !strings.Contains(doc["detail"].(string), "nothing was sent upstream") {
			t.Errorf("detail = %v", doc["detail"])
		}
		if e.up.calls.Load() != calls {
			t.Error("a refused run called the upstream")
		}
		// The refusal is in the audit log with its code.
		entries, _, err := e.admin.AuditLogs(ctx, client.AuditQuery{Limit: 1})
		if err != nil || len(entries) != 1 || entries[0].Error != "rate_limited" {
			t.Errorf("the refused run's audit entry = %+v, %v", entries, err)
		}
	}) {
		return
	}

	t.Run("a second later one more passes, and only one", func(t *testing.T) {
		e.clock.Advance(999 * time.Millisecond)
		if status, _, _ := rawRun(t, e.env.URL, e.key, "shop.get"); status != 429 {
			t.Fatalf("999ms later: %d, want still 429", status)
		}
		e.clock.Advance(time.Millisecond)
		if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.get"); status != 200 {
			t.Fatalf("a second later: %d %v", status, doc)
		}
		if status, _, _ := rawRun(t, e.env.URL, e.key, "shop.get"); status != 429 {
			t.Fatalf("two a second later: %d, want 429", status)
		}
	})

	t.Run("the org's limit counts actions too", func(t *testing.T) {
		_, err := e.admin.RunAction(ctx, "shop.act", nil)
		wantProblem(t, err, 429, "rate_limited")
	})

	t.Run("cache hits are not counted", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		res, err := e.admin.RunCommand(ctx, "shop.cached", client.RunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		wantCache(t, res, "miss", false)
		for i := range 10 {
			res, err := e.admin.RunCommand(ctx, "shop.cached", client.RunRequest{})
			if err != nil {
				t.Fatalf("hit %d: %v", i+1, err)
			}
			wantCache(t, res, "hit", false)
		}
		// The burst has 2 left: the 10 hits used none of it.
		for i := range 2 {
			if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.get"); status != 200 {
				t.Fatalf("run %d after the hits: %d %v", i+1, status, doc)
			}
		}
		if status, _, _ := rawRun(t, e.env.URL, e.key, "shop.get"); status != 429 {
			t.Fatalf("4th run: %d, want 429", status)
		}
	})

	if !t.Run("the admin sets a command's limit; both limits are told in the headers", func(t *testing.T) {
		e.clock.Advance(time.Hour)
		if _, err := e.env.Operator.PutOrgLimit(ctx, "acme", &client.Rate{RunsPerSecond: 100, Burst: 100}); err != nil {
			t.Fatal(err)
		}
		got, err := e.admin.PutAppLimits(ctx, "shop", map[string]*client.Rate{"get": {RunsPerSecond: 0.5, Burst: 2}})
		if err != nil || got.App != "shop_acme" || got.Limits["kustomer.app.shop_acme.get"] != (client.Rate{RunsPerSecond: 0.5, Burst: 2}) {
			t.Fatalf("PutAppLimits = %+v, %v", got, err)
		}
		for i := range 2 {
			if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.get"); status != 200 {
				t.Fatalf("run %d: %d %v", i+1, status, doc)
			}
		}
		status, h, doc := rawRun(t, e.env.URL, e.key, "shop.get")
		if status != 429 || !strings.Contains(doc["detail"].(string), "kustomer.app.shop_acme.get") {
			t.Fatalf("run 3: %d %v", status, doc)
		}
		if h.Get("Retry-After") != "2" || h.Get("RateLimit-Policy") != `"org";q=100;w=1, "command";q=2;w=4` ||
			h.Get("RateLimit") != `"org";r=98;t=1, "command";r=0;t=2` {
			t.Errorf("run 3 headers: Retry-After %q, RateLimit-Policy %q, RateLimit %q", h.Get("Retry-After"), h.Get("RateLimit-Policy"), h.Get("RateLimit"))
		}
		// Another command of the app is not limited by it.
		if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.other"); status != 200 {
			t.Errorf("another command: %d %v", status, doc)
		}
	}) {
		return
	}

	t.Run("another org is not limited by acme's limits", func(t *testing.T) {
		other := e.env.Org(t, "other")
		registerShop(t, other, e.srv.URL)
		for range 5 {
			if _, err := other.RunCommand(ctx, "shop.get", client.RunRequest{}); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("removing the limits lets every run through", func(t *testing.T) {
		if _, err := e.env.Operator.PutOrgLimit(ctx, "acme", nil); err != nil {
			t.Fatal(err)
		}
		got, err := e.admin.PutAppLimits(ctx, "shop", map[string]*client.Rate{"kustomer.app.shop.get": nil})
		if err != nil || len(got.Limits) != 0 {
			t.Fatalf("PutAppLimits null = %+v, %v", got, err)
		}
		for i := range 10 {
			if _, err := e.admin.RunCommand(ctx, "shop.get", client.RunRequest{}); err != nil {
				t.Fatalf("run %d: %v", i+1, err)
			}
		}
		if l, err := e.env.Operator.OrgLimit(ctx, "acme"); err != nil || l.Rate != nil {
			t.Errorf("OrgLimit = %+v, %v", l, err)
		}
	})
}

// The limits routes check what they are given and never reach another
// org's apps.
func TestLimitsAPI(t *testing.T) {
	t.Parallel()
	e := newLimitEnv(t, apitest.Options{})
	ctx := context.Background()
	for _, tt := range []struct {
		body string
		loc  string
	}{
		{`{"runsPerSecond": -1}`, "/runsPerSecond"},
		{`{"runsPerSecond": "fast"}`, "/runsPerSecond"},
		{`{"runsPerSecond": 1, "burst": 0}`, "/burst"},
		{`{"runsPerSecond": 1, "burst": 1.5}`, "/burst"},
		{`{"runsPerSecond": 1, "bursts": 2}`, "/bursts"},
		{`{"burst": 2}`, "/runsPerSecond"},
	} {
		_, err := e.env.Operator.Raw(ctx, "PUT", "/v1/orgs/acme/limits", json.RawMessage(tt.body))
		ce := wantProblem(t, err, 400, "invalid_input")
		if len(ce.Errors) == 0 || ce.Errors[0].Location != tt.loc {
			t.Errorf("PUT %s: problems %+v, want one at %s", tt.body, ce.Errors, tt.loc)
		}
	}
	_, err := e.env.Operator.PutOrgLimit(ctx, "nobody", &client.Rate{RunsPerSecond: 1})
	wantProblem(t, err, 404, "not_found")
	// A burst left out is a second's worth.
	if l, err := e.env.Operator.PutOrgLimit(ctx, "acme", &client.Rate{RunsPerSecond: 2.5}); err != nil || l.Rate.Burst != 3 {
		t.Errorf("default burst: %+v, %v", l, err)
	}

	_, err = e.admin.Raw(ctx, "PUT", "/v1/apps/shop/limits", json.RawMessage(`{"nope": {"runsPerSecond": 1}, "get": {"runsPerSecond": 0.5, "burst": 0}, "kustomer.app.other.get": {"runsPerSecond": 1}}`))
	ce := wantProblem(t, err, 400, "invalid_input")
	if len(ce.Errors) != 1 || ce.Errors[0].Location != "/get/burst" {
		t.Errorf("problems = %+v, want the burst's first", ce.Errors)
	}
	_, err = e.admin.Raw(ctx, "PUT", "/v1/apps/shop/limits", json.RawMessage(`{"nope": {"runsPerSecond": 1}, "kustomer.app.other.get": {"runsPerSecond": 1}}`))
	ce = wantProblem(t, err, 400, "invalid_input")
	if len(ce.Errors) != 2 || ce.Errors[0].Location != "/kustomer.app.other.get" || ce.Errors[1].Location != "/nope" ||
		!strings.Contains(ce.Errors[1].Message, "get, other, cached, act") {
		t.Errorf("problems = %+v", ce.Errors)
	}
	if l, err := e.admin.AppLimits(ctx, "shop"); err != nil || len(l.Limits) != 0 {
		t.Errorf("a refused PUT wrote something: %+v, %v", l, err)
	}
	// The action is limited by its own name.
	if l, err := e.admin.PutAppLimits(ctx, "shop", map[string]*client.Rate{"shop.app.act": {RunsPerSecond: 1, Burst: 1}}); err != nil || len(l.Limits) != 1 {
		t.Fatalf("limit of an action: %+v, %v", l, err)
	}
	if _, err := e.admin.RunAction(ctx, "shop.act", nil); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.RunAction(ctx, "shop.act", nil)
	wantProblem(t, err, 429, "rate_limited")

	// Tenancy: another org's private app is not found, exactly as an app
	// that does not exist.
	other := e.env.Org(t, "other")
	for _, app := range []string{"shop", "shop_acme", "ghost"} {
		_, err := other.PutAppLimits(ctx, app, map[string]*client.Rate{"get": {RunsPerSecond: 1}})
		ce := wantProblem(t, err, 404, "not_found")
		if strings.Contains(ce.Detail, "acme") && app != "shop_acme" {
			t.Errorf("the 404 names the other org: %s", ce.Detail)
		}
		_, err = other.AppLimits(ctx, app)
		wantProblem(t, err, 404, "not_found")
	}
}

// holder is an upstream that holds /slow requests open until released,
// and answers the rest at once.
type holder struct {
	release chan struct{}
	held    atomic.Int64
	fast    atomic.Int64
}

func (h *holder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/slow") {
		h.held.Add(1)
		select {
		case <-h.release:
		case <-r.Context().Done():
		}
	} else {
		h.fast.Add(1)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, `{"ok":true}`)
}

// An upstream that holds connections open fills its org's places on that
// host, and the next run of that org answers 503 with Retry-After: 1 at
// once (or stale from the cache); other orgs' runs to the same host go
// through.
func TestInflightCap(t *testing.T) {
	t.Parallel()
	h := &holder{release: make(chan struct{})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(h.release) }) }
	t.Cleanup(releaseAll)
	env := apitest.New(t, apitest.Options{MaxInflightPerUpstream: 2, Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 30 * time.Second}})
	ctx := context.Background()
	def := `{"app":"slow","version":"1.0.0","title":"Slow","commands":[
		{"name":"slow","url":"` + srv.URL + `/slow","httpMethod":"get"},
		{"name":"fast","url":"` + srv.URL + `/fast","httpMethod":"get"},
		{"name":"cached","url":"` + srv.URL + `/fast?c=1","httpMethod":"get","cacheSeconds":15},
		{"name":"cachedslow","url":"` + srv.URL + `/slow?c=1","httpMethod":"get","cacheSeconds":15}]}`
	orgs := map[string]string{}
	for _, id := range []string{"a", "b"} {
		org, err := env.Operator.CreateOrg(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		orgs[id] = org.AdminKey
		apitest.Register(t, client.New(env.URL, org.AdminKey, nil), def)
	}
	a := client.New(env.URL, orgs["a"], nil)
	// A cached entry of org a for the same host, to be served stale.
	if _, err := a.RunCommand(ctx, "slow.cached", client.RunRequest{}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := a.RunCommand(ctx, "slow.slow", client.RunRequest{}); err != nil {
				t.Errorf("a held run: %v", err)
			}
		})
	}
	for h.held.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}

	status, hd, doc := rawRun(t, env.URL, orgs["a"], "slow.fast")
	if status != 503 || doc["code"] != "unavailable" || hd.Get("Retry-After") != "1" ||
		!strings.Contains(doc["detail"].(string), "--max-inflight-per-upstream") {
		t.Errorf("org a's third run to the held host: %d %v Retry-After %q, want 503 unavailable, Retry-After 1", status, doc, hd.Get("Retry-After"))
	}
	if h.fast.Load() != 1 {
		t.Errorf("the refused run reached the upstream (%d fast calls)", h.fast.Load())
	}
	// Cached responses are served as the fallback rules say: fresh is a hit
	// (no place needed); once stale, it is served stale instead of the 503.
	res, err := a.RunCommand(ctx, "slow.cached", client.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantCache(t, res, "hit", false)

	// Org b's runs to the same host are not held up.
	b := client.New(env.URL, orgs["b"], nil)
	for i := range 5 {
		if res, err := b.RunCommand(ctx, "slow.fast", client.RunRequest{}); err != nil || res.Status != 200 {
			t.Fatalf("org b's run %d while org a's are held: %+v, %v", i+1, res, err)
		}
	}
	if got := env.Instance.Runner; got == nil {
		t.Fatal("no runner")
	}
	metrics := scrape(t, env.URL)
	if !strings.Contains(metrics, `switchboard_runs_refused_total{reason="inflight"} 1`) {
		t.Errorf("metrics do not count the refusal:\n%s", grepLines(metrics, "switchboard_runs_refused_total"))
	}

	releaseAll()
	wg.Wait()
	if status, _, doc := rawRun(t, env.URL, orgs["a"], "slow.fast"); status != 200 {
		t.Errorf("after the held runs finished: %d %v", status, doc)
	}
}

// With its places full, a cached command whose entry is too old for a hit
// is served stale rather than refused.
func TestInflightCapServesStale(t *testing.T) {
	t.Parallel()
	h := &holder{release: make(chan struct{})}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(h.release) }) }
	t.Cleanup(releaseAll)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, MaxInflightPerUpstream: 1, Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 30 * time.Second}})
	ctx := context.Background()
	admin := env.Org(t, "a")
	apitest.Register(t, admin, `{"app":"slow","version":"1.0.0","title":"Slow","commands":[
		{"name":"slow","url":"`+srv.URL+`/slow","httpMethod":"get"},
		{"name":"cached","url":"`+srv.URL+`/fast","httpMethod":"get","cacheSeconds":15}]}`)
	if _, err := admin.RunCommand(ctx, "slow.cached", client.RunRequest{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	done := make(chan error, 1)
	go func() { _, err := admin.RunCommand(ctx, "slow.slow", client.RunRequest{}); done <- err }()
	for h.held.Load() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	res, err := admin.RunCommand(ctx, "slow.cached", client.RunRequest{})
	if err != nil {
		t.Fatalf("a cached command with its places full: %v", err)
	}
	wantCache(t, res, "stale", true)
	if h.fast.Load() != 1 {
		t.Errorf("the stale run called the upstream")
	}
	releaseAll()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An upstream's 429 or 503 with Retry-After is carried in the answer, and
// until it passes the command's runs for that org are answered stale or
// 429 without a call.
func TestUpstreamRetryAfter(t *testing.T) {
	t.Parallel()
	var mode atomic.Value
	mode.Store("ok")
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		switch mode.Load() {
		case "429":
			w.Header().Set("Retry-After", "30")
			http.Error(w, `{"error":"slow down"}`, 429)
		case "503":
			w.Header().Set("Retry-After", "Mon, 23 Nov 2026 12:10:10 GMT") // 10m10s after the test clock's start
			http.Error(w, `{"error":"maintenance"}`, 503)
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"n":%d}`, calls.Load())
		}
	}))
	t.Cleanup(srv.Close)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	ctx := context.Background()
	org, _ := env.Operator.CreateOrg(ctx, "acme", "")
	admin := client.New(env.URL, org.AdminKey, nil)
	apitest.Register(t, admin, `{"app":"api","version":"1.0.0","title":"API","commands":[
		{"name":"get","url":"`+srv.URL+`/get","httpMethod":"get"},
		{"name":"other","url":"`+srv.URL+`/other","httpMethod":"get"},
		{"name":"cached","url":"`+srv.URL+`/cached","httpMethod":"get","cacheSeconds":15}],
		"actions":[{"name":"act","type":"rest_api","inputTemplate":{"uri":"`+srv.URL+`/act","method":"get"}}]}`)

	mode.Store("429")
	status, h, doc := rawRun(t, env.URL, org.AdminKey, "api.get")
	if status != 200 || doc["status"] != float64(429) || h.Get("Retry-After") != "30" {
		t.Fatalf("the upstream's 429: %d %v Retry-After %q, want 200 with status 429 and Retry-After 30", status, doc, h.Get("Retry-After"))
	}
	n := calls.Load()
	mode.Store("ok")
	status, h, doc = rawRun(t, env.URL, org.AdminKey, "api.get")
	if status != 429 || doc["code"] != "rate_limited" || h.Get("Retry-After") != "30" || calls.Load() != n {
		t.Fatalf("while Retry-After lasts: %d %v Retry-After %q, %d calls; want 429 rate_limited without a call", status, doc, h.Get("Retry-After"), calls.Load()-n)
	}
	if status, _, _ := rawRun(t, env.URL, org.AdminKey, "api.other"); status != 200 {
		t.Errorf("another command is held by get's Retry-After: %d", status)
	}
	other := env.Org(t, "other")
	apitest.Register(t, other, `{"app":"api","version":"1.0.0","title":"API","commands":[{"name":"get","url":"`+srv.URL+`/get","httpMethod":"get"}]}`)
	if res, err := other.RunCommand(ctx, "api.get", client.RunRequest{}); err != nil || res.Status != 200 {
		t.Errorf("another org is held by acme's Retry-After: %+v, %v", res, err)
	}
	clock.Advance(29 * time.Second)
	if status, h, _ := rawRun(t, env.URL, org.AdminKey, "api.get"); status != 429 || h.Get("Retry-After") != "1" {
		t.Errorf("a second before the end: %d Retry-After %q", status, h.Get("Retry-After"))
	}
	clock.Advance(time.Second)
	if status, _, doc := rawRun(t, env.URL, org.AdminKey, "api.get"); status != 200 || doc["status"] != float64(200) {
		t.Errorf("once Retry-After passed: %d %v", status, doc)
	}

	// A cached command is answered stale while the upstream's 503 lasts.
	if _, err := admin.RunCommand(ctx, "api.cached", client.RunRequest{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute) // 12:01:30 on the test clock; the 503 asks for 12:10:10, 520 s on
	mode.Store("503")
	res, err := admin.RunCommand(ctx, "api.cached", client.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	wantCache(t, res, "stale", true)
	n = calls.Load()
	mode.Store("ok")
	for range 6 { // fallback mode would probe on the 5th: the hold keeps even that from calling
		status, h, doc := rawRun(t, env.URL, org.AdminKey, "api.cached")
		if status != 200 || doc["cache"] != "stale" || h.Get("Retry-After") != "520" {
			t.Fatalf("during the 503's Retry-After: %d %v Retry-After %q, want stale with Retry-After 520", status, doc, h.Get("Retry-After"))
		}
	}
	if calls.Load() != n {
		t.Errorf("runs called the upstream %d times during its Retry-After", calls.Load()-n)
	}

	// An action's upstream 429 carries its Retry-After on the 502, and holds.
	mode.Store("429")
	req, _ := http.NewRequest("POST", env.URL+"/v1/actions/api.act/run", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+org.AdminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get("Retry-After") != "30" {
		t.Errorf("an action's upstream 429: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	_, err = admin.RunAction(ctx, "api.act", nil)
	wantProblem(t, err, 429, "rate_limited")
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Two instances on one PostgreSQL and one Redis share a limit: a burst of
// 4 split between them passes, the 5th is refused on either; a limit set
// through one instance is enforced by the other within a second.
func TestRateLimitsTwoInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	redisURL := redistest.URL(t)
	prefix := redistest.Prefix(t, redisURL)
	clock := cachetest.NewClock()
	up := &flaky{}
	up.set("ok")
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	instance := func() *apitest.Env {
		store, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return apitest.New(t, apitest.Options{Store: store, RedisURL: redisURL, RedisPrefix: prefix, Now: clock.Now,
			Outbound: outbound.Config{AllowPrivateNetworks: true}})
	}
	one, two := instance(), instance()
	ctx := context.Background()
	org, err := one.Operator.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	registerShop(t, client.New(one.URL, org.AdminKey, nil), srv.URL)
	if _, err := one.Operator.PutOrgLimit(ctx, "acme", &client.Rate{RunsPerSecond: 1, Burst: 4}); err != nil {
		t.Fatal(err)
	}
	// Instance two learns of the limit from the change feed: wait for it
	// to refuse, on a throwaway burst, then start clean an hour later.
	eventually(t, "instance two enforcing the limit", func() error {
		status, _, _ := rawRun(t, two.URL, org.AdminKey, "shop.other")
		if status != 429 {
			return fmt.Errorf("instance two answered %d", status)
		}
		return nil
	})
	clock.Advance(time.Hour)
	for i, in := range []*apitest.Env{one, two, one, two} {
		if status, _, doc := rawRun(t, in.URL, org.AdminKey, "shop.get"); status != 200 {
			t.Fatalf("run %d: %d %v", i+1, status, doc)
		}
	}
	for _, in := range []*apitest.Env{one, two} {
		if status, h, _ := rawRun(t, in.URL, org.AdminKey, "shop.get"); status != 429 || h.Get("Retry-After") != "1" {
			t.Errorf("a 5th run on %s: %d Retry-After %q, want 429: the instances do not share the limit", in.URL, status, h.Get("Retry-After"))
		}
	}
}

// With Redis gone mid-test, limits are counted per instance (never
// unlimited, never failing), the metric says so, and once Redis is back
// they are shared again.
func TestRateLimitsRedisDown(t *testing.T) {
	t.Parallel()
	redisURL := redistest.URL(t)
	prefix := redistest.Prefix(t, redisURL)
	proxy := apitest.NewProxy(t, redisAddr(t, redisURL))
	e := newLimitEnv(t, apitest.Options{RedisURL: "redis://" + proxy.Addr() + "/" + redisDB(redisURL), RedisPrefix: prefix})
	ctx := context.Background()
	if _, err := e.env.Operator.PutOrgLimit(ctx, "acme", &client.Rate{RunsPerSecond: 1, Burst: 2}); err != nil {
		t.Fatal(err)
	}
	if status, _, doc := rawRun(t, e.env.URL, e.key, "shop.get"); status != 200 {
		t.Fatalf("first run: %d %v", status, doc)
	}
	if m := scrape(t, e.env.URL); !strings.Contains(m, "switchboard_rate_limit_degraded 0") {
		t.Fatalf("degraded before Redis went away:\n%s", grepLines(m, "rate_limit"))
	}
	proxy.Down()
	var statuses []int
	for range 4 {
		status, _, _ := rawRun(t, e.env.URL, e.key, "shop.get")
		statuses = append(statuses, status)
	}
	if fmt.Sprint(statuses) != "[200 200 429 429]" {
		t.Errorf("with Redis down, runs answered %v; want the burst of 2 counted on this instance, then 429", statuses)
	}
	m := scrape(t, e.env.URL)
	if !strings.Contains(m, "switchboard_rate_limit_degraded 1") || !strings.Contains(m, "switchboard_rate_limit_local_total 4") {
		t.Errorf("metrics with Redis down:\n%s", grepLines(m, "rate_limit"))
	}
	if !strings.Contains(e.env.Logs.String(), "rate limits are counted per instance") {
		t.Error("the log does not say that limits are per instance")
	}
	proxy.Up()
	eventually(t, "the limiter using Redis again", func() error {
		rawRun(t, e.env.URL, e.key, "shop.other")
		if m := scrape(t, e.env.URL); !strings.Contains(m, "switchboard_rate_limit_degraded 0") {
			return fmt.Errorf("still degraded")
		}
		return nil
	})
}

// redisAddr and redisDB take a redis:// URL apart for the proxy.
func redisAddr(t *testing.T, u string) string {
	t.Helper()
	rest := strings.TrimPrefix(u, "redis://")
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		t.Skip("the proxied Redis test needs a Redis URL without credentials")
	}
	host, _, _ := strings.Cut(rest, "/")
	return host
}

func redisDB(u string) string {
	rest := strings.TrimPrefix(u, "redis://")
	_, db, _ := strings.Cut(rest, "/")
	if db == "" {
		return "0"
	}
	return db
}
