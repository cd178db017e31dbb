package sqlite

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"reflect"

	"modernc.org/sqlite"
)

// stmtCacheSize is how many prepared statements each connection keeps. The
// store and River use a few dozen distinct statements; the rest (a list
// query's filters, migrations) fall out of the cache, least recently used
// first.
const stmtCacheSize = 128

// connector opens connections of the pure-Go SQLite driver that keep their
// prepared statements. modernc.org/sqlite prepares each statement given to
// Exec or Query anew, and the transpiled parser is slow: it was 40% of the
// CPU of a workflow step (River's statements and the store's alike). A
// statement prepared once per connection and reset after each use is what
// sqlite3 itself is made for; database/sql gives the same only to callers
// that hold a *sql.Stmt, which River's driver does not.
type connector struct {
	base driver.Connector // sqlite.NewConnector's
}

// newConnector is sqlite.NewConnector(dsn) with the statement cache.
func newConnector(dsn string) (driver.Connector, error) {
	base, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return connector{base}, nil
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ic, ok := inner.(innerConn)
	if !ok {
		inner.Close()
		return nil, errors.New("sqlite: the driver's connection lacks the context methods the statement cache needs")
	}
	return &cachingConn{innerConn: ic, stmts: map[string]*cachedStmt{}, lru: list.New()}, nil
}

func (c connector) Driver() driver.Driver { return c.base.Driver() }

// innerConn is what modernc.org/sqlite's connection implements and the
// cache forwards.
type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// innerStmt is a prepared statement of the driver.
type innerStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn runs Exec and Query through the connection's cached
// statements. database/sql uses a connection from one goroutine at a time
// and closes a query's rows under the same lock, so the cache needs no
// lock of its own.
type cachingConn struct {
	innerConn
	stmts map[string]*cachedStmt
	lru   *list.List // of *cachedStmt, most recently used first
}

type cachedStmt struct {
	query   string
	stmt    innerStmt
	elem    *list.Element
	busy    bool // its rows are open: a second use of the same query prepares anew
	evicted bool // out of the cache while busy: finalized when its rows close
}

// get returns the connection's statement for query, preparing it on first
// use; nil (and no error) when its statement is in use. A script (several
// statements) is cached too: the driver then parses its statements in turn
// on each use, as it does uncached.
func (c *cachingConn) get(ctx context.Context, query string) (*cachedStmt, error) {
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		c.lru.MoveToFront(s.elem)
		return s, nil
	}
	ds, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	is, ok := ds.(innerStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	s := &cachedStmt{query: query, stmt: is}
	s.elem = c.lru.PushFront(s)
	c.stmts[query] = s
	for c.lru.Len() > stmtCacheSize {
		c.evict(c.lru.Back().Value.(*cachedStmt))
	}
	return s, nil
}

// evict takes s out of the cache and finalizes it, or, while its rows are
// open, leaves that to their Close.
func (c *cachingConn) evict(s *cachedStmt) {
	if s.evicted {
		return
	}
	delete(c.stmts, s.query)
	c.lru.Remove(s.elem)
	s.evicted = true
	if !s.busy {
		s.stmt.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.ExecContext(ctx, query, args)
	}
	res, err := s.stmt.ExecContext(ctx, args)
	if err != nil {
		// A statement that failed (a constraint, an interrupt, a schema
		// change) is prepared afresh next time.
		c.evict(s)
	}
	return res, err
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.innerConn.QueryContext(ctx, query, args)
	}
	dr, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		c.evict(s)
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: dr, c: c, s: s}, nil
}

// Unwrap is the driver's own connection, as modernc.org/sqlite asks of a
// wrapper (its Limit sees through one this way).
func (c *cachingConn) Unwrap() driver.Conn { return c.innerConn }

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	for c.lru.Len() > 0 {
		s := c.lru.Front().Value.(*cachedStmt)
		s.busy = false
		c.evict(s)
	}
	return c.innerConn.Close()
}

// cachedRows frees its statement for the next use when closed. It passes
// database/sql's column type questions on to the driver's rows, answering
// as database/sql itself does for rows that cannot tell.
type cachedRows struct {
	driver.Rows
	c      *cachingConn
	s      *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close() // resets the statement
	r.s.busy = false
	switch {
	case r.s.evicted:
		r.s.stmt.Close()
	case err != nil:
		r.c.evict(r.s)
	}
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if x, is := r.Rows.(driver.RowsColumnTypeNullable); is {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if x, is := r.Rows.(driver.RowsColumnTypePrecisionScale); is {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
