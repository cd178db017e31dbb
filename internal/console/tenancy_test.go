package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
)

// One org never sees, runs or learns of another's private apps, settings,
// keys or audit entries through the console: they answer as a name that
// does not exist.
func TestTenancy(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	_, acme := mustOrg(t, env, "acme")
	otherKey, _ := mustOrg(t, env, "globex")
	apitest.Register(t, acme, `{"app":"shop","version":"1.0.0","title":"Acme Shop","settings":{"default":{"token":{"type":"secret"}}},
		"commands":[{"name":"c","url":"http://127.0.0.1:1/","httpMethod":"get","auditLogging":true,"appSettings":{"token":{"key":"shop.default.token"}}}]}`)
	if _, err := acme.PutSettings(context.Background(), "shop", client.Settings{"default": {"token": "acme-secret-value"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := acme.RunCommand(context.Background(), "shop.c", client.RunRequest{}); err == nil {
		t.Fatal("the run of an unreachable upstream succeeded")
	}

	u := mustSignIn(t, env.URL, otherKey)
	for _, path := range []string{"/console/apps", "/console/playground", "/console/audit", "/console/keys", "/console/sessions"} {
		status, body := u.get(path)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d", path, status)
		}
		for _, leak := range []string{"shop_acme", "Acme Shop", "acme-secret-value", "key_"} {
			if strings.Contains(body, leak) && !(leak == "key_" && path == "/console/keys") {
				t.Errorf("GET %s as globex shows %q", path, leak)
			}
		}
	}
	for _, path := range []string{"/console/apps/shop_acme", "/console/apps/shop"} {
		if status, body := u.get(path); status != http.StatusNotFound || strings.Contains(body, "Acme Shop") {
			t.Errorf("GET %s as globex: %d, want 404 as for an app that does not exist", path, status)
		}
	}
	u.get("/console/apps")
	for _, path := range []string{"/console/apps/shop_acme/install", "/console/apps/shop_acme/settings", "/console/apps/shop_acme/limits"} {
		if status, _, _ := u.post(path, url.Values{"s:default.token": {"x"}}); status != http.StatusNotFound {
			t.Errorf("POST %s as globex: %d, want 404", path, status)
		}
	}
	status, body, _ := u.post("/console/playground", url.Values{"kind": {"command"}, "name": {"kustomer.app.shop_acme.c"}})
	if status != http.StatusOK || !strings.Contains(body, "404 not_found") {
		t.Errorf("running acme's command as globex: %d, want a not_found answer\n%.600s", status, body)
	}
}

// Forms shown again say what to fix, where.
func TestFormProblems(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	key, admin := mustOrg(t, env, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"limit":{"type":"number"},"token":{"type":"secret","required":true}}},
		"commands":[{"name":"c","url":"http://127.0.0.1:1/","httpMethod":"post","appSettings":{"token":{"key":"shop.default.token"}}}]}`)
	u := mustSignIn(t, env.URL, key)

	u.get("/console/apps/shop_acme")
	_, body, _ := u.post("/console/apps/shop_acme/settings", url.Values{"s:default.limit": {"lots"}})
	if !strings.Contains(body, "/default/limit") || !strings.Contains(body, "declared as number") {
		t.Errorf("a number setting given text: the page does not point at it\n%.800s", body)
	}

	u.get("/console/playground")
	_, body, _ = u.post("/console/playground", url.Values{"kind": {"command"}, "name": {"shop.c"}, "body": {"{\n  \"a\": 1,\n}"}})
	if !strings.Contains(body, "/body") || !strings.Contains(body, "line 2, column 9") {
		t.Errorf("a body that is not JSON: no problem at its line\n%s", body[strings.Index(body, "<main>"):])
	}
	_, body, _ = u.post("/console/playground", url.Values{"kind": {"command"}, "name": {"shop.c"}, "args": {"nonsense"}})
	if !strings.Contains(body, "NAME=VALUE") {
		t.Errorf("an args line without =: no problem\n%.800s", body)
	}
	_, body, _ = u.post("/console/playground", url.Values{"kind": {"command"}, "name": {"shop.c"}, "headers": {"Authorization: Bearer {{token}}"}})
	if !strings.Contains(body, "424 setting_missing") || !strings.Contains(body, "default.token") {
		t.Errorf("a run with a missing secret: no setting_missing answer\n%s", body[strings.Index(body, "<main>"):])
	}

	if _, body := u.get("/console/audit?since=yesterday&event=nope"); !strings.Contains(body, "/since") || !strings.Contains(body, "/event") {
		t.Errorf("bad audit filters: no problems\n%.800s", body)
	}
}

// A form larger than a definition may be is refused before it is read.
func TestLargeForm(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	key, _ := mustOrg(t, env, "acme")
	u := mustSignIn(t, env.URL, key)
	u.get("/console/register")
	status, body, _ := u.post("/console/register", url.Values{"definition": {strings.Repeat(" ", 7<<20)}})
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(body, "payload_too_large") {
		t.Errorf("a 7 MiB form: %d, want 413 payload_too_large", status)
	}
}
