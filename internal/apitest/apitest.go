// Package apitest starts a whole Switchboard in the test's process, built by
// internal/server exactly as serve builds it, with knobs that tests need and
// the command line does not offer: a clock, host remapping to local
// upstreams, trusted test CAs, a given store or cache. Like net/http/httptest,
// it is for tests only.
package apitest

import (
	"bytes"
	"context"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/switchboardhq/switchboard"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/server"
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
	// ReadTimeout, MaxBodies and MaxBodiesPerKey are serve's
	// --read-timeout, --max-bodies and --max-bodies-per-key (0: defaults).
	ReadTimeout                time.Duration
	MaxBodies, MaxBodiesPerKey int
	// CompiledCacheBytes is serve's --compiled-cache-bytes (0: default).
	CompiledCacheBytes int64

	// MaxInflightPerUpstream is serve's --max-inflight-per-upstream (0:
	// default). RedisURL is serve's --redis-url (the cache, unless Cache is
	// given, and the rate limits), with its keys under RedisPrefix
	// (redistest.Prefix).
	MaxInflightPerUpstream int
	RedisURL, RedisPrefix  string
	// Workflows tunes the workflow engine (shorter retries and timeouts
	// than serve's, for tests). Unless it sets FetchPollInterval, the
	// engine polls for steps every second (River's default), so that the
	// many instances of a test binary that run no workflow cost little;
	// tests of workflows set it (serve's default is 20 ms).
	Workflows server.WorkflowConfig
}

// Env is a running test server.
type Env struct {
	URL      string
	Operator *client.Client
	Store    switchboard.Store
	Registry *registry.Registry
	Runner   *runner.Runner
	Logs     *Buffer
	// Handler is the HTTP API, for benchmarks that skip the network.
	Handler http.Handler
	Metrics *prometheus.Registry
	// Instance is the whole instance, as serve builds it.
	Instance *server.Instance
	// Dir is the data directory (it holds the SQLite database when the test
	// gave no Store).
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

// New starts a server with the production wiring (internal/server) on a
// port of 127.0.0.1; it stops when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	key := opts.SecretKey
	if key == nil {
		key = bytes.Repeat([]byte{7}, secretbox.KeySize)
	}
	logs := &Buffer{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	out := opts.Outbound
	in, err := server.New(ctx, server.Config{
		Data:               dir,
		CacheBytes:         64 << 20,
		CompiledCacheBytes: opts.CompiledCacheBytes,
		ShutdownTimeout:    5 * time.Second,
		OperatorKey:        OperatorKey,
		OAuthReturnURLs:    opts.ReturnURLs,
		ReadTimeout:        opts.ReadTimeout,
		MaxBodies:          opts.MaxBodies,
		MaxBodiesPerKey:    opts.MaxBodiesPerKey,
		Listener:           ln,
		Store:              opts.Store,
		Cache:              opts.Cache,
		SecretKeys:         [][]byte{key},
		Outbound:           &out,
		Now:                opts.Now,
		Workflows:          testWorkflows(opts.Workflows),
		Log:                slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),

		MaxInflightPerUpstream: opts.MaxInflightPerUpstream,
		RedisURL:               opts.RedisURL,
		RedisPrefix:            opts.RedisPrefix,
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := in.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &Env{URL: in.URL, Operator: client.New(in.URL, OperatorKey, nil), Store: in.Store, Registry: in.Registry, Runner: in.Runner,
		Logs: logs, Handler: in.Handler, Metrics: in.Metrics, Instance: in, Dir: dir}
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

// testWorkflows is the engine's configuration of a test instance: see
// Options.Workflows.
func testWorkflows(wc server.WorkflowConfig) server.WorkflowConfig {
	if wc.FetchPollInterval == 0 {
		wc.FetchPollInterval = time.Second
	}
	return wc
}
