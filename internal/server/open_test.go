package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// secret is the password of every URL below: no error may repeat it.
const secret = "s3cret-pw"

// withUserDB returns the test database's URL with its user (and this
// password) or its database replaced.
func withUserDB(t *testing.T, user, db string) string {
	t.Helper()
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		t.Skip(pgtest.EnvURL + " is not set: skipping the PostgreSQL tests")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", pgtest.EnvURL, err)
	}
	if user != "" {
		u.User = url.UserPassword(user, secret)
	}
	if db != "" {
		u.Path = "/" + db
	}
	return u.String()
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// closedPort returns a 127.0.0.1 address on which nothing listens.
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

// A database URL that can never work fails at once, with the reason and
// without the password, instead of being retried for 30 seconds.
func TestOpenStorePermanentErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
		want string
	}{
		{"unparseable URL", func(*testing.T) string { return "postgres://postgres:" + secret + "@127.0.0.1:notaport/test" }, "invalid port"},
		{"unparseable DSN", func(*testing.T) string { return "host=127.0.0.1 password=" + secret + " connect_timeout=soon" }, "invalid connect_timeout"},
		{"wrong scheme", func(*testing.T) string { return "mysql://root:" + secret + "@127.0.0.1:3306/test" }, `unsupported scheme "mysql"`},
		{"unknown role", func(t *testing.T) string { return withUserDB(t, randomName("nosuchrole_"), "") }, "SQLSTATE 28000"},
		{"missing database", func(t *testing.T) string { return withUserDB(t, "", randomName("nosuchdb_")) }, "SQLSTATE 3D000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.DatabaseURL = tc.url(t)
			var logs syncBuffer
			log := NewLogger(&Config{LogLevel: "info"}, &logs)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			s, err := OpenStore(ctx, &cfg, log)
			if err == nil {
				s.Close()
				t.Fatal("OpenStore succeeded")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("OpenStore took %v: a permanent error must fail at once", d)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("OpenStore = %v, want the reason, not the context's end", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenStore = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
				t.Errorf("the password leaks: %v\nlogs: %s", err, logs.String())
			}
			if strings.Contains(logs.String(), "retrying") {
				t.Errorf("a permanent error was retried: %s", logs.String())
			}
		})
	}
}

// A refused connection is retried (the database may still be starting)
// until the context ends, and the error then says what the last attempt
// met.
func TestOpenStoreRetriesRefused(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.DatabaseURL = "postgres://postgres:" + secret + "@" + closedPort(t) + "/test?sslmode=disable"
	var logs syncBuffer
	log := NewLogger(&Config{LogLevel: "info"}, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := OpenStore(ctx, &cfg, log)
	if err == nil {
		s.Close()
		t.Fatal("OpenStore succeeded on a closed port")
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("OpenStore gave up after %v, before its context ended: %v", d, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("OpenStore = %v, want the context's end and the last attempt's connection refused", err)
	}
	if n := strings.Count(logs.String(), "retrying"); n < 2 {
		t.Errorf("%d retries logged, want 2 or more:\n%s", n, logs.String())
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
		t.Errorf("the password leaks: %v\nlogs: %s", err, logs.String())
	}
}

// What is retried: the errors of a database that is coming up, not those
// of a configuration that is wrong.
func TestPostgresTransient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"timed out", fmt.Errorf("connect: %w", context.DeadlineExceeded), true},
		{"no such host yet", &net.DNSError{Err: "no such host", Name: "db", IsNotFound: true}, true},
		{"starting up", &pgconn.PgError{Code: "57P03", Message: "the database system is starting up"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unknown role", &pgconn.PgError{Code: "28000"}, false},
		{"wrong password", &pgconn.PgError{Code: "28P01"}, false},
		{"missing database", &pgconn.PgError{Code: "3D000"}, false},
		{"syntax error in a migration", &pgconn.PgError{Code: "42601"}, false},
		{"canceled", context.Canceled, false},
		{"anything else", errors.New("tls: server refused TLS connection"), false},
	} {
		if got := postgres.Transient(fmt.Errorf("open postgres: %w", tc.err)); got != tc.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// --redis-url is not retried: a URL that is not Redis's fails at once,
// without its password; a Redis that is down is only warned about, and runs
// go uncached until it answers.
func TestRedisURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, url, want string }{
		{"wrong scheme", "mysql://root:" + secret + "@127.0.0.1:3306/0", "invalid URL scheme"},
		{"unparseable", "redis://:" + secret + "@127.0.0.1:notaport/0", "invalid URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.RedisURL = tc.url
			start := time.Now()
			in, err := New(context.Background(), cfg)
			if err == nil {
				in.Close()
				t.Fatal("New started")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("New took %v", d)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret) {
				t.Errorf("New = %v, want an error containing %q and not the password", err, tc.want)
			}
		})
	}
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		cfg := testConfig(t)
		cfg.RedisURL = "redis://:" + secret + "@" + closedPort(t) + "/0"
		var logs syncBuffer
		cfg.LogOutput = &logs
		in := mustStart(t, cfg)
		in.Close()
		if !strings.Contains(logs.String(), "redis is unreachable") || strings.Contains(logs.String(), secret) {
			t.Errorf("logs = %s, want a warning without the password", logs.String())
		}
	})
}
