package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

// eventually retries fn for up to two seconds: another instance learns of a
// change within a second.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	var err error
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if err = fn(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// Two instances on one PostgreSQL and one Redis behave as one.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	redisURL := redistest.URL(t)
	prefix := redistest.Prefix(t, redisURL)
	clock := cachetest.NewClock()
	up := &flaky{}
	up.set("ok")
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		up.ServeHTTP(w, r)
	}))
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
	run := func(c *client.Client, q string) (*client.RunResult, error) {
		return c.RunCommand(ctx, "quotes.get", client.RunRequest{Args: map[string]string{"q": q}, Headers: map[string]string{"Authorization": "Bearer {{token}}"}})
	}

	if !t.Run("a key made through one instance works on the other", func(t *testing.T) {
		eventually(t, "the admin key on instance two", func() error { _, err := admin2.Apps(ctx); return err })
	}) {
		return
	}

	var first *client.RunResult
	if !t.Run("an app registered through one instance runs on the other with the secret set through one", func(t *testing.T) {
		apitest.Register(t, admin1, `{"app":"quotes","version":"1.0.0","title":"Quotes","commands":[{"name":"get","permittedArgs":["q"],
		"url":"`+srv.URL+`/quote?q={{q}}","httpMethod":"post","cacheSeconds":30,"auditLogging":true,
		"appSettings":{"token":{"key":"quotes.default.token"}}}]}`)
		if _, err := admin1.PutSettings(ctx, "quotes", client.Settings{"default": {"token": "s3cret-shared"}}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the app on instance two", func() error {
			var err error
			first, err = run(admin2, "a")
			return err
		})
		if auth.Load() != "Bearer s3cret-shared" {
			t.Fatalf("instance two sent %v", auth.Load())
		}
		wantCache(t, first, "miss", false)
	}) {
		return
	}

	if !t.Run("a response cached by instance two is a hit on instance one", func(t *testing.T) {
		hit, err := run(admin1, "a")
		if err != nil {
			t.Fatal(err)
		}
		wantCache(t, hit, "hit", false)
		if string(hit.Body) != string(first.Body) || up.calls.Load() != 1 {
			t.Fatalf("hit %s vs %s, %d calls", hit.Body, first.Body, up.calls.Load())
		}
	}) {
		return
	}

	if !t.Run("fallback mode entered through one instance is seen by the other, with probes counted across both", func(t *testing.T) {
		// 4 live calls over 20 runs split between the two instances.
		clock.Advance(time.Minute)
		up.set("500")
		res, err := run(admin1, "a")
		if err != nil {
			t.Fatal(err)
		}
		wantCache(t, res, "stale", true)
		before := up.calls.Load()
		for i := 0; i < 20; i++ {
			c := admin1
			if i%2 == 1 {
				c = admin2
			}
			res, err := run(c, "a")
			if err != nil {
				t.Fatal(err)
			}
			wantCache(t, res, "stale", true)
		}
		if n := up.calls.Load() - before; n != 4 {
			t.Fatalf("live calls over 20 runs on two instances = %d, want 4", n)
		}
	}) {
		return
	}

	t.Run("20 concurrent misses across both instances make one live call", func(t *testing.T) {
		up.set("slow")
		before := up.calls.Load()
		concurrently(t, 20, func(i int) error {
			c := admin1
			if i%2 == 1 {
				c = admin2
			}
			_, err := run(c, "hot")
			return err
		})
		if n := up.calls.Load() - before; n != 1 {
			t.Fatalf("upstream calls for 20 concurrent misses on two instances = %d, want 1", n)
		}
	})

	t.Run("audit entries written through one instance are listed by the other", func(t *testing.T) {
		entries, _, err := admin2.AuditLogs(ctx, client.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) < 23 {
			t.Fatalf("instance two lists %d audit entries, want at least 23", len(entries))
		}
	})

	t.Run("a key revoked through one instance stops working on the other within a second", func(t *testing.T) {
		k, err := admin1.CreateKey(ctx, "temp", "agent")
		if err != nil {
			t.Fatal(err)
		}
		temp2 := client.New(two.URL, k.Key, nil)
		eventually(t, "the new key on instance two", func() error { _, err := temp2.Apps(ctx); return err })
		if err := admin1.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the revoked key on instance two", func() error {
			_, err := temp2.Apps(ctx)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Status == 401 {
				return nil
			}
			return fmt.Errorf("still answers: %v", err)
		})
	})
	_ = io.Discard
}

// Two instances refreshing one expired token make one refresh: the
// account's row lock in PostgreSQL makes them take turns, and the second
// finds the token the first stored.
func TestTwoInstancesOneRefresh(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	p := newProvider(t)
	clock := cachetest.NewClock()
	instance := func() *apitest.Env {
		store, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return apitest.New(t, apitest.Options{Store: store, Now: clock.Now, Outbound: outbound.Config{AllowPrivateNetworks: true}})
	}
	one, two := instance(), instance()
	e := &oauthEnv{env: one, p: p, clock: clock}
	ctx := context.Background()
	org, err := one.Operator.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = client.New(one.URL, org.AdminKey, nil)
	registerOAuthApp(t, e.admin, p, "authorization_code")
	e.connect(t, "default")
	admin2 := client.New(two.URL, org.AdminKey, nil)
	eventually(t, "the account on instance two", func() error { _, err := e.run(t, admin2); return err })

	clock.Advance(5 * time.Minute) // both instances now hold an expired token
	before := p.refreshes.Load()
	concurrently(t, 50, func(i int) error {
		c := e.admin
		if i%2 == 1 {
			c = admin2
		}
		if res, err := e.run(t, c); err != nil || res.Status != 200 {
			return fmt.Errorf("%v %v", res, err)
		}
		return nil
	})
	if n := p.refreshes.Load() - before; n != 1 {
		t.Fatalf("refreshes for 50 runs on two instances = %d, want 1", n)
	}
}
