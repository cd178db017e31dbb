package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// A run whose templates use a setting with no value and no default answers
// 424 setting_missing naming it and how to set it, and sends nothing
// (SPEC 4.9); required settings without a value are listed under
// "missing".
func TestSettingMissing(t *testing.T) {
	t.Parallel()
	var up upstream
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r); w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	agent := apitest.Key(t, admin, "agent")
	apitest.Register(t, admin, strings.ReplaceAll(`{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"token":{"type":"secret","required":true},"region":{"type":"string","defaultValue":"eu"},
			"note":{"type":"string"}}},
		"commands":[{"name":"order","httpMethod":"post","url":"UP/orders",
			"appSettings":{"token":{"key":"shop.default.token"},"region":{"key":"shop.default.region"},"note":{"key":"shop.default.note"}}}],
		"actions":[{"name":"lookup","type":"rest_api","appSettings":{"token":{"key":"shop.default.token"}},
			"inputTemplate":{"uri":"UP/orders/1","method":"get","headers":{"Authorization":"Bearer {{token}}"}}},
			{"name":"plain","type":"rest_api","appSettings":{"token":{"key":"shop.default.token"}},
			"inputTemplate":{"uri":"UP/orders/2","method":"get"}}]}`, "UP", srv.URL))
	ctx := context.Background()
	run := func(t *testing.T, headers map[string]string, body any) error {
		t.Helper()
		_, err := agent.RunCommand(ctx, "shop.order", client.RunRequest{Headers: headers, Body: body})
		return err
	}

	t.Run("a header that uses an unset secret is refused", func(t *testing.T) {
		ce := wantProblem(t, run(t, map[string]string{"Authorization": "Bearer {{token}}"}, nil), 424, "setting_missing")
		for _, want := range []string{"kustomer.app.shop_acme.order", "default.token", "PUT /v1/apps/shop/settings", "switchboard settings set shop default.token="} {
			if !strings.Contains(ce.Detail, want) {
				t.Errorf("detail %q lacks %q", ce.Detail, want)
			}
		}
	})
	t.Run("so is a body string that uses an unset setting", func(t *testing.T) {
		ce := wantProblem(t, run(t, nil, map[string]any{"n": []any{"{{note}}"}}), 424, "setting_missing")
		if !strings.Contains(ce.Detail, "default.note") || strings.Contains(ce.Detail, "default.token") {
			t.Errorf("detail %q, want only default.note", ce.Detail)
		}
	})
	t.Run("an action whose inputTemplate uses it is refused", func(t *testing.T) {
		_, err := agent.RunAction(ctx, "shop.lookup", nil)
		ce := wantProblem(t, err, 424, "setting_missing")
		if !strings.Contains(ce.Detail, "action kustomer.app.shop_acme.lookup") {
			t.Errorf("detail %q", ce.Detail)
		}
	})
	t.Run("nothing was sent", func(t *testing.T) {
		if n := up.count.Load(); n != 0 {
			t.Fatalf("the upstream received %d requests", n)
		}
	})
	t.Run("runs that do not use it, or use a default, go through", func(t *testing.T) {
		if err := run(t, map[string]string{"X-Region": "{{region}}"}, nil); err != nil {
			t.Fatal(err)
		}
		if got := up.last(t).Header.Get("X-Region"); got != "eu" {
			t.Errorf("X-Region = %q", got)
		}
		if _, err := agent.RunAction(ctx, "shop.plain", nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the settings list the required ones without a value", func(t *testing.T) {
		_, missing, err := admin.SettingsStatus(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"default.token"}, missing); diff != "" {
			t.Errorf("missing (-want +got):\n%s", diff)
		}
	})
	t.Run("once set, the run goes through and nothing is missing", func(t *testing.T) {
		if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"token": "s3cret"}}); err != nil {
			t.Fatal(err)
		}
		if err := run(t, map[string]string{"Authorization": "Bearer {{token}}"}, nil); err != nil {
			t.Fatal(err)
		}
		if got := up.last(t).Header.Get("Authorization"); got != "Bearer s3cret" {
			t.Errorf("Authorization = %q", got)
		}
		_, missing, err := admin.SettingsStatus(ctx, "shop")
		if err != nil || len(missing) != 0 {
			t.Errorf("missing = %v, %v", missing, err)
		}
	})
}
