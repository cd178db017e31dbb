package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// A value interpolated into the path stays in its segment and one in the
// query stays in its parameter, in every spelling (SPEC 4.3); a refusal is
// a 400 at the value's location naming the character, and nothing is sent,
// least of all the app's secret header. Values that only look unusual go
// through unchanged.
func TestPathAndQueryInjection(t *testing.T) {
	t.Parallel()
	var up upstream
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r); w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, strings.ReplaceAll(`{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"token":{"type":"secret"}}},
		"commands":[{"name":"order","httpMethod":"get","url":"UP/orders/{{{order}}}/items?region={{{region}}}&v=1",
			"permittedArgs":["order","region"],"appSettings":{"token":{"key":"shop.default.token"}}},
			{"name":"escaped","httpMethod":"get","url":"UP/orders/{{order}}","permittedArgs":["order"]}],
		"actions":[{"name":"lookup","type":"rest_api","inputSchema":{"type":"object","properties":{"orderId":{"type":"string"}}},
			"inputTemplate":{"uri":"UP/orders/{{orderId}}","method":"get"}}]}`, "UP", srv.URL))
	ctx := context.Background()
	if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"token": "s3cret-token"}}); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, cmd, arg, value string) error {
		t.Helper()
		args := map[string]string{"order": "1"}
		if cmd == "order" {
			args["region"] = "eu"
		}
		args[arg] = value
		_, err := admin.RunCommand(ctx, "shop."+cmd, client.RunRequest{Headers: map[string]string{"X-Token": "{{token}}"}, Args: args})
		return err
	}
	refused := []struct{ cmd, arg, value, char string }{
		{"order", "order", "1/../../secret", "/"},
		{"order", "order", "1?admin=true", "?"},
		{"order", "order", "1#x", "#"},
		{"order", "order", `1\..\secret`, `\`},
		{"order", "order", "1%2f..%2fsecret", "/"},
		{"order", "order", "1%2F", "/"},
		{"order", "order", "1%5C", `\`},
		{"order", "order", "1%3f", "?"},
		{"order", "order", "1%23", "#"},
		{"order", "order", "1%252F", "/"},
		{"order", "order", "..", ".."},
		{"order", "order", ".", "."},
		{"order", "order", "%2E%2E", "%2E%2E"},
		{"order", "order", "%2e.", "%2e."},
		{"order", "order", "%252e%252E", "%252e%252E"},
		{"order", "region", "eu&admin=true", "&"},
		{"order", "region", "eu;admin", ";"},
		{"order", "region", "eu=x", "="},
		{"order", "region", "eu#x", "#"},
		{"escaped", "order", "o'1", "#"}, // {{order}} escapes ' into &#x27;
	}
	for _, tt := range refused {
		t.Run("refused "+tt.cmd+" "+tt.arg+" "+strings.ReplaceAll(tt.value, "/", "∕"), func(t *testing.T) {
			ce := wantProblem(t, run(t, tt.cmd, tt.arg, tt.value), 400, "invalid_input")
			if len(ce.Errors) != 1 || ce.Errors[0].Location != "/args/"+tt.arg {
				t.Fatalf("problems %+v, want one at /args/%s", ce.Errors, tt.arg)
			}
			if !strings.Contains(ce.Errors[0].Message, "'"+tt.char+"'") {
				t.Errorf("message %q does not name %q", ce.Errors[0].Message, tt.char)
			}
		})
	}
	t.Run("nothing was sent", func(t *testing.T) {
		if n := up.count.Load(); n != 0 {
			t.Fatalf("the upstream received %d requests", n)
		}
	})

	accepted := []struct{ arg, value, path, query string }{
		{"order", "a%20b", "/orders/a b/items", "region=eu&v=1"},
		{"order", "caf%C3%A9", "/orders/café/items", "region=eu&v=1"},
		{"order", "a.b", "/orders/a.b/items", "region=eu&v=1"},
		{"order", "...", "/orders/.../items", "region=eu&v=1"},
		{"region", "a/b?c", "/orders/1/items", "region=a/b?c&v=1"},
		{"region", "a%26b", "/orders/1/items", "region=a%26b&v=1"},
	}
	for _, tt := range accepted {
		t.Run("accepted "+tt.arg+" "+strings.ReplaceAll(tt.value, "/", "∕"), func(t *testing.T) {
			if err := run(t, "order", tt.arg, tt.value); err != nil {
				t.Fatal(err)
			}
			got := up.last(t)
			if got.Path != tt.path || got.Query != tt.query {
				t.Errorf("sent %s?%s, want %s?%s", got.Path, got.Query, tt.path, tt.query)
			}
			if got.Header.Get("X-Token") != "s3cret-token" {
				t.Errorf("the secret header = %q", got.Header.Get("X-Token"))
			}
		})
	}

	t.Run("an action's uri follows the same rule", func(t *testing.T) {
		before := up.count.Load()
		for _, v := range []string{"1/../admin", "1%2F..", "..", "1?x=1"} {
			_, err := admin.RunAction(ctx, "shop.lookup", map[string]any{"orderId": v})
			ce := wantProblem(t, err, 400, "invalid_input")
			if len(ce.Errors) != 1 || ce.Errors[0].Location != "/input/orderId" {
				t.Errorf("%q: problems %+v, want one at /input/orderId", v, ce.Errors)
			}
		}
		if n := up.count.Load(); n != before {
			t.Fatalf("the upstream received %d requests", n-before)
		}
		if _, err := admin.RunAction(ctx, "shop.lookup", map[string]any{"orderId": "o-1"}); err != nil {
			t.Fatal(err)
		}
		if got := up.last(t); got.Path != "/orders/o-1" {
			t.Errorf("sent %s", got.Path)
		}
	})
}
