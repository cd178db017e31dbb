package runner

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// gateStore is an audit store whose commits wait until the test opens the
// gate, and which counts the commits in flight.
type gateStore struct {
	writers  int // 0: not a ConcurrentAudit
	gate     chan struct{}
	inFlight atomic.Int32
	maxSeen  atomic.Int32
	mu       sync.Mutex
	written  map[string]bool
}

func (s *gateStore) AppendAudit(_ context.Context, entries []switchboard.AuditEntry) error {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxSeen.Load()
		if n <= m || s.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	<-s.gate
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.written[e.ID] = true
	}
	return nil
}

func (s *gateStore) AuditEntries(context.Context, string, switchboard.AuditFilter) ([]switchboard.AuditEntry, string, error) {
	return nil, "", nil
}

type concurrentGateStore struct{ *gateStore }

func (s concurrentGateStore) AuditWriters() int { return s.writers }

// On a store with several writers, batches that arrive while one commits
// are committed beside it, never more at once than the store allows; on
// one without, one at a time. Every Write returns only once its entry is
// written, and Close writes what is queued.
func TestAuditWriterConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writers int
		want    int32
	}{{"one writer", 0, 1}, {"four writers", 4, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			gs := &gateStore{writers: tc.writers, gate: make(chan struct{}), written: map[string]bool{}}
			var store switchboard.AuditStore = gs
			if tc.writers > 0 {
				store = concurrentGateStore{gs}
			}
			w := newAuditWriter(store)
			var wg sync.WaitGroup
			var returned atomic.Int32
			for i := range 20 {
				wg.Go(func() {
					id := fmt.Sprint("e", i)
					if err := w.Write(context.Background(), switchboard.AuditEntry{ID: id}); err != nil {
						t.Error(err)
					}
					gs.mu.Lock()
					ok := gs.written[id]
					gs.mu.Unlock()
					if !ok {
						t.Errorf("Write of %s returned before its entry was written", id)
					}
					returned.Add(1)
				})
				time.Sleep(2 * time.Millisecond) // arrivals spread out, as runs are
			}
			// Wait until as many commits as allowed are stuck at the gate.
			deadline := time.Now().Add(5 * time.Second)
			for gs.inFlight.Load() < tc.want && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // room for a commit too many
			if got := gs.maxSeen.Load(); got != tc.want {
				t.Errorf("%d commits in flight at once, want %d", got, tc.want)
			}
			if n := returned.Load(); n != 0 {
				t.Errorf("%d writes returned before any commit ended", n)
			}
			close(gs.gate)
			wg.Wait()
			w.Close()
			if len(gs.written) != 20 {
				t.Errorf("%d entries written, want 20", len(gs.written))
			}
		})
	}
}
