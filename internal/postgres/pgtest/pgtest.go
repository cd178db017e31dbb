// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema in the database named by $SWITCHBOARD_TEST_POSTGRES_URL, dropped when
// the test ends, so that tests and concurrent runs of the suite never see
// each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that holds the test database's URL, for example
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvURL = "SWITCHBOARD_TEST_POSTGRES_URL"

// Schema creates a schema with a random name and returns a URL of the test
// database whose search_path is that schema, so that everything a store opened
// on it creates (tables, goose's version table, functions) lands there. The
// schema is dropped, with all it holds, when the test ends; close what uses it
// in a cleanup registered after calling Schema. Schema skips the test when
// $SWITCHBOARD_TEST_POSTGRES_URL is unset and fails it when the variable is
// set but the database cannot be reached: a CI run that means to test
// PostgreSQL must not pass by skipping.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set: skipping the PostgreSQL tests")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	exec(t, base, "CREATE SCHEMA "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		exec(t, base, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE")
	})
	u, err := WithSearchPath(base, name)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	return u
}

// WithSearchPath returns databaseURL (a URL or a key=value DSN) with its
// search_path run-time parameter set to schema.
func WithSearchPath(databaseURL, schema string) (string, error) {
	if !strings.HasPrefix(databaseURL, "postgres://") && !strings.HasPrefix(databaseURL, "postgresql://") {
		return databaseURL + " search_path=" + schema, nil
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// exec runs one statement on a connection of its own.
func exec(t testing.TB, databaseURL, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("%s is set but PostgreSQL is unreachable: %v", EnvURL, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}
