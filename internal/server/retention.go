package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/switchboardhq/switchboard"
)

// DefaultAuditRetention is serve's --audit-retention: 90 days.
const DefaultAuditRetention = 90 * 24 * time.Hour

// MinAuditRetention is the shortest retention Validate accepts (other than
// 0, forever): shorter is almost surely a unit mistaken (90m for 90 days).
const MinAuditRetention = time.Hour

// The audit retention's pace. A batch of 500 is one short delete per org
// it reaches; the pause between batches leaves SQLite's single writer to
// the runs' audit writes nearly all the time, so a backlog of millions
// (the first pass after enabling retention) drains over minutes without
// runs waiting more than one batch.
const (
	auditPruneEvery = 10 * time.Minute
	auditPruneFirst = time.Minute
	auditPruneBatch = 500
	auditPrunePause = 100 * time.Millisecond
)

// auditRetention deletes the audit entries older than keep.
type auditRetention struct {
	store switchboard.Maintenance
	log   *slog.Logger
	keep  time.Duration
	now   func() time.Time
	batch int
	pause time.Duration
}

// run makes a pass after first and then every every, until ctx ends.
func (r auditRetention) run(ctx context.Context, first, every time.Duration) {
	t := time.NewTimer(first)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.pass(ctx)
		t.Reset(every)
	}
}

// pass deletes batch after batch, pausing between them, until none older
// than keep are left, and logs how many it deleted. When the store fails it
// logs a warning and leaves the rest to the next pass; when ctx ends it
// stops after the batch in flight.
func (r auditRetention) pass(ctx context.Context) int {
	before := r.now().Add(-r.keep)
	total := 0
	for {
		n, err := r.store.PruneAudit(ctx, before, r.batch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("prune the audit log", "err", err, "deleted", total, "before", before)
			}
			return total
		}
		if n < r.batch || !sleep(ctx, r.pause) {
			break
		}
	}
	level := slog.LevelDebug
	if total > 0 {
		level = slog.LevelInfo
	}
	r.log.Log(ctx, level, "pruned the audit log", "deleted", total, "before", before, "retention", r.keep.String())
	return total
}

// sleep waits for d, or less when ctx ends first; it reports whether ctx is
// still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
