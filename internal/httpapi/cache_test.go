package httpapi_test

import (
	"context"
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
)

// flaky is an upstream whose behaviour a test switches: "ok", "500",
// "hang" (until the client gives up) or "slow" (200 ms, then ok).
type flaky struct {
	mode  atomic.Value
	calls atomic.Int64
	n     atomic.Int64 // a counter in each answer, to tell responses apart
}

func (f *flaky) set(mode string) { f.mode.Store(mode) }

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	io.Copy(io.Discard, r.Body)
	switch f.mode.Load() {
	case "500":
		http.Error(w, `{"error":"daily limit exceeded"}`, 500)
		return
	case "hang":
		<-r.Context().Done()
		return
	case "slow":
		time.Sleep(200 * time.Millisecond)
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"n":%d}`, f.n.Add(1))
}

type cacheEnv struct {
	env    *apitest.Env
	up     *flaky
	clock  *cachetest.Clock
	admin  *client.Client
	server *httptest.Server
}

// newCacheEnv registers a public app with a cached command (cacheSeconds 30)
// and installs it for org "acme".
func newCacheEnv(t *testing.T) *cacheEnv {
	t.Helper()
	up := &flaky{}
	up.set("ok")
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 300 * time.Millisecond}})
	def := `{"app":"quotes","version":"1.0.0","title":"Quotes","commands":[{"name":"get","permittedArgs":["q"],
		"url":"` + srv.URL + `/quote?q={{q}}","httpMethod":"post","cacheSeconds":30,"auditLogging":true}]}`
	if _, err := env.Operator.RegisterApp(context.Background(), []byte(def), true); err != nil {
		t.Fatal(err)
	}
	admin := env.Org(t, "acme")
	if err := admin.Install(context.Background(), "quotes", ""); err != nil {
		t.Fatal(err)
	}
	return &cacheEnv{env: env, up: up, clock: clock, admin: admin, server: srv}
}

func (e *cacheEnv) run(t *testing.T, c *client.Client, q string, body any) *client.RunResult {
	t.Helper()
	res, err := c.RunCommand(context.Background(), "quotes.get", client.RunRequest{Args: map[string]string{"q": q}, Body: body})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func wantCache(t *testing.T, res *client.RunResult, cache string, fallback bool) {
	t.Helper()
	if res.Cache != cache || res.CacheFallback != fallback {
		t.Fatalf("cache = %q (fallback %v), want %q (fallback %v); body %s", res.Cache, res.CacheFallback, cache, fallback, res.Body)
	}
}

func TestCacheFreshness(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	first := e.run(t, e.admin, "a", nil)
	wantCache(t, first, "miss", false)
	e.clock.Advance(29 * time.Second)
	hit := e.run(t, e.admin, "a", nil)
	wantCache(t, hit, "hit", false)
	if string(hit.Body) != string(first.Body) || e.up.calls.Load() != 1 {
		t.Fatalf("hit body %s (first %s), %d upstream calls", hit.Body, first.Body, e.up.calls.Load())
	}
	e.clock.Advance(time.Second) // 30 s old: no longer fresh
	wantCache(t, e.run(t, e.admin, "a", nil), "miss", false)
	if e.up.calls.Load() != 2 {
		t.Fatalf("upstream calls = %d, want 2", e.up.calls.Load())
	}
	// Another arg, another body, another header: other keys.
	wantCache(t, e.run(t, e.admin, "b", nil), "miss", false)
	wantCache(t, e.run(t, e.admin, "a", map[string]any{"x": 1}), "miss", false)
	res, err := e.admin.RunCommand(context.Background(), "quotes.get", client.RunRequest{Args: map[string]string{"q": "a"}, Headers: map[string]string{"X-Mode": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	wantCache(t, res, "miss", false)
	wantCache(t, e.run(t, e.admin, "a", map[string]any{"x": 1}), "hit", false)
	if e.up.calls.Load() != 5 {
		t.Fatalf("upstream calls = %d, want 5", e.up.calls.Load())
	}
}

// Two orgs running the same public command with the same request never
// share an entry.
func TestCacheNeverCrossesOrgs(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	other := e.env.Org(t, "other")
	if err := other.Install(context.Background(), "quotes", ""); err != nil {
		t.Fatal(err)
	}
	a := e.run(t, e.admin, "same", nil)
	b := e.run(t, other, "same", nil)
	wantCache(t, a, "miss", false)
	wantCache(t, b, "miss", false)
	if string(a.Body) == string(b.Body) || e.up.calls.Load() != 2 {
		t.Fatalf("orgs shared a response: %s and %s (%d calls)", a.Body, b.Body, e.up.calls.Load())
	}
}

// Cache Fallback Mode, as the commands seed describes it.
func TestCacheFallbackMode(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	var good *client.RunResult
	if !t.Run("a first run is a miss", func(t *testing.T) {
		good = e.run(t, e.admin, "a", nil)
		wantCache(t, good, "miss", false)
	}) {
		return
	}

	if !t.Run("an upstream failing after the entry went stale turns fallback on and the stale response is served", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		e.up.set("500")
		res := e.run(t, e.admin, "a", nil)
		wantCache(t, res, "stale", true)
		if string(res.Body) != string(good.Body) || res.Status != 200 {
			t.Fatalf("stale answer = %d %s, want the cached %s", res.Status, res.Body, good.Body)
		}
		if e.up.calls.Load() != 2 {
			t.Fatalf("calls = %d, want 2", e.up.calls.Load())
		}
	}) {
		return
	}

	if !t.Run("in fallback mode every 5th run calls live and every answer is the stale response", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			res := e.run(t, e.admin, "a", nil)
			wantCache(t, res, "stale", true)
		}
		if got := e.up.calls.Load() - 2; got != 4 {
			t.Fatalf("live calls over 20 runs in fallback mode = %d, want 4", got)
		}
	}) {
		return
	}

	// Recovery: the next probe (the 5th run) gets a status below 400,
	// which turns fallback off, refreshes the cache and is returned.
	var fresh *client.RunResult
	if !t.Run("once the upstream recovers, the next probe's answer turns fallback off and is returned", func(t *testing.T) {
		e.up.set("ok")
		for i := 1; i <= 4; i++ {
			wantCache(t, e.run(t, e.admin, "a", nil), "stale", true)
		}
		fresh = e.run(t, e.admin, "a", nil)
		wantCache(t, fresh, "miss", false)
		if string(fresh.Body) == string(good.Body) {
			t.Fatal("the probe's answer is the old response")
		}
	}) {
		return
	}

	if !t.Run("the probe refreshed the cache", func(t *testing.T) {
		again := e.run(t, e.admin, "a", nil)
		wantCache(t, again, "hit", false)
		if string(again.Body) != string(fresh.Body) {
			t.Fatal("the cache was not refreshed by the probe")
		}
	}) {
		return
	}

	t.Run("an entry older than 24 hours is gone and with nothing cached every run calls live", func(t *testing.T) {
		e.up.set("500")
		e.clock.Advance(25 * time.Hour)
		before := e.up.calls.Load()
		for i := 0; i < 6; i++ {
			res := e.run(t, e.admin, "a", nil)
			wantCache(t, res, "miss", false)
			if res.Status != 500 || !strings.Contains(string(res.Body), "daily limit") {
				t.Fatalf("uncached failure = %d %s", res.Status, res.Body)
			}
		}
		if got := e.up.calls.Load() - before; got != 6 {
			t.Fatalf("with nothing cached, live calls = %d of 6 runs", got)
		}
	})
}

// A timeout and a connection error activate fallback mode too.
func TestCacheFallbackOnTimeoutAndConnectionError(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	good := e.run(t, e.admin, "a", nil)
	e.clock.Advance(time.Minute)
	e.up.set("hang")
	res := e.run(t, e.admin, "a", nil)
	wantCache(t, res, "stale", true)
	if string(res.Body) != string(good.Body) {
		t.Fatal("stale body differs")
	}
	// A connection error: the upstream is gone. With nothing cached for a
	// new key the error itself is the answer.
	e.server.Close()
	_, err := e.admin.RunCommand(context.Background(), "quotes.get", client.RunRequest{Args: map[string]string{"q": "new"}})
	wantProblem(t, err, 502, "upstream_unreachable")
	wantCache(t, e.run(t, e.admin, "a", nil), "stale", true)
	// The audit log records what each run served (fallback mode turning on
	// has entries of its own, between these).
	entries, _, err := e.admin.AuditLogs(context.Background(), client.AuditQuery{Limit: 3, Event: "run"})
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Cache != "stale" || entries[1].Error != "upstream_unreachable" || entries[2].Cache != "stale" {
		t.Fatalf("audit = %+v", entries)
	}
}

// 50 concurrent misses of one key make one upstream call.
func TestCacheSingleFlight(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	e.up.set("slow")
	var wg sync.WaitGroup
	results := make([]*client.RunResult, 50)
	errs := make([]error, 50)
	start := make(chan struct{})
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.admin.RunCommand(context.Background(), "quotes.get", client.RunRequest{Args: map[string]string{"q": "hot"}})
		}(i)
	}
	close(start)
	wg.Wait()
	if n := e.up.calls.Load(); n != 1 {
		t.Fatalf("upstream calls = %d, want 1", n)
	}
	misses := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if string(res.Body) != string(results[0].Body) {
			t.Fatal("runs got different answers")
		}
		if res.Cache == "miss" {
			misses++
		}
	}
	if misses != 1 {
		t.Errorf("misses = %d, want 1 (the others are hits)", misses)
	}
}

func TestCacheMetrics(t *testing.T) {
	t.Parallel()
	e := newCacheEnv(t)
	e.run(t, e.admin, "a", nil)
	e.run(t, e.admin, "a", nil)
	e.clock.Advance(time.Minute)
	e.up.set("500")
	for i := 0; i < 6; i++ { // the failure that activates fallback, 4 stale, a probe
		e.run(t, e.admin, "a", nil)
	}
	resp, err := http.Get(e.env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	for _, want := range []string{
		"switchboard_cache_hits_total 1", "switchboard_cache_misses_total 1", "switchboard_cache_stale_total 6",
		"switchboard_cache_probes_total 1", "switchboard_cache_fallback_activations_total 1", "switchboard_cache_entries 1",
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}
