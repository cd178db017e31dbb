package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// A run with Accept: application/vnd.api+json answers the seed platform's
// command_run_response document (SPEC 4.7), the secret redacted from the
// request headers and the echoed answer; errors stay problem documents.
func TestSeedEnvelope(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		b, _ := io.ReadAll(r.Body)
		w.Write([]byte(`{"got":` + string(b) + `,"auth":"` + r.Header.Get("Authorization") + `"}`))
	}))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	org, err := env.Operator.CreateOrg(t.Context(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(env.URL, org.AdminKey, nil)
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
		"commands":[{"name":"refund","httpMethod":"post","url":"`+srv.URL+`/orders?store={{{store}}}","permittedArgs":["store"],
			"appSettings":{"authToken":{"key":"shop.default.authToken"}}}]}`)
	if _, err := admin.PutSettings(t.Context(), "shop", client.Settings{"default": {"authToken": "s3cret"}}); err != nil {
		t.Fatal(err)
	}
	post := func(t *testing.T, name, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", env.URL+"/v1/commands/"+name+"/run", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+org.AdminKey)
		req.Header.Set("Accept", "application/vnd.api+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	t.Run("the run answers the envelope", func(t *testing.T) {
		resp, b := post(t, "shop.refund", `{"body":{"foo":1},"headers":{"Authorization":"Bearer {{authToken}}","X-Plain":"yes"},"urlArgs":{"store":"dunder"}}`)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.api+json" {
			t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if bytes.Contains(b, []byte("s3cret")) {
			t.Fatalf("the envelope holds the secret: %s", b)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		attrs := got["data"].(map[string]any)["attributes"].(map[string]any)
		delete(attrs["responseHeaders"].(map[string]any), "date")
		delete(attrs["responseHeaders"].(map[string]any), "content-length")
		want := map[string]any{"data": map[string]any{
			"type": "command_run_response",
			"attributes": map[string]any{
				"commandId":       "kustomer.app.shop_acme.refund",
				"statusCode":      float64(200),
				"args":            map[string]any{"store": "dunder"},
				"url":             srv.URL + "/orders?store=dunder",
				"requestHeaders":  map[string]any{"Authorization": "Bearer [redacted]", "X-Plain": "yes"},
				"responseHeaders": map[string]any{"content-type": "application/json", "x-echo": "Bearer [redacted]"},
				"responseBody":    map[string]any{"got": map[string]any{"foo": float64(1)}, "auth": "Bearer [redacted]"},
				"cacheFallback":   false,
			},
			"relationships": map[string]any{},
		}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("envelope (-want +got):\n%s", diff)
		}
	})
	t.Run("a refusal is still a problem document", func(t *testing.T) {
		resp, b := post(t, "shop.nosuch", `{}`)
		if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	})
}
