package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// utf8Env is a server with an app that has a setting, a command and an
// action, and an upstream that records what it receives.
func utf8Env(t *testing.T) (*apitest.Env, *client.Client, *upstream) {
	t.Helper()
	up := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r); w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, strings.ReplaceAll(`{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"region":{"type":"string","defaultValue":"eu"}}},
		"commands":[{"name":"order","httpMethod":"post","url":"UP/orders"}],
		"actions":[{"name":"lookup","type":"rest_api","inputTemplate":{"uri":"UP/lookup","method":"post","data":{"q":"{{q}}"}}}]}`, "UP", srv.URL))
	return env, admin, up
}

// utf8At is the 1-based line and column (in bytes) of the first occurrence
// of bad in body.
func utf8At(t *testing.T, body, bad string) (line, col int) {
	t.Helper()
	off := strings.Index(body, bad)
	if off < 0 {
		t.Fatalf("%q is not in %q", bad, body)
	}
	return 1 + strings.Count(body[:off], "\n"), off - strings.LastIndexByte(body[:off], '\n')
}

// Invalid UTF-8 in any JSON body, in a string or in a member's name, is a 400
// that says where it is (line, column and JSON pointer), never replaced with
// U+FFFD and accepted.
func TestInvalidUTF8Refused(t *testing.T) {
	t.Parallel()
	env, admin, up := utf8Env(t)
	operator := env.Operator
	ctx := context.Background()
	// B is where the bad bytes go.
	cases := []struct {
		name, method, path string
		operator           bool
		body               string
		code, location     string
	}{
		{"a definition's string", "POST", "/v1/apps/available", false,
			"{\"app\":\"utf\",\"version\":\"1.0.0\",\n  \"title\":\"TB\"}", "invalid_definition", "/title"},
		{"a definition's name", "POST", "/v1/apps/available", false,
			"{\"app\":\"utf\",\"version\":\"1.0.0\",\"title\":\"T\",\n  \"commands\":[{\"naB\":1}]}", "invalid_definition", "/commands/0"},
		{"a setting's value", "PUT", "/v1/apps/shop/settings", false,
			`{"default":{"region":"eB"}}`, "invalid_input", "/default/region"},
		{"a setting's name", "PUT", "/v1/apps/shop/settings", false,
			`{"default":{"regB":"eu"}}`, "invalid_input", "/default"},
		{"a command run's arg", "POST", "/v1/commands/shop.order/run", false,
			`{"args":{"id":"1B"}}`, "invalid_input", "/args/id"},
		{"a command run's arg name", "POST", "/v1/commands/shop.order/run", false,
			`{"args":{"iBd":"1"}}`, "invalid_input", "/args"},
		{"a command run's header value", "POST", "/v1/commands/shop.order/run", false,
			`{"headers":{"X-Note":"aB"}}`, "invalid_input", "/headers/X-Note"},
		{"a command run's header name", "POST", "/v1/commands/shop.order/run", false,
			`{"headers":{"X-NB":"a"}}`, "invalid_input", "/headers"},
		{"a command run's body", "POST", "/v1/commands/shop.order/run", false,
			"{\"body\":{\"items\":[\"ok\",\n\"bB\"]}}", "invalid_input", "/body/items/1"},
		{"a command run's body member name", "POST", "/v1/commands/shop.order/run", false,
			`{"body":{"nB":1}}`, "invalid_input", "/body"},
		{"a command run's member name", "POST", "/v1/commands/shop.order/run", false,
			`{"B":1}`, "invalid_input", ""},
		{"an unfinished string of a command run", "POST", "/v1/commands/shop.order/run", false,
			`{"body":"xB`, "invalid_input", "/body"},
		{"an action run's input", "POST", "/v1/actions/shop.lookup/run", false,
			`{"input":{"q":"B"}}`, "invalid_input", "/input/q"},
		{"an action run's input name", "POST", "/v1/actions/shop.lookup/run", false,
			`{"input":{"B":1}}`, "invalid_input", "/input"},
		{"an org's name", "POST", "/v1/orgs", true,
			`{"id":"beta","name":"BB"}`, "invalid_input", "/name"},
		{"a member name of an org", "POST", "/v1/orgs", true,
			`{"id":"beta","nB":"B"}`, "invalid_input", ""},
		{"a key's name", "POST", "/v1/keys", false,
			"{\"role\":\"agent\",\n \"name\":\"kB\"}", "invalid_input", "/name"},
		{"an install's version", "POST", "/v1/apps/shop/install", false,
			`{"version":"1.0.0B"}`, "invalid_input", "/version"},
		{"an account's returnUrl", "POST", "/v1/apps/shop/accounts/authorize", false,
			`{"returnUrl":"https://example.com/B"}`, "invalid_input", "/returnUrl"},
	}
	for _, bad := range []struct{ name, bytes string }{{"0xff", "\xff"}, {"a truncated sequence", "\xe2\x82"}} {
		for _, tt := range cases {
			t.Run(tt.name+" with "+bad.name, func(t *testing.T) {
				body := strings.ReplaceAll(tt.body, "B", bad.bytes)
				c := admin
				if tt.operator {
					c = operator
				}
				_, err := c.Raw(ctx, tt.method, tt.path, []byte(body))
				ce := wantProblem(t, err, 400, tt.code)
				line, col := utf8At(t, body, bad.bytes)
				want := []client.Problem{{Message: "invalid UTF-8 in a string", Location: tt.location, Line: line, Column: col}}
				if tt.code == "invalid_definition" {
					want[0].Message = "the definition is not valid JSON: invalid UTF-8 in a string"
				}
				if diff := cmp.Diff(want, ce.Errors); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				if !strings.Contains(ce.Detail, "invalid UTF-8") {
					t.Errorf("detail %q does not say invalid UTF-8", ce.Detail)
				}
			})
		}
	}
	t.Run("the audit log's filters", func(t *testing.T) {
		for _, q := range []string{"command=%FF", "command=shop.%E2%82order", "cursor=%FF", "event=%FF"} {
			_, err := admin.Raw(ctx, "GET", "/v1/audit-logs?"+q, nil)
			ce := wantProblem(t, err, 400, "invalid_input")
			loc := "/" + q[:strings.IndexByte(q, '=')]
			if len(ce.Errors) != 1 || ce.Errors[0].Location != loc || !strings.Contains(ce.Errors[0].Message, "invalid UTF-8") {
				t.Errorf("%s: problems %+v, want one at %s saying invalid UTF-8", q, ce.Errors, loc)
			}
		}
	})
	t.Run("nothing was sent, registered or created", func(t *testing.T) {
		if n := up.count.Load(); n != 0 {
			t.Errorf("the upstream received %d requests", n)
		}
		if _, err := admin.App(ctx, "utf"); err == nil {
			t.Error("the definition was registered")
		}
		s, err := admin.Settings(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(s); bytes.Contains(got, []byte(`\ufffd`)) || bytes.Contains(got, []byte("\ufffd")) {
			t.Errorf("settings %s", got)
		}
	})
}

// Non-ASCII text, raw or escaped (surrogate pairs included), goes through
// every path unchanged. A lone escaped surrogate is accepted, as JSON.parse
// accepts it, and becomes U+FFFD, as it does when Node encodes the string
// to UTF-8.
func TestNonASCIIAccepted(t *testing.T) {
	t.Parallel()
	env, admin, up := utf8Env(t)
	ctx := context.Background()
	const text = `é 😀 \ud83d\ude00`
	const want = "é 😀 😀"

	t.Run("a definition", func(t *testing.T) {
		if _, err := admin.Raw(ctx, "POST", "/v1/apps/available", []byte(`{"app":"cafe","version":"1.0.0","title":"`+text+` \ud800"}`)); err != nil {
			t.Fatal(err)
		}
		v, err := admin.Raw(ctx, "GET", "/v1/apps/available/cafe", nil)
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Title string }
		json.Unmarshal(v, &got)
		if got.Title != want+" \ufffd" {
			t.Errorf("title %q, want %q", got.Title, want+" \ufffd")
		}
	})
	t.Run("settings", func(t *testing.T) {
		out, err := admin.Raw(ctx, "PUT", "/v1/apps/shop/settings", []byte(`{"default":{"region":"`+text+`"}}`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("settings %s, want the region %q", out, want)
		}
	})
	t.Run("a command run", func(t *testing.T) {
		if _, err := admin.Raw(ctx, "POST", "/v1/commands/shop.order/run", []byte(`{"body":{"`+text+`":"`+text+`","lone":"\ud800"}}`)); err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(up.last(t).Body), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]string{want: want, "lone": "\ufffd"}, got); diff != "" {
			t.Errorf("upstream body (-want +got):\n%s", diff)
		}
	})
	t.Run("an action run", func(t *testing.T) {
		if _, err := admin.Raw(ctx, "POST", "/v1/actions/shop.lookup/run", []byte(`{"input":{"q":"`+text+`"}}`)); err != nil {
			t.Fatal(err)
		}
		form, err := url.ParseQuery(up.last(t).Body) // the action sends a form
		if err != nil || form.Get("q") != want {
			t.Errorf("upstream form %v (%v), want q=%q", form, err, want)
		}
	})
	t.Run("an org", func(t *testing.T) {
		out, err := env.Operator.Raw(ctx, "POST", "/v1/orgs", []byte(`{"id":"beta","name":"`+text+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ Name string }
		json.Unmarshal(out, &got)
		if got.Name != want {
			t.Errorf("name %q, want %q", got.Name, want)
		}
	})
	t.Run("the audit log's filter", func(t *testing.T) {
		if _, err := admin.Raw(ctx, "GET", "/v1/audit-logs?command=caf%C3%A9", nil); err != nil {
			t.Fatal(err)
		}
	})
}
