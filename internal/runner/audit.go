package runner

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
)

// writeAudit makes a run's audit entry durable, with the code of runErr
// when the run failed. A run whose entry cannot be written has its answer
// withheld: the error to return instead.
func (r *Runner) writeAudit(ctx context.Context, entry switchboard.AuditEntry, runErr error) error {
	entry.Event = switchboard.AuditRun
	if runErr != nil {
		entry.Error = string(switchboard.ErrorCode(runErr))
	}
	if err := r.audit.Write(ctx, entry); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &switchboard.Error{Code: switchboard.CodeUnavailable,
			Detail: "the run's audit entry could not be written, so its answer is withheld; try again shortly", Err: err}
	}
	return nil
}

// writeFallback records that the live call res of a run of cmd by p turned
// Cache Fallback Mode on or off for the call's cache key, whether or not
// cmd has auditLogging, so that an outage and its end are in the log. The
// entry names the request (method and redacted URL, not args: the command
// may not log them) and, for fallback_on, the upstream's status or the
// error code. It is durable before the run answers; if it cannot be
// written the run still answers, since withholding a stale answer would
// make the outage worse, and the failure is logged.
func (r *Runner) writeFallback(ctx context.Context, p *switchboard.Principal, cmd *appdef.Command, c *call, res *liveResult) {
	entry := switchboard.AuditEntry{
		ID: auditID(res.at), Time: res.at.UTC(), OrgID: p.OrgID, ActorID: p.KeyID, ActorName: p.KeyName, Event: res.flip,
		Kind: "command", Name: cmd.Name, Args: map[string]string{}, Method: cmd.Method, URL: c.redact.String(c.url.String()),
		Status: res.status, DurationMs: res.took.Milliseconds(),
	}
	if res.flip == switchboard.AuditFallbackOn {
		entry.Error = res.upstreamError()
	}
	if err := r.audit.Write(ctx, entry); err != nil && ctx.Err() == nil {
		r.log.Warn("the audit entry of a cache fallback change could not be written", "event", entry.Event, "org", p.OrgID,
			"command", cmd.Name, "err", err)
	}
}

// auditWriter makes audit entries durable with group commit: entries that
// arrive while a transaction is being written wait together for the next
// one, so that many concurrent runs share one commit (one fsync) instead of
// queueing for one each. On a store that commits several transactions at
// once (ConcurrentAudit) it keeps that many batches in flight: a batch then
// starts as soon as a writer is free instead of waiting for the commit
// before it.
type auditWriter struct {
	store   switchboard.AuditStore
	writers int

	mu      sync.Mutex
	pending []switchboard.AuditEntry
	batch   *auditBatch
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

var auditSeq atomic.Uint64

// auditID returns an id that sorts by time and, within one process, by
// order of creation, so that entries of the same microsecond list newest
// first; the random tail keeps ids of different instances apart.
func auditID(t time.Time) string {
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("aud_%013x%06x%x", t.UnixMicro(), auditSeq.Add(1)&0xffffff, rnd)
}

// auditBatch is the fate of one group of entries.
type auditBatch struct {
	done chan struct{}
	err  error
}

// maxAuditBatch bounds one transaction.
const maxAuditBatch = 512

// ConcurrentAudit is implemented by an audit store on which concurrent
// transactions commit together: PostgreSQL, whose commits in flight share
// the server's WAL flushes. SQLite has one writer, so a second batch in
// flight would only wait for the first one's commit while taking the runs
// that could have joined the next.
type ConcurrentAudit interface {
	// AuditWriters is how many batches of entries may be written at once.
	AuditWriters() int
}

func newAuditWriter(store switchboard.AuditStore) *auditWriter {
	w := &auditWriter{store: store, writers: 1, batch: &auditBatch{done: make(chan struct{})},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	if c, ok := store.(ConcurrentAudit); ok {
		w.writers = max(1, c.AuditWriters())
	}
	var wg sync.WaitGroup
	for range w.writers {
		wg.Go(w.loop)
	}
	go func() {
		wg.Wait()
		close(w.stopped)
	}()
	return w
}

// Write returns once the entry is durable, or with the error that kept it
// from being written.
func (w *auditWriter) Write(ctx context.Context, e switchboard.AuditEntry) error {
	w.mu.Lock()
	w.pending = append(w.pending, e)
	b := w.batch
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		// The entry stays queued and is still written; the caller stops
		// waiting for it.
		return ctx.Err()
	}
}

func (w *auditWriter) loop() {
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			for w.flush() { // entries queued before Close are still written
			}
			return
		}
		// What arrives while this writer writes kicks another one, when
		// there is another.
		for w.flush() {
		}
	}
}

// flush writes what is pending; it reports whether there was anything.
// Entries queued while it writes form the next batch.
func (w *auditWriter) flush() bool {
	w.mu.Lock()
	entries, b := w.pending, w.batch
	if len(entries) == 0 {
		w.mu.Unlock()
		return false
	}
	w.pending, w.batch = nil, &auditBatch{done: make(chan struct{})}
	w.mu.Unlock()
	var err error
	for len(entries) > 0 && err == nil {
		n := min(len(entries), maxAuditBatch)
		err = w.store.AppendAudit(context.Background(), entries[:n])
		entries = entries[n:]
	}
	// On an error every writer of the batch hears of it, also those whose
	// chunk was written: they learn too little, never too much.
	b.err = err
	close(b.done)
	return true
}

// Close writes what is queued and stops the writer.
func (w *auditWriter) Close() {
	close(w.stop)
	<-w.stopped
}
