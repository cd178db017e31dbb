package workflow

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// queueName is River's queue of workflow steps.
const queueName = "workflow"

// maxAttempts bounds the attempts of a step (SPEC 12).
const maxAttempts = 5

// stepArgs is one job: one execution of a step of a run.
type stepArgs struct {
	Org string `json:"org"`
	Run string `json:"run"`
	Seq int    `json:"seq"`
}

func (stepArgs) Kind() string { return "switchboard_workflow_step" }

func (stepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueName, MaxAttempts: maxAttempts}
}

// queue is River, typed by its driver: jobs are inserted and completed in a
// store transaction (sqlstore.Tx), whose Driver() is the driver's own
// transaction.
type queue interface {
	insert(ctx context.Context, tx sqlstore.Tx, args stepArgs) error
	complete(ctx context.Context, tx sqlstore.Tx, job *river.Job[stepArgs]) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
}

type riverQueue[TDriver riverdriver.Driver[TTx], TTx any] struct {
	client *river.Client[TTx]
	// completeByID completes a step's job with completeJobSQL instead of
	// river.JobCompleteTx (PostgreSQL; see there).
	completeByID bool
}

// completeJobSQL is what river.JobCompleteTx writes for a job completed
// without metadata updates (River v0.51's JobSetStateIfRunningMany with
// state completed: only state and finalized_at change, and only while the
// job runs), as one UPDATE by primary key. On PostgreSQL River's general
// statement (an unnest of twelve arrays joined to river_job) took 430 to
// 560 us of the server's time a call, the largest single cost of a step
// (pg_stat_statements, docs/performance.md); this takes a few tens. River's
// completer, once the worker returns, finds the job no longer running and
// changes nothing, as it does after JobCompleteTx. The table is River's,
// migrated with ours at the pinned version; TestTwoInstancesShareWork checks
// that River reads every step's job back as completed.
const completeJobSQL = `UPDATE river_job SET state = 'completed', finalized_at = $2 WHERE id = $1 AND state = 'running'`

func (q *riverQueue[TDriver, TTx]) tx(tx sqlstore.Tx) (TTx, error) {
	t, ok := tx.Driver().(TTx)
	if !ok {
		var zero TTx
		return zero, fmt.Errorf("workflow: the store's transaction is a %T, not the queue's %T", tx.Driver(), zero)
	}
	return t, nil
}

func (q *riverQueue[TDriver, TTx]) insert(ctx context.Context, tx sqlstore.Tx, args stepArgs) error {
	t, err := q.tx(tx)
	if err != nil {
		return err
	}
	_, err = q.client.InsertTx(ctx, t, args, nil)
	return err
}

func (q *riverQueue[TDriver, TTx]) complete(ctx context.Context, tx sqlstore.Tx, job *river.Job[stepArgs]) error {
	if q.completeByID {
		// As JobCompleteTx, a job that is no longer running (River's
		// rescuer gave it to another worker) is left as it is: the step's
		// result commits, and the other run of the job finds it recorded.
		_, err := tx.Exec(ctx, completeJobSQL, job.ID, time.Now().UTC())
		return err
	}
	t, err := q.tx(tx)
	if err != nil {
		return err
	}
	_, err = river.JobCompleteTx[TDriver](ctx, t, job)
	return err
}

func (q *riverQueue[TDriver, TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }

func (q *riverQueue[TDriver, TTx]) stop(ctx context.Context) error { return q.client.Stop(ctx) }

// Driver builds River's client on one of the stores.
type Driver func(cfg *river.Config) (queue, error)

// SQLite runs River on the embedded store's writer pool (sqlstore.Store.DB):
// its one connection is shared by the store and River, so that a step's
// result and its job's completion are one transaction on one writer, and
// nothing waits on SQLITE_BUSY (see docs/decisions.md).
func SQLite(db *sql.DB) Driver {
	return func(cfg *river.Config) (queue, error) {
		c, err := river.NewClient[*sql.Tx](riversqlite.New(db), cfg)
		if err != nil {
			return nil, err
		}
		return &riverQueue[*riversqlite.Driver, *sql.Tx]{client: c}, nil
	}
}

// Postgres runs River on the PostgreSQL store's pool (postgres.Store.Pool),
// which LISTENs for new jobs, so that every instance works steps.
func Postgres(pool *pgxpool.Pool) Driver {
	return func(cfg *river.Config) (queue, error) {
		c, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), cfg)
		if err != nil {
			return nil, err
		}
		return &riverQueue[*riverpgxv5.Driver, pgx.Tx]{client: c, completeByID: true}, nil
	}
}

// stepWorker works step jobs for the engine.
type stepWorker struct {
	river.WorkerDefaults[stepArgs]
	e *Engine
}

func (w *stepWorker) Work(ctx context.Context, job *river.Job[stepArgs]) error {
	return w.e.work(ctx, job)
}

// NextRetry is SPEC 12's exponential backoff: RetryBase, then twice as
// long after each failed attempt.
func (w *stepWorker) NextRetry(job *river.Job[stepArgs]) time.Time {
	return time.Now().Add(w.e.backoff(job.Attempt))
}

func (w *stepWorker) Timeout(*river.Job[stepArgs]) time.Duration { return w.e.cfg.StepTimeout }
