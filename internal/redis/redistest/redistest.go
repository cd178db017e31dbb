// Package redistest gives tests a Redis to use, like net/http/httptest gives
// them a server: URL finds the test Redis from SWITCHBOARD_TEST_REDIS_URL and
// Prefix hands each test its own key namespace, deleted when it ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// EnvVar names the environment variable holding the test Redis's URL.
const EnvVar = "SWITCHBOARD_TEST_REDIS_URL"

// URL returns the test Redis's URL. It skips the test when EnvVar is unset,
// and fails it when the Redis does not answer: a configured Redis that is
// down is a broken test setup, which a skip would hide.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		t.Skip(EnvVar + " is not set: skipping the Redis tests")
	}
	rdb := client(t, u)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s is set but Redis at %s does not answer: %v", EnvVar, rdb.Options().Addr, err)
	}
	return u
}

// Prefix returns a random key prefix ("sbtest:<hex>:") and deletes every key
// under it when the test ends, so that tests and parallel runs sharing one
// Redis never see one another's keys.
func Prefix(t testing.TB, url string) string {
	t.Helper()
	var b [8]byte
	rand.Read(b[:])
	prefix := "sbtest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		rdb := client(t, url)
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, rdb, prefix); err != nil {
			t.Errorf("deleting the keys under %q: %v", prefix, err)
		}
	})
	return prefix
}

// deleteKeys deletes every key starting with prefix, which holds none of
// the glob characters *?[]\ that SCAN MATCH would interpret.
func deleteKeys(ctx context.Context, rdb *goredis.Client, prefix string) error {
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return rdb.Unlink(ctx, batch...).Err()
	}
	return nil
}

func client(t testing.TB, url string) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	o.DialerRetries = 1 // a Redis that is down fails the test at once
	return goredis.NewClient(o)
}
