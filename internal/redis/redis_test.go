package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newCache(t testing.TB, url, prefix string, now func() time.Time) *Cache {
	t.Helper()
	c, err := New(context.Background(), url, Options{Now: now, Prefix: prefix, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestConformance(t *testing.T) {
	url := redistest.URL(t)
	cachetest.Run(t, func(t *testing.T, now func() time.Time) switchboard.Cache {
		return newCache(t, url, redistest.Prefix(t, url), now)
	})
}

// Two instances on one Redis share entries, fallback counts and locks.
func TestTwoClientsShareState(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	clock := cachetest.NewClock()
	a, b := newCache(t, url, prefix, clock.Now), newCache(t, url, prefix, clock.Now)
	ctx := context.Background()

	e := switchboard.CacheEntry{Doc: []byte(`{"a":1`), Status: 203, FetchedAt: clock.Now()}
	if ended, err := a.Store(ctx, "k", e); err != nil || ended {
		t.Fatalf("a.Store = %v, %v", ended, err)
	}
	l, err := b.Lookup(ctx, "k")
	if err != nil || l.Entry == nil || string(l.Entry.Doc) != string(e.Doc) || l.Entry.Status != 203 || !l.Entry.FetchedAt.Equal(e.FetchedAt) {
		t.Fatalf("b sees %+v, %v", l.Entry, err)
	}

	if on, err := a.Activate(ctx, "k"); !on || err != nil {
		t.Fatalf("a.Activate = %v, %v", on, err)
	}
	if on, err := b.Activate(ctx, "k"); on || err != nil {
		t.Fatalf("b.Activate of a key a activated = %v, %v", on, err)
	}
	var probes []int
	for i := 1; i <= 20; i++ {
		c := a
		if i%2 == 0 {
			c = b
		}
		l, err := c.Lookup(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if !l.Fallback || l.Entry == nil {
			t.Fatalf("run %d: %+v", i, l)
		}
		if l.Probe {
			probes = append(probes, i)
		}
	}
	if fmt.Sprint(probes) != "[5 10 15 20]" {
		t.Fatalf("probes at runs %v, want [5 10 15 20]", probes)
	}
	// A Store through b ends fallback mode for a too; only b hears that
	// it ended it.
	if ended, err := b.Store(ctx, "k", e); err != nil || !ended {
		t.Fatalf("b.Store in fallback mode = %v, %v", ended, err)
	}
	if ended, err := a.Store(ctx, "k", e); err != nil || ended {
		t.Fatalf("a.Store after b ended fallback mode = %v, %v", ended, err)
	}
	if l, _ := a.Lookup(ctx, "k"); l.Fallback {
		t.Fatal("fallback still on for a after b stored")
	}

	release, ok, err := a.Lock(ctx, "k", 5*time.Second)
	if !ok || err != nil {
		t.Fatalf("a.Lock = %v, %v", ok, err)
	}
	if _, ok, err := b.Lock(ctx, "k", 5*time.Second); ok || err != nil {
		t.Fatalf("b.Lock of a lock a holds = %v, %v", ok, err)
	}
	release()
	release() // twice is harmless
	rb, ok, err := b.Lock(ctx, "k", 5*time.Second)
	if !ok || err != nil {
		t.Fatalf("b.Lock after a released = %v, %v", ok, err)
	}
	defer rb()
}

// 100 concurrent runs through 4 instances make exactly 20 probes.
func TestConcurrentProbes(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	clock := cachetest.NewClock()
	var cs []*Cache
	for range 4 {
		cs = append(cs, newCache(t, url, prefix, clock.Now))
	}
	ctx := context.Background()
	if on, err := cs[0].Activate(ctx, "k"); !on || err != nil {
		t.Fatalf("Activate = %v, %v", on, err)
	}
	var probes atomic.Int64
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			l, err := cs[i%4].Lookup(ctx, "k")
			if err != nil {
				t.Error(err)
				return
			}
			if l.Probe {
				probes.Add(1)
			}
		})
	}
	wg.Wait()
	if n := probes.Load(); n != 20 {
		t.Fatalf("probes = %d, want 20", n)
	}
}

// The keys have the documented names and Redis TTLs, so that Redis reclaims
// them even when the logical expiry (by Options.Now) is never checked.
func TestKeysAndTTLs(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := newCache(t, url, prefix, nil)
	ctx := context.Background()
	if _, err := c.Store(ctx, "run:1", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Activate(ctx, "run:2"); err != nil {
		t.Fatal(err)
	}
	release, _, err := c.Lock(ctx, "run:3", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for _, k := range []struct {
		name     string
		min, max time.Duration
	}{
		{prefix + "e:{run:1}", switchboard.CacheTTL, switchboard.CacheTTL + ttlMargin},
		{prefix + "f:{run:2}", switchboard.CacheTTL, switchboard.CacheTTL + ttlMargin},
		{prefix + "l:{run:3}", 9 * time.Second, 10 * time.Second},
	} {
		ttl, err := c.rdb.PTTL(ctx, k.name).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < k.min || ttl > k.max {
			t.Errorf("PTTL %s = %v, want in [%v, %v]", k.name, ttl, k.min, k.max)
		}
	}
	// An entry already expired when stored is not kept.
	c.Store(ctx, "run:4", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: time.Now().Add(-25 * time.Hour)})
	if n, _ := c.rdb.Exists(ctx, prefix+"e:{run:4}").Result(); n != 0 {
		t.Error("an expired entry was stored")
	}
	if _, err := c.Store(ctx, "run:5", switchboard.CacheEntry{Status: 70000, FetchedAt: time.Now()}); err == nil {
		t.Error("a status over 65535 was stored")
	}
}

// An entry Switchboard cannot read (another version's format) is a miss.
func TestForeignEntryIsAMiss(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	c := newCache(t, url, prefix, nil)
	ctx := context.Background()
	c.rdb.Set(ctx, prefix+"e:{k}", "\x09something else", time.Minute)
	l, err := c.Lookup(ctx, "k")
	if err != nil || l.Entry != nil {
		t.Fatalf("Lookup = %+v, %v", l, err)
	}
}

// A lock that expired and was taken by another caller is not released by
// its first holder.
func TestLateReleaseKeepsNewHolder(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	a, b := newCache(t, url, prefix, nil), newCache(t, url, prefix, nil)
	ctx := context.Background()
	ra, ok, _ := a.Lock(ctx, "k", 20*time.Millisecond)
	if !ok {
		t.Fatal("a.Lock refused")
	}
	time.Sleep(50 * time.Millisecond)
	rb, ok, _ := b.Lock(ctx, "k", 10*time.Second)
	if !ok {
		t.Fatal("b.Lock refused after a's lock expired")
	}
	defer rb()
	ra()
	if _, ok, _ := a.Lock(ctx, "k", time.Second); ok {
		t.Fatal("a's late release freed b's lock")
	}
}

// The scripts run when Redis has forgotten them (a restart, SCRIPT FLUSH):
// EVALSHA fails with NOSCRIPT and EVAL takes over.
func TestScriptsFlushed(t *testing.T) {
	url := redistest.URL(t)
	clock := cachetest.NewClock()
	c := newCache(t, url, redistest.Prefix(t, url), clock.Now)
	ctx := context.Background()
	ops := func() {
		t.Helper()
		if _, err := c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if on, err := c.Activate(ctx, "k"); !on || err != nil {
			t.Fatalf("Activate = %v, %v", on, err)
		}
		if l, err := c.Lookup(ctx, "k"); err != nil || l.Entry == nil || !l.Fallback {
			t.Fatalf("Lookup = %+v, %v", l, err)
		}
		release, ok, err := c.Lock(ctx, "k", time.Second)
		if !ok || err != nil {
			t.Fatalf("Lock = %v, %v", ok, err)
		}
		release()
	}
	ops()
	if err := c.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	ops()
}

// Runs go on uncached when Redis is down: New succeeds, every operation
// fails fast with an error.
func TestRedisDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	testUnreachable(t, "redis://"+addr+"/0", 2)
}

// A Redis that accepts connections but never answers costs each operation
// a timeout, not a stall.
func TestRedisStalled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	testUnreachable(t, "redis://"+ln.Addr().String()+"/0", 1)
}

// testUnreachable runs every operation rounds times; later rounds run on
// the client's state after failures (go-redis stops dialing after many).
func testUnreachable(t *testing.T, url string, rounds int) {
	ctx := context.Background()
	start := time.Now()
	c, err := New(ctx, url, Options{Log: quiet})
	if err != nil {
		t.Fatalf("New with Redis down: %v", err)
	}
	defer c.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("New took %v", d)
	}
	ops := []struct {
		name string
		op   func() error
	}{
		{"Ping", func() error { return c.Ping(ctx) }},
		{"Lookup", func() error { _, err := c.Lookup(ctx, "k"); return err }},
		{"Store", func() error {
			_, err := c.Store(ctx, "k", switchboard.CacheEntry{Doc: []byte("d"), Status: 200, FetchedAt: time.Now()})
			return err
		}},
		{"Activate", func() error { _, err := c.Activate(ctx, "k"); return err }},
		{"Lock", func() error {
			release, ok, err := c.Lock(ctx, "k", time.Second)
			release() // never nil
			if ok {
				t.Error("Lock granted with Redis down")
			}
			return err
		}},
	}
	for range rounds {
		for _, o := range ops {
			start := time.Now()
			err := o.op()
			d := time.Since(start)
			if err == nil {
				t.Errorf("%s: no error with Redis down", o.name)
			} else if want := "redis " + strings.ToLower(o.name) + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: error %q does not start with %q", o.name, err, want)
			}
			t.Logf("%s: %v: %v", o.name, d, err)
			if d > time.Second {
				t.Errorf("%s took %v", o.name, d)
			}
		}
	}
}

func TestInvalidURL(t *testing.T) {
	_, err := New(context.Background(), "redis://user:secret@[::1", Options{Log: quiet})
	if err == nil {
		t.Fatal("New accepted an invalid URL")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error shows the password: %v", err)
	}
	if _, err := New(context.Background(), "http://127.0.0.1:6379", Options{Log: quiet}); err == nil {
		t.Fatal("New accepted an http URL")
	}
}

func TestEntryEncoding(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 123456789, time.UTC)
	for _, e := range []switchboard.CacheEntry{
		{Doc: []byte(`{"x":1`), Status: 200, FetchedAt: at},
		{Doc: nil, Status: 399, FetchedAt: at},
		{Doc: []byte("\x00\xff"), Status: 0, FetchedAt: time.Unix(0, 1)},
	} {
		got, ok := decodeEntry(string(encodeEntry(e)))
		if !ok || string(got.Doc) != string(e.Doc) || got.Status != e.Status || !got.FetchedAt.Equal(e.FetchedAt) {
			t.Errorf("round trip of %+v = %+v, %v", e, got, ok)
		}
	}
	for _, raw := range []string{"", "\x01short", "\x02" + strings.Repeat("x", 20)} {
		if _, ok := decodeEntry(raw); ok {
			t.Errorf("decodeEntry(%q) accepted", raw)
		}
	}
}

func BenchmarkLookupHit(b *testing.B) {
	url := redistest.URL(b)
	c := newCache(b, url, redistest.Prefix(b, url), nil)
	ctx := context.Background()
	c.Store(ctx, "run:abc", switchboard.CacheEntry{Doc: make([]byte, 200), Status: 200, FetchedAt: time.Now()})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l, err := c.Lookup(ctx, "run:abc"); err != nil || l.Entry == nil {
				b.Fatal("miss", err)
			}
		}
	})
}

// BenchmarkLookupHitSerial measures one run's latency rather than throughput.
func BenchmarkLookupHitSerial(b *testing.B) {
	url := redistest.URL(b)
	c := newCache(b, url, redistest.Prefix(b, url), nil)
	ctx := context.Background()
	c.Store(ctx, "run:abc", switchboard.CacheEntry{Doc: make([]byte, 200), Status: 200, FetchedAt: time.Now()})
	b.ReportAllocs()
	for b.Loop() {
		if l, err := c.Lookup(ctx, "run:abc"); err != nil || l.Entry == nil {
			b.Fatal("miss", err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	url := redistest.URL(b)
	c := newCache(b, url, redistest.Prefix(b, url), nil)
	ctx := context.Background()
	e := switchboard.CacheEntry{Doc: make([]byte, 200), Status: 200, FetchedAt: time.Now()}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Store(ctx, "run:abc", e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
