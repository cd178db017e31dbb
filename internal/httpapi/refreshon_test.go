package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// A provider that answers 403 for an expired token: with refreshOn [403]
// a run refreshes once and retries once; without it, the 403 is the
// answer, as before.
func TestRefreshOn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, refreshOn string
		wantStatus      float64
		wantCalls       int64
		wantTokens      int
	}{
		{"refreshOn [403] refreshes and retries once", `,"refreshOn":[403]`, 200, 2, 1},
		{"the default [401] leaves a 403 alone", ``, 403, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := newProvider(t)
			var calls atomic.Int64
			var busy atomic.Bool
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
				p.mu.Lock()
				ok := p.access[tok]
				p.mu.Unlock()
				if !ok {
					http.Error(w, `{"error":"token expired"}`, http.StatusForbidden)
					return
				}
				if busy.Load() {
					w.Header().Set("Retry-After", "30")
					http.Error(w, `{"error":"slow down"}`, http.StatusTooManyRequests)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"orders":[1]}`)
			}))
			t.Cleanup(api.Close)
			env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
			admin := env.Org(t, "acme")
			ctx := context.Background()
			apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
				"auth":{"type":"oauth2","grantType":"client_credentials","tokenUrl":"`+p.srv.URL+`/token",
					"clientId":{"key":"shop.default.clientId"},"clientSecret":{"key":"shop.default.clientSecret"}`+tt.refreshOn+`},
				"commands":[{"name":"orders","url":"`+api.URL+`/orders","httpMethod":"get","appAccountName":"default"}],
				"actions":[{"name":"list","type":"rest_api","appAccountName":"default",
					"inputTemplate":{"uri":"`+api.URL+`/orders","method":"get","headers":{"Authorization":"Bearer {{authToken}}"},"json":true}}]}`)
			if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"clientId": clientID, "clientSecret": clientSecret}}); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Raw(ctx, "POST", "/v1/apps/shop/accounts/authorize", nil); err != nil {
				t.Fatal(err)
			}
			run := func() (float64, error) {
				res, err := admin.RunCommand(ctx, "shop.orders", client.RunRequest{Headers: map[string]string{"Authorization": "Bearer {{authToken}}"}})
				if err != nil {
					return 0, err
				}
				return float64(res.Status), nil
			}
			if s, err := run(); err != nil || s != 200 {
				t.Fatalf("first run: %v, %v", s, err)
			}
			p.mu.Lock()
			issued := p.n
			p.mu.Unlock()

			p.expireAll()
			calls.Store(0)
			s, err := run()
			if err != nil || s != tt.wantStatus || calls.Load() != tt.wantCalls {
				t.Fatalf("run with an expired token: status %v, %v, %d upstream calls; want %v with %d calls", s, err, calls.Load(), tt.wantStatus, tt.wantCalls)
			}
			p.mu.Lock()
			newTokens := p.n - issued
			p.mu.Unlock()
			if newTokens != tt.wantTokens {
				t.Errorf("tokens issued for the expired one: %d, want %d", newTokens, tt.wantTokens)
			}

			// The action takes the same path.
			p.expireAll()
			calls.Store(0)
			_, err = admin.RunAction(ctx, "shop.list", nil)
			if tt.wantStatus == 200 {
				if err != nil || calls.Load() != 2 {
					t.Errorf("action with an expired token: %v, %d calls; want a refresh and one retry", err, calls.Load())
				}
			} else {
				wantProblem(t, err, 502, "upstream_error")
				if calls.Load() != 1 {
					t.Errorf("action: %d calls, want 1", calls.Load())
				}
				return
			}

			// The retry after a refresh answers 429 with Retry-After: it
			// holds the org's runs of the command like any other answer.
			p.expireAll()
			busy.Store(true)
			if s, err := run(); err != nil || s != 429 {
				t.Fatalf("retried run answered 429: %v, %v", s, err)
			}
			calls.Store(0)
			_, err = run()
			wantProblem(t, err, 429, "rate_limited")
			if calls.Load() != 0 {
				t.Errorf("the held command called the upstream %d times", calls.Load())
			}
		})
	}
}
