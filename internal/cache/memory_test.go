package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// A cached answer costs less than twice its size plus 200 bytes of heap,
// key and bookkeeping included, with keys and documents as the runner makes
// them: a 68-byte key, and a document in a buffer with room to spare (the
// runner's encoder sizes it for the upstream's body plus 256 bytes).
func TestMemoryPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a cache with 100,000 entries")
	}
	const n = 100_000
	doc := []byte(`{"status":200,"headers":{"content-type":"application/json","date":"Tue, 01 Dec 2026 12:31:11 GMT"},"body":{"id":"r_1","foo":"12","refunded":true,"amount":12.5}`)
	m := New(1<<30, nil)
	ctx := context.Background()
	now := time.Now()
	before := heapAfterGC()
	for i := range n {
		// The key and the document are made for each run, and the runner
		// lets go of both once the answer is written.
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		key := "run:" + hex.EncodeToString(sum[:])
		d := make([]byte, len(doc), len(doc)+256)
		copy(d, doc)
		if _, err := m.Store(ctx, key, switchboard.CacheEntry{Doc: d, Status: 200, FetchedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	after := heapAfterGC()
	runtime.KeepAlive(m)
	perEntry := float64(after-before) / n
	goal := float64(2*len(doc) + 200)
	t.Logf("%.0f bytes of heap an entry for a %d-byte answer (goal: under %.0f)", perEntry, len(doc), goal)
	if perEntry >= goal {
		t.Errorf("an entry takes %.0f bytes of heap, want under %.0f (2 x %d + 200)", perEntry, goal, len(doc))
	}
}

func heapAfterGC() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
