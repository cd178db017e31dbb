// Package sqlite opens the embedded SQLite database that is Switchboard's
// default store: WAL mode, one writer connection (SQLite allows one writer at
// a time, so queueing in Go beats spinning on SQLITE_BUSY) beside a pool of
// readers, and the migrations embedded in the binary.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating it if needed) the database file at path, applies the
// migrations and returns the store.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	base := (&url.URL{Scheme: "file", Path: abs}).String()
	// synchronous(FULL): a commit, an audit entry's among them, is on disk
	// before it returns. busy_timeout covers the readers meeting a
	// checkpoint and a second process on the same file.
	wc, err := newConnector(base + "?_txlock=immediate&_busy_timeout=10000&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w := sql.OpenDB(wc)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate sqlite %s: %w", path, err)
	}
	rc, err := newConnector(base + "?_busy_timeout=10000&_foreign_keys=1&_query_only=1")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r := sql.OpenDB(rc)
	n := max(4, runtime.GOMAXPROCS(0)*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	return sqlstore.New(w, r, dialect{}), nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	if _, err = p.Up(ctx); err != nil {
		return err
	}
	// River's tables (the workflow engine's jobs) on the same file, so
	// that a step's result and its job's completion commit together.
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	// One transaction for all of them: one commit (one fsync) instead of
	// one per migration, and SQLite's DDL is transactional.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("river: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("river: %w", err)
	}
	return nil
}

type dialect struct{}

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

func (dialect) Unavailable(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
	}
	return false
}
