// Package sqlstore implements switchboard.Store on database/sql with SQL that
// SQLite and PostgreSQL both accept ($N placeholders, RETURNING, ON CONFLICT,
// JSON as text, times as Unix microseconds). The sqlite and postgres packages
// open the databases, run their migrations and supply the few things the
// dialects disagree on through Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Dialect is what differs between the databases.
type Dialect interface {
	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	IsUniqueViolation(err error) bool
	// Unavailable reports whether err means the database cannot be reached
	// (so that callers answer 503, not 500).
	Unavailable(err error) bool
}

// Store is a switchboard.Store. Writes go through w and reads through r; they
// are one pool on PostgreSQL and a single writer connection beside a reader
// pool on SQLite.
type Store struct {
	w, r    *sql.DB
	dialect Dialect
	now     func() time.Time
}

// New returns a Store on the given connection pools.
func New(w, r *sql.DB, d Dialect) *Store {
	return &Store{w: w, r: r, dialect: d, now: time.Now}
}

var _ switchboard.Store = (*Store)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// translate maps driver errors onto the domain's codes.
func (s *Store) translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &switchboard.Error{Code: switchboard.CodeNotFound, Detail: what + " not found", Err: err}
	}
	if s.dialect.IsUniqueViolation(err) {
		return &switchboard.Error{Code: switchboard.CodeConflict, Detail: what + " already exists", Err: err}
	}
	if s.dialect.Unavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: "the database is unavailable; try again shortly", Err: err}
	}
	return switchboard.Internal(fmt.Errorf("%s: %w", what, err))
}

// tx runs fn in a write transaction, committing if fn returns nil and rolling
// back if it returns an error or panics; what names the subject in the
// translated errors.
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, what)
	}
	// After Commit this does nothing. Before it (fn failed or panicked) it
	// hands the connection back: on SQLite that is the only writer, which
	// an abandoned transaction would hold until ctx ends.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return s.translate(err, what)
	}
	return s.translate(tx.Commit(), what)
}

// WriteTx runs fn in a transaction on the writer pool, so that work outside
// this package (a workflow step's result, say) commits or rolls back together
// with rows written on the same *sql.Tx by another library, such as River
// completing a job. fn's error, or a panic, rolls the transaction back; the
// error comes back translated as the store's own methods translate theirs
// (a *switchboard.Error passes unchanged). fn must not call the store's write
// methods: on SQLite the writer pool is one connection, which fn holds.
func (s *Store) WriteTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.tx(ctx, "record", fn)
}

// DB returns the writer pool, for libraries that take a *sql.DB of their own
// (River's riversqlite driver) and must share the store's single SQLite
// writer rather than open a second one that would contend with it.
func (s *Store) DB() *sql.DB { return s.w }

func (s *Store) change(ctx context.Context, tx *sql.Tx, kind switchboard.ChangeKind, orgID, ref string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (kind, org_id, ref, at) VALUES ($1, $2, $3, $4)`,
		string(kind), orgID, ref, micros(s.now()))
	return err
}

// Ping implements switchboard.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return s.translate(err, "database")
	}
	return s.translate(s.r.PingContext(ctx), "database")
}

// Close implements switchboard.Store.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}
