package mcp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
)

// bearerTransport adds a token to every request and leaves the answers
// alone (a listen stream's answer never ends, so it cannot be recorded
// whole).
type bearerTransport string

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+string(b))
	return http.DefaultTransport.RoundTrip(req)
}

// listening connects a client that listens for list changes (the SDK opens
// a subscriptions/listen stream for it) and returns the channel its
// notifications arrive on.
func listening(t *testing.T, url, token string) (*sdk.ClientSession, <-chan struct{}) {
	t.Helper()
	changed := make(chan struct{}, 16)
	c := sdk.NewClient(&sdk.Implementation{Name: "test", Version: "1"}, &sdk.ClientOptions{
		ToolListChangedHandler: func(context.Context, *sdk.ToolListChangedRequest) { changed <- struct{}{} },
	})
	cs, err := c.Connect(context.Background(), &sdk.StreamableClientTransport{Endpoint: url + "/mcp",
		HTTPClient: &http.Client{Transport: bearerTransport(token)}, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, changed
}

// waitChanged waits for a list_changed notification. The bound is generous
// for a busy machine; SPEC 14's second is what the change feed gives.
func waitChanged(t *testing.T, changed <-chan struct{}, after string) {
	t.Helper()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatalf("no notifications/tools/list_changed after %s", after)
	}
}

func TestToolsListChanged(t *testing.T) {
	t.Parallel()
	e := newShop(t, apitest.Options{})
	ctx := context.Background()
	cs, changed := listening(t, e.env.URL, e.agent)
	if n := len(toolNames(t, cs)); n != 3 {
		t.Fatalf("%d tools", n)
	}

	t.Run("a new version installed", func(t *testing.T) {
		def := strings.Replace(strings.ReplaceAll(shopDef, "UP", "https://shop.example.com"), `"version":"0.0.1"`, `"version":"0.0.2"`, 1)
		def = strings.Replace(def, `"commands":[{`, `"commands":[{"name":"ecommstore.app.store.cancelOrder","url":"https://shop.example.com/cancel","httpMethod":"post"},{`, 1)
		apitest.Register(t, e.admin, def)
		if err := e.admin.Install(ctx, "ecommstore", "0.0.2"); err != nil {
			t.Fatal(err)
		}
		waitChanged(t, changed, "an install")
		if tools := toolNames(t, cs); len(tools) != 4 || tools["ecommstore.store.cancelOrder"] == nil {
			t.Errorf("tools after the install: %v", tools)
		}
	})

	t.Run("uninstalled", func(t *testing.T) {
		if err := e.admin.Uninstall(ctx, "ecommstore"); err != nil {
			t.Fatal(err)
		}
		waitChanged(t, changed, "an uninstall")
		if tools := toolNames(t, cs); len(tools) != 0 {
			t.Errorf("tools after the uninstall: %v", tools)
		}
	})

	t.Run("a change elsewhere is not told", func(t *testing.T) {
		other := e.env.Org(t, "other")
		apitest.Register(t, other, `{"app":"otherapp","version":"1.0.0","title":"Other","commands":[{"name":"otherapp.app.x.y","url":"https://x.example.com/","httpMethod":"get"}]}`)
		if err := other.Install(ctx, "otherapp", ""); err != nil && !strings.Contains(err.Error(), "already") {
			t.Fatal(err)
		}
		select {
		case <-changed:
			t.Error("another org's install notified this org's stream")
		case <-time.After(500 * time.Millisecond):
		}
	})
}

// A session's stream is told when the session is revoked, and the session's
// calls are refused from then on.
func TestToolsListChangedRevoked(t *testing.T) {
	t.Parallel()
	e := newShop(t, apitest.Options{})
	ctx := context.Background()
	agent := e.admin.WithKey(e.agent)
	s, err := agent.CreateSession(ctx, client.SessionRequest{Commands: []string{"ecommstore.*"}})
	if err != nil {
		t.Fatal(err)
	}
	cs, changed := listening(t, e.env.URL, s.Token)
	if n := len(toolNames(t, cs)); n != 2 {
		t.Fatalf("%d tools", n)
	}
	if err := agent.DeleteSession(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed, "the session's revocation")
	if _, err := cs.ListTools(ctx, nil); err == nil {
		t.Error("a revoked session still lists tools")
	}
}
