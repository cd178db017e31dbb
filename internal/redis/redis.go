// Package redis is the shared implementation of switchboard.Cache: run
// responses and the Cache Fallback Mode state of each key live in Redis, so
// that several Switchboard instances behind a load balancer share one cache
// and count fallback runs exactly, whichever instance serves a run.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/switchboardhq/switchboard"
)

// Keys, for a cache key k and the prefix p (default "sb:"):
//
//	p + "e:{" + k + "}"  the entry: a string, entryHeader bytes then the document
//	p + "f:{" + k + "}"  the fallback state: a hash, x = expiry (unix ms by Options.Now), n = runs counted
//	p + "l:{" + k + "}"  the lock: a string, the holder's random token
//
// The braces are a Redis Cluster hash tag: the three keys of k share a slot,
// which the scripts touching two of them at once would need on a cluster.
const (
	kindEntry    = "e:"
	kindFallback = "f:"
	kindLock     = "l:"
)

// ttlMargin is added to the Redis TTL of entries and fallback states. Expiry
// is decided against Options.Now, not Redis's clock; the Redis TTL only
// reclaims memory, so it must not fire before the logical expiry even when
// the clocks of the instances and of Redis differ a little.
const ttlMargin = 5 * time.Minute

// Connection defaults, applied when the URL does not set them. A dead or
// stalled Redis must cost a run half a second at most, then the runner goes
// on uncached.
const (
	defaultTimeout     = 500 * time.Millisecond
	defaultPoolTimeout = 500 * time.Millisecond
)

// Options configures New.
type Options struct {
	// Now is the clock that decides expiry (time.Now when nil).
	Now func() time.Time
	// Prefix namespaces every key ("sb:" when empty).
	Prefix string
	// Log receives one-off events, such as Redis being unreachable at start
	// (slog.Default() when nil). Operations never log.
	Log *slog.Logger
}

// Cache is a switchboard.Cache in Redis. It is safe for concurrent use.
type Cache struct {
	rdb    *goredis.Client
	now    func() time.Time
	prefix string
}

var _ switchboard.Cache = (*Cache)(nil)

// New returns a cache on the Redis at redisURL (redis:// or rediss://, with
// go-redis's query options such as dial_timeout). It fails only when the URL
// is invalid: a Redis that is down is reported through opts.Log, and the
// operations fail until it answers.
func New(ctx context.Context, redisURL string, opts Options) (*Cache, error) {
	o, err := goredis.ParseURL(redisURL)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep its cause only.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = defaultTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = defaultTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = defaultTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = defaultPoolTimeout
	}
	if o.MaxRetries == 0 {
		// No retries: a Lookup whose reply was lost may have counted its run
		// already, and running it again would count it twice. A failed
		// operation costs one uncached run instead.
		o.MaxRetries = -1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1 // go-redis tries 5 dials by default: 2.5s of a run
	}
	o.ContextTimeoutEnabled = true // a run's deadline bounds its cache calls too

	c := &Cache{rdb: goredis.NewClient(o), now: opts.Now, prefix: opts.Prefix}
	if c.now == nil {
		c.now = time.Now
	}
	if c.prefix == "" {
		c.prefix = "sb:"
	}
	if err := c.Ping(ctx); err != nil {
		log := opts.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("redis is unreachable: runs go uncached until it answers", "addr", o.Addr, "err", err)
	}
	return c, nil
}

// Ping checks that Redis answers.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close closes the connections to Redis.
func (c *Cache) Close() error {
	if err := c.rdb.Close(); err != nil {
		return fmt.Errorf("redis close: %w", err)
	}
	return nil
}

func (c *Cache) key(kind, key string) string {
	return c.prefix + kind + "{" + key + "}"
}

// lookupScript reads the entry and the fallback state of a key and, when
// fallback mode is on, counts the run, in one step so that concurrent runs
// on any instance get distinct counts. An expired fallback state is
// deleted. The reply is {state, entry}: state -1 fallback off, 0 on, 1 on
// and this run probes; entry is "" when there is none.
var lookupScript = goredis.NewScript(`
local e = redis.call('GET', KEYS[1]) or ''
local x = redis.call('HGET', KEYS[2], 'x')
if not x then return {-1, e} end
if tonumber(x) <= tonumber(ARGV[1]) then
	redis.call('DEL', KEYS[2])
	return {-1, e}
end
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
if n % tonumber(ARGV[2]) == 0 then return {1, e} end
return {0, e}
`)

// Lookup implements switchboard.Cache in one round trip.
func (c *Cache) Lookup(ctx context.Context, key string) (switchboard.CacheLookup, error) {
	now := c.now()
	keys := []string{c.key(kindEntry, key), c.key(kindFallback, key)}
	res, err := lookupScript.Run(ctx, c.rdb, keys, now.UnixMilli(), switchboard.ProbeEvery).Slice()
	if err != nil {
		return switchboard.CacheLookup{}, fmt.Errorf("redis lookup: %w", err)
	}
	if len(res) != 2 {
		return switchboard.CacheLookup{}, fmt.Errorf("redis lookup: unexpected reply of %d values", len(res))
	}
	state, ok1 := res[0].(int64)
	raw, ok2 := res[1].(string)
	if !ok1 || !ok2 {
		return switchboard.CacheLookup{}, fmt.Errorf("redis lookup: unexpected reply types %T, %T", res[0], res[1])
	}
	var l switchboard.CacheLookup
	if e, ok := decodeEntry(raw); ok && now.Before(e.FetchedAt.Add(switchboard.CacheTTL)) {
		l.Entry = e
	}
	l.Fallback = state >= 0
	l.Probe = state == 1
	return l, nil
}

// Peek implements switchboard.Cache: a plain read of the entry, which counts
// no run.
func (c *Cache) Peek(ctx context.Context, key string) (*switchboard.CacheEntry, error) {
	raw, err := c.rdb.Get(ctx, c.key(kindEntry, key)).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis peek: %w", err)
	}
	if e, ok := decodeEntry(raw); ok && c.now().Before(e.FetchedAt.Add(switchboard.CacheTTL)) {
		return e, nil
	}
	return nil, nil
}

// storeScript sets the entry (KEYS[1]) to ARGV[1] for ARGV[2] ms, or
// deletes it when ARGV[2] is 0, and deletes the fallback state (KEYS[2]):
// a response fetched live ends fallback mode in the same step. It returns
// 1 when fallback mode was on and not expired by ARGV[3] (now, unix ms), so
// that of concurrent stores on any instance exactly one hears that it
// ended it.
var storeScript = goredis.NewScript(`
local x = redis.call('HGET', KEYS[2], 'x')
if ARGV[2] == '0' then
	redis.call('DEL', KEYS[1])
else
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('DEL', KEYS[2])
if x and tonumber(x) > tonumber(ARGV[3]) then return 1 end
return 0
`)

// Store implements switchboard.Cache.
func (c *Cache) Store(ctx context.Context, key string, e switchboard.CacheEntry) (bool, error) {
	if e.Status < 0 || e.Status > 0xffff {
		return false, fmt.Errorf("redis store: status %d out of range", e.Status)
	}
	now := c.now()
	keys := []string{c.key(kindEntry, key), c.key(kindFallback, key)}
	var ttl int64 // expired already: as if stored and gone
	if left := e.FetchedAt.Add(switchboard.CacheTTL).Sub(now); left > 0 {
		ttl = (left + ttlMargin).Milliseconds()
	}
	n, err := storeScript.Run(ctx, c.rdb, keys, encodeEntry(e), ttl, now.UnixMilli()).Int64()
	if err != nil {
		return false, fmt.Errorf("redis store: %w", err)
	}
	return n == 1, nil
}

// activateScript turns fallback mode on, with a zero run count, unless it is
// on and not expired by ARGV[1] (now, unix ms); it returns 1 when it did.
// ARGV[2] is the new expiry (unix ms), ARGV[3] the Redis TTL in ms.
var activateScript = goredis.NewScript(`
local x = redis.call('HGET', KEYS[1], 'x')
if x and tonumber(x) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'x', ARGV[2], 'n', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Activate implements switchboard.Cache.
func (c *Cache) Activate(ctx context.Context, key string) (bool, error) {
	now := c.now()
	expires := now.Add(switchboard.CacheTTL).UnixMilli()
	ttl := (switchboard.CacheTTL + ttlMargin).Milliseconds()
	n, err := activateScript.Run(ctx, c.rdb, []string{c.key(kindFallback, key)}, now.UnixMilli(), expires, ttl).Int64()
	if err != nil {
		return false, fmt.Errorf("redis activate: %w", err)
	}
	return n == 1, nil
}

// unlockScript deletes a lock only if it still holds the releasing caller's
// token: after the lock expired and another caller took it, a late release
// must not free the new holder's lock.
var unlockScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lock implements switchboard.Cache. The lock expires by Redis's clock, not
// Options.Now: it guards a live call, which takes real time.
func (c *Cache) Lock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	noop := func() {}
	lk := c.key(kindLock, key)
	token := rand.Text()
	// At least 1ms: SET with no expiry would hold the lock forever.
	ok, err := c.rdb.SetNX(ctx, lk, token, max(ttl, time.Millisecond)).Result()
	if err != nil {
		return noop, false, fmt.Errorf("redis lock: %w", err)
	}
	if !ok {
		return noop, false, nil
	}
	// The release outlives a caller's cancelled context; the client's own
	// timeouts bound it. Its error is dropped: the lock expires anyway.
	rctx := context.WithoutCancel(ctx)
	var once sync.Once
	return func() {
		once.Do(func() { unlockScript.Run(rctx, c.rdb, []string{lk}, token) })
	}, true, nil
}

// An entry is encoded as a version byte, the status (uint16) and FetchedAt
// (int64 unix nanoseconds), big-endian, then the document.
const (
	entryVersion = 1
	entryHeader  = 1 + 2 + 8
)

func encodeEntry(e switchboard.CacheEntry) []byte {
	b := make([]byte, entryHeader, entryHeader+len(e.Doc))
	b[0] = entryVersion
	binary.BigEndian.PutUint16(b[1:], uint16(e.Status))
	binary.BigEndian.PutUint64(b[3:], uint64(e.FetchedAt.UnixNano()))
	return append(b, e.Doc...)
}

// decodeEntry reports false for no entry, and for one it cannot read: an
// entry written by another version of Switchboard during a rolling deploy is
// a miss, refetched and overwritten, not an error.
func decodeEntry(raw string) (*switchboard.CacheEntry, bool) {
	if len(raw) < entryHeader || raw[0] != entryVersion {
		return nil, false
	}
	h := []byte(raw[:entryHeader])
	return &switchboard.CacheEntry{
		Doc:       []byte(raw[entryHeader:]),
		Status:    int(binary.BigEndian.Uint16(h[1:])),
		FetchedAt: time.Unix(0, int64(binary.BigEndian.Uint64(h[3:]))),
	}, true
}

// QuietLogger routes go-redis's own log lines (one per failed dial, for
// example) to log at most once a minute. go-redis has one logger for the
// whole process, so the server installs it once, at start.
func QuietLogger(log *slog.Logger) {
	goredis.SetLogger(&quietLogger{log: log})
}

type quietLogger struct {
	log  *slog.Logger
	mu   sync.Mutex
	last time.Time
}

func (l *quietLogger) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); now.Sub(l.last) >= time.Minute {
		l.last = now
		l.log.Warn("redis client", "detail", fmt.Sprintf(format, v...))
	}
}
