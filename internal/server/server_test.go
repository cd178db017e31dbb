package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

func testConfig(t *testing.T) Config {
	return Config{
		Addr:               "127.0.0.1:0",
		Data:               t.TempDir(),
		UpstreamTimeout:    time.Second,
		MaxResponseBytes:   1 << 20,
		CacheBytes:         1 << 20,
		CompiledCacheBytes: 1 << 20,
		LogLevel:           "info",
		ShutdownTimeout:    time.Second,
		OperatorKey:        strings.Repeat("k", 32),
		SecretKeys:         [][]byte{bytes.Repeat([]byte{7}, secretbox.KeySize)},
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An instance serves until its context ends, stops every loop it started,
// and closes what it opened.
func TestRunAndShutdown(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	var logs syncBuffer
	cfg.LogOutput = &logs
	dbg, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DebugAddr = dbg.Addr().String()
	dbg.Close()
	in, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()

	t.Run("serves the API", func(t *testing.T) {
		if code, body := get(t, in.URL+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
			t.Fatalf("GET /healthz = %d %s", code, body)
		}
	})
	t.Run("serves the profiler on the debug address", func(t *testing.T) {
		if code, _ := get(t, "http://"+cfg.DebugAddr+"/debug/pprof/"); code != 200 {
			t.Fatalf("GET /debug/pprof/ = %d", code)
		}
	})
	t.Run("stops on cancel", func(t *testing.T) {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
		if err := in.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := in.Close(); err != nil {
			t.Fatalf("second Close = %v", err)
		}
		if _, err := http.Get(in.URL + "/healthz"); err == nil {
			t.Fatal("the API still answers after Close")
		}
		if _, err := http.Get("http://" + cfg.DebugAddr + "/debug/pprof/"); err == nil {
			t.Fatal("the debug listener still answers after Run returned")
		}
		if err := in.Store.Ping(context.Background()); err == nil {
			t.Fatal("the store New opened is still open after Close")
		}
		for _, want := range []string{`"msg":"listening"`, `"msg":"stopped"`} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("logs lack %s:\n%s", want, logs.String())
			}
		}
	})
}

// A store the caller gives is the caller's to close.
func TestGivenStoreStaysOpen(t *testing.T) {
	t.Parallel()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := testConfig(t)
	cfg.Store = store
	in, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if in.Store != switchboard.Store(store) {
		t.Fatal("the instance does not use the given store")
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.Ping(context.Background()); err != nil {
		t.Fatalf("the given store was closed: %v", err)
	}
}

// New reports a listener it cannot open and leaves nothing open behind it.
func TestNewFailsCleanly(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := testConfig(t)
	cfg.Addr = busy.Addr().String()
	if _, err := New(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("New on a busy address = %v, want a listen error", err)
	}
	// The SQLite database New opened was closed: a second open succeeds
	// and finds the single writer free.
	cfg.Addr = "127.0.0.1:0"
	in, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New after a failed New = %v", err)
	}
	in.Close()
}

type fakeMaintenance struct {
	switchboard.Maintenance
	mu             sync.Mutex
	changesBefore  time.Time
	statesBefore   time.Time
	failChanges    bool
	pruneCallCount int
}

func (f *fakeMaintenance) PruneChanges(_ context.Context, before time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pruneCallCount++
	f.changesBefore = before
	if f.failChanges {
		return errors.New("disk full")
	}
	return nil
}

func (f *fakeMaintenance) PruneSessions(_ context.Context, before time.Time) error { return nil }

func (f *fakeMaintenance) PruneOAuthStates(_ context.Context, before time.Time) error {
	f.statesBefore = before
	return nil
}

// Pruning keeps an hour of the change feed, drops every expired state, and
// goes on to the states when the feed fails.
func TestPruneOnce(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var logs syncBuffer
	log := NewLogger(&Config{LogLevel: "info"}, &logs)
	f := &fakeMaintenance{failChanges: true}
	pruneOnce(context.Background(), f, log, now)
	if want := now.Add(-time.Hour); !f.changesBefore.Equal(want) {
		t.Errorf("changes pruned before %v, want %v", f.changesBefore, want)
	}
	if !f.statesBefore.Equal(now) {
		t.Errorf("states pruned before %v, want %v", f.statesBefore, now)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Errorf("the failure is not logged: %s", logs.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
