package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// TxStore is a store that runs outside code's SQL in its own write
// transaction (sqlstore.Store.InTx, postgres.Store.InTx).
type TxStore interface {
	switchboard.Store
	InTx(ctx context.Context, fn func(sqlstore.Tx) error) error
}

// RunTx checks InTx on a store: what fn writes commits as one, an error or a
// panic rolls all of it back, QueryRow's no-row answer is translated to not
// found, and Driver is the driver's own transaction (checked by isDriver).
func RunTx(t *testing.T, s TxStore, isDriver func(any) bool) {
	ctx := context.Background()
	insert := func(tx sqlstore.Tx, id string) error {
		n, err := tx.Exec(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`, id, id, time.Now().UnixMicro())
		if err == nil && n != 1 {
			err = errors.New("no row inserted")
		}
		return err
	}
	exists := func(id string) bool {
		t.Helper()
		_, err := s.Org(ctx, id)
		if err != nil && switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatal(err)
		}
		return err == nil
	}

	t.Run("commits", func(t *testing.T) {
		err := s.InTx(ctx, func(tx sqlstore.Tx) error {
			if !isDriver(tx.Driver()) {
				t.Errorf("Driver() = %T, not the driver's transaction", tx.Driver())
			}
			if err := insert(tx, "txone"); err != nil {
				return err
			}
			var name string
			if err := tx.QueryRow(ctx, `SELECT name FROM orgs WHERE id = $1`, "txone").Scan(&name); err != nil || name != "txone" {
				t.Errorf("read inside the transaction = %q, %v", name, err)
			}
			return insert(tx, "txtwo")
		})
		if err != nil {
			t.Fatal(err)
		}
		if !exists("txone") || !exists("txtwo") {
			t.Fatal("a committed row is missing")
		}
	})
	t.Run("an error rolls back", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.InTx(ctx, func(tx sqlstore.Tx) error {
			if err := insert(tx, "txthree"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want the callback's error", err)
		}
		if exists("txthree") {
			t.Fatal("a rolled-back row is visible")
		}
	})
	t.Run("a panic rolls back", func(t *testing.T) {
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic did not propagate")
				}
			}()
			_ = s.InTx(ctx, func(tx sqlstore.Tx) error {
				if err := insert(tx, "txfour"); err != nil {
					return err
				}
				panic("step failed")
			})
		}()
		if exists("txfour") {
			t.Fatal("a row written before the panic is visible")
		}
		// The connection is free again: a write commits.
		if err := s.InTx(ctx, func(tx sqlstore.Tx) error { return insert(tx, "txfive") }); err != nil || !exists("txfive") {
			t.Fatalf("write after a panic = %v", err)
		}
	})
	t.Run("no row is not found", func(t *testing.T) {
		err := s.InTx(ctx, func(tx sqlstore.Tx) error {
			var name string
			return tx.QueryRow(ctx, `SELECT name FROM orgs WHERE id = $1`, "nosuch").Scan(&name)
		})
		if switchboard.ErrorCode(err) != switchboard.CodeNotFound {
			t.Fatalf("InTx = %v, want not_found", err)
		}
	})
	t.Run("a duplicate is a conflict", func(t *testing.T) {
		err := s.InTx(ctx, func(tx sqlstore.Tx) error { return insert(tx, "txone") })
		if switchboard.ErrorCode(err) != switchboard.CodeConflict {
			t.Fatalf("InTx = %v, want conflict", err)
		}
	})
}
