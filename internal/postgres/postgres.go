// Package postgres opens the PostgreSQL store that several Switchboard
// instances share: one pgx pool behind database/sql for the queries of
// internal/sqlstore, migrations applied once under an advisory lock however
// many instances start together, and LISTEN on the change feed so that every
// instance learns of another's writes at once.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/puddle/v2"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Channel is the NOTIFY channel on which every committed change announces its
// seq (see the trigger in migrations/00001_init.sql). Channels are per
// database, not per schema: stores in two schemas of one database wake each
// other's listeners, which costs a read of an unchanged feed, nothing more.
const Channel = "switchboard_changes"

// defaultConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout: without one a dial to a host that drops packets waits for
// the kernel (minutes), and requests would hang instead of answering 503.
const defaultConnectTimeout = 5 * time.Second

// Store is a switchboard.Store on PostgreSQL: the shared sqlstore.Store on a
// pgx pool, plus Listen, which follows the change feed's notifications on a
// connection of its own. Close closes the pool and ends Listen.
type Store struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	// listenConfig is the configuration of Listen's own connection.
	listenConfig *pgx.ConnConfig
	// closed ends when Close is called, so that Listen returns.
	closed    context.Context
	close     context.CancelFunc
	closeOnce sync.Once
	closeErr  error

	// Log, when set before Listen is called, gets a warning each time the
	// listener loses its connection or fails to reconnect. Nil logs nothing.
	Log *slog.Logger
}

// Open connects to the database at databaseURL (a postgres:// URL or a
// key=value DSN; query parameters other than pgx's own, such as search_path,
// are sent to the server as run-time parameters), applies the migrations and
// returns the store. It fails when the database cannot be reached.
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	// Queries are short; the pool serves every request of the instance and
	// the workflow engine's workers, so it scales with the CPUs that run
	// them. A pool_max_conns in the URL (pgxpool's own parameter) wins.
	if !strings.Contains(databaseURL, "pool_max_conns") {
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	if err := migrate(ctx, db); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("migrate postgres: %w", err)
	}
	if err := migrateRiver(ctx, pool); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("migrate postgres (River): %w", err)
	}
	closed, cancel := context.WithCancel(context.Background())
	return &Store{
		Store:        sqlstore.New(db, db, dialect{}),
		pool:         pool,
		listenConfig: cfg.ConnConfig.Copy(),
		closed:       closed,
		close:        cancel,
	}, nil
}

// Close ends Listen and closes the store's connections. It is safe to call
// more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.close()
		// Closing the *sql.DB does not close the pool under it.
		s.closeErr = s.Store.Close()
		s.pool.Close()
	})
	return s.closeErr
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithDisableGlobalRegistry(true),
		goose.WithSessionLocker(sessionLocker{}))
	if err != nil {
		return err
	}
	// Up first looks for pending migrations without the lock, so that an
	// instance restarting on a migrated database takes none, then applies
	// them under it. On a fresh database the instances starting together race
	// to create goose's version table in that first look, and goose retries
	// the losers after a second.
	_, err = p.Up(ctx)
	return err
}

// migrationLockID is the advisory lock under which instances migrate: "swbm"
// (Switchboard migrations), not goose's default, which every other goose user
// of the same database shares.
const migrationLockID = 0x7377626d

// sessionLocker is a goose lock.SessionLocker that waits for the migration
// lock in the server (pg_advisory_lock) instead of polling for it as goose's
// lock.NewPostgresSessionLocker does (pg_try_advisory_lock every 5s by
// default, 1s at least): instances that start together and all find a
// migration pending then each go the moment the one before is done, instead
// of one per polling round. The lock belongs to the session, so a crashed
// instance's lock ends with its connection.
type sessionLocker struct{}

var _ lock.SessionLocker = sessionLocker{}

// SessionLock waits for the migration lock; ctx bounds the wait.
func (sessionLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	return nil
}

// SessionUnlock releases the migration lock.
func (sessionLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockID).Scan(&released); err != nil {
		return fmt.Errorf("release the migration lock: %w", err)
	}
	if !released {
		return errors.New("release the migration lock: the session did not hold it")
	}
	return nil
}

// dialect tells sqlstore what PostgreSQL's errors mean.
type dialect struct{}

// IsUniqueViolation implements sqlstore.Dialect: SQLSTATE 23505.
func (dialect) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// Unavailable implements sqlstore.Dialect.
func (dialect) Unavailable(err error) bool { return Unavailable(err) }

// RowLocks implements sqlstore.RowLocker: PostgreSQL locks rows with
// SELECT ... FOR UPDATE, which is how instances take turns refreshing a
// token.
func (dialect) RowLocks() bool { return true }

// Unavailable reports whether err means that the database cannot be reached
// or cannot serve right now (so that callers answer 503, not 500): no
// connection could be made, an open connection broke, or the server is
// shutting down, starting up, out of resources or (after a failover) a
// read-only standby. An error the server sent over a working connection for
// one statement is not unavailability, nor is a refused login (a bad password
// or database name is a configuration error).
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		// A canceled context says the caller left, nothing of the database.
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Checked first: a login the server refused comes as a ConnectError
		// wrapping the PgError.
		switch {
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			strings.HasPrefix(pe.Code, "53"), // insufficient_resources: disk full, out of memory, too many connections
			pe.Code == "57P01",               // admin_shutdown, and pg_terminate_backend
			pe.Code == "57P02",               // crash_shutdown
			pe.Code == "57P03",               // cannot_connect_now: starting up, recovering
			pe.Code == "25006":               // read_only_sql_transaction: a standby
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error // *net.OpError, syscall.Errno and context.DeadlineExceeded among others
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed the connection under a query
		errors.Is(err, driver.ErrBadConn),    // database/sql gave up retrying broken connections
		errors.Is(err, puddle.ErrClosedPool): // the pool is closing
		return true
	}
	// A query on a connection pgx closed after it broke fails with "conn
	// closed", an unexported error that is safe to retry (it sent nothing).
	return pgconn.SafeToRetry(err)
}

// Transient reports whether an error of Open may clear by itself while the
// database comes up, so that a starting instance retries it: the connection
// was refused, reset or timed out, the host does not resolve yet (a
// container or a DNS record still being created), the server closed the
// connection, or it answered that it is starting up (57P03), shutting down
// for a restart (57P01) or has too many connections (53300, instances
// starting together). Everything else is permanent: a connection string
// that does not parse, a refused login (28000, 28P01), a missing database
// (3D000), a TLS failure, a migration that fails.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Checked first: a login the server refused comes as a ConnectError
		// wrapping the PgError.
		switch pe.Code {
		case "57P03", "57P01", "53300":
			return true
		}
		return false
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout(),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return false
}

// WritableCTEs implements sqlstore.WritableCTEs: a workflow step's writes
// (its result, the next step or the run's end, the audit entries) are one
// statement of data-modifying CTEs, and so are a delivery's.
func (dialect) WritableCTEs() bool { return true }

// MultiRowAudit implements sqlstore.MultiRowAudit: a batch of audit entries
// is one INSERT, so one round trip, instead of one an entry plus BEGIN and
// COMMIT (BenchmarkAppendAudit in this package).
func (dialect) MultiRowAudit() bool { return multiRowAudit }

// multiRowAudit is switched off by the benchmark to compare both ways.
var multiRowAudit = true

// AuditWriters implements runner.ConcurrentAudit: batches of audit entries
// are committed up to this many at once, on connections of the pool, and
// PostgreSQL lets concurrent commits share its WAL flushes. It leaves at
// least half the pool to everything else.
func (s *Store) AuditWriters() int { return max(1, min(4, int(s.pool.Config().MaxConns)/2)) }
