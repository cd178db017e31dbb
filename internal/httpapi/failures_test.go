package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/redis"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

func metricValue(t *testing.T, env *apitest.Env, name string) string {
	t.Helper()
	resp, err := http.Get(env.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// Redis down: runs go on uncached and without fallback, counted by a
// metric, and caching comes back by itself when Redis does.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	redisURL := redistest.URL(t)
	u, _ := url.Parse(redisURL)
	proxy := apitest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	up := &flaky{}
	up.set("ok")
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	rc, err := redis.New(context.Background(), u.String(), redis.Options{Prefix: redistest.Prefix(t, redisURL)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	env := apitest.New(t, apitest.Options{Cache: rc, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"q","version":"1.0.0","title":"Q","commands":[{"name":"get","url":"`+srv.URL+`/x","httpMethod":"get","cacheSeconds":60}]}`)
	ctx := context.Background()
	run := func(t *testing.T) *client.RunResult {
		t.Helper()
		res, err := admin.RunCommand(ctx, "q.get", client.RunRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	if !t.Run("with Redis up a run is cached", func(t *testing.T) {
		wantCache(t, run(t), "miss", false)
		wantCache(t, run(t), "hit", false)
	}) {
		return
	}

	proxy.Down()
	t.Run("with Redis down runs go on uncached and without delay", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			start := time.Now()
			res := run(t)
			wantCache(t, res, "none", false)
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("a run with Redis down took %v", d)
			}
		}
	})

	t.Run("with Redis down the cache errors are counted by a metric", func(t *testing.T) {
		if v := metricValue(t, env, "switchboard_cache_errors_total"); v == "" || v == "0" {
			t.Errorf("switchboard_cache_errors_total = %q", v)
		}
	})

	t.Run("with Redis down one warning is logged a minute", func(t *testing.T) {
		for deadline := time.Now().Add(2 * time.Second); !strings.Contains(env.Logs.String(), "runs go on uncached"); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no warning logged")
			}
		}
		if n := strings.Count(env.Logs.String(), "runs go on uncached"); n != 1 {
			t.Errorf("the warning was logged %d times, want once a minute", n)
		}
	})

	proxy.Up()
	t.Run("caching comes back by itself when Redis does", func(t *testing.T) {
		var res *client.RunResult
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			res = run(t)
			if res.Cache != "none" || time.Now().After(deadline) {
				break
			}
		}
		if res.Cache != "hit" && res.Cache != "miss" {
			t.Fatalf("after Redis came back: cache %q", res.Cache)
		}
	})
}

// PostgreSQL down: /readyz fails, writes fail with a clear 503, runs that
// need no write go on from memory, and everything recovers when it returns.
func TestPostgresDown(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	u, _ := url.Parse(dbURL)
	proxy := apitest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	store, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	up := &flaky{}
	up.set("ok")
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Store: store, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"q","version":"1.0.0","title":"Q","commands":[
		{"name":"get","url":"`+srv.URL+`/x","httpMethod":"get"},
		{"name":"audited","url":"`+srv.URL+`/x","httpMethod":"get","auditLogging":true}]}`)
	ctx := context.Background()
	ready := func(t *testing.T) int {
		t.Helper()
		resp, err := http.Get(env.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if !t.Run("before the outage a run works and the server is ready", func(t *testing.T) {
		if _, err := admin.RunCommand(ctx, "q.get", client.RunRequest{}); err != nil {
			t.Fatal(err)
		}
		if ready(t) != 200 {
			t.Fatal("not ready before the outage")
		}
	}) {
		return
	}

	proxy.Down()
	t.Run("with PostgreSQL down readyz answers 503", func(t *testing.T) {
		if s := ready(t); s != 503 {
			t.Fatalf("/readyz with PostgreSQL down = %d, want 503", s)
		}
	})

	t.Run("with PostgreSQL down a write fails with a 503 saying the database is down", func(t *testing.T) {
		_, err := admin.PutSettings(ctx, "q", client.Settings{"default": {"x": "y"}})
		ce := wantProblem(t, err, 503, "unavailable")
		if !strings.Contains(ce.Detail, "database") {
			t.Errorf("detail %q does not say what is down", ce.Detail)
		}
	})

	t.Run("with PostgreSQL down a run goes on: the run path reads no database", func(t *testing.T) {
		if _, err := admin.RunCommand(ctx, "q.get", client.RunRequest{}); err != nil {
			t.Fatalf("a run with PostgreSQL down: %v", err)
		}
	})

	t.Run("with PostgreSQL down an audited run is a 503, not a lost entry", func(t *testing.T) {
		_, err := admin.RunCommand(ctx, "q.audited", client.RunRequest{})
		wantProblem(t, err, 503, "unavailable")
	})

	proxy.Up()
	if !t.Run("the server is ready again after the outage", func(t *testing.T) {
		eventually(t, "readiness after the outage", func() error {
			if ready(t) != 200 {
				return io.ErrUnexpectedEOF
			}
			return nil
		})
	}) {
		return
	}

	t.Run("a write works again after the outage", func(t *testing.T) {
		if _, err := admin.PutSettings(ctx, "q", client.Settings{"default": {"x": "y"}}); err != nil {
			t.Fatalf("a write after the outage: %v", err)
		}
	})

	t.Run("an audited run works again after the outage", func(t *testing.T) {
		if _, err := admin.RunCommand(ctx, "q.audited", client.RunRequest{}); err != nil {
			t.Fatalf("an audited run after the outage: %v", err)
		}
	})
}
