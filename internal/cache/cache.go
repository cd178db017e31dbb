// Package cache is the in-process implementation of switchboard.Cache: run
// responses in a memory budget with least-recently-used eviction and 24-hour
// expiry, and the fallback state of each key. It is sharded so that
// concurrent runs of different keys rarely wait for one another.
package cache

import (
	"context"
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
)

const shards = 32

// entryOverhead approximates the memory of an entry besides its document
// and its key: the item and the map slot.
const entryOverhead = 160

// Memory is an in-process cache. Its zero value is not usable; call New.
type Memory struct {
	budget int64 // per shard
	now    func() time.Time
	seed   maphash.Seed
	shards [shards]shard
}

type shard struct {
	mu       sync.Mutex
	entries  map[string]*item
	head     *item // the most recently used; the LRU list runs through the items
	tail     *item // the least recently used
	bytes    int64
	fallback map[string]*fallbackState
	locks    map[string]time.Time // lock holder's deadline
}

// item is an entry and its place in the shard's LRU list. It is kept small
// (its expiry and size are computed, the list is threaded through the items
// rather than kept in container/list elements of their own) because there is
// one for every cached answer: TestMemoryPerEntry holds an entry, key and
// bookkeeping included, under twice its document's size plus 200 bytes.
type item struct {
	key        string
	entry      switchboard.CacheEntry
	prev, next *item
}

func (it *item) size() int64 { return int64(len(it.entry.Doc)+len(it.key)) + entryOverhead }

func (it *item) expires() time.Time { return it.entry.FetchedAt.Add(switchboard.CacheTTL) }

type fallbackState struct {
	runs    int
	expires time.Time
}

// New returns a cache holding at most budget bytes of responses. now is the
// clock (time.Now when nil), so that tests control expiry.
func New(budget int64, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{budget: max(budget/shards, 1), now: now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		s := &m.shards[i]
		s.entries = map[string]*item{}
		s.fallback = map[string]*fallbackState{}
		s.locks = map[string]time.Time{}
	}
	return m
}

var _ switchboard.Cache = (*Memory)(nil)

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shards]
}

// Lookup implements switchboard.Cache.
func (m *Memory) Lookup(_ context.Context, key string) (switchboard.CacheLookup, error) {
	now := m.now()
	s := m.shard(key)
	var l switchboard.CacheLookup
	s.mu.Lock()
	if it, ok := s.entries[key]; ok {
		if now.Before(it.expires()) {
			s.moveToFront(it)
			e := it.entry
			l.Entry = &e
		} else {
			s.remove(it)
		}
	}
	if f, ok := s.fallback[key]; ok {
		if now.Before(f.expires) {
			f.runs++
			l.Fallback = true
			l.Probe = f.runs%switchboard.ProbeEvery == 0
		} else {
			delete(s.fallback, key)
		}
	}
	s.mu.Unlock()
	return l, nil
}

// Peek implements switchboard.Cache.
func (m *Memory) Peek(_ context.Context, key string) (*switchboard.CacheEntry, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.entries[key]; ok && now.Before(it.expires()) {
		e := it.entry
		return &e, nil
	}
	return nil, nil
}

// Store implements switchboard.Cache.
func (m *Memory) Store(_ context.Context, key string, e switchboard.CacheEntry) (bool, error) {
	now := m.now()
	if cap(e.Doc) > len(e.Doc) {
		// The document is kept for a day: not the spare room of the buffer
		// it was encoded in.
		e.Doc = append(make([]byte, 0, len(e.Doc)), e.Doc...)
	}
	it := &item{key: key, entry: e}
	size := it.size()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.fallback[key]
	ended := ok && now.Before(f.expires)
	delete(s.fallback, key)
	if old, ok := s.entries[key]; ok {
		s.remove(old)
	}
	if size > m.budget {
		return ended, nil // larger than the shard's whole budget: not cached
	}
	for s.bytes+size > m.budget {
		s.remove(s.tail)
	}
	s.entries[key] = it
	s.pushFront(it)
	s.bytes += size
	return ended, nil
}

// remove takes it out of the shard.
func (s *shard) remove(it *item) {
	s.unlink(it)
	delete(s.entries, it.key)
	s.bytes -= it.size()
}

func (s *shard) pushFront(it *item) {
	it.prev, it.next = nil, s.head
	if s.head != nil {
		s.head.prev = it
	}
	s.head = it
	if s.tail == nil {
		s.tail = it
	}
}

func (s *shard) unlink(it *item) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		s.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		s.tail = it.prev
	}
	it.prev, it.next = nil, nil
}

func (s *shard) moveToFront(it *item) {
	if s.head == it {
		return
	}
	s.unlink(it)
	s.pushFront(it)
}

// Activate implements switchboard.Cache.
func (m *Memory) Activate(_ context.Context, key string) (bool, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.fallback[key]; ok && now.Before(f.expires) {
		return false, nil
	}
	if len(s.fallback) >= maxFallbackPerShard {
		s.sweep(now)
	}
	s.fallback[key] = &fallbackState{expires: now.Add(switchboard.CacheTTL)}
	return true, nil
}

// maxFallbackPerShard is when a shard sweeps out expired fallback states and
// locks, so that keys that failed once and were never asked again do not
// pile up.
const maxFallbackPerShard = 4096

func (s *shard) sweep(now time.Time) {
	for k, f := range s.fallback {
		if !now.Before(f.expires) {
			delete(s.fallback, k)
		}
	}
	for k, until := range s.locks {
		if !now.Before(until) {
			delete(s.locks, k)
		}
	}
}

// Lock implements switchboard.Cache. In one process the runner's own single
// flight already makes one fetch per key; the lock exists for callers that
// do not.
func (m *Memory) Lock(_ context.Context, key string, ttl time.Duration) (func(), bool, error) {
	now := m.now()
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, held := s.locks[key]; held && now.Before(until) {
		return func() {}, false, nil
	}
	if len(s.locks) >= maxFallbackPerShard {
		s.sweep(now)
	}
	deadline := now.Add(ttl)
	s.locks[key] = deadline
	return func() {
		s.mu.Lock()
		if s.locks[key] == deadline {
			delete(s.locks, key)
		}
		s.mu.Unlock()
	}, true, nil
}

// Stats reports the bytes and entries held.
func (m *Memory) Stats() (bytes int64, entries int) {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		bytes += s.bytes
		entries += len(s.entries)
		s.mu.Unlock()
	}
	return bytes, entries
}

// RegisterMetrics reports the cache's size in bytes and entries as gauges.
func (m *Memory) RegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_cache_bytes", Help: "Bytes of responses held by the in-process cache."},
			func() float64 { b, _ := m.Stats(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_cache_entries", Help: "Responses held by the in-process cache."},
			func() float64 { _, n := m.Stats(); return float64(n) }),
	)
}
