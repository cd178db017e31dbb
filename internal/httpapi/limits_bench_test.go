package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

// BenchmarkLimitedRun is the cost of rate limits on a run: the same
// uncached run without limits and under an org limit and a command limit
// that never refuse, on the embedded store (SQLite, limits counted in
// process) and in scale-out (PostgreSQL, limits counted in Redis: one
// round trip a run). docs/performance.md has the numbers.
func BenchmarkLimitedRun(b *testing.B) {
	for _, tc := range []struct {
		name     string
		scaleOut bool
		limited  bool
	}{{"sqlite/unlimited", false, false}, {"sqlite/limited", false, true},
		{"postgres-redis/unlimited", true, false}, {"postgres-redis/limited", true, true}} {
		b.Run(tc.name, func(b *testing.B) {
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":"r_1","ok":true}`)
			}))
			b.Cleanup(up.Close)
			opts := apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}, MaxInflightPerUpstream: 1 << 20}
			if tc.scaleOut {
				store, err := postgres.Open(context.Background(), pgtest.Schema(b))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { store.Close() })
				url := redistest.URL(b)
				opts.Store, opts.RedisURL, opts.RedisPrefix = store, url, redistest.Prefix(b, url)
			}
			env := apitest.New(b, opts)
			admin := env.Org(b, "bench")
			apitest.Register(b, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
				{"name":"get","url":"`+up.URL+`/get","httpMethod":"get"}]}`)
			ctx := context.Background()
			if tc.limited {
				if _, err := env.Operator.PutOrgLimit(ctx, "bench", &client.Rate{RunsPerSecond: 1e6, Burst: 1e6}); err != nil {
					b.Fatal(err)
				}
				if _, err := admin.PutAppLimits(ctx, "shop", map[string]*client.Rate{"get": {RunsPerSecond: 1e6, Burst: 1e6}}); err != nil {
					b.Fatal(err)
				}
			}
			k, err := admin.CreateKey(ctx, "bench", "agent")
			if err != nil {
				b.Fatal(err)
			}
			h := env.Handler
			body := []byte(`{}`)
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/v1/commands/shop.get/run", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+k.Key)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != 200 {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		})
	}
}
