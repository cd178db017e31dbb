package server

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

// OpenStore opens PostgreSQL when cfg has a database URL, else SQLite in the
// data directory. `switchboard secrets rotate` opens its store here too.
//
// The database may still be starting (several instances and their database
// brought up together), so an error that may clear by itself (a refused or
// timed-out connection, "the database system is starting up": see
// postgres.Transient) is retried for 30 seconds. A configuration that can
// never work (a URL that does not parse or is not PostgreSQL's, an unknown
// role, a wrong password, a missing database) fails at once. Errors never
// hold the password: pgx redacts it from its own.
func OpenStore(ctx context.Context, cfg *Config, log *slog.Logger) (switchboard.Store, error) {
	if cfg.DatabaseURL == "" {
		return sqlite.Open(ctx, filepath.Join(cfg.Data, "switchboard.db"))
	}
	if scheme, ok := urlScheme(cfg.DatabaseURL); ok && scheme != "postgres" && scheme != "postgresql" {
		return nil, fmt.Errorf("open PostgreSQL: --database-url has the unsupported scheme %q: want postgres:// or postgresql:// (or a key=value DSN)", scheme)
	}
	var lastErr error
	for wait, start := 250*time.Millisecond, time.Now(); time.Since(start) < 30*time.Second; wait = min(2*wait, 5*time.Second) {
		s, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err == nil {
			s.Log = log
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w (last attempt: %v)", ctx.Err(), err)
		}
		if !postgres.Transient(err) {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		lastErr = err
		log.Warn("cannot open PostgreSQL yet; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open PostgreSQL: %w (last attempt: %v)", ctx.Err(), lastErr)
		case <-time.After(wait):
		}
	}
	return nil, fmt.Errorf("open PostgreSQL: %w", lastErr)
}

// urlScheme returns the lower-cased scheme of a URL-shaped connection
// string ("mysql" of mysql://...); ok is false for a key=value DSN.
func urlScheme(s string) (scheme string, ok bool) {
	i := strings.Index(s, "://")
	if i <= 0 {
		return "", false
	}
	for j, c := range s[:i] {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (j == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	return strings.ToLower(s[:i]), true
}

// OpenBox returns the secret box: the keys of SWITCHBOARD_SECRET_KEY
// (comma-separated, current first), or else (SQLite only: with a database
// URL no key is an error) the key file of the data directory, created on
// first start.
func OpenBox(cfg *Config, log *slog.Logger) (*secretbox.Box, error) {
	if len(cfg.SecretKeys) > 0 {
		return secretbox.New(cfg.SecretKeys...)
	}
	var keys [][]byte
	if cfg.SecretKey != "" {
		for i, s := range strings.Split(cfg.SecretKey, ",") {
			k, err := secretbox.ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEY (key %d): %w", i+1, err)
			}
			keys = append(keys, k)
		}
	} else if cfg.DatabaseURL != "" {
		return nil, errNoSecretKey
	} else {
		k, created, err := secretbox.LoadOrCreateKeyFile(cfg.Data)
		if err != nil {
			return nil, err
		}
		if created {
			log.Warn("created a secret key file; back it up: without it the stored secrets cannot be read",
				"path", filepath.Join(cfg.Data, secretbox.KeyFileName))
		}
		keys = append(keys, k)
	}
	return secretbox.New(keys...)
}
