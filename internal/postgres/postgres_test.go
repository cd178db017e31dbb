package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// open opens a store on databaseURL and closes it when the test ends.
func open(t *testing.T, databaseURL string) *Store {
	t.Helper()
	s, err := Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect opens a plain connection for the test's own SQL.
func connect(t *testing.T, databaseURL string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) switchboard.Store {
		return open(t, pgtest.Schema(t))
	})
}

// Ten instances starting together on an empty schema all start, and each
// migration is applied once.
func TestConcurrentMigrations(t *testing.T) {
	u := pgtest.Schema(t)
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := Open(context.Background(), u)
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open #%d: %v", i+1, err)
		}
	}
	// And one more, on the migrated schema.
	open(t, u)

	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations embedded: %v", err)
	}
	c := connect(t, u)
	ctx := context.Background()
	// goose's version table and the store's tables are in the test's schema:
	// search_path from the URL reached every connection.
	var schema, versions, changes string
	if err := c.QueryRow(ctx, `SELECT current_schema(),
		(SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = to_regclass('goose_db_version')),
		(SELECT relnamespace::regnamespace::text FROM pg_class WHERE oid = to_regclass('changes'))`).
		Scan(&schema, &versions, &changes); err != nil {
		t.Fatal(err)
	}
	if versions != schema || changes != schema || !strings.HasPrefix(schema, "t_") {
		t.Errorf("goose_db_version in schema %s and changes in %s, want both in the test's schema %s", versions, changes, schema)
	}
	rows, err := c.Query(ctx, `SELECT version_id, count(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id`)
	if err != nil {
		t.Fatal(err)
	}
	applied, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var v, count int64
		err := r.Scan(&v, &count)
		return fmt.Sprintf("%d×%d", v, count), err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each file's version is its number: migrations written on different
	// branches may leave a gap until they are merged.
	var want []string
	for _, f := range files {
		var v int64
		if _, err := fmt.Sscanf(strings.TrimPrefix(f, "migrations/"), "%d_", &v); err != nil {
			t.Fatalf("migration %s: no version: %v", f, err)
		}
		want = append(want, fmt.Sprintf("%d×1", v))
	}
	if fmt.Sprint(applied) != fmt.Sprint(want) {
		t.Errorf("applied migrations (version×times) = %v, want %v", applied, want)
	}
}

// listener runs s.Listen with a unique application_name on its connection
// (so that the test can find and kill it) and returns the channel notify
// sends on and that name. Listen ends with the test.
func listener(t *testing.T, s *Store) (<-chan struct{}, string) {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "switchboard-test-listener-" + hex.EncodeToString(b[:])
	s.listenConfig.RuntimeParams["application_name"] = name
	notified := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Listen(ctx, func() {
			select {
			case notified <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Listen did not return after its context ended")
		}
	})
	return notified, name
}

func waitNotify(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatalf("no notification %s", what)
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// A write through one instance wakes another's listener, also after the
// listener's connection was killed.
func TestListen(t *testing.T) {
	u := pgtest.Schema(t)
	a, b := open(t, u), open(t, u)
	notified, name := listener(t, b)
	// The first notification says that Listen listens.
	waitNotify(t, notified, "on listening")

	ctx := context.Background()
	org := func(id string) {
		t.Helper()
		if err := a.CreateOrg(ctx, switchboard.Org{ID: id, Name: id, CreatedAt: time.Now()},
			switchboard.Key{ID: "k-" + id, OrgID: id, Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-" + id, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	org("a")
	waitNotify(t, notified, "after a write")

	c := connect(t, u)
	var killed int
	if err := c.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections (%v), want 1", killed, err)
	}
	drain(notified)
	// The listener notifies once it listens again, having maybe missed
	// changes; then it delivers writes as before.
	waitNotify(t, notified, "after reconnecting")
	var listening int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&listening); err != nil || listening != 1 {
		t.Fatalf("%d listener connections after the kill (%v), want 1", listening, err)
	}
	drain(notified)
	org("b")
	waitNotify(t, notified, "after a write once reconnected")
}

// Closing the store ends Listen.
func TestListenEndsOnClose(t *testing.T) {
	s, err := Open(context.Background(), pgtest.Schema(t))
	if err != nil {
		t.Fatal(err)
	}
	notified := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Listen(context.Background(), func() {
			select {
			case notified <- struct{}{}:
			default:
			}
		})
	}()
	waitNotify(t, notified, "on listening")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not return after Close")
	}
}

// A change that commits after a later-drawn change still gets a seq above
// every seq a reader has seen, so that a reader following the feed by its
// last seq never skips it.
func TestChangesInCommitOrder(t *testing.T) {
	u := pgtest.Schema(t)
	s := open(t, u)
	ctx := context.Background()
	c := connect(t, u)
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	// This change draws its seq first and commits last.
	if _, err := tx.Exec(ctx, `INSERT INTO changes (kind, org_id, ref, at) VALUES ('keys', 'slow', 'k', 0)`); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrg(ctx, switchboard.Org{ID: "fast", Name: "fast", CreatedAt: time.Now()},
		switchboard.Key{ID: "k-fast", OrgID: "fast", Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-fast", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	seen, err := s.Changes(ctx, 0, 100)
	if err != nil || len(seen) != 1 || seen[0].OrgID != "fast" {
		t.Fatalf("Changes = %+v, %v; want only fast's", seen, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := s.Changes(ctx, seen[0].Seq, 100)
	if err != nil || len(after) != 1 || after[0].OrgID != "slow" {
		t.Fatalf("Changes after %d = %+v, %v; want slow's", seen[0].Seq, after, err)
	}
}

// Instances writing at once: a reader that follows the feed by its last seq,
// as the registry does, sees every change.
func TestChangesFollowedUnderConcurrentWrites(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	ctx := context.Background()
	const writers, each = 8, 25
	stop := make(chan struct{})
	followed := make(chan int)
	go func() {
		var last int64
		n := 0
		for {
			select {
			case <-stop:
				// Read what the last writes committed.
				for {
					cs, err := s.Changes(ctx, last, 1000)
					if err != nil || len(cs) == 0 {
						followed <- n
						return
					}
					n += len(cs)
					last = cs[len(cs)-1].Seq
				}
			default:
			}
			cs, err := s.Changes(ctx, last, 1000)
			if err == nil && len(cs) > 0 {
				n += len(cs)
				last = cs[len(cs)-1].Seq
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("o%d-%d", w, i)
				if err := s.CreateOrg(ctx, switchboard.Org{ID: id, Name: id, CreatedAt: time.Now()},
					switchboard.Key{ID: "k-" + id, OrgID: id, Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-" + id, CreatedAt: time.Now()}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if n := <-followed; n != writers*each {
		t.Errorf("the follower saw %d changes, want %d", n, writers*each)
	}
}

// proxy forwards TCP connections to PostgreSQL until it is killed, so that a
// test can take the database away from a store.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

// kill stops accepting (so that new connections are refused) and cuts every
// open connection.
func (p *proxy) kill() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// closedPort returns an address on which nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func withHost(t *testing.T, databaseURL, host string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = host
	return u.String()
}

func TestUnavailable(t *testing.T) {
	u := pgtest.Schema(t)
	ctx := context.Background()

	t.Run("Open", func(t *testing.T) {
		start := time.Now()
		s, err := Open(ctx, withHost(t, u, closedPort(t)))
		if err == nil {
			s.Close()
			t.Fatal("Open on a closed port succeeded")
		}
		if !Unavailable(err) {
			t.Errorf("Unavailable(%v) = false, want true", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Open took %v to fail", d)
		}
	})

	t.Run("DatabaseGone", func(t *testing.T) {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		p := newProxy(t, pu.Host)
		s := open(t, withHost(t, u, p.ln.Addr().String()))
		if _, err := s.Keys(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		p.kill()
		// The first read meets a pooled connection cut under it, the next
		// ones a refused dial; both are unavailability.
		for i := range 3 {
			_, err := s.Org(ctx, "a")
			if code := switchboard.ErrorCode(err); code != switchboard.CodeUnavailable {
				t.Errorf("read #%d: error %v (code %q), want %q", i+1, err, code, switchboard.CodeUnavailable)
			}
		}
		err = s.CreateKey(ctx, switchboard.Key{ID: "k", OrgID: "a", Name: "n", Role: switchboard.RoleAgent, Hash: "h", CreatedAt: time.Now()})
		if code := switchboard.ErrorCode(err); code != switchboard.CodeUnavailable {
			t.Errorf("write: error %v (code %q), want %q", err, code, switchboard.CodeUnavailable)
		}
		if code := switchboard.ErrorCode(s.Ping(ctx)); code != switchboard.CodeUnavailable {
			t.Errorf("Ping: code %q, want %q", code, switchboard.CodeUnavailable)
		}
	})

	// The errors pgx returns when the server ends a connection, and errors
	// that are not unavailability.
	t.Run("Classify", func(t *testing.T) {
		victim, killer := connect(t, u), connect(t, u)
		pid := victim.PgConn().PID()
		killed := make(chan struct{})
		go func() {
			defer close(killed)
			time.Sleep(200 * time.Millisecond)
			killer.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
		}()
		_, terminated := victim.Exec(ctx, `SELECT pg_sleep(10)`)
		<-killed
		_, closed := victim.Exec(ctx, `SELECT 1`)
		_, syntax := killer.Exec(ctx, `SELEC 1`)
		_, unique := killer.Exec(ctx, `CREATE TEMPORARY TABLE x (id int PRIMARY KEY); INSERT INTO x VALUES (1), (1)`)
		_, noDB := pgx.Connect(ctx, withPath(t, u, "/no_such_database"))
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, canceledErr := killer.Exec(canceled, `SELECT 1`)
		for _, tt := range []struct {
			what string
			err  error
			want bool
		}{
			{"terminated under a query", terminated, true},
			{"query on the terminated connection", closed, true},
			{"io.ErrUnexpectedEOF", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), true},
			{"syntax error", syntax, false},
			{"unique violation", unique, false},
			{"unknown database", noDB, false},
			{"canceled context", canceledErr, false},
			{"other", errors.New("boom"), false},
		} {
			if tt.err == nil {
				t.Errorf("%s: no error", tt.what)
				continue
			}
			if got := Unavailable(tt.err); got != tt.want {
				t.Errorf("%s: Unavailable(%v) = %v, want %v", tt.what, tt.err, got, tt.want)
			}
		}
		if !(dialect{}).IsUniqueViolation(unique) || (dialect{}).IsUniqueViolation(syntax) {
			t.Errorf("IsUniqueViolation is wrong for %v or %v", unique, syntax)
		}
	})
}

func withPath(t *testing.T, databaseURL, path string) string {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = path
	return u.String()
}

// The helper's contract: with the variable unset, PostgreSQL tests skip.
func TestSchemaSkipsWhenUnset(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) != "" {
		t.Skip("runs only without " + pgtest.EnvURL)
	}
	ok := t.Run("inner", func(t *testing.T) {
		pgtest.Schema(t)
		t.Error("Schema returned with the variable unset")
	})
	if !ok {
		t.Error("the inner test failed instead of skipping")
	}
}

// UpdateAccount holds the account's row lock: two instances refreshing one
// token at once take turns, and the second sees what the first wrote.
func TestUpdateAccountTakesTurns(t *testing.T) {
	u := pgtest.Schema(t)
	a, b := open(t, u), open(t, u)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := a.CreateOrg(ctx, switchboard.Org{ID: "o", Name: "o", CreatedAt: now},
		switchboard.Key{ID: "k", OrgID: "o", Name: "admin", Role: switchboard.RoleAdmin, Hash: "h", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutAccount(ctx, switchboard.Account{OrgID: "o", AppID: "app", Name: "default", Status: "connected", AccessToken: []byte{0}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var calls atomic.Int64
	for _, s := range []*Store{a, b} {
		wg.Add(1)
		go func(s *Store) {
			defer wg.Done()
			_, err := s.UpdateAccount(ctx, "o", "app", "default", func(acct *switchboard.Account) (bool, error) {
				if acct.AccessToken[0] > 0 {
					return false, nil // the other instance refreshed already
				}
				calls.Add(1)
				time.Sleep(100 * time.Millisecond) // the provider's answer
				acct.AccessToken = []byte{acct.AccessToken[0] + 1}
				return true, nil
			})
			if err != nil {
				t.Error(err)
			}
		}(s)
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("refreshes = %d, want 1", n)
	}
	got, err := b.Account(ctx, "o", "app", "default")
	if err != nil || got.AccessToken[0] != 1 {
		t.Fatalf("account = %+v, %v", got, err)
	}
}

// InTx hands outside code a pgx.Tx on the store's pool (what riverpgxv5's
// JobCompleteTx takes).
func TestInTx(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	storetest.RunTx(t, s, func(d any) bool { _, ok := d.(pgx.Tx); return ok })
}

// The workflow state on PostgreSQL: hooks, runs, steps, events, tenancy.
func TestWorkflowStore(t *testing.T) {
	s := open(t, pgtest.Schema(t))
	storetest.RunWorkflows(t, s)
}
