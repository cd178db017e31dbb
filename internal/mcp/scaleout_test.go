package mcp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/mcp"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	var err error
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(20 * time.Millisecond) {
		if err = fn(); err == nil {
			return
		}
	}
	t.Fatalf("%s: %v", what, err)
}

// Two instances on one PostgreSQL list the same tools for a key and for a
// session, and both see an uninstall: instance two's listening agent is
// told of it.
func TestToolsTwoInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	store := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	one := newShop(t, apitest.Options{Store: store()})
	two := apitest.New(t, apitest.Options{Store: store(), Outbound: outbound.Config{AllowPrivateNetworks: true}})
	ctx := context.Background()
	s, err := one.admin.WithKey(one.agent).CreateSession(ctx, client.SessionRequest{Commands: []string{"ecommstore.store.refundOrder"}})
	if err != nil {
		t.Fatal(err)
	}
	list := func(env *apitest.Env, token string) (string, error) {
		cs, err := connect(env.URL, nil, token)
		if err != nil {
			return "", err
		}
		defer cs.Close()
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			return "", err
		}
		var names []string
		for _, tool := range res.Tools {
			names = append(names, tool.Name)
		}
		return strings.Join(names, ","), nil
	}
	for _, token := range []string{one.agent, s.Token} {
		want, err := list(one.env, token)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the same tools on instance two", func() error {
			got, err := list(two, token)
			if err != nil || got != want {
				return fmt.Errorf("%q %v, want %q", got, err, want)
			}
			return nil
		})
	}
	// An agent listening on instance two hears of an uninstall made on
	// instance one.
	_, changed := listening(t, two.URL, one.agent)
	if err := one.admin.Uninstall(ctx, "ecommstore"); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed, "an uninstall on the other instance")
	eventually(t, "no tools on instance two after the uninstall", func() error {
		got, err := list(two, one.agent)
		if err != nil || got != "" {
			return fmt.Errorf("%q %v", got, err)
		}
		return nil
	})
}

func TestToolName(t *testing.T) {
	t.Parallel()
	if got := mcp.ToolName("shop", "store.refund"); got != "shop.store.refund" {
		t.Errorf("%q", got)
	}
	long := strings.Repeat("x", 200)
	a, b := mcp.ToolName("shop", long), mcp.ToolName("shop", long+"y")
	if len(a) != mcp.MaxToolName || len(b) != mcp.MaxToolName || a == b || a != mcp.ToolName("shop", long) {
		t.Errorf("%q %q", a, b)
	}
	if got := mcp.ToolName("shop", "a b"); strings.ContainsRune(got, ' ') || !strings.HasPrefix(got, "shop.a_b-") {
		t.Errorf("%q", got)
	}
}
