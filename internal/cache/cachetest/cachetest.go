// Package cachetest is the conformance suite of switchboard.Cache: the
// in-process cache and the Redis cache both run it.
package cachetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Clock is a test clock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed time.
func NewClock() *Clock { return &Clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Run runs the suite; newCache returns an empty cache on the given clock.
func Run(t *testing.T, newCache func(t *testing.T, now func() time.Time) switchboard.Cache) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c switchboard.Cache, clock *Clock)
	}{
		{"StoreLookup", testStoreLookup},
		{"Expiry", testExpiry},
		{"FallbackCounts", testFallbackCounts},
		{"StoreEndsFallback", testStoreEndsFallback},
		{"ConcurrentCounts", testConcurrentCounts},
		{"ConcurrentTransitions", testConcurrentTransitions},
		{"Lock", testLock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewClock()
			tt.fn(t, newCache(t, clock.Now), clock)
		})
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func testStoreLookup(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k1"))
	if l.Entry != nil || l.Fallback || l.Probe {
		t.Fatalf("empty lookup = %+v", l)
	}
	e := switchboard.CacheEntry{Doc: []byte(`{"status":200,"body":"x"`), Status: 200, FetchedAt: clock.Now()}
	if ended, err := c.Store(ctx, "k1", e); err != nil || ended {
		t.Fatalf("Store = %v, %v; want no fallback mode ended", ended, err)
	}
	if p, err := c.Peek(ctx, "k1"); err != nil || p == nil || string(p.Doc) != string(e.Doc) {
		t.Fatalf("Peek = %+v, %v", p, err)
	}
	if p, err := c.Peek(ctx, "k2"); err != nil || p != nil {
		t.Fatalf("Peek of a missing key = %+v, %v", p, err)
	}
	l = must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k1"))
	if l.Entry == nil || string(l.Entry.Doc) != string(e.Doc) || l.Entry.Status != 200 || !l.Entry.FetchedAt.Equal(e.FetchedAt) {
		t.Fatalf("lookup = %+v", l.Entry)
	}
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k2")); l.Entry != nil {
		t.Fatal("another key sees the entry")
	}
}

func testExpiry(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()})
	clock.Advance(switchboard.CacheTTL - time.Second)
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k")); l.Entry == nil {
		t.Fatal("the entry expired before 24 hours")
	}
	clock.Advance(2 * time.Second)
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k")); l.Entry != nil {
		t.Fatal("the entry outlived 24 hours")
	}
}

// In fallback mode every 5th run is a probe: 4 of 20.
func testFallbackCounts(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	if on := must[bool](t)(c.Activate(ctx, "k")); !on {
		t.Fatal("Activate of an inactive key reported no change")
	}
	if on := must[bool](t)(c.Activate(ctx, "k")); on {
		t.Fatal("Activate of an active key reported a change")
	}
	// Peek counts no run.
	for i := 0; i < 7; i++ {
		if _, err := c.Peek(ctx, "k"); err != nil {
			t.Fatal(err)
		}
	}
	var probes []int
	for i := 1; i <= 20; i++ {
		l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k"))
		if !l.Fallback {
			t.Fatalf("run %d: fallback off", i)
		}
		if l.Probe {
			probes = append(probes, i)
		}
	}
	if fmt.Sprint(probes) != "[5 10 15 20]" {
		t.Fatalf("probes at runs %v, want [5 10 15 20]", probes)
	}
	// Activating again while on keeps counting.
	c.Activate(ctx, "k")
	for i := 21; i <= 25; i++ {
		l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k"))
		if l.Probe != (i == 25) {
			t.Fatalf("run %d: probe %v", i, l.Probe)
		}
	}
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "other")); l.Fallback {
		t.Fatal("fallback leaked to another key")
	}
}

func testStoreEndsFallback(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	c.Activate(ctx, "k")
	if ended, err := c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()}); err != nil || !ended {
		t.Fatalf("Store in fallback mode = %v, %v; want fallback mode ended", ended, err)
	}
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k")); l.Fallback || l.Entry == nil {
		t.Fatalf("after Store: %+v", l)
	}
	if ended := must[bool](t)(c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()})); ended {
		t.Fatal("a second Store reported ending fallback mode again")
	}
	// A response too large to keep still ends fallback mode.
	c.Activate(ctx, "big")
	if ended := must[bool](t)(c.Store(ctx, "big", switchboard.CacheEntry{Doc: make([]byte, 4<<20), Status: 200, FetchedAt: clock.Now()})); !ended {
		t.Fatal("Store of a large response did not report ending fallback mode")
	}
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "big")); l.Fallback {
		t.Fatal("fallback mode is still on after a Store")
	}
	// Fallback state expires too, and an expired state is not ended by a
	// Store: it had ended already.
	c.Activate(ctx, "k2")
	c.Activate(ctx, "k3")
	clock.Advance(switchboard.CacheTTL + time.Second)
	if l := must[switchboard.CacheLookup](t)(c.Lookup(ctx, "k2")); l.Fallback {
		t.Fatal("fallback outlived 24 hours")
	}
	if ended := must[bool](t)(c.Store(ctx, "k3", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()})); ended {
		t.Fatal("Store reported ending a fallback state that had expired")
	}
}

// Turning fallback mode on and off is reported to exactly one of
// concurrent callers.
func testConcurrentTransitions(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	for round := 0; round < 3; round++ {
		var on, off atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				activated, err := c.Activate(ctx, "k")
				if err != nil {
					t.Error(err)
				} else if activated {
					on.Add(1)
				}
			}()
		}
		wg.Wait()
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ended, err := c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()})
				if err != nil {
					t.Error(err)
				} else if ended {
					off.Add(1)
				}
			}()
		}
		wg.Wait()
		if on.Load() != 1 || off.Load() != 1 {
			t.Fatalf("round %d: %d callers turned fallback on and %d turned it off, want 1 and 1", round, on.Load(), off.Load())
		}
	}
}

// Counting is atomic: 100 concurrent runs make exactly 20 probes.
func testConcurrentCounts(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	c.Activate(ctx, "k")
	var probes atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := c.Lookup(ctx, "k")
			if err != nil {
				t.Error(err)
				return
			}
			if l.Probe {
				probes.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := probes.Load(); n != 20 {
		t.Fatalf("probes = %d, want 20", n)
	}
}

func testLock(t *testing.T, c switchboard.Cache, clock *Clock) {
	ctx := context.Background()
	release, ok, err := c.Lock(ctx, "k", 5*time.Second)
	if err != nil || !ok {
		t.Fatalf("first Lock = %v, %v", ok, err)
	}
	if _, ok, _ := c.Lock(ctx, "k", 5*time.Second); ok {
		t.Fatal("a held lock was granted again")
	}
	if _, ok, _ := c.Lock(ctx, "other", 5*time.Second); !ok {
		t.Fatal("another key's lock was refused")
	}
	release()
	r2, ok, _ := c.Lock(ctx, "k", 5*time.Second)
	if !ok {
		t.Fatal("a released lock was refused")
	}
	r2()
}
