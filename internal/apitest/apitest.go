// Package apitest starts a whole Switchboard in the test's process (store,
// registry, runner, HTTP API on an httptest server) with knobs that tests
// need and the command line does not offer: a clock, host remapping to local
// upstreams, trusted test CAs. Like net/http/httptest, it is for tests only.
package apitest

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboardhq/switchboard"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

// OperatorKey is the operator key of every test server.
const OperatorKey = "apitest-operator-key-0123456789abcdef"

// Options configure a test server.
type Options struct {
	// Store, when set, is used instead of a fresh SQLite database.
	Store switchboard.Store
	// Outbound configures the upstream client; AllowPrivateNetworks is
	// what lets tests reach httptest upstreams.
	Outbound outbound.Config
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SecretKey is the AES key (a fixed test key when nil).
	SecretKey []byte
	// Cache, when set, replaces the in-process cache of 64 MiB.
	Cache switchboard.Cache
	// ReturnURLs are the allowed prefixes of app accounts' returnUrl.
	ReturnURLs []string
}

// Env is a running test server.
type Env struct {
	URL      string
	Operator *client.Client
	Store    switchboard.Store
	Registry *registry.Registry
	Runner   *runner.Runner
	Logs     *Buffer
	Server   *httptest.Server
	Metrics  *prometheus.Registry
	// Dir holds the SQLite database (when the test gave no Store).
	Dir string
}

// Buffer is a concurrency-safe log sink.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// New starts a server; it stops when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := opts.Store
	dir := t.TempDir()
	if store == nil {
		s, err := sqlite.Open(ctx, filepath.Join(dir, "switchboard.db"))
		if err != nil {
			t.Fatal(err)
		}
		store = s
	}
	key := opts.SecretKey
	if key == nil {
		key = bytes.Repeat([]byte{7}, secretbox.KeySize)
	}
	box, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := registry.New(registry.Config{Store: store, Box: box, Log: log, OperatorKey: OperatorKey, Now: opts.Now})
	out := outbound.New(opts.Outbound)
	// The server's URL is known once it listens; the redirect URI only
	// needs it when an authorization starts.
	hs := httptest.NewUnstartedServer(nil)
	accounts := oauth.New(oauth.Config{Registry: reg, Store: store, Box: box, Outbound: out, Log: log, Now: opts.Now,
		PublicURL: "http://" + hs.Listener.Addr().String(), ReturnURLs: opts.ReturnURLs})
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// On PostgreSQL, follow the change feed's notifications as serve does.
	if l, ok := store.(interface {
		Listen(context.Context, func())
	}); ok {
		go l.Listen(ctx, reg.Notify)
	}
	promReg := prometheus.NewRegistry()
	c := opts.Cache
	if c == nil {
		mem := cache.New(64<<20, opts.Now)
		mem.RegisterMetrics(promReg)
		c = mem
	}
	run := runner.New(runner.Config{Registry: reg, Store: store, Outbound: out, Log: log, Now: opts.Now,
		Cache: c, Metrics: runner.NewMetrics(promReg), Accounts: accounts})
	srv, err := httpapi.NewServer(httpapi.Config{Registry: reg, Runner: run, OAuth: accounts, Log: log, Metrics: promReg})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		run.Close()
		cancel()
		if opts.Store == nil {
			store.Close()
		}
	})
	return &Env{URL: hs.URL, Operator: client.New(hs.URL, OperatorKey, nil), Store: store, Registry: reg, Runner: run, Logs: logs, Server: hs, Metrics: promReg, Dir: dir}
}

// Org creates an org and returns a client with its admin key.
func (e *Env) Org(t testing.TB, id string) *client.Client {
	t.Helper()
	org, err := e.Operator.CreateOrg(context.Background(), id, "")
	if err != nil {
		t.Fatalf("create org %q: %v", id, err)
	}
	return client.New(e.URL, org.AdminKey, nil)
}

// Key creates a key with a role in admin's org.
func Key(t testing.TB, admin *client.Client, role string) *client.Client {
	t.Helper()
	k, err := admin.CreateKey(context.Background(), "test "+role, role)
	if err != nil {
		t.Fatalf("create %s key: %v", role, err)
	}
	return admin.WithKey(k.Key)
}

// Register registers a private app with admin's key.
func Register(t testing.TB, admin *client.Client, def string) *client.AppVersion {
	t.Helper()
	v, err := admin.RegisterApp(context.Background(), []byte(def), false)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return v
}

// CertPool returns a pool trusting the TLS server's certificate.
func CertPool(s *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}
