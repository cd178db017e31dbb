package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// shopDef is the seed's ecommstore with its URL on a local upstream (a host
// interpolation must be one DNS label, so the store goes in the query),
// a GET command and an action beside it.
const shopDef = `{"app":"ecommstore","version":"0.0.1","title":"E-comm Store",
  "commands":[{
    "name":"ecommstore.app.store.refundOrder","displayName":"Refund Order","permittedArgs":["store"],
    "url":"UP/orders?store={{{store}}}","httpMethod":"post","auditLogging":true,"cacheSeconds":15,
    "appSettings":{"authToken":{"key":"ecommstore.default.authToken"}},
    "inputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":false,"required":["foo"]},
    "outputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":true,"required":[]}
  },{
    "name":"ecommstore.app.store.listOrders","displayName":"List Orders","description":"The store's orders",
    "url":"UP/orders","httpMethod":"get","appSettings":{"authToken":{"key":"ecommstore.default.authToken"}}
  }],
  "actions":[{"name":"ecommstore.app.store.lookup","type":"rest_api","description":"Look an order up",
    "inputSchema":{"type":"object","properties":{"orderId":{"type":"string"}}},
    "inputTemplate":{"uri":"UP/orders/{{orderId}}","method":"get"}}]}`

const secret = "s3cret-token-value"

// recorder keeps every byte the MCP client received.
type recorder struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	auth string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+r.auth)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.mu.Lock()
	for k, vs := range resp.Header {
		fmt.Fprintf(&r.buf, "%s: %s\n", k, strings.Join(vs, ","))
	}
	r.buf.Write(b)
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, err
}

func (r *recorder) received() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

type shopEnv struct {
	env   *apitest.Env
	admin *client.Client
	agent string // the agent's key
	rec   *recorder
}

func newShop(t testing.TB, opts apitest.Options) *shopEnv {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("store") == "fail" {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":"boom"}`)
			return
		}
		fmt.Fprintf(w, `{"foo":"refunded","path":%q}`, r.URL.RequestURI())
	}))
	t.Cleanup(up.Close)
	opts.Outbound = outbound.Config{AllowPrivateNetworks: true}
	env := apitest.New(t, opts)
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, strings.ReplaceAll(shopDef, "UP", up.URL))
	if err := admin.Install(context.Background(), "ecommstore", ""); err != nil && !strings.Contains(err.Error(), "already") {
		t.Fatal(err)
	}
	if _, err := admin.PutSettings(context.Background(), "ecommstore", client.Settings{"default": {"authToken": secret}}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateKey(context.Background(), "agent", "agent")
	if err != nil {
		t.Fatal(err)
	}
	return &shopEnv{env: env, admin: admin, agent: k.Key, rec: &recorder{}}
}

// mustConnect opens an MCP session with token through rec.
func mustConnect(t testing.TB, url string, rec *recorder, token string) *sdk.ClientSession {
	t.Helper()
	cs, err := connect(url, rec, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func connect(url string, rec *recorder, token string) (*sdk.ClientSession, error) {
	r := &recorder{auth: token}
	if rec != nil {
		rec.auth = token
		r = rec
	}
	c := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, nil)
	return c.Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: url + "/mcp", HTTPClient: &http.Client{Transport: r},
		MaxRetries: -1, DisableStandaloneSSE: true}, nil)
}

func toolNames(t testing.TB, cs *sdk.ClientSession) map[string]*sdk.Tool {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*sdk.Tool{}
	for _, tool := range res.Tools {
		out[tool.Name] = tool
	}
	return out
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func call(t testing.TB, cs *sdk.ClientSession, name string, args any) *sdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

func TestTools(t *testing.T) {
	t.Parallel()
	e := newShop(t, apitest.Options{})
	ctx := context.Background()
	cs := mustConnect(t, e.env.URL, e.rec, e.agent)

	t.Run("list", func(t *testing.T) {
		tools := toolNames(t, cs)
		if len(tools) != 3 {
			t.Fatalf("tools: %v", tools)
		}
		refund := tools["ecommstore.store.refundOrder"]
		if refund == nil {
			t.Fatalf("no refundOrder tool: %v", tools)
		}
		if refund.Title != "Refund Order" || !strings.HasPrefix(refund.Description, "POST ") || !strings.Contains(refund.Description, "/orders?store={{{store}}}") {
			t.Errorf("title %q description %q", refund.Title, refund.Description)
		}
		in := asJSON(refund.InputSchema)
		for _, want := range []string{`"args":{"properties":{"store":{"type":"string"}},"type":"object"}`, `"required":["foo"]`, `"headers":{"additionalProperties":{"type":"string"},"type":"object"}`} {
			if !strings.Contains(in, want) {
				t.Errorf("inputSchema %s lacks %s", in, want)
			}
		}
		if refund.OutputSchema == nil || refund.Annotations == nil || refund.Annotations.ReadOnlyHint || refund.Annotations.OpenWorldHint == nil || !*refund.Annotations.OpenWorldHint {
			t.Errorf("outputSchema %v annotations %+v", refund.OutputSchema, refund.Annotations)
		}
		list := tools["ecommstore.store.listOrders"]
		if list == nil || !list.Annotations.ReadOnlyHint || list.Annotations.DestructiveHint == nil || *list.Annotations.DestructiveHint || list.Description != "The store's orders" {
			t.Errorf("listOrders: %s", asJSON(list))
		}
		if lookup := tools["ecommstore.store.lookup"]; lookup == nil || !strings.Contains(asJSON(lookup.InputSchema), "orderId") {
			t.Errorf("lookup: %s", asJSON(lookup))
		}
	})

	t.Run("call", func(t *testing.T) {
		res := call(t, cs, "ecommstore.store.refundOrder", map[string]any{"args": map[string]any{"store": "acme"},
			"body": map[string]any{"foo": "bar"}, "headers": map[string]any{"Authorization": "Bearer {{authToken}}"}})
		doc := asJSON(res.StructuredContent)
		if res.IsError || !strings.Contains(doc, `"status":200`) || !strings.Contains(doc, `refunded`) {
			t.Fatalf("isError %v, structuredContent %s", res.IsError, doc)
		}
		if text := res.Content[0].(*sdk.TextContent).Text; !strings.Contains(text, `refunded`) {
			t.Errorf("text %s", text)
		}
		entries, _, err := e.admin.AuditLogsRaw(ctx, client.AuditQuery{Limit: 1})
		if err != nil || len(entries) != 1 || !strings.Contains(string(entries[0]), `"via":"mcp"`) {
			t.Errorf("audit: %s %v", entries, err)
		}
	})

	t.Run("action", func(t *testing.T) {
		res := call(t, cs, "ecommstore.store.lookup", map[string]any{"orderId": "o-1"})
		// The action has no auth header: the upstream answers 401.
		if !res.IsError || !strings.Contains(asJSON(res.StructuredContent), `"code":"upstream_error"`) {
			t.Fatalf("isError %v, structuredContent %s", res.IsError, asJSON(res.StructuredContent))
		}
	})

	t.Run("upstream 500", func(t *testing.T) {
		res := call(t, cs, "ecommstore.store.refundOrder", map[string]any{"args": map[string]any{"store": "fail"},
			"body": map[string]any{"foo": "bar"}, "headers": map[string]any{"Authorization": "Bearer {{authToken}}"}})
		if doc := asJSON(res.StructuredContent); !res.IsError || !strings.Contains(doc, `"status":500`) {
			t.Fatalf("isError %v, structuredContent %s", res.IsError, doc)
		}
	})

	t.Run("schema refusal", func(t *testing.T) {
		res := call(t, cs, "ecommstore.store.refundOrder", map[string]any{"args": map[string]any{"store": "acme"}, "body": map[string]any{"bar": 1}})
		doc := asJSON(res.StructuredContent)
		if !res.IsError || !strings.Contains(doc, `"code":"invalid_input"`) || !strings.Contains(doc, `"errors":[`) {
			t.Fatalf("isError %v, structuredContent %s", res.IsError, doc)
		}
	})

	t.Run("unknown tool", func(t *testing.T) {
		// A refusal, not a protocol error (SPEC 14).
		res := call(t, cs, "ecommstore.nope", nil)
		if doc := asJSON(res.StructuredContent); !res.IsError || !strings.Contains(doc, `"code":"not_found"`) || !strings.Contains(doc, `ecommstore.nope`) {
			t.Errorf("isError %v, structuredContent %s", res.IsError, doc)
		}
	})

	t.Run("one POST without initialize", func(t *testing.T) {
		// As the README's curl: a stateless server needs no session.
		if code, body := post(t, e.env.URL, e.agent); code != http.StatusOK || !strings.Contains(body, `"name":"ecommstore.store.refundOrder"`) {
			t.Errorf("%d %s", code, body)
		}
	})

	t.Run("no secret", func(t *testing.T) {
		if got := e.rec.received(); strings.Contains(got, secret) || !strings.Contains(got, "refunded") {
			t.Errorf("the client received the secret, or nothing: %s", got)
		}
	})
}

func TestToolsSession(t *testing.T) {
	t.Parallel()
	e := newShop(t, apitest.Options{})
	ctx := context.Background()
	agent := e.admin.WithKey(e.agent)
	s, err := agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"ecommstore.store.refundOrder"}, Args: map[string]string{"store": "acme"}, Subject: "bot@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cs := mustConnect(t, e.env.URL, nil, s.Token)

	t.Run("list", func(t *testing.T) {
		tools := toolNames(t, cs)
		refund := tools["ecommstore.store.refundOrder"]
		if len(tools) != 1 || refund == nil {
			t.Fatalf("tools: %v", tools)
		}
		if in := asJSON(refund.InputSchema); !strings.Contains(in, `"args":{"properties":{},"type":"object"}`) {
			t.Errorf("the pinned arg is in the schema: %s", in)
		}
	})

	t.Run("call", func(t *testing.T) {
		res := call(t, cs, "ecommstore.store.refundOrder", map[string]any{"body": map[string]any{"foo": "bar"},
			"headers": map[string]any{"Authorization": "Bearer {{authToken}}"}})
		if doc := asJSON(res.StructuredContent); res.IsError || !strings.Contains(doc, `store=acme`) {
			t.Fatalf("isError %v, structuredContent %s", res.IsError, doc)
		}
		entries, _, err := e.admin.AuditLogsRaw(ctx, client.AuditQuery{Limit: 1})
		if err != nil || len(entries) != 1 || !strings.Contains(string(entries[0]), `"via":"mcp"`) || !strings.Contains(string(entries[0]), `"subject":"bot@example.com"`) {
			t.Errorf("audit: %s %v", entries, err)
		}
		// A command outside the session is not a tool of it: calling it
		// is refused, and nothing reaches the upstream.
		res = call(t, cs, "ecommstore.store.listOrders", nil)
		if doc := asJSON(res.StructuredContent); !res.IsError || !strings.Contains(doc, `"code":"not_found"`) {
			t.Errorf("a command outside the session: isError %v, structuredContent %s", res.IsError, doc)
		}
		// Pinned args cannot be overridden through the tool either.
		res = call(t, cs, "ecommstore.store.refundOrder", map[string]any{"args": map[string]any{"store": "other"}, "body": map[string]any{"foo": "bar"}})
		if doc := asJSON(res.StructuredContent); !res.IsError || !strings.Contains(doc, `"code":"invalid_input"`) || strings.Contains(doc, "store=other") {
			t.Errorf("overriding a pinned arg: isError %v, structuredContent %s", res.IsError, doc)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		if err := agent.DeleteSession(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.ListTools(ctx, nil); err == nil {
			t.Error("a revoked session still lists tools")
		}
		code, body := post(t, e.env.URL, s.Token)
		if code != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("%d %s", code, body)
		}
	})

	t.Run("no token", func(t *testing.T) {
		if code, body := post(t, e.env.URL, ""); code != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
			t.Errorf("%d %s", code, body)
		}
	})
}

func post(t testing.TB, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
