package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/secretbox"
)

// The key check value is this constant sealed with the key the secrets are
// sealed with; an instance that cannot open it has the wrong key, and would
// otherwise start and answer 500 on the first secret it reads.
var (
	keyCheckPlaintext = []byte("switchboard key check")
	keyCheckAAD       = []byte("switchboard key check")
)

// checkKey refuses a box that does not open the store's key check value, and
// stores one sealed with the box's current key on the store's first start.
func checkKey(ctx context.Context, m switchboard.Maintenance, box *secretbox.Box, cfg *Config, log *slog.Logger) error {
	sealed, err := m.KeyCheck(ctx)
	if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
		if err := m.PutKeyCheck(ctx, box.Seal(keyCheckPlaintext, keyCheckAAD), false); err != nil {
			return fmt.Errorf("store the key check value: %w", err)
		}
		// Another instance starting at the same time may have stored its
		// own first: the value read back decides.
		sealed, err = m.KeyCheck(ctx)
		if err == nil {
			log.Info("stored the key check value: instances must now start with this secret key")
		}
	}
	if err != nil {
		return fmt.Errorf("read the key check value: %w", err)
	}
	return openKeyCheck(box, sealed, cfg)
}

func openKeyCheck(box *secretbox.Box, sealed []byte, cfg *Config) error {
	if pt, err := box.Open(sealed, keyCheckAAD); err != nil || !bytes.Equal(pt, keyCheckPlaintext) {
		return wrongKeyError(cfg)
	}
	return nil
}

// wrongKeyError says which key was wrong and what to set instead.
func wrongKeyError(cfg *Config) error {
	const rotating = "put the new key first and the old one after it, comma-separated"
	switch {
	case len(cfg.SecretKeys) > 0:
		return errors.New("the given secret keys (Config.SecretKeys) do not open the secrets in this database")
	case cfg.SecretKey != "":
		return errors.New("SWITCHBOARD_SECRET_KEY does not open the secrets in this database: every instance must be started with the same key (the one the database was first started with); if you are rotating, " + rotating)
	}
	return fmt.Errorf("the secret key file %s does not open the secrets in this database: restore the key file the database was first started with, or set SWITCHBOARD_SECRET_KEY to its key (when rotating, %s)",
		filepath.Join(cfg.Data, secretbox.KeyFileName), rotating)
}

// Rotate re-seals every secret at rest with box's current key, then the key
// check value, so that instances given only the current key start; it
// returns how many secrets it rewrote. It refuses a box that does not open
// the key check value before it rewrites anything. `switchboard secrets
// rotate` runs it.
func Rotate(ctx context.Context, m switchboard.Maintenance, box *secretbox.Box, cfg *Config) (int, error) {
	sealed, err := m.KeyCheck(ctx)
	switch {
	case switchboard.ErrorCode(err) == switchboard.CodeNotFound:
		sealed = nil // a database no instance of this version started on yet
	case err != nil:
		return 0, fmt.Errorf("read the key check value: %w", err)
	default:
		if err := openKeyCheck(box, sealed, cfg); err != nil {
			return 0, err
		}
	}
	n, err := m.Reseal(ctx, func(ct, aad []byte) ([]byte, bool, error) {
		if !box.NeedsRotation(ct) {
			return nil, false, nil
		}
		pt, err := box.Open(ct, aad)
		if err != nil {
			return nil, false, fmt.Errorf("a value does not open with any key of SWITCHBOARD_SECRET_KEY: %w", err)
		}
		return box.Seal(pt, aad), true, nil
	})
	if err != nil {
		return n, err
	}
	// Last, once every secret opens with the current key: until then the
	// old key must stay in use.
	if sealed == nil || box.NeedsRotation(sealed) {
		if err := m.PutKeyCheck(ctx, box.Seal(keyCheckPlaintext, keyCheckAAD), true); err != nil {
			return n, fmt.Errorf("store the key check value: %w", err)
		}
	}
	return n, nil
}
