package mcp_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// BenchmarkToolCall compares a tools/call of refundOrder (one stateless
// POST /mcp: auth, the tool list of the principal, JSON-RPC, the run) with
// the same run through POST /v1/commands/{name}/run, both through the
// handler in process against a loopback upstream, with the audit entry.
func BenchmarkToolCall(b *testing.B) {
	e := newShop(b, apitest.Options{})
	for _, tc := range []struct {
		name, path, body string
		headers          map[string]string
	}{
		{"rest", "/v1/commands/ecommstore.store.refundOrder/run",
			`{"args":{"store":"acme"},"body":{"foo":"bar"},"headers":{"Authorization":"Bearer {{authToken}}"}}`, nil},
		{"mcp", "/mcp",
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ecommstore.store.refundOrder","arguments":` +
				`{"args":{"store":"acme"},"body":{"foo":"bar"},"headers":{"Authorization":"Bearer {{authToken}}"}}}}`,
			map[string]string{"Accept": "application/json, text/event-stream", "Mcp-Protocol-Version": "2025-06-18"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
				req.Header.Set("Authorization", "Bearer "+e.agent)
				req.Header.Set("Content-Type", "application/json")
				for k, v := range tc.headers {
					req.Header.Set(k, v)
				}
				w := httptest.NewRecorder()
				e.env.Handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"isError":true`) || !strings.Contains(w.Body.String(), "refunded") {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}
