package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// A version whose compiled definition was evicted (here the budget keeps
// nothing beyond installed versions) still resolves: it can be read, and an
// org that installs it runs it, compiled again from the stored definition.
func TestEvictedVersionStillRuns(t *testing.T) {
	t.Parallel()
	var up upstream
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r); w.Write([]byte(`{}`)) }))
	t.Cleanup(srv.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}, CompiledCacheBytes: 1})
	ctx := context.Background()
	for i := range 3 {
		def := fmt.Sprintf(`{"app":"catalog","version":"1.0.%d","title":"Catalog %d","commands":[{"name":"get","httpMethod":"get","url":"%s/v%d"}]}`, i, i, srv.URL, i)
		if _, err := env.Operator.RegisterApp(ctx, []byte(def), true); err != nil {
			t.Fatalf("register 1.0.%d: %v", i, err)
		}
	}
	acme := env.Org(t, "acme")
	beta := env.Org(t, "beta")
	runtime.GC() // nothing refers to the versions now: they are gone
	compiles := env.Registry.CompiledStats().Compiles

	runs := func(t *testing.T, c *client.Client, wantPath string) {
		t.Helper()
		if _, err := c.RunCommand(ctx, "catalog.get", client.RunRequest{}); err != nil {
			t.Fatal(err)
		}
		if got := up.last(t).Path; got != wantPath {
			t.Errorf("the upstream was called on %s, want %s", got, wantPath)
		}
	}
	t.Run("an old version can be read", func(t *testing.T) {
		v, err := acme.AppVersion(ctx, "catalog", "1.0.0")
		if err != nil {
			t.Fatal(err)
		}
		if v.Version != "1.0.0" || !strings.Contains(string(v.Definition), `"Catalog 0"`) {
			t.Errorf("version = %s %s, want 1.0.0 titled Catalog 0", v.Version, v.Definition)
		}
	})
	t.Run("an org that installs it runs it", func(t *testing.T) {
		if err := acme.Install(ctx, "catalog", "1.0.0"); err != nil {
			t.Fatal(err)
		}
		runs(t, acme, "/v0")
		if got := env.Registry.CompiledStats().Compiles; got <= compiles {
			t.Errorf("compiles = %d, want more than %d: the version was not evicted, so this proves nothing", got, compiles)
		}
	})
	t.Run("another org runs the latest meanwhile", func(t *testing.T) {
		if err := beta.Install(ctx, "catalog", ""); err != nil {
			t.Fatal(err)
		}
		runs(t, beta, "/v2")
		runs(t, acme, "/v0")
	})
	t.Run("an upgrade to another old version", func(t *testing.T) {
		runtime.GC()
		if err := acme.Install(ctx, "catalog", "1.0.1"); err != nil {
			t.Fatal(err)
		}
		runs(t, acme, "/v1")
		runs(t, beta, "/v2")
		list, err := acme.InstalledApps(ctx)
		if err != nil || len(list) != 1 || list[0].Version != "1.0.1" {
			t.Errorf("installed = %+v, %v", list, err)
		}
	})
}
