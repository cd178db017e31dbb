package tmpl

import (
	"hash/maphash"
	"sync"
)

// Cache holds compiled templates by source, for templates that arrive with
// each request. It is bounded, safe for concurrent use, and a hit takes only
// a shard's read lock and allocates nothing.
type Cache struct {
	shards []cacheShard
	seed   maphash.Seed
}

type cacheShard struct {
	mu      sync.RWMutex
	m       map[string]cacheEntry
	max     int // entries in this shard
	maxErrs int // of which errors
	errs    int
	_       [64]byte // keep shards on separate cache lines
}

type cacheEntry struct {
	t   *Template
	err error
}

// MaxCachedSource is the longest source the cache keeps: a longer one is
// parsed on every Get, so that the cache's memory stays bounded by about
// maxEntries × MaxCachedSource.
const MaxCachedSource = 64 << 10

const cacheShards = 16

// NewCache returns a cache of at most maxEntries templates (at least one per
// shard). Errors are cached too, up to a quarter of the entries, so that a
// flood of bad templates cannot evict the good ones.
func NewCache(maxEntries int) *Cache {
	n := cacheShards
	if maxEntries < n {
		n = 1
	}
	per := max(maxEntries/n, 1)
	c := &Cache{shards: make([]cacheShard, n), seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry, per)
		c.shards[i].max = per
		c.shards[i].maxErrs = max(per/4, 1)
	}
	return c
}

// Get returns the template compiled from src, parsing it on a miss.
func (c *Cache) Get(src string) (*Template, error) {
	s := &c.shards[0]
	if len(c.shards) > 1 {
		s = &c.shards[maphash.String(c.seed, src)%uint64(len(c.shards))]
	}
	s.mu.RLock()
	e, ok := s.m[src]
	s.mu.RUnlock()
	if ok {
		return e.t, e.err
	}
	t, err := Parse(src)
	if len(src) > MaxCachedSource {
		return t, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[src]; ok { // parsed concurrently
		return e.t, e.err
	}
	if err != nil && s.errs >= s.maxErrs {
		return nil, err
	}
	if len(s.m) >= s.max {
		// Evict one entry. Go's map iteration starts at a random place, so
		// this is random eviction: simple, and as good as LRU for a cache
		// whose hot set fits.
		for k, old := range s.m {
			if old.err != nil {
				s.errs--
			}
			delete(s.m, k)
			break
		}
	}
	s.m[src] = cacheEntry{t, err}
	if err != nil {
		s.errs++
	}
	return t, err
}

// Len returns the number of cached entries.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
