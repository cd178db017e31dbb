package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/secretbox"
)

// A stored secret that this instance's key cannot open (here one sealed with
// another key) harms only the runs that use it: they answer 503 saying which
// secret and why, and send nothing; the org's other runs, its installed
// apps and its other secrets work; /readyz answers 503 with the reason until
// the secret is set again.
func TestUnreadableSecret(t *testing.T) {
	t.Parallel()
	var up upstream
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r); w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	agent := apitest.Key(t, admin, "agent")
	apitest.Register(t, admin, strings.ReplaceAll(`{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"token":{"type":"secret"},"apiKey":{"type":"secret"},"region":{"type":"string","defaultValue":"eu"}}},
		"commands":[{"name":"order","httpMethod":"post","url":"UP/orders",
			"appSettings":{"token":{"key":"shop.default.token"},"apiKey":{"key":"shop.default.apiKey"},"region":{"key":"shop.default.region"}}}],
		"actions":[{"name":"lookup","type":"rest_api","appSettings":{"token":{"key":"shop.default.token"}},
			"inputTemplate":{"uri":"UP/orders/1","method":"get","headers":{"Authorization":"Bearer {{token}}"}}}]}`, "UP", srv.URL))
	apitest.Register(t, admin, `{"app":"notes","version":"1.0.0","title":"Notes","commands":[{"name":"list","httpMethod":"get","url":"`+srv.URL+`/notes"}]}`)
	ctx := context.Background()
	if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"token": "s3cret", "apiKey": "k3y"}}); err != nil {
		t.Fatal(err)
	}
	run := func(headers map[string]string) error {
		_, err := agent.RunCommand(ctx, "shop.order", client.RunRequest{Headers: headers})
		return err
	}
	if err := run(map[string]string{"Authorization": "Bearer {{token}}"}); err != nil {
		t.Fatalf("a run before the secret was replaced: %v", err)
	}

	// A ciphertext sealed with another key, written as the store holds it.
	other, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	foreign := other.Seal([]byte("sealed elsewhere"), switchboard.SettingAAD("acme", "shop_acme", "default.token"))
	if err := env.Store.PutSettings(ctx, "acme", "shop_acme", []switchboard.SettingValue{
		{Category: "default", Name: "token", Secret: true, Ciphertext: foreign, UpdatedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Registry.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	const why = "the secret default.token of app shop cannot be opened with this instance's secret key (SWITCHBOARD_SECRET_KEY does not match the key it was sealed with)"

	t.Run("the installed apps are listed", func(t *testing.T) {
		list, err := admin.InstalledApps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 {
			t.Errorf("installed = %+v, want shop and notes", list)
		}
	})
	t.Run("runs that do not use it go through", func(t *testing.T) {
		sent := up.count.Load()
		if _, err := agent.RunCommand(ctx, "notes.list", client.RunRequest{}); err != nil {
			t.Fatalf("another app's run: %v", err)
		}
		if err := run(map[string]string{"X-Region": "{{region}}"}); err != nil {
			t.Fatalf("a run of the app that uses no secret: %v", err)
		}
		if err := run(map[string]string{"X-Api-Key": "{{apiKey}}"}); err != nil {
			t.Fatalf("a run that uses the app's other secret: %v", err)
		}
		if got := up.last(t).Header.Get("X-Api-Key"); got != "k3y" {
			t.Errorf("X-Api-Key = %q, want the other secret", got)
		}
		if n := up.count.Load() - sent; n != 3 {
			t.Errorf("the upstream received %d requests, want 3", n)
		}
	})
	t.Run("a run that uses it is a 503 naming it, and sends nothing", func(t *testing.T) {
		sent := up.count.Load()
		ce := wantProblem(t, run(map[string]string{"Authorization": "Bearer {{token}}"}), 503, "unavailable")
		if !strings.Contains(ce.Detail, why) {
			t.Errorf("detail %q lacks %q", ce.Detail, why)
		}
		_, err := agent.RunAction(ctx, "shop.lookup", nil)
		ce = wantProblem(t, err, 503, "unavailable")
		if !strings.Contains(ce.Detail, why) || !strings.Contains(ce.Detail, "action") {
			t.Errorf("the action's detail %q lacks %q", ce.Detail, why)
		}
		if n := up.count.Load() - sent; n != 0 {
			t.Errorf("the upstream received %d requests", n)
		}
	})
	t.Run("the settings still say it is set", func(t *testing.T) {
		if _, err := admin.Settings(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("readyz is 503 with the reason", func(t *testing.T) {
		status, detail := readyz(t, env.URL)
		if status != 503 || !strings.Contains(detail, "cannot be opened with this instance's secret key") {
			t.Errorf("/readyz = %d %q, want 503 saying a secret cannot be opened", status, detail)
		}
		if strings.Contains(detail, "acme") {
			t.Errorf("/readyz, which needs no key, names the org: %q", detail)
		}
	})
	t.Run("it is logged once, without the value", func(t *testing.T) {
		// Another change reloads the org, which finds it again.
		if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"region": "us"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.InstalledApps(ctx); err != nil {
			t.Fatal(err)
		}
		logs := env.Logs.String()
		if n := strings.Count(logs, `"msg":"a stored secret cannot be opened`); n != 1 {
			t.Errorf("logged %d times, want once:\n%s", n, logs)
		}
		if strings.Contains(logs, "sealed elsewhere") || strings.Contains(logs, "s3cret") {
			t.Errorf("the log holds a secret value:\n%s", logs)
		}
		for _, want := range []string{`"org":"acme"`, `"app":"shop_acme"`, `"setting":"default.token"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("the log lacks %s", want)
			}
		}
	})
	t.Run("it is counted", func(t *testing.T) {
		if got := gauge(t, env, "switchboard_unreadable_secrets"); got != 1 {
			t.Errorf("switchboard_unreadable_secrets = %v, want 1", got)
		}
	})
	t.Run("set again, the instance is ready and it works", func(t *testing.T) {
		if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"token": "n3w"}}); err != nil {
			t.Fatal(err)
		}
		// Before any run loads the org again: readiness looks itself.
		if status, detail := readyz(t, env.URL); status != 200 {
			t.Errorf("/readyz = %d %q, want 200", status, detail)
		}
		if got := gauge(t, env, "switchboard_unreadable_secrets"); got != 0 {
			t.Errorf("switchboard_unreadable_secrets = %v, want 0", got)
		}
		if err := run(map[string]string{"Authorization": "Bearer {{token}}"}); err != nil {
			t.Fatal(err)
		}
		if got := up.last(t).Header.Get("Authorization"); got != "Bearer n3w" {
			t.Errorf("Authorization = %q", got)
		}
	})
}

// readyz returns the status of GET /readyz and the detail of its problem.
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p struct{ Detail string }
	json.NewDecoder(resp.Body).Decode(&p)
	return resp.StatusCode, p.Detail
}

// gauge returns the value of an instance's gauge.
func gauge(t *testing.T, env *apitest.Env, name string) float64 {
	t.Helper()
	mfs, err := env.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
