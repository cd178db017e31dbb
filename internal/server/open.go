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
func OpenStore(ctx context.Context, cfg *Config, log *slog.Logger) (switchboard.Store, error) {
	if cfg.DatabaseURL == "" {
		return sqlite.Open(ctx, filepath.Join(cfg.Data, "switchboard.db"))
	}
	// The database may still be starting (several instances and their
	// database brought up together): retry for a while before giving up.
	var lastErr error
	for wait, start := 250*time.Millisecond, time.Now(); time.Since(start) < 30*time.Second; wait = min(2*wait, 5*time.Second) {
		s, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err == nil {
			s.Log = log
			return s, nil
		}
		lastErr = err
		log.Warn("cannot open PostgreSQL yet; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil, fmt.Errorf("open PostgreSQL: %w", lastErr)
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
