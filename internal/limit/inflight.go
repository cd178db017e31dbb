package limit

import (
	"hash/maphash"
	"sync"
)

// Inflight caps the runs in flight per (org, upstream host), so that one
// slow upstream cannot hold every worker: a run beyond the cap is refused
// at once rather than queued. The count is per instance. Safe for
// concurrent use.
type Inflight struct {
	max    int
	seed   maphash.Seed
	shards [memShards]inflightShard
}

type inflightShard struct {
	mu sync.Mutex
	n  map[inflightKey]int
}

type inflightKey struct{ org, host string }

// DefaultMaxInflight is the cap of --max-inflight-per-upstream.
const DefaultMaxInflight = 64

// NewInflight returns a cap of max runs per (org, host); max <= 0 is
// DefaultMaxInflight.
func NewInflight(max int) *Inflight {
	if max <= 0 {
		max = DefaultMaxInflight
	}
	f := &Inflight{max: max, seed: maphash.MakeSeed()}
	for i := range f.shards {
		f.shards[i].n = map[inflightKey]int{}
	}
	return f
}

// Max is the cap.
func (f *Inflight) Max() int { return f.max }

// Acquire takes a place for a run of org calling host. It reports false,
// taking nothing, when max runs are in flight already; otherwise release
// gives the place back (call it once).
func (f *Inflight) Acquire(org, host string) (release func(), ok bool) {
	k := inflightKey{org, host}
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(org)
	h.WriteByte(0)
	h.WriteString(host)
	sh := &f.shards[h.Sum64()%memShards]
	sh.mu.Lock()
	if sh.n[k] >= f.max {
		sh.mu.Unlock()
		return nil, false
	}
	sh.n[k]++
	sh.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			sh.mu.Lock()
			if sh.n[k] <= 1 {
				delete(sh.n, k)
			} else {
				sh.n[k]--
			}
			sh.mu.Unlock()
		})
	}, true
}

// InFlight is how many runs of org to host are in flight.
func (f *Inflight) InFlight(org, host string) int {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(org)
	h.WriteByte(0)
	h.WriteString(host)
	sh := &f.shards[h.Sum64()%memShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.n[inflightKey{org, host}]
}
