package registry_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

// largeDefinition returns a definition of the app "big" with n commands,
// each with a URL template, a secret setting and two schemas: about 500
// bytes of JSON and 6 KiB compiled per command.
func largeDefinition(version string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `{"app":"big","version":%q,"title":"Big","settings":{"default":{"authToken":{"type":"secret"}}},"commands":[`, version)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"big.app.store.cmd%d","displayName":"Command %d","permittedArgs":["store","id"],`+
			`"url":"https://{{{store}}}.example.com/orders/{{id}}/items%d","httpMethod":"post",`+
			`"appSettings":{"authToken":{"key":"big.default.authToken"}},`+
			`"inputSchema":{"type":"object","properties":{"foo":{"type":"string"},"qty":{"type":"integer"}},"additionalProperties":false,"required":["foo"]},`+
			`"outputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":true,"required":[]}}`, i, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// liveHeap returns the bytes of live objects, after collecting twice so
// that objects freed by cleanups of the first collection are gone too.
func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// mustRegistryWith is mustRegistry with a compiled-definition budget.
func mustRegistryWith(t *testing.T, compiledCacheBytes int64) *registry.Registry {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	r := registry.New(registry.Config{Store: store, Box: box, OperatorKey: operatorKey, CompiledCacheBytes: compiledCacheBytes,
		Now: func() time.Time { return testNow }})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

// Registering many versions of a large app keeps in memory the version the
// org has installed and at most the budget of the others, not every version
// ever registered (about 3 MiB each here, 300 MiB for the 100).
//
// Not parallel: it measures the whole process's heap, and parallel tests
// wait until the sequential ones are done.
func TestCompiledCacheBoundsHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("registers 100 large versions")
	}
	const (
		versions = 100
		commands = 500
		budget   = 8 << 20
		margin   = 16 << 20 // the installed version, the org's state, the store's buffers
	)
	r := mustRegistryWith(t, budget)
	acme, _ := mustOrg(t, r, "acme")
	ctx := t.Context()
	// One version first, so that the baseline holds what every instance
	// holds once it has served an org.
	mustRegister(t, r, acme, largeDefinition("1.0.0", commands), false)
	if _, err := r.Org(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	before := liveHeap()
	for i := 2; i <= versions; i++ {
		mustRegister(t, r, acme, largeDefinition(fmt.Sprintf("1.0.%d", i), commands), false)
		// A run in between: the org's state follows its private app to
		// the new version.
		s, err := r.Org(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.App("big_acme").Version, fmt.Sprintf("1.0.%d", i); got != want {
			t.Fatalf("installed version = %s, want %s", got, want)
		}
	}
	after := liveHeap()
	grown := int64(after) - int64(before)
	t.Logf("live heap: %.1f MiB before, %.1f MiB after %d versions of %d commands (grown %.1f MiB; budget %d MiB + margin %d MiB)",
		mib(before), mib(after), versions, commands, float64(grown)/(1<<20), budget>>20, margin>>20)
	if grown > budget+margin {
		t.Errorf("the live heap grew by %.1f MiB registering %d versions, want at most the budget and margin, %d MiB",
			float64(grown)/(1<<20), versions-1, (budget+margin)>>20)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// The estimate of a compiled definition's heap, on which the budget
// depends, stays near what it measures: re-measure compiledBytesPerJSONByte
// when this fails (go test -run TestCompiledSizeEstimate -v ./internal/registry/).
//
// Not parallel: it measures the whole process's heap.
func TestCompiledSizeEstimate(t *testing.T) {
	const copies = 4
	def := largeDefinition("1.0.0", 500)
	apps := make([]*appdef.App, 0, copies)
	before := liveHeap()
	for range copies {
		app, _, err := appdef.Parse(def, appdef.Options{OrgID: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	measured := float64(liveHeap()-before) / copies
	estimate := float64(registry.CompiledSize(apps[0]))
	t.Logf("a compiled definition of %d bytes of JSON: %.0f bytes measured (%.2f per byte), %.0f estimated",
		len(apps[0].JSON), measured, measured/float64(len(apps[0].JSON)), estimate)
	if estimate < measured*0.75 || estimate > measured*1.5 {
		t.Errorf("the estimate is %.2f times the measured size, want 0.75 to 1.5", estimate/measured)
	}
	runtime.KeepAlive(apps)
}
