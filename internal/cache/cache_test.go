package cache

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
)

func TestConformance(t *testing.T) {
	cachetest.Run(t, func(t *testing.T, now func() time.Time) switchboard.Cache { return New(64<<20, now) })
}

// The memory budget holds: the least recently used entries go first.
func TestBudget(t *testing.T) {
	clock := cachetest.NewClock()
	m := New(shards*1000, clock.Now) // 1000 bytes a shard
	ctx := context.Background()
	doc := make([]byte, 300)
	for i := 0; i < 2000; i++ {
		m.Store(ctx, fmt.Sprint("k", i), switchboard.CacheEntry{Doc: doc, Status: 200, FetchedAt: clock.Now()})
	}
	bytes, entries := m.Stats()
	if bytes > shards*1000 || entries == 0 {
		t.Fatalf("stats = %d bytes, %d entries; budget %d", bytes, entries, shards*1000)
	}
	// The newest entry is kept; the oldest is gone.
	if l, _ := m.Lookup(ctx, "k1999"); l.Entry == nil {
		t.Error("the newest entry was evicted")
	}
	if l, _ := m.Lookup(ctx, "k0"); l.Entry != nil {
		t.Error("the oldest entry was kept")
	}
	// An entry larger than a shard's budget is not cached at all.
	m.Store(ctx, "huge", switchboard.CacheEntry{Doc: make([]byte, 5000), Status: 200, FetchedAt: clock.Now()})
	if l, _ := m.Lookup(ctx, "huge"); l.Entry != nil {
		t.Error("an entry over budget was cached")
	}
}

func BenchmarkLookupHit(b *testing.B) {
	m := New(64<<20, nil)
	ctx := context.Background()
	m.Store(ctx, "run:abc", switchboard.CacheEntry{Doc: make([]byte, 200), Status: 200, FetchedAt: time.Now()})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l, _ := m.Lookup(ctx, "run:abc"); l.Entry == nil {
				b.Fatal("miss")
			}
		}
	})
}
