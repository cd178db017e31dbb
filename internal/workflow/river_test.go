package workflow

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// completeJobSQL writes what River's JobCompleteTx writes, against River's
// own schema: a running job becomes completed and finalized, in the
// store's transaction, and River reads it back so; a job that no longer
// runs is left alone.
func TestCompleteJobSQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := postgres.Open(ctx, pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	q, err := Postgres(s.Pool())(&river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rq := q.(*riverQueue[*riverpgxv5.Driver, pgx.Tx])
	if !rq.completeByID {
		t.Fatal("the PostgreSQL queue does not complete by id")
	}
	insert := func() int64 {
		t.Helper()
		if err := s.InTx(ctx, func(tx sqlstore.Tx) error { return rq.insert(ctx, tx, stepArgs{Org: "o", Run: "r", Seq: 1}) }); err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := s.Pool().QueryRow(ctx, `SELECT max(id) FROM river_job`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	complete := func(id int64) *rivertype.JobRow {
		t.Helper()
		job := &river.Job[stepArgs]{JobRow: &rivertype.JobRow{ID: id, State: rivertype.JobStateRunning}}
		if err := s.InTx(ctx, func(tx sqlstore.Tx) error { return rq.complete(ctx, tx, job) }); err != nil {
			t.Fatal(err)
		}
		row, err := rq.client.JobGet(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return row
	}

	// A running job (as River's fetch leaves it) is completed.
	id := insert()
	if _, err := s.Pool().Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if row := complete(id); row.State != rivertype.JobStateCompleted || row.FinalizedAt == nil || row.Attempt != 1 {
		t.Fatalf("after completion: state %s, finalized %v, attempt %d", row.State, row.FinalizedAt, row.Attempt)
	}

	// A job that is not running (here: still available) stays as it is.
	id = insert()
	if row := complete(id); row.State != rivertype.JobStateAvailable || row.FinalizedAt != nil {
		t.Fatalf("a job that was not running: state %s, finalized %v", row.State, row.FinalizedAt)
	}
}
