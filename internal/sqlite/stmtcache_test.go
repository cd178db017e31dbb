package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// openCached opens a database file through the statement cache, one
// connection, as the store's writer.
func openCached(t *testing.T) *sql.DB {
	t.Helper()
	c, err := newConnector("file:" + filepath.Join(t.TempDir(), "c.db") + "?_journal_mode=WAL&_busy_timeout=1000")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`)
	for i := 1; i <= 5; i++ {
		mustExec(t, db, `INSERT INTO t (id, v) VALUES (?, ?)`, i, fmt.Sprintf("v%d", i))
	}
	return db
}

func mustExec(t *testing.T, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// cache returns the connection's cache (the only connection of db).
func cache(t *testing.T, db *sql.DB) (stmts int, has func(q string) bool) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var keys []string
	if err := conn.Raw(func(dc any) error {
		c := dc.(*cachingConn)
		for k := range c.stmts {
			keys = append(keys, k)
		}
		if len(c.stmts) != c.lru.Len() {
			t.Errorf("cache map holds %d statements, its list %d", len(c.stmts), c.lru.Len())
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return len(keys), func(q string) bool {
		for _, k := range keys {
			if k == q {
				return true
			}
		}
		return false
	}
}

func values(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const byID = `SELECT v FROM t WHERE id >= ? ORDER BY id`

func TestStmtCacheReusesAStatement(t *testing.T) {
	db := openCached(t)
	for i := range 3 {
		rows, err := db.Query(byID, 4)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(values(t, rows), ","); got != "v4,v5" {
			t.Fatalf("run %d: %q, want v4,v5", i, got)
		}
	}
	// A statement's bindings do not leak into its next use.
	rows, err := db.Query(byID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(values(t, rows), ","); got != "v5" {
		t.Fatalf("%q, want v5", got)
	}
	if _, has := cache(t, db); !has(byID) {
		t.Fatal("the query's statement is not cached")
	}
}

// The same query run again while its first rows are open (in one
// transaction, on the one connection) must not share the statement.
func TestStmtCacheNestedUseOfOneQuery(t *testing.T) {
	db := openCached(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	outer, err := tx.Query(byID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		inner, err := tx.Query(byID, 4)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v+":"+strings.Join(values(t, inner), "+"))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	want := "v1:v4+v5,v2:v4+v5,v3:v4+v5,v4:v4+v5,v5:v4+v5"
	if strings.Join(got, ",") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, ","), want)
	}
	// And the cached statement is still good afterwards.
	rows, err := tx.Query(byID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(values(t, rows), ","); got != "v3,v4,v5" {
		t.Fatalf("%q", got)
	}
}

// A statement that fails (a constraint) is dropped and the next use works.
func TestStmtCacheAfterAnError(t *testing.T) {
	db := openCached(t)
	const ins = `INSERT INTO t (id, v) VALUES (?, ?)`
	if _, err := db.Exec(ins, 1, "dup"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate insert: %v", err)
	}
	if _, has := cache(t, db); has(ins) {
		t.Fatal("a statement that failed stayed cached")
	}
	if _, err := db.Exec(ins, 6, "v6"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ins, 7, "v7"); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(byID, 6)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(values(t, rows), ","); got != "v6,v7" {
		t.Fatalf("%q", got)
	}
}

// A query whose context ends while it runs leaves a statement that the next
// query can use.
func TestStmtCacheAfterCancel(t *testing.T) {
	db := openCached(t)
	ctx, cancel := context.WithCancel(context.Background())
	rows, err := db.QueryContext(ctx, byID, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	cancel()
	rows.Close()
	rows, err = db.Query(byID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(values(t, rows), ","); got != "v2,v3,v4,v5" {
		t.Fatalf("%q", got)
	}
}

// More distinct statements than the cache holds: the least recently used go,
// a statement evicted while its rows are open is finalized when they close,
// and every answer stays right.
func TestStmtCacheEviction(t *testing.T) {
	db := openCached(t)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	held, err := tx.Query(byID, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i := range stmtCacheSize + 10 {
		var n int
		if err := tx.QueryRow(fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 5+i {
			t.Fatalf("query %d answered %d", i, n)
		}
	}
	if got := strings.Join(values(t, held), ","); got != "v5" {
		t.Fatalf("rows held across the eviction: %q", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	n, has := cache(t, db)
	if n != stmtCacheSize {
		t.Fatalf("the cache holds %d statements, want %d", n, stmtCacheSize)
	}
	if has(byID) {
		t.Fatal("the least recently used statement was not evicted")
	}
	if !has(fmt.Sprintf(`SELECT count(*) + %d FROM t`, stmtCacheSize+9)) {
		t.Fatal("the most recent statement is not cached")
	}
	rows, err := db.Query(byID, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(values(t, rows), ","); got != "v4,v5" {
		t.Fatalf("%q", got)
	}
}

// A script (several statements in one Exec, as a migration) still runs
// every statement, each time.
func TestStmtCacheScript(t *testing.T) {
	db := openCached(t)
	const script = `INSERT INTO t (id, v) VALUES (10, 'a'); UPDATE t SET v = v || '!' WHERE id = 10`
	mustExec(t, db, script)
	mustExec(t, db, `DELETE FROM t WHERE id = 10`)
	mustExec(t, db, script)
	var v string
	if err := db.QueryRow(`SELECT v FROM t WHERE id = 10`).Scan(&v); err != nil || v != "a!" {
		t.Fatalf("%q %v", v, err)
	}
}

// A statement cached before a schema change sees the new schema.
func TestStmtCacheSchemaChange(t *testing.T) {
	db := openCached(t)
	const all = `SELECT * FROM t WHERE id = 1`
	var id int
	var v string
	if err := db.QueryRow(all).Scan(&id, &v); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `ALTER TABLE t ADD COLUMN w TEXT NOT NULL DEFAULT 'new'`)
	var w string
	if err := db.QueryRow(all).Scan(&id, &v, &w); err != nil || w != "new" {
		t.Fatalf("%q %v", w, err)
	}
}

// The column types of a cached statement's rows are the driver's.
func TestStmtCacheColumnTypes(t *testing.T) {
	db := openCached(t)
	rows, err := db.Query(`SELECT id, v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{types[0].DatabaseTypeName(), types[1].DatabaseTypeName()}; got[0] != "INTEGER" || got[1] != "TEXT" {
		t.Fatalf("column types %v, want [INTEGER TEXT]", got)
	}
}
