package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// The workflow actions seed, its JSON made valid, registered and run
// against a local upstream for its real host.
func TestActionsSeed(t *testing.T) {
	t.Parallel()
	var up upstream
	srv, pool := apitest.TLSUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "up-1")
		io.WriteString(w, `{"status": "REFUNDED", "amount": 12.5}`)
	}), "api.ecommstore.com")
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true, RootCAs: pool,
		Remap: map[string]string{"api.ecommstore.com:443": srv.Listener.Addr().String()}}})
	admin := env.Org(t, "acme")
	def, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", "ecommstore-actions.json"))
	if err != nil {
		t.Fatal(err)
	}
	v := apitest.Register(t, admin, string(def))
	ctx := context.Background()
	if _, err := admin.PutSettings(ctx, "ecommstore", client.Settings{"default": {"authToken": seedSecret}}); err != nil {
		t.Fatal(err)
	}
	agent := apitest.Key(t, admin, "agent")

	t.Run("registering the seed warns once, about orderId", func(t *testing.T) {
		if len(v.Warnings) != 1 || !strings.Contains(v.Warnings[0].Message, "orderId") {
			t.Errorf("warnings = %+v, want one about orderId", v.Warnings)
		}
	})

	var out []byte
	ran := false // the run got an answer: the steps below read it or count it
	t.Run("a run sends the templated request with the secret to the real host", func(t *testing.T) {
		var err error
		out, err = agent.RunAction(ctx, "ecommstore.store.refundOrder", map[string]any{"querystring": "refund=full&notify=1"})
		if err != nil {
			t.Fatal(err)
		}
		ran = true
		got := up.last(t)
		if got.Method != "POST" || got.Path != "/orders/" || got.Query != "refund=full&notify=1" {
			t.Errorf("upstream got %s %s?%s", got.Method, got.Path, got.Query)
		}
		if got.Body != `{"refund":true}` || got.Header.Get("Content-Type") != "application/json" {
			t.Errorf("upstream body %s (%s)", got.Body, got.Header.Get("Content-Type"))
		}
		if got.Header.Get("Authorization") != "Bearer "+seedSecret {
			t.Errorf("upstream Authorization = %q", got.Header.Get("Authorization"))
		}
	})
	if !ran {
		return
	}

	t.Run("the output keeps exactly the body and the response the output template takes", func(t *testing.T) {
		var res map[string]any
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		// The output template takes /#body and /#response; the output schema
		// keeps exactly those two objects.
		wantBody := map[string]any{"status": "REFUNDED", "amount": 12.5}
		if diff := cmp.Diff(wantBody, res["body"]); diff != "" {
			t.Errorf("output body (-want +got):\n%s", diff)
		}
		resp := res["response"].(map[string]any)
		if resp["statusCode"] != float64(200) || resp["headers"].(map[string]any)["x-request-id"] != "up-1" || !cmp.Equal(resp["body"], wantBody) {
			t.Errorf("output response = %+v", resp)
		}
		if len(res) != 2 {
			t.Errorf("output has %d members, want 2: %s", len(res), out)
		}
	})

	t.Run("input outside the input schema is refused and nothing is sent", func(t *testing.T) {
		before := up.count.Load()
		_, err := agent.RunAction(ctx, "ecommstore.store.refundOrder", map[string]any{"orderId": "o-1"})
		ce := wantProblem(t, err, 400, "invalid_input")
		if len(ce.Errors) != 1 || ce.Errors[0].Location != "/input/orderId" {
			t.Errorf("problems = %+v", ce.Errors)
		}
		if up.count.Load() != before {
			t.Error("a refused input was sent")
		}
	})

	t.Run("the action list shows the sampleOutputContext", func(t *testing.T) {
		acts, err := agent.Actions(ctx)
		if err != nil || len(acts) != 1 || string(acts[0].SampleOutputContext) != `{"data":{"status":"REFUNDED"}}` {
			t.Fatalf("actions = %+v, %v", acts, err)
		}
	})

	t.Run("every spelling of the action's name gets the action", func(t *testing.T) {
		for _, name := range []string{"kustomer.app.ecommstore.store.refundOrder", "ecommstore_acme.store.refundOrder", "ecommstore.app.store.refundOrder"} {
			a, err := agent.Action(ctx, name)
			if err != nil || a.Name != "kustomer.app.ecommstore_acme.store.refundOrder" {
				t.Errorf("get %s = %+v, %v", name, a, err)
			}
		}
	})

	t.Run("every action run is audited", func(t *testing.T) {
		entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{Command: "ecommstore.store.refundOrder"})
		if err != nil || len(entries) != 1 || entries[0].Kind != "action" || entries[0].Status != 200 || entries[0].URL != "https://api.ecommstore.com/orders/?refund=full&notify=1" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})
}

// actionEnv registers one action against a plain local upstream that echoes
// what it received.
func actionEnv(t *testing.T, action string) (*client.Client, *upstream) {
	t.Helper()
	up := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := up.record(r)
		switch r.URL.Path {
		case "/fail4":
			w.WriteHeader(422)
			io.WriteString(w, `{"error":"bad order"}`)
			return
		case "/fail5":
			w.WriteHeader(503)
			io.WriteString(w, "down for maintenance")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"query": rec.Query, "body": rec.Body, "type": rec.Header.Get("Content-Type"),
			"items": []any{map[string]any{"id": 1, "tags": []string{"a", "b"}}, map[string]any{"id": 2}}})
	}))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","settings":{"default":{"region":{"type":"string","defaultValue":"eu"}}},
		"actions":[`+strings.ReplaceAll(action, "UP", srv.URL)+`]}`)
	return admin, up
}

func TestActionTemplates(t *testing.T) {
	t.Parallel()
	admin, up := actionEnv(t, `{"name":"act","type":"rest_api",
		"appSettings":{"region":{"key":"shop.default.region"}},
		"inputTemplate":{"uri":"UP/x/{{order.id}}","method":"post",
			"qs":{"region":"{{region}}","ids":"/#order.ids","filter":{"status":"/#order.status","missing":"/#nope"},"q":"a b&c"},
			"data":{"name":"/#order.customer","count":"/#order.count","flag":"/#order.flag","nothing":"/#absent","tags":["/#order.ids.1","/#gone","x"]},
			"json":true},
		"outputTemplate":{"first":"/#body.items.0","tag":"/#body.items.0.tags.1","second":"/#body.items.1.id","label":"item {{body.items.1.id}}","gone":"/#body.nope"}}`)
	out, err := admin.RunAction(context.Background(), "shop.act", map[string]any{"order": map[string]any{
		"id": "o-1", "ids": []any{7, 8}, "status": "open", "customer": map[string]any{"n": "Ann"}, "count": 3, "flag": false}})
	if err != nil {
		t.Fatal(err)
	}
	got := up.last(t)
	if got.Path != "/x/o-1" {
		t.Errorf("path = %q", got.Path)
	}
	if got.Query != "region=eu&ids%5B0%5D=7&ids%5B1%5D=8&filter%5Bstatus%5D=open&q=a%20b%26c" {
		t.Errorf("query = %q", got.Query)
	}
	// /# keeps JSON types; absent paths remove their member or element.
	if got.Body != `{"name":{"n":"Ann"},"count":3,"flag":false,"tags":[8,"x"]}` {
		t.Errorf("body = %s", got.Body)
	}
	want := `{"first":{"id":1,"tags":["a","b"]},"tag":"b","second":2,"label":"item 2"}`
	if string(out) != want {
		t.Errorf("output = %s, want %s", out, want)
	}
}

func TestActionForm(t *testing.T) {
	t.Parallel()
	admin, up := actionEnv(t, `{"name":"form","type":"rest_api",
		"inputTemplate":{"uri":"UP/form","method":"PUT","qs":"?a=1","data":{"name":"{{name}}","list":["x","y"],"nested":{"k":"v"}}}}`)
	out, err := admin.RunAction(context.Background(), "shop.form", map[string]any{"name": "Ann Lee"})
	if err != nil {
		t.Fatal(err)
	}
	got := up.last(t)
	if got.Method != "PUT" || got.Query != "a=1" || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Errorf("upstream got %s ?%s %s", got.Method, got.Query, got.Header.Get("Content-Type"))
	}
	if got.Body != "name=Ann%20Lee&list%5B0%5D=x&list%5B1%5D=y&nested%5Bk%5D=v" {
		t.Errorf("form body = %s", got.Body)
	}
	// Without json: true the body is returned as text.
	var res struct{ Body string }
	if err := json.Unmarshal(out, &res); err != nil || !strings.HasPrefix(res.Body, `{"body":"name=Ann%20Lee`) {
		t.Errorf("output = %s (%v)", out, err)
	}
}

func TestActionUpstreamErrors(t *testing.T) {
	t.Parallel()
	admin, _ := actionEnv(t, `{"name":"f4","type":"rest_api","inputTemplate":{"uri":"UP/fail4","method":"post","json":true}},
		{"name":"f5","type":"rest_api","inputTemplate":{"uri":"UP/fail5","method":"get"}}`)
	ctx := context.Background()
	_, err := admin.RunAction(ctx, "shop.f4", nil)
	ce := wantProblem(t, err, 502, "upstream_error")
	var doc map[string]any
	json.Unmarshal(ce.Raw, &doc)
	if doc["upstreamStatus"] != float64(422) || !cmp.Equal(doc["upstreamBody"], map[string]any{"error": "bad order"}) {
		t.Errorf("4xx problem = %s", ce.Raw)
	}
	_, err = admin.RunAction(ctx, "shop.f5", nil)
	ce = wantProblem(t, err, 502, "upstream_error")
	json.Unmarshal(ce.Raw, &doc)
	if doc["upstreamStatus"] != float64(503) || doc["upstreamBody"] != "down for maintenance" {
		t.Errorf("5xx problem = %s", ce.Raw)
	}
	entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{})
	if err != nil || len(entries) != 2 || entries[0].Status != 503 || entries[0].Error != "upstream_error" {
		t.Fatalf("audit = %+v, %v", entries, err)
	}
	_, err = admin.Raw(ctx, "POST", "/v1/actions/shop.f4/run", json.RawMessage(`{"inputs": {}}`))
	wantProblem(t, err, 400, "invalid_input")
	_, err = admin.RunAction(ctx, "shop.nope", nil)
	wantProblem(t, err, 404, "not_found")
}

// The origin rule holds for action uris too: input cannot move the host.
func TestActionOrigin(t *testing.T) {
	t.Parallel()
	srv, pool := apitest.TLSUpstream(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }), "*.example.com")
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true, RootCAs: pool,
		Remap: map[string]string{"acme.example.com:443": srv.Listener.Addr().String()}}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","actions":[{"name":"a","type":"rest_api",
		"inputTemplate":{"uri":"https://{{tenant}}.example.com/x","method":"get"}}]}`)
	ctx := context.Background()
	if _, err := admin.RunAction(ctx, "shop.a", map[string]any{"tenant": "acme"}); err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []any{"evil.com#", "x@evil.com", "evil.com/", 5.5, map[string]any{}} {
		_, err := admin.RunAction(ctx, "shop.a", map[string]any{"tenant": tenant})
		wantProblem(t, err, 400, "invalid_input")
	}
}
