package sqlstore

import (
	"context"
	"database/sql"
)

// Tx is a write transaction that code outside this package (a workflow
// step's result) writes through with the store's SQL ($N placeholders),
// whichever driver holds it: *sql.Tx on SQLite, pgx.Tx on PostgreSQL (see
// postgres.Store.InTx). Driver returns that value, so that River's
// JobCompleteTx, which is typed by its driver, completes a job in the same
// transaction (see docs/decisions.md, "One transaction for a step and its
// job").
type Tx interface {
	// Exec runs a statement and returns the rows it affected.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// QueryRow runs a query that returns at most one row; Scan reports
	// sql.ErrNoRows (SQLite) or pgx.ErrNoRows (PostgreSQL) when none does,
	// both of which the store translates to not found.
	QueryRow(ctx context.Context, query string, args ...any) interface{ Scan(dest ...any) error }
	// Driver is the driver's own transaction: *sql.Tx or pgx.Tx.
	Driver() any
}

// InTx runs fn in a write transaction (WriteTx) through the Tx interface.
// postgres.Store overrides it with a pgx transaction on its pool.
func (s *Store) InTx(ctx context.Context, fn func(Tx) error) error {
	return s.WriteTx(ctx, func(tx *sql.Tx) error { return fn(sqlTx{tx}) })
}

type sqlTx struct{ tx *sql.Tx }

func (t sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sqlTx) QueryRow(ctx context.Context, query string, args ...any) interface{ Scan(dest ...any) error } {
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t sqlTx) Driver() any { return t.tx }

// Translate maps a driver error onto the domain's codes, as the store's own
// methods do (not found, conflict, unavailable, else internal); what names
// the record in the message. Stores built on this one use it for the
// transactions they run themselves.
func (s *Store) Translate(err error, what string) error { return s.translate(err, what) }
