package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// mustOpenScratch opens a store in t.TempDir() with an empty table, scratch,
// that only these tests write.
func mustOpenScratch(t *testing.T) *sqlstore.Store {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.DB().ExecContext(t.Context(), `CREATE TABLE scratch (v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return s
}

// mustScratchRows returns what scratch holds. It reads through DB(), the
// single writer connection, under a deadline: a transaction left open would
// hold that connection, and the read would then fail rather than hang.
func mustScratchRows(t *testing.T, s *sqlstore.Store) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	rows, err := s.DB().QueryContext(ctx, `SELECT v FROM scratch ORDER BY v`)
	if err != nil {
		t.Fatalf("read scratch: %v", err)
	}
	return values(t, rows)
}

func insertScratch(ctx context.Context, tx *sql.Tx, v string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO scratch (v) VALUES ($1)`, v)
	return err
}

func TestWriteTxCommits(t *testing.T) {
	s := mustOpenScratch(t)
	ctx := t.Context()
	err := s.WriteTx(ctx, func(tx *sql.Tx) error {
		if err := insertScratch(ctx, tx, "a"); err != nil {
			return err
		}
		return insertScratch(ctx, tx, "b")
	})
	if err != nil {
		t.Fatalf("WriteTx: %v", err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, mustScratchRows(t, s)); diff != "" {
		t.Errorf("scratch (-want +got):\n%s", diff)
	}
}

func TestWriteTxRollsBackOnError(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name     string
		err      error
		wantCode switchboard.Code
	}{
		{"plain error", errBoom, switchboard.CodeInternal},
		{"domain error", &switchboard.Error{Code: switchboard.CodeConflict, Detail: "taken"}, switchboard.CodeConflict},
		{"no rows", sql.ErrNoRows, switchboard.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpenScratch(t)
			ctx := t.Context()
			err := s.WriteTx(ctx, func(tx *sql.Tx) error {
				if err := insertScratch(ctx, tx, "a"); err != nil {
					t.Fatalf("insert: %v", err)
				}
				return tt.err
			})
			if !errors.Is(err, tt.err) {
				t.Errorf("WriteTx = %v, want an error wrapping %v", err, tt.err)
			}
			if got := switchboard.ErrorCode(err); got != tt.wantCode {
				t.Errorf("ErrorCode = %q, want %q", got, tt.wantCode)
			}
			if got := mustScratchRows(t, s); len(got) != 0 {
				t.Errorf("scratch = %q after rollback, want nothing", got)
			}
		})
	}
}

func TestWriteTxRollsBackOnPanic(t *testing.T) {
	s := mustOpenScratch(t)
	ctx := t.Context()
	const boom = "boom"
	func() {
		defer func() {
			if p := recover(); p != boom {
				t.Errorf("recovered %v, want the panic %q", p, boom)
			}
		}()
		_ = s.WriteTx(ctx, func(tx *sql.Tx) error {
			if err := insertScratch(ctx, tx, "a"); err != nil {
				t.Fatalf("insert: %v", err)
			}
			panic(boom)
		})
		t.Error("WriteTx returned; want the panic to propagate")
	}()
	if got := mustScratchRows(t, s); len(got) != 0 {
		t.Errorf("scratch = %q after panic, want nothing", got)
	}
	// The writer connection is free again: a later write commits.
	if err := s.WriteTx(ctx, func(tx *sql.Tx) error { return insertScratch(ctx, tx, "b") }); err != nil {
		t.Fatalf("WriteTx after panic: %v", err)
	}
	if diff := cmp.Diff([]string{"b"}, mustScratchRows(t, s)); diff != "" {
		t.Errorf("scratch (-want +got):\n%s", diff)
	}
}

// InTx hands outside code a *sql.Tx (what riversqlite's JobCompleteTx takes).
func TestInTx(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "switchboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.RunTx(t, s, func(d any) bool { _, ok := d.(*sql.Tx); return ok })
}

// The workflow state on SQLite: hooks, runs, steps, events, tenancy.
func TestWorkflowStore(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "wf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	storetest.RunWorkflows(t, s)
}
