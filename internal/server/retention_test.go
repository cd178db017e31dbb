package server

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

// clock is a controllable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakePruner answers PruneAudit from a count of old entries, failing on
// the call numbered failAt (from 1).
type fakePruner struct {
	switchboard.Maintenance
	mu      sync.Mutex
	left    int
	failAt  int
	calls   []int
	befores []time.Time
}

func (f *fakePruner) PruneAudit(_ context.Context, before time.Time, batch int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, batch)
	f.befores = append(f.befores, before)
	if len(f.calls) == f.failAt {
		return 0, errors.New("disk full")
	}
	n := min(batch, f.left)
	f.left -= n
	return n, nil
}

// A pass deletes batch after batch until fewer than a batch come back,
// with one cutoff for the whole pass, and logs the total; a failure is
// logged and leaves the rest to the next pass.
func TestAuditRetentionPass(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		left      int
		failAt    int
		wantCalls int
		wantTotal int
		wantLog   []string
	}{
		{"nothing to delete", 0, 0, 1, 0, nil},
		{"less than a batch", 3, 0, 1, 3, []string{`"msg":"pruned the audit log","deleted":3`}},
		{"exactly two batches", 20, 0, 3, 20, []string{`"deleted":20`}},
		{"a backlog", 45, 0, 5, 45, []string{`"deleted":45`, `"retention":"2160h0m0s"`}},
		{"a failure", 45, 3, 3, 20, []string{`"level":"WARN","msg":"prune the audit log","err":"disk full","deleted":20`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs syncBuffer
			f := &fakePruner{left: tt.left, failAt: tt.failAt}
			r := auditRetention{store: f, log: NewLogger(&Config{LogLevel: "info"}, &logs), keep: DefaultAuditRetention,
				now: func() time.Time { return now }, batch: 10, pause: time.Millisecond}
			if got := r.pass(context.Background()); got != tt.wantTotal {
				t.Errorf("pass = %d, want %d", got, tt.wantTotal)
			}
			if len(f.calls) != tt.wantCalls {
				t.Errorf("PruneAudit called %d times, want %d", len(f.calls), tt.wantCalls)
			}
			for i := range f.calls {
				if f.calls[i] != 10 || !f.befores[i].Equal(now.Add(-DefaultAuditRetention)) {
					t.Errorf("call %d: PruneAudit(%v, %d), want (%v, 10)", i, f.befores[i], f.calls[i], now.Add(-DefaultAuditRetention))
				}
			}
			for _, want := range tt.wantLog {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("logs lack %s:\n%s", want, logs.String())
				}
			}
			if tt.wantLog == nil && logs.String() != "" {
				t.Errorf("an empty pass logs at info:\n%s", logs.String())
			}
		})
	}
	t.Run("stops when its context ends", func(t *testing.T) {
		t.Parallel()
		f := &fakePruner{left: 1000}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := auditRetention{store: f, log: NewLogger(&Config{LogLevel: "info"}, &syncBuffer{}), keep: time.Hour,
			now: time.Now, batch: 10, pause: time.Hour}
		if got := r.pass(ctx); got != 10 {
			t.Errorf("pass on an ended context = %d, want one batch", got)
		}
	})
}

// An instance with --audit-retention deletes, on its clock, the entries of
// every org older than the retention, and keeps the others; without it,
// nothing is deleted.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)
	const keep = 30 * 24 * time.Hour
	entry := func(org, id string, at time.Time) switchboard.AuditEntry {
		return switchboard.AuditEntry{ID: id, Time: at, OrgID: org, Event: switchboard.AuditRun, Kind: "command", Name: "x",
			Args: map[string]string{}, Method: "GET", URL: "u"}
	}
	entries := []switchboard.AuditEntry{
		entry("a", "old-a", start.Add(-keep-time.Hour)),
		entry("b", "old-b", start.Add(-keep-time.Second)),
		entry("a", "day-a", start.Add(-keep+24*time.Hour)), // old one day later
		entry("b", "new-b", start.Add(-time.Hour)),
	}
	// instance runs an instance on a store holding entries and returns
	// a function that lists the ids left.
	instance := func(t *testing.T, retention time.Duration, c *clock) (*syncBuffer, func() []string) {
		t.Helper()
		store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		if err := store.AppendAudit(context.Background(), entries); err != nil {
			t.Fatal(err)
		}
		var logs syncBuffer
		cfg := testConfig(t)
		cfg.Store, cfg.Now, cfg.Log = store, c.Now, NewLogger(&cfg, &logs)
		cfg.AuditRetention, cfg.AuditPruneEvery = retention, 5*time.Millisecond
		in, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run = %v", err)
			}
			in.Close()
		})
		return &logs, func() []string {
			var ids []string
			for _, org := range []string{"a", "b"} {
				got, _, err := store.AuditEntries(context.Background(), org, switchboard.AuditFilter{})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range got {
					ids = append(ids, e.ID)
				}
			}
			return ids
		}
	}
	// waitFor polls ids until it answers want.
	waitFor := func(t *testing.T, ids func() []string, want []string) {
		t.Helper()
		var got []string
		for i := 0; i < 500; i++ {
			if got = ids(); cmp.Equal(want, got) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("entries left (-want +got):\n%s", cmp.Diff(want, got))
	}

	t.Run("deletes what is older than the retention", func(t *testing.T) {
		t.Parallel()
		c := &clock{now: start}
		logs, ids := instance(t, keep, c)
		waitFor(t, ids, []string{"day-a", "new-b"})
		// The pass logs once its deletes have committed, so the line may
		// come a moment after the entries are gone.
		logged := func() bool { return strings.Contains(logs.String(), `"msg":"pruned the audit log","deleted":2`) }
		for deadline := time.Now().Add(5 * time.Second); !logged() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if !logged() {
			t.Errorf("the pass is not logged:\n%s", logs.String())
		}
		c.Add(24*time.Hour + time.Second)
		waitFor(t, ids, []string{"new-b"})
		c.Add(keep)
		waitFor(t, ids, nil)
	})
	t.Run("keeps everything with 0", func(t *testing.T) {
		t.Parallel()
		c := &clock{now: start.Add(10 * keep)}
		_, ids := instance(t, 0, c)
		time.Sleep(50 * time.Millisecond) // ten intervals
		if diff := cmp.Diff([]string{"day-a", "old-a", "new-b", "old-b"}, ids()); diff != "" {
			t.Errorf("entries (-want +got):\n%s", diff)
		}
	})
}

// --audit-retention is 0 (forever) or at least an hour.
func TestValidateAuditRetention(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		retention time.Duration
		ok        bool
	}{
		{0, true},
		{DefaultAuditRetention, true},
		{time.Hour, true},
		{90 * time.Minute, true},
		{59 * time.Minute, false},
		{time.Second, false},
		{-time.Hour, false},
	} {
		cfg := testConfig(t)
		cfg.AuditRetention = tt.retention
		err := cfg.Validate()
		if tt.ok && err != nil {
			t.Errorf("Validate with %s = %v", tt.retention, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "--audit-retention must be 0 (keep the audit log forever) or at least 1h")) {
			t.Errorf("Validate with %s = %v, want the --audit-retention problem", tt.retention, err)
		}
	}
}
