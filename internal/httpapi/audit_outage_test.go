package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/redis"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

// outage is an upstream a test breaks: it answers 200 with a counter, or
// the status it was set to, or hangs until the client gives up.
type outage struct {
	status atomic.Int64 // 0: 200; -1: hang; else that status
	calls  atomic.Int64
	n      atomic.Int64
}

func (o *outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.calls.Add(1)
	io.Copy(io.Discard, r.Body)
	switch s := o.status.Load(); {
	case s == -1:
		<-r.Context().Done()
		return
	case s > 0:
		http.Error(w, "down for maintenance", int(s))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"n":%d}`, o.n.Add(1))
}

// weatherDef has two cached commands: get is audited, quiet is not.
func weatherDef(base string) string {
	return `{"app":"weather","version":"1.0.0","title":"Weather","commands":[
		{"name":"get","permittedArgs":["q"],"url":"` + base + `/get?q={{q}}","httpMethod":"get","cacheSeconds":30,"auditLogging":true},
		{"name":"quiet","permittedArgs":["q"],"url":"` + base + `/quiet?q={{q}}","httpMethod":"get","cacheSeconds":30}]}`
}

type outageEnv struct {
	up    *outage
	proxy *apitest.Proxy // between the instance and the upstream, to cut connections
	clock *cachetest.Clock
	admin *client.Client
	agent *client.Client
}

// newOutageEnv installs weatherDef, reached through a proxy, for org
// "acme"; runs are made with an agent key.
func newOutageEnv(t *testing.T) *outageEnv {
	t.Helper()
	up := &outage{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	proxy := apitest.NewProxy(t, srv.Listener.Addr().String())
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 300 * time.Millisecond}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, weatherDef("http://"+proxy.Addr()))
	return &outageEnv{up: up, proxy: proxy, clock: clock, admin: admin, agent: apitest.Key(t, admin, "agent")}
}

func runQ(t *testing.T, c *client.Client, command, q string) (*client.RunResult, error) {
	t.Helper()
	return c.RunCommand(context.Background(), command, client.RunRequest{Args: map[string]string{"q": q}})
}

func mustRunQ(t *testing.T, c *client.Client, command, q string) *client.RunResult {
	t.Helper()
	res, err := runQ(t, c, command, q)
	if err != nil {
		t.Fatalf("run %s: %v", command, err)
	}
	return res
}

// auditOf returns the whole audit log that q selects, newest first.
func auditOf(t *testing.T, c *client.Client, q client.AuditQuery) []client.AuditEntry {
	t.Helper()
	q.Limit = 1000
	entries, next, err := c.AuditLogs(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Fatal("more than 1000 audit entries")
	}
	return entries
}

// wantEntry checks the members of an entry that the test cares about.
func wantEntry(t *testing.T, e client.AuditEntry, event string, status int, cache, errCode string, upstreamStatus int) {
	t.Helper()
	if e.Event != event || e.Status != status || e.Cache != cache || e.Error != errCode || e.UpstreamStatus != upstreamStatus {
		t.Fatalf("entry = %+v\nwant event %q, status %d, cache %q, error %q, upstreamStatus %d", e, event, status, cache, errCode, upstreamStatus)
	}
}

// An outage and its end as the audit log tells them: stale answers carry
// the upstream's status, fallback mode turning on and off is written once
// each, and probes record their result.
func TestAuditOutage(t *testing.T) {
	t.Parallel()
	e := newOutageEnv(t)
	const get = "weather.get"
	var good *client.RunResult
	if !t.Run("a first run is an ordinary run entry", func(t *testing.T) {
		good = mustRunQ(t, e.agent, get, "paris")
		wantCache(t, good, "miss", false)
		entries := auditOf(t, e.admin, client.AuditQuery{})
		if len(entries) != 1 {
			t.Fatalf("entries = %+v, want 1", entries)
		}
		wantEntry(t, entries[0], "run", 200, "miss", "", 0)
	}) {
		return
	}

	var on client.AuditEntry
	if !t.Run("the upstream answering 503: the stale answer's entry has the upstream's status and fallback_on is written", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		e.up.status.Store(503)
		res := mustRunQ(t, e.agent, get, "paris")
		wantCache(t, res, "stale", true)
		if res.Status != 200 || string(res.Body) != string(good.Body) {
			t.Fatalf("stale answer = %d %s", res.Status, res.Body)
		}
		runs := auditOf(t, e.admin, client.AuditQuery{Event: "run"})
		wantEntry(t, runs[0], "run", 200, "stale", "upstream_error", 503)
		ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"})
		if len(ons) != 1 {
			t.Fatalf("fallback_on entries = %+v, want 1", ons)
		}
		on = ons[0]
		wantEntry(t, on, "fallback_on", 503, "", "upstream_error", 0)
		if on.Command != "kustomer.app.weather_acme.get" || on.Kind != "command" || on.Method != "GET" ||
			!strings.HasSuffix(on.URL, "/get?q=paris") || on.Actor.Name != "test agent" || on.Org != "acme" || len(on.Args) != 0 {
			t.Fatalf("fallback_on entry = %+v", on)
		}
	}) {
		return
	}

	if !t.Run("20 runs in fallback mode write no second fallback_on, and the 4 probes record the upstream's status", func(t *testing.T) {
		before := len(auditOf(t, e.admin, client.AuditQuery{Event: "run"}))
		for i := 0; i < 20; i++ {
			wantCache(t, mustRunQ(t, e.agent, get, "paris"), "stale", true)
		}
		runs := auditOf(t, e.admin, client.AuditQuery{Event: "run"})
		if len(runs) != before+20 {
			t.Fatalf("run entries = %d, want %d", len(runs), before+20)
		}
		probes := 0
		for i, r := range runs[:20] {
			if r.UpstreamStatus != 0 {
				probes++
				wantEntry(t, r, "run", 200, "stale", "upstream_error", 503)
			} else {
				wantEntry(t, r, "run", 200, "stale", "", 0)
			}
			// Every 5th run, counting from the one that turned fallback on.
			if probe := (20-i)%5 == 0; probe != (r.UpstreamStatus != 0) {
				t.Errorf("run %d of 20: upstreamStatus %d", 20-i, r.UpstreamStatus)
			}
		}
		if probes != 4 {
			t.Fatalf("probe entries = %d, want 4", probes)
		}
		if ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"}); len(ons) != 1 || ons[0].ID != on.ID {
			t.Fatalf("fallback_on entries = %+v, want the one", ons)
		}
	}) {
		return
	}

	if !t.Run("the upstream recovering: the probe's run entry is a miss and exactly one fallback_off is written", func(t *testing.T) {
		e.up.status.Store(0)
		for i := 0; i < 4; i++ {
			wantCache(t, mustRunQ(t, e.agent, get, "paris"), "stale", true)
		}
		wantCache(t, mustRunQ(t, e.agent, get, "paris"), "miss", false)
		for i := 0; i < 3; i++ {
			wantCache(t, mustRunQ(t, e.agent, get, "paris"), "hit", false)
		}
		runs := auditOf(t, e.admin, client.AuditQuery{Event: "run"})
		wantEntry(t, runs[3], "run", 200, "miss", "", 0)
		offs := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_off"})
		if len(offs) != 1 {
			t.Fatalf("fallback_off entries = %+v, want 1", offs)
		}
		wantEntry(t, offs[0], "fallback_off", 200, "", "", 0)
		if offs[0].Command != on.Command || offs[0].URL != on.URL || offs[0].Actor.Name != "test agent" {
			t.Fatalf("fallback_off entry = %+v", offs[0])
		}
		if ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"}); len(ons) != 1 {
			t.Fatalf("fallback_on entries = %d, want 1", len(ons))
		}
	}) {
		return
	}

	if !t.Run("a second outage is a second fallback_on", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		e.up.status.Store(500)
		wantCache(t, mustRunQ(t, e.agent, get, "paris"), "stale", true)
		ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"})
		if len(ons) != 2 {
			t.Fatalf("fallback_on entries = %d, want 2", len(ons))
		}
		wantEntry(t, ons[0], "fallback_on", 500, "", "upstream_error", 0)
	}) {
		return
	}

	t.Run("the JSON always names the event and has upstreamStatus only when set; the event filter is checked", func(t *testing.T) {
		raw, err := e.admin.Raw(context.Background(), "GET", "/v1/audit-logs?limit=1000", nil)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, it := range page.Items {
			ev, _ := it["event"].(string)
			seen[ev]++
			us, has := it["upstreamStatus"]
			if has && us != float64(503) && us != float64(500) {
				t.Errorf("upstreamStatus = %v in %v", us, it)
			}
			if !has && it["cache"] == "stale" && it["error"] != "" {
				t.Errorf("a stale answer with an error has no upstreamStatus: %v", it)
			}
		}
		if seen["fallback_on"] != 2 || seen["fallback_off"] != 1 || seen["run"] != len(page.Items)-3 {
			t.Errorf("events = %v", seen)
		}
		_, _, err = e.admin.AuditLogs(context.Background(), client.AuditQuery{Event: "outage"})
		wantProblem(t, err, 400, "invalid_input")
	})
}

// fallback_on and fallback_off are written for a command without
// auditLogging too, which has no run entries.
func TestAuditFallbackWithoutAuditLogging(t *testing.T) {
	t.Parallel()
	e := newOutageEnv(t)
	const quiet = "weather.quiet"
	mustRunQ(t, e.agent, quiet, "oslo")
	e.clock.Advance(time.Minute)
	e.up.status.Store(502)
	for i := 0; i < 10; i++ {
		wantCache(t, mustRunQ(t, e.agent, quiet, "oslo"), "stale", true)
	}
	e.up.status.Store(0)
	for i := 0; i < 5; i++ {
		mustRunQ(t, e.agent, quiet, "oslo")
	}
	entries := auditOf(t, e.admin, client.AuditQuery{Command: quiet})
	if len(entries) != 2 {
		t.Fatalf("entries = %+v, want fallback_off and fallback_on only", entries)
	}
	wantEntry(t, entries[0], "fallback_off", 200, "", "", 0)
	wantEntry(t, entries[1], "fallback_on", 502, "", "upstream_error", 0)
	if entries[1].Command != "kustomer.app.weather_acme.quiet" || !strings.HasSuffix(entries[1].URL, "/quiet?q=oslo") {
		t.Fatalf("fallback_on entry = %+v", entries[1])
	}
	if all := auditOf(t, e.admin, client.AuditQuery{}); len(all) != 2 {
		t.Fatalf("the whole log has %d entries, want 2", len(all))
	}
}

// A timeout and a connection error turn fallback on with their error code.
func TestAuditFallbackOnTimeoutAndConnectionError(t *testing.T) {
	t.Parallel()
	e := newOutageEnv(t)
	const get = "weather.get"
	if !t.Run("a timeout", func(t *testing.T) {
		mustRunQ(t, e.agent, get, "rome")
		e.clock.Advance(time.Minute)
		e.up.status.Store(-1)
		wantCache(t, mustRunQ(t, e.agent, get, "rome"), "stale", true)
		runs := auditOf(t, e.admin, client.AuditQuery{Event: "run"})
		wantEntry(t, runs[0], "run", 200, "stale", "upstream_timeout", 0)
		ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"})
		if len(ons) != 1 {
			t.Fatalf("fallback_on entries = %+v, want 1", ons)
		}
		wantEntry(t, ons[0], "fallback_on", 0, "", "upstream_timeout", 0)
	}) {
		return
	}

	t.Run("a connection error, on a cached key and on a key with nothing cached", func(t *testing.T) {
		e.up.status.Store(0)
		mustRunQ(t, e.agent, get, "lima")
		e.clock.Advance(time.Minute)
		e.proxy.Down()
		defer e.proxy.Up()
		wantCache(t, mustRunQ(t, e.agent, get, "lima"), "stale", true)
		_, err := runQ(t, e.agent, get, "nowhere")
		wantProblem(t, err, 502, "upstream_unreachable")

		runs := auditOf(t, e.admin, client.AuditQuery{Event: "run"})
		wantEntry(t, runs[0], "run", 0, "miss", "upstream_unreachable", 0)
		wantEntry(t, runs[1], "run", 200, "stale", "upstream_unreachable", 0)
		ons := auditOf(t, e.admin, client.AuditQuery{Event: "fallback_on"})
		if len(ons) != 3 {
			t.Fatalf("fallback_on entries = %+v, want 3", ons)
		}
		byURL := map[string]client.AuditEntry{}
		for _, on := range ons {
			byURL[on.URL[strings.LastIndex(on.URL, "?"):]] = on
		}
		wantEntry(t, byURL["?q=lima"], "fallback_on", 0, "", "upstream_unreachable", 0)
		wantEntry(t, byURL["?q=nowhere"], "fallback_on", 0, "", "upstream_unreachable", 0)
		wantEntry(t, byURL["?q=rome"], "fallback_on", 0, "", "upstream_timeout", 0)
	})
}

// Two instances sharing PostgreSQL and Redis write one fallback_on for an
// outage and one fallback_off for its end, however the runs are spread.
func TestAuditFallbackTwoInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	redisURL := redistest.URL(t)
	prefix := redistest.Prefix(t, redisURL)
	clock := cachetest.NewClock()
	up := &outage{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	instance := func() *apitest.Env {
		ctx := context.Background()
		store, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		rc, err := redis.New(ctx, redisURL, redis.Options{Now: clock.Now, Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		return apitest.New(t, apitest.Options{Store: store, Cache: rc, Now: clock.Now,
			Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 2 * time.Second}})
	}
	one, two := instance(), instance()
	ctx := context.Background()
	org, err := one.Operator.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin1 := client.New(one.URL, org.AdminKey, nil)
	admin2 := client.New(two.URL, org.AdminKey, nil)
	apitest.Register(t, admin1, weatherDef(srv.URL))
	eventually(t, "the app on instance two", func() error { _, err := runQ(t, admin2, "weather.quiet", "x"); return err })
	for _, command := range []string{"weather.get", "weather.quiet"} {
		if _, err := runQ(t, admin1, command, "paris"); err != nil {
			t.Fatal(err)
		}
	}
	// 20 runs at once, split between the instances, of both commands.
	runs := func(t *testing.T) {
		concurrently(t, 20, func(i int) error {
			c, command := admin1, "weather.get"
			if i%2 == 1 {
				c = admin2
			}
			if i%4 >= 2 {
				command = "weather.quiet"
			}
			res, err := runQ(t, c, command, "paris")
			if err == nil && res.Status != 200 {
				err = fmt.Errorf("%s answered %d", command, res.Status)
			}
			return err
		})
	}
	count := func(t *testing.T, event string) map[string]int {
		n := map[string]int{}
		for _, e := range auditOf(t, admin2, client.AuditQuery{Event: event}) {
			n[e.Command]++
		}
		return n
	}
	want := fmt.Sprint(map[string]int{"kustomer.app.weather_acme.get": 1, "kustomer.app.weather_acme.quiet": 1})

	clock.Advance(time.Minute)
	up.status.Store(503)
	t.Run("an outage seen by both instances at once is one fallback_on per key", func(t *testing.T) {
		runs(t)
		runs(t)
		if got := fmt.Sprint(count(t, "fallback_on")); got != want {
			t.Fatalf("fallback_on entries by command = %s, want %s", got, want)
		}
	})
	up.status.Store(0)
	t.Run("its end seen by both instances at once is one fallback_off per key", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			runs(t)
		}
		if got := fmt.Sprint(count(t, "fallback_off")); got != want {
			t.Fatalf("fallback_off entries by command = %s, want %s", got, want)
		}
		if got := fmt.Sprint(count(t, "fallback_on")); got != want {
			t.Fatalf("fallback_on entries by command = %s, want %s", got, want)
		}
	})
}

// With the database down too, a fallback entry that cannot be written does
// not withhold the stale answer of a command without auditLogging: the
// failure is logged instead.
func TestAuditFallbackWithDatabaseDown(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	u, _ := url.Parse(dbURL)
	dbProxy := apitest.NewProxy(t, u.Host)
	u.Host = dbProxy.Addr()
	store, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	up := &outage{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	clock := cachetest.NewClock()
	env := apitest.New(t, apitest.Options{Store: store, Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, weatherDef(srv.URL))
	good := mustRunQ(t, admin, "weather.quiet", "oslo")

	clock.Advance(time.Minute)
	up.status.Store(503)
	dbProxy.Down()
	res := mustRunQ(t, admin, "weather.quiet", "oslo")
	wantCache(t, res, "stale", true)
	if string(res.Body) != string(good.Body) {
		t.Fatalf("stale body %s, want %s", res.Body, good.Body)
	}
	if !strings.Contains(env.Logs.String(), "the audit entry of a cache fallback change could not be written") {
		t.Fatal("the lost fallback_on entry was not logged")
	}
	// An audited command still has its answer withheld.
	_, err = runQ(t, admin, "weather.get", "oslo")
	wantProblem(t, err, 503, "unavailable")
}
