package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
)

const myApp = `{
  "app": "my_app",
  "version": "1.0.0",
  "title": "My App",
  "commands": [{
    "name": "refundOrder",
    "url": "https://api.example.com/orders",
    "httpMethod": "post"
  }]
}`

// The namespacing seed: my_app of org 123456789abcdefg becomes
// my_app_123456789abcdefg, its command refundOrder becomes
// kustomer.app.my_app_123456789abcdefg.refundOrder, and the namespaced
// spellings are the same registration.
func TestNamespacingSeed(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	admin := s.mustOrg(t, "123456789abcdefg")
	v := mustRegister(t, admin, myApp)
	if !v.Created || v.App != "my_app_123456789abcdefg" || v.Visibility != "private" {
		t.Fatalf("registered %+v, want a new private app my_app_123456789abcdefg", v)
	}
	def := definition(t, v)
	if def["app"] != "my_app_123456789abcdefg" {
		t.Errorf("definition app = %v", def["app"])
	}
	name := def["commands"].([]any)[0].(map[string]any)["name"]
	if name != "kustomer.app.my_app_123456789abcdefg.refundOrder" {
		t.Errorf("command name = %v, want kustomer.app.my_app_123456789abcdefg.refundOrder", name)
	}
	for _, spelling := range []struct{ app, cmd string }{
		{"my_app_123456789abcdefg", "refundOrder"},
		{"my_app", "my_app_123456789abcdefg.refundOrder"},
		{"my_app", "my_app.refundOrder"},
		{"my_app", "my_app.app.refundOrder"},
		{"my_app_123456789abcdefg", "my_app_123456789abcdefg.app.refundOrder"},
		{"my_app", "kustomer.app.my_app.refundOrder"},
		{"my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder"},
	} {
		def := strings.Replace(strings.Replace(myApp, `"my_app"`, `"`+spelling.app+`"`, 1), `"refundOrder"`, `"`+spelling.cmd+`"`, 1)
		again, err := admin.RegisterApp(context.Background(), []byte(def), false)
		if err != nil {
			t.Fatalf("register with %+v: %v", spelling, err)
		}
		if again.Created {
			t.Errorf("register with %+v created a new version; want the same registration (200)", spelling)
		}
		if !bytes.Equal(again.Definition, v.Definition) {
			t.Errorf("register with %+v gave definition %s, want %s", spelling, again.Definition, v.Definition)
		}
	}
	// Another app's prefix is refused.
	bad := strings.Replace(myApp, `"refundOrder"`, `"kustomer.app.other.refundOrder"`, 1)
	_, err := admin.RegisterApp(context.Background(), []byte(bad), false)
	ce := wantError(t, err, 400, "invalid_definition")
	if len(ce.Errors) != 1 || ce.Errors[0].Location != "/commands/0/name" {
		t.Errorf("problems = %+v, want one at /commands/0/name", ce.Errors)
	}
}

// The README walkthrough: register the commands seed's example verbatim,
// set its secret, read the settings back redacted, list the apps.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	admin := s.mustOrg(t, "acme")
	ctx := context.Background()
	def := readFile(t, filepath.Join("..", "..", "testdata", "apps", "ecommstore.json"))

	registered := false // the steps below work on the registered app
	t.Run("the commands seed's example registers verbatim as ecommstore_acme 0.0.1", func(t *testing.T) {
		v, err := admin.RegisterApp(ctx, def, false)
		if err != nil {
			t.Fatal(err)
		}
		if v.App != "ecommstore_acme" || v.Version != "0.0.1" || !v.Created {
			t.Fatalf("registered %+v", v)
		}
		registered = true
		if got := definition(t, v)["commands"].([]any)[0].(map[string]any)["name"]; got != "kustomer.app.ecommstore_acme.store.refundOrder" {
			t.Errorf("command name = %v", got)
		}
	})
	if !registered {
		return
	}

	const secret = "tok-Sup3rS3cret-value"
	want := client.Settings{"default": {"authToken": map[string]any{"secret": true, "set": true}}}
	set := false // the secret was stored: the steps below look for it
	t.Run("its secret is set and the answer shows it redacted", func(t *testing.T) {
		got, err := admin.PutSettings(ctx, "ecommstore", client.Settings{"default": {"authToken": secret}})
		if err != nil {
			t.Fatal(err)
		}
		set = true
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("settings after PUT (-want +got):\n%s", diff)
		}
	})
	if !set {
		return
	}

	t.Run("an agent reads the settings back redacted", func(t *testing.T) {
		agent := mustKey(t, admin, "agent")
		got, err := agent.Settings(ctx, "ecommstore_acme")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("settings read by an agent (-want +got):\n%s", diff)
		}
	})

	t.Run("the app is listed and installed", func(t *testing.T) {
		apps, err := admin.Apps(ctx)
		if err != nil || len(apps) != 1 || apps[0].App != "ecommstore_acme" || apps[0].Title != "E-comm Store" {
			t.Fatalf("apps = %+v, %v", apps, err)
		}
		installed, err := admin.InstalledApps(ctx)
		if err != nil || len(installed) != 1 || installed[0].Version != "0.0.1" {
			t.Fatalf("installed = %+v, %v", installed, err)
		}
	})

	t.Run("the secret is in no answer, no log line and not in plain text on disk", func(t *testing.T) {
		raw, err := admin.Raw(ctx, "GET", "/v1/apps/ecommstore/settings", nil)
		if err != nil || bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("settings answer %s contains the secret (%v)", raw, err)
		}
		if strings.Contains(s.logsAfter(t, `"route":"GET /v1/apps/{app}/settings"`), secret) {
			t.Error("the secret appears in the server log")
		}
		files, _ := filepath.Glob(filepath.Join(s.Data, "*"))
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(secret)) {
				t.Errorf("the secret is in plain text in %s", f)
			}
		}
	})
}

func TestVersions(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	admin := s.mustOrg(t, "acme")
	ctx := context.Background()
	mustRegister(t, admin, myApp)
	changed := strings.Replace(myApp, "My App", "My App 2", 1)

	t.Run("the same version with another definition is a 409", func(t *testing.T) {
		_, err := admin.RegisterApp(ctx, []byte(changed), false)
		wantError(t, err, 409, "conflict")
	})

	t.Run("member order and whitespace do not make a definition different", func(t *testing.T) {
		reordered := `{"title":"My App","version":"1.0.0","app":"my_app","commands":[{"httpMethod":"post","url":"https://api.example.com/orders","name":"refundOrder"}]}`
		v, err := admin.RegisterApp(ctx, []byte(reordered), false)
		if err != nil || v.Created {
			t.Fatalf("reordered identical definition: %+v, %v; want 200", v, err)
		}
	})

	t.Run("a lower version is a 400 naming the latest", func(t *testing.T) {
		lower := strings.Replace(changed, "1.0.0", "0.9.0", 1)
		_, err := admin.RegisterApp(ctx, []byte(lower), false)
		ce := wantError(t, err, 400, "invalid_definition")
		if !strings.Contains(ce.Detail, "1.0.0") {
			t.Errorf("detail %q does not name the latest version", ce.Detail)
		}
	})

	if !t.Run("a pre-release and then its release are new versions", func(t *testing.T) {
		pre := strings.Replace(changed, "1.0.0", "1.1.0-beta.1", 1)
		if v := mustRegister(t, admin, pre); !v.Created {
			t.Fatal("1.1.0-beta.1 not created")
		}
		rel := strings.Replace(changed, "1.0.0", "1.1.0", 1)
		if v := mustRegister(t, admin, rel); !v.Created {
			t.Fatal("1.1.0 not created")
		}
	}) {
		return
	}

	t.Run("pre-releases order below their release and the release is the latest", func(t *testing.T) {
		app, err := admin.App(ctx, "my_app")
		if err != nil {
			t.Fatal(err)
		}
		var versions []string
		for _, x := range app.Versions {
			versions = append(versions, x.Version)
		}
		if app.Version != "1.1.0" || !cmp.Equal(versions, []string{"1.0.0", "1.1.0-beta.1", "1.1.0"}) {
			t.Errorf("app = %s, versions %v", app.Version, versions)
		}
	})

	t.Run("an older version can still be read and an unknown one is a 404", func(t *testing.T) {
		old, err := admin.AppVersion(ctx, "my_app", "1.0.0")
		if err != nil || old.Version != "1.0.0" {
			t.Fatalf("version 1.0.0: %+v %v", old, err)
		}
		_, err = admin.AppVersion(ctx, "my_app", "7.0.0")
		wantError(t, err, 404, "not_found")
	})

	t.Run("the private app installed follows its latest registration", func(t *testing.T) {
		installed, err := admin.InstalledApps(ctx)
		if err != nil || len(installed) != 1 || installed[0].Version != "1.1.0" {
			t.Fatalf("installed = %+v, %v", installed, err)
		}
	})
}

func TestValidationProblems(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	admin := s.mustOrg(t, "acme")
	ctx := context.Background()
	def := `{
  "app": "shop",
  "version": "1.0",
  "title": "Shop",
  "comands": [],
  "iconUrl": "https://example.com/icon.png",
  "commands": [{
    "name": "lookup",
    "url": "https://api.example.com/{{secretThing}}",
    "httpMethod": "fetch",
    "cacheSeconds": 5,
    "inputSchema": {"type": "object", "minLength": 3}
  }]
}`
	_, err := admin.RegisterApp(ctx, []byte(def), false)
	ce := wantError(t, err, 400, "invalid_definition")
	got := map[string]bool{}
	for _, p := range ce.Errors {
		got[p.Location] = true
		if p.Line == 0 {
			t.Errorf("problem at %s has no line", p.Location)
		}
	}
	for _, loc := range []string{"/version", "/comands", "/commands/0/url", "/commands/0/httpMethod", "/commands/0/cacheSeconds", "/commands/0/inputSchema/minLength"} {
		if !got[loc] {
			t.Errorf("no problem at %s; got %+v", loc, ce.Errors)
		}
	}
	// Malformed JSON: line and column.
	_, err = admin.RegisterApp(ctx, []byte("{\n  \"app\": \"shop\",\n  \"version\": }"), false)
	ce = wantError(t, err, 400, "invalid_definition")
	if len(ce.Errors) != 1 || ce.Errors[0].Line != 3 || ce.Errors[0].Column == 0 {
		t.Errorf("malformed JSON problems = %+v, want one at line 3", ce.Errors)
	}
	// The workflow actions seed's kind of template name is a warning.
	v := mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","iconUrl":"x","actions":[{
		"name":"refund","type":"rest_api",
		"inputTemplate":{"uri":"https://api.example.com/orders/{{orderId}}","method":"POST"},
		"inputSchema":{"properties":{"querystring":{"type":"string"}},"additionalProperties":false}}]}`)
	var locs []string
	for _, w := range v.Warnings {
		locs = append(locs, w.Location)
	}
	if !cmp.Equal(locs, []string{"/iconUrl", "/actions/0/inputTemplate"}) {
		t.Errorf("warnings = %+v", v.Warnings)
	}
	// A definition over 5 MiB is a 413.
	big := `{"app":"shop","version":"2.0.0","title":"` + strings.Repeat("x", 6<<20) + `"}`
	_, err = admin.RegisterApp(ctx, []byte(big), false)
	wantError(t, err, 413, "payload_too_large")
	// The server still serves.
	if _, err := admin.Apps(ctx); err != nil {
		t.Fatal(err)
	}
}

// One org never sees another's private apps, settings or keys: they answer
// 404 exactly like names that do not exist, and lists never show them.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	ctx := context.Background()
	a := s.mustOrg(t, "orga")
	b := s.mustOrg(t, "orgb")
	mustRegister(t, a, myApp)
	if _, err := a.PutSettings(ctx, "my_app", client.Settings{"default": {"region": "eu"}}); err != nil {
		t.Fatal(err)
	}
	agentA := mustKey(t, a, "agent")
	_ = agentA

	t.Run("another org's app, settings and versions answer 404 like names that do not exist", func(t *testing.T) {
		for _, name := range []string{"my_app", "my_app_orga", "my_app_orgb", "nope"} {
			_, err := b.App(ctx, name)
			ceApp := wantError(t, err, 404, "not_found")
			_, err = b.Settings(ctx, name)
			wantError(t, err, 404, "not_found")
			_, err = b.PutSettings(ctx, name, client.Settings{"default": {"region": "us"}})
			wantError(t, err, 404, "not_found")
			err = b.Install(ctx, name, "")
			wantError(t, err, 404, "not_found")
			_, err = b.AppVersion(ctx, name, "1.0.0")
			wantError(t, err, 404, "not_found")
			if name == "my_app" && strings.Contains(ceApp.Detail, "orga") {
				t.Errorf("the 404 for %s mentions the other org: %s", name, ceApp.Detail)
			}
		}
	})

	t.Run("another org's app list does not show them", func(t *testing.T) {
		apps, err := b.Apps(ctx)
		if err != nil || len(apps) != 0 {
			t.Errorf("org b lists %+v, %v", apps, err)
		}
	})

	t.Run("another org cannot delete the org's keys and lists only its own", func(t *testing.T) {
		keysA, err := a.Keys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keysA {
			wantError(t, b.DeleteKey(ctx, k.ID), 404, "not_found")
		}
		keysB, err := b.Keys(ctx)
		if err != nil || len(keysB) != 1 {
			t.Fatalf("org b's keys = %+v, %v", keysB, err)
		}
	})

	t.Run("the org's settings and keys are untouched", func(t *testing.T) {
		st, err := a.Settings(ctx, "my_app")
		if err != nil || st["default"]["region"] != "eu" {
			t.Fatalf("org a's settings = %+v, %v", st, err)
		}
		if keys, _ := a.Keys(ctx); len(keys) != 2 {
			t.Errorf("org a has %d keys, want 2", len(keys))
		}
	})

	t.Run("the same bare id registered in another org is that org's own app", func(t *testing.T) {
		v := mustRegister(t, b, myApp)
		if v.App != "my_app_orgb" {
			t.Errorf("org b's app = %s", v.App)
		}
	})
}

func TestRoles(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	ctx := context.Background()
	admin := s.mustOrg(t, "acme")
	agent := mustKey(t, admin, "agent")
	auditor := mustKey(t, admin, "auditor")
	anon := admin.WithKey("")
	bogus := admin.WithKey("sbk_not-a-key")

	tests := []struct {
		name   string
		c      *client.Client
		method string
		path   string
		body   any
		status int
	}{
		{"no key", anon, "GET", "/v1/apps/available", nil, 401},
		{"unknown key", bogus, "GET", "/v1/apps/available", nil, 401},
		{"agent creates a key", agent, "POST", "/v1/keys", map[string]string{"name": "x", "role": "admin"}, 403},
		{"auditor lists keys", auditor, "GET", "/v1/keys", nil, 403},
		{"auditor lists apps", auditor, "GET", "/v1/apps/available", nil, 403},
		{"agent registers", agent, "POST", "/v1/apps/available", json.RawMessage(myApp), 403},
		{"agent writes settings", agent, "PUT", "/v1/apps/my_app/settings", map[string]any{}, 403},
		{"agent installs", agent, "POST", "/v1/apps/my_app/install", nil, 403},
		{"admin creates an org", admin, "POST", "/v1/orgs", map[string]string{"id": "x"}, 403},
		{"admin registers a public app", admin, "POST", "/v1/apps/available?visibility=public", json.RawMessage(myApp), 403},
		{"operator registers a private app", s.op, "POST", "/v1/apps/available", json.RawMessage(myApp), 400},
		{"operator reads keys", s.op, "GET", "/v1/keys", nil, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Raw(ctx, tt.method, tt.path, tt.body)
			var ce *client.Error
			if !errorsAs(err, &ce) || ce.Status != tt.status {
				t.Fatalf("%s %s = %v, want %d", tt.method, tt.path, err, tt.status)
			}
		})
	}
	var k *client.Key // the revoked key, which the key list must not show
	t.Run("a revoked key stops working at once", func(t *testing.T) {
		key, err := admin.CreateKey(ctx, "temp", "agent")
		if err != nil {
			t.Fatal(err)
		}
		k = key
		temp := admin.WithKey(k.Key)
		if _, err := temp.Apps(ctx); err != nil {
			t.Fatal(err)
		}
		if err := admin.DeleteKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		_, err = temp.Apps(ctx)
		wantError(t, err, 401, "unauthorized")
	})
	if k == nil {
		return
	}
	t.Run("keys are listed without the key itself", func(t *testing.T) {
		raw, err := admin.Raw(ctx, "GET", "/v1/keys", nil)
		if err != nil || bytes.Contains(raw, []byte(k.Key)) || bytes.Contains(raw, []byte(`"key"`)) {
			t.Errorf("key list %s shows a key (%v)", raw, err)
		}
	})
}

func TestPublicApps(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	ctx := context.Background()
	pub := strings.Replace(myApp, "my_app", "weather", 1)
	v, err := s.op.RegisterApp(ctx, []byte(pub), true)
	if err != nil || v.App != "weather" || v.Visibility != "public" {
		t.Fatalf("public registration = %+v, %v", v, err)
	}
	if got := definition(t, v)["commands"].([]any)[0].(map[string]any)["name"]; got != "kustomer.app.weather.refundOrder" {
		t.Errorf("public command name = %v (public apps are not namespaced)", got)
	}
	a := s.mustOrg(t, "orga")
	b := s.mustOrg(t, "orgb")
	for _, c := range []*client.Client{a, b} {
		apps, err := c.Apps(ctx)
		if err != nil || len(apps) != 1 || apps[0].App != "weather" {
			t.Fatalf("apps = %+v, %v", apps, err)
		}
	}
	if err := a.Install(ctx, "weather", ""); err != nil {
		t.Fatal(err)
	}
	inA, _ := a.InstalledApps(ctx)
	inB, _ := b.InstalledApps(ctx)
	if len(inA) != 1 || len(inB) != 0 {
		t.Fatalf("installed: a %+v, b %+v", inA, inB)
	}
	// A private app of the same bare id shadows the public one for its org.
	mustRegister(t, b, pub)
	app, err := b.App(ctx, "weather")
	if err != nil || app.App != "weather_orgb" {
		t.Fatalf("org b's weather = %+v, %v", app, err)
	}
	app, err = a.App(ctx, "weather")
	if err != nil || app.App != "weather" {
		t.Fatalf("org a's weather = %+v, %v", app, err)
	}
	if err := a.Uninstall(ctx, "weather"); err != nil {
		t.Fatal(err)
	}
	wantError(t, a.Uninstall(ctx, "weather"), 404, "not_found")
}

func TestSettingsTypes(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	ctx := context.Background()
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","settings":{"default":{
		"region":{"type":"string","defaultValue":"eu"},
		"retries":{"type":"number","defaultValue":3},
		"debug":{"type":"boolean"},
		"apiKey":{"type":"secret","required":true}}}}`)
	got, err := admin.Settings(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := client.Settings{"default": {"region": "eu", "retries": json.Number("3"), "debug": nil,
		"apiKey": map[string]any{"secret": true, "set": false}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	_, err = admin.PutSettings(ctx, "shop", client.Settings{"default": {"retries": "three", "debug": 1, "apiKey": 5, "extra": 7}})
	ce := wantError(t, err, 400, "invalid_input")
	var locs []string
	for _, p := range ce.Errors {
		locs = append(locs, p.Location)
	}
	if len(locs) != 4 {
		t.Errorf("problems at %v, want 4", locs)
	}
	got, err = admin.PutSettings(ctx, "shop", client.Settings{"default": {"retries": 5, "apiKey": "k", "extra": "x"}, "other": {"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	want = client.Settings{"default": {"region": "eu", "retries": json.Number("5"), "debug": nil, "extra": "x",
		"apiKey": map[string]any{"secret": true, "set": true}}, "other": {"a": "b"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after PUT (-want +got):\n%s", diff)
	}
	// null removes a value: the default is back.
	got, err = admin.PutSettings(ctx, "shop", client.Settings{"default": {"retries": nil}})
	if err != nil || got["default"]["retries"] != json.Number("3") {
		t.Fatalf("after removing retries: %+v, %v", got, err)
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	ctx := context.Background()
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, myApp)

	t.Run("healthz and readyz answer 200", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(s.URL + path)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s = %v, %v", path, resp, err)
			}
			resp.Body.Close()
		}
	})

	t.Run("openapi.json is an OpenAPI 3.1 document with every path", func(t *testing.T) {
		resp, err := http.Get(s.URL + "/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Errorf("openapi = %q", doc.OpenAPI)
		}
		for _, want := range []string{"/v1/orgs", "/v1/keys", "/v1/keys/{id}", "/v1/apps/available", "/v1/apps/available/{app}",
			"/v1/apps/available/{app}/versions/{version}", "/v1/apps/installed", "/v1/apps/{app}/install", "/v1/apps/{app}/settings"} {
			if doc.Paths[want] == nil {
				t.Errorf("openapi.json has no path %s", want)
			}
		}
	})

	t.Run("metrics count requests by route, never by org or key", func(t *testing.T) {
		if _, err := admin.App(ctx, "my_app"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := string(body)
		for _, want := range []string{`route="POST /v1/apps/available"`, `route="GET /v1/apps/available/{app}"`, "switchboard_http_request_duration_seconds_bucket"} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if strings.Contains(m, "acme") {
			t.Error("metrics mention the org")
		}
	})

	t.Run("problems are RFC 9457 documents, unknown routes included", func(t *testing.T) {
		for _, path := range []string{"/v1/nowhere", "/v1/apps/my_app/nothing"} {
			resp, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("%s: %d %q id %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Request-Id"))
			}
		}
	})

	// The request logged is the previous step's GET /v1/nowhere.
	t.Run("one log line per request, with its id, and never a key", func(t *testing.T) {
		logs := s.logsAfter(t, `"path":"/v1/nowhere"`)
		if !strings.Contains(logs, `"request_id"`) || strings.Contains(logs, testOperatorKey) || strings.Contains(logs, "sbk_") {
			t.Errorf("logs are wrong:\n%s", logs)
		}
	})
}

func errorsAs(err error, target **client.Error) bool {
	ce, ok := err.(*client.Error)
	if ok {
		*target = ce
	}
	return ok
}
