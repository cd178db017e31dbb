package limit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// Memory is the in-process Limiter: the embedded server's, and the one a
// Redis limiter counts with while Redis is down. Safe for concurrent use.
type Memory struct {
	seed   maphash.Seed
	shards [memShards]memShard
}

const memShards = 32

type memShard struct {
	mu    sync.Mutex
	tats  map[string]int64
	sweep int // sweep idle counters when the map grows past this
}

// NewMemory returns an empty in-process limiter.
func NewMemory() *Memory {
	m := &Memory{seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].tats = map[string]int64{}
		m.shards[i].sweep = 1024
	}
	return m
}

var _ Limiter = (*Memory)(nil)

// Allow implements Limiter. The requests of one call are counted together:
// their shards are locked in order, so that no other run slips between the
// check and the count.
func (m *Memory) Allow(_ context.Context, now time.Time, reqs []Request) ([]Decision, bool, error) {
	us := now.UnixMicro()
	var idx [4]int
	shards := idx[:0]
	for _, q := range reqs {
		i := int(maphash.String(m.seed, q.Key) % memShards)
		shards = appendSorted(shards, i)
	}
	for _, i := range shards {
		m.shards[i].mu.Lock()
	}
	defer func() {
		for _, i := range shards {
			m.shards[i].mu.Unlock()
		}
	}()
	out := make([]Decision, len(reqs))
	var nextBuf [4]int64
	next := nextBuf[:0]
	all := true
	for i, q := range reqs {
		sh := &m.shards[maphash.String(m.seed, q.Key)%memShards]
		d, n := step(sh.tats[q.Key], us, q.Rate)
		out[i] = d
		next = append(next, n)
		all = all && d.Allowed
	}
	if !all {
		for i := range out {
			if out[i].Allowed {
				// Not counted: report what it would leave, not what it left.
				out[i].Remaining++
			}
		}
		return out, false, nil
	}
	for i, q := range reqs {
		sh := &m.shards[maphash.String(m.seed, q.Key)%memShards]
		sh.tats[q.Key] = next[i]
		if len(sh.tats) > sh.sweep {
			sh.prune(us)
		}
	}
	return out, true, nil
}

// prune drops counters whose runs have all drained (tat in the past): they
// are the same as no counter.
func (s *memShard) prune(now int64) {
	for k, tat := range s.tats {
		if tat <= now {
			delete(s.tats, k)
		}
	}
	s.sweep = max(1024, 2*len(s.tats))
}

// appendSorted adds i to a sorted set.
func appendSorted(s []int, i int) []int {
	for j, v := range s {
		if v == i {
			return s
		}
		if v > i {
			s = append(s, 0)
			copy(s[j+1:], s[j:])
			s[j] = i
			return s
		}
	}
	return append(s, i)
}
