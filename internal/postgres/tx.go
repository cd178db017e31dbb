package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// Pool returns the store's pgx pool, for River's riverpgxv5 driver, which
// works jobs on the same pool (and LISTENs for them) as the store's queries.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in a pgx transaction on the pool: the store's SQL goes
// through the Tx, and Tx.Driver() is the pgx.Tx that River's JobCompleteTx
// takes, so that a workflow step's result and its job's completion commit
// together. fn's error, or a panic, rolls back; errors are translated as the
// store's own methods translate theirs.
func (s *Store) InTx(ctx context.Context, fn func(sqlstore.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.Translate(err, "record")
	}
	// After Commit this does nothing; before it, it returns the connection.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(pgxTx{tx}); err != nil {
		return s.Translate(err, "record")
	}
	return s.Translate(tx.Commit(ctx), "record")
}

type pgxTx struct{ tx pgx.Tx }

func (t pgxTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (t pgxTx) QueryRow(ctx context.Context, query string, args ...any) interface{ Scan(dest ...any) error } {
	return t.tx.QueryRow(ctx, query, args...)
}

func (t pgxTx) Driver() any { return t.tx }
