package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// benchEnv registers a command of the seed's shape against a local upstream.
// With session, the token it answers is a session token of the key.
func benchEnv(b *testing.B, audit bool, cacheSeconds int, session bool) (http.Handler, string) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"r_1","foo":"12","refunded":true,"amount":12.5}`)
	}))
	b.Cleanup(up.Close)
	env := apitest.New(b, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(b, "bench")
	a := "false"
	if audit {
		a = "true"
	}
	if cacheSeconds > 0 {
		a += `,"cacheSeconds":` + strconv.Itoa(cacheSeconds)
	}
	apitest.Register(b, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"refund","permittedArgs":["store"],
		"url":"`+up.URL+`/orders?store={{store}}","httpMethod":"post","auditLogging":`+a+`,
		"appSettings":{"authToken":{"key":"shop.default.authToken"}},
		"inputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":false,"required":["foo"]},
		"outputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":true}}]}`)
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"default": {"authToken": "tok"}}); err != nil {
		b.Fatal(err)
	}
	k, err := admin.CreateKey(context.Background(), "bench", "agent")
	if err != nil {
		b.Fatal(err)
	}
	if session {
		s, err := admin.WithKey(k.Key).CreateSession(context.Background(), client.SessionRequest{Commands: []string{"shop.refund"}, TTLSeconds: 3600})
		if err != nil {
			b.Fatal(err)
		}
		return env.Handler, s.Token
	}
	return env.Handler, k.Key
}

// BenchmarkCommandRun is a whole run through the HTTP handler: auth, name
// resolution, templates, schemas, the upstream call on loopback, encoding.
func BenchmarkCommandRun(b *testing.B) {
	for _, tc := range []struct {
		name         string
		audit        bool
		cacheSeconds int
		session      bool
	}{{"plain", false, 0, false}, {"audited", true, 0, false}, {"cached", false, 600, false},
		{"session-plain", false, 0, true}, {"session-cached", false, 600, true}} {
		b.Run(tc.name, func(b *testing.B) {
			h, key := benchEnv(b, tc.audit, tc.cacheSeconds, tc.session)
			body := []byte(`{"body":{"foo":12},"headers":{"Authorization":"Bearer {{authToken}}"},"args":{"store":"acme"}}`)
			b.ReportAllocs()
			b.SetParallelism(16) // concurrent runs, as under load: audited runs share commits
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("POST", "/v1/commands/shop.refund/run", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+key)
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
