package server

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/secretbox"
)

var (
	keyA = strings.Repeat("aa", 32)
	keyB = strings.Repeat("bb", 32)
)

const wrongEnvKey = "SWITCHBOARD_SECRET_KEY does not open the secrets in this database: every instance must be started with the same key (the one the database was first started with); if you are rotating, put the new key first and the old one after it, comma-separated"

// mustStart builds an instance on cfg and closes it when the test ends.
func mustStart(t *testing.T, cfg Config) *Instance {
	t.Helper()
	in, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// wantRefused checks that New refuses cfg with an error containing want.
func wantRefused(t *testing.T, cfg Config, want string) {
	t.Helper()
	in, err := New(context.Background(), cfg)
	if err == nil {
		in.Close()
		t.Fatalf("New started; want an error containing %q", want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("New = %v, want an error containing %q", err, want)
	}
}

// keyConfig is testConfig with the secret key given as serve reads it.
func keyConfig(t *testing.T, key string) Config {
	cfg := testConfig(t)
	cfg.SecretKeys = nil
	cfg.SecretKey = key
	return cfg
}

// The first start stores a key check value sealed with its key; the same key
// starts again, another is refused with what to set.
func TestKeyCheckSQLite(t *testing.T) {
	t.Parallel()
	cfg := keyConfig(t, keyA)
	t.Run("first start stores the check", func(t *testing.T) {
		in := mustStart(t, cfg)
		sealed, err := in.Store.KeyCheck(context.Background())
		if err != nil {
			t.Fatalf("KeyCheck after the first start = %v", err)
		}
		box, _ := OpenBox(&cfg, nil)
		if _, err := box.Open(sealed, keyCheckAAD); err != nil {
			t.Fatalf("the stored check does not open with the instance's key: %v", err)
		}
		in.Close()
	})
	t.Run("same key starts again", func(t *testing.T) {
		mustStart(t, cfg).Close()
	})
	t.Run("another key is refused", func(t *testing.T) {
		other := cfg
		other.SecretKey = keyB
		wantRefused(t, other, wrongEnvKey)
	})
	t.Run("the new key first and the old one after it starts", func(t *testing.T) {
		both := cfg
		both.SecretKey = keyB + "," + keyA
		mustStart(t, both).Close()
	})
}

// A key file that is not the one the database started with (lost, or
// replaced) is refused too, naming the file.
func TestKeyCheckKeyFile(t *testing.T) {
	t.Parallel()
	cfg := keyConfig(t, "")
	mustStart(t, cfg).Close()
	path := filepath.Join(cfg.Data, secretbox.KeyFileName)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, cfg, "the secret key file "+path+" does not open the secrets in this database: restore the key file")
}

// With a database URL no key file is made: no key is an error, from
// Validate and from New.
func TestDatabaseURLNeedsSecretKey(t *testing.T) {
	t.Parallel()
	const want = "SWITCHBOARD_SECRET_KEY is not set: with --database-url every instance needs the same key"
	cfg := keyConfig(t, "")
	cfg.DatabaseURL = "postgres://nobody@127.0.0.1:1/none?sslmode=disable"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Validate = %v, want %q", err, want)
	}
	wantRefused(t, cfg, want)
	if _, err := os.Stat(filepath.Join(cfg.Data, secretbox.KeyFileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key file is in the data directory (stat: %v)", err)
	}
	cfg.SecretKey = keyA
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate with a key = %v", err)
	}
	cfg.SecretKey = ""
	cfg.SecretKeys = [][]byte{make([]byte, secretbox.KeySize)}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate with given keys = %v", err)
	}
}

// Instances on one PostgreSQL must share the key: a second instance with
// another key is refused while the first runs.
func TestKeyCheckPostgres(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	cfg := keyConfig(t, keyA)
	cfg.DatabaseURL = u
	mustStart(t, cfg)
	t.Run("another key is refused", func(t *testing.T) {
		other := keyConfig(t, keyB)
		other.DatabaseURL = u
		wantRefused(t, other, wrongEnvKey)
	})
	t.Run("the same key starts", func(t *testing.T) {
		same := keyConfig(t, keyA)
		same.DatabaseURL = u
		mustStart(t, same)
	})
}

// Instances starting together on an empty database with different keys:
// the first to store its check wins and the others are refused.
func TestKeyCheckPostgresStartTogether(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	keys := []string{keyA, keyB, strings.Repeat("cc", 32)}
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := keyConfig(t, k)
			cfg.DatabaseURL = u
			in, err := New(context.Background(), cfg)
			if err == nil {
				t.Cleanup(func() { in.Close() })
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	started := 0
	for i, err := range errs {
		switch {
		case err == nil:
			started++
		case !strings.Contains(err.Error(), wrongEnvKey):
			t.Errorf("instance %d: New = %v, want started or refused for its key", i, err)
		}
	}
	if started != 1 {
		t.Errorf("%d instances started, want 1: %v", started, errs)
	}
}

// Rotate re-seals the check last, and refuses keys that do not open it
// before it rewrites anything.
func TestRotateKeyCheck(t *testing.T) {
	t.Parallel()
	cfg := keyConfig(t, keyA)
	in := mustStart(t, cfg)
	ctx := context.Background()
	rotate := func(key string) error {
		c := cfg
		c.SecretKey = key
		box, err := OpenBox(&c, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Rotate(ctx, in.Store, box, &c)
		return err
	}
	if err := rotate(keyB); err == nil || !strings.Contains(err.Error(), wrongEnvKey) {
		t.Fatalf("Rotate with an unrelated key = %v, want %q", err, wrongEnvKey)
	}
	if err := rotate(keyB + "," + keyA); err != nil {
		t.Fatalf("Rotate with the new key and the old one = %v", err)
	}
	sealed, err := in.Store.KeyCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onlyB, _ := OpenBox(&Config{SecretKey: keyB}, nil)
	if _, err := onlyB.Open(sealed, keyCheckAAD); err != nil {
		t.Errorf("after rotation the check does not open with the new key alone: %v", err)
	}
}
