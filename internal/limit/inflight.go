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
	mu    sync.Mutex
	n     map[inflightKey]*inflightCount
	sweep int // drop idle counts when the map grows past this
}

// inflightCount is one (org, host)'s runs in flight, guarded by its
// shard's lock. It stays in the map while idle, so that a busy pair does
// not allocate a count for each run; idle ones are swept as the map grows.
type inflightCount struct{ n int }

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
		f.shards[i].n = map[inflightKey]*inflightCount{}
		f.shards[i].sweep = 256
	}
	return f
}

// Max is the cap.
func (f *Inflight) Max() int { return f.max }

// Place is a run's place among the runs in flight. Its zero value holds
// no place.
type Place struct {
	sh *inflightShard
	c  *inflightCount
}

// Release gives the place back. Call it once.
func (p Place) Release() {
	if p.c == nil {
		return
	}
	p.sh.mu.Lock()
	p.c.n--
	p.sh.mu.Unlock()
}

func (f *Inflight) shard(org, host string) *inflightShard {
	var h maphash.Hash
	h.SetSeed(f.seed)
	h.WriteString(org)
	h.WriteByte(0)
	h.WriteString(host)
	return &f.shards[h.Sum64()%memShards]
}

// Acquire takes a place for a run of org calling host. It reports false,
// taking nothing, when max runs are in flight already.
func (f *Inflight) Acquire(org, host string) (Place, bool) {
	k := inflightKey{org, host}
	sh := f.shard(org, host)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	c := sh.n[k]
	if c == nil {
		if len(sh.n) >= sh.sweep {
			for key, x := range sh.n {
				if x.n == 0 {
					delete(sh.n, key) // no Place holds an idle count
				}
			}
			sh.sweep = max(256, 2*len(sh.n))
		}
		c = &inflightCount{}
		sh.n[k] = c
	}
	if c.n >= f.max {
		return Place{}, false
	}
	c.n++
	return Place{sh: sh, c: c}, true
}

// InFlight is how many runs of org to host are in flight.
func (f *Inflight) InFlight(org, host string) int {
	sh := f.shard(org, host)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if c := sh.n[inflightKey{org, host}]; c != nil {
		return c.n
	}
	return 0
}
