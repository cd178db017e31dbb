package limit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// gcraScript is step for every key of one run, in Redis, all or none.
// KEYS are the counters; ARGV[1] is now in µs, then an interval (µs) and a
// burst per key. It answers, per key, allowed (1 or 0), remaining, retry
// after (µs) and reset (µs). Lua numbers are doubles: µs since 1970 are
// exact (below 2^53). The clock is the instance's, as everywhere else in
// Switchboard (the cache's expiry too), so that a test clock drives it.
var gcraScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local n = #KEYS
local out = {}
local nexts = {}
local all = true
for i = 1, n do
  local t = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local nxt = tat + t
  local allow_at = nxt - t * burst
  if now < allow_at then
    all = false
    out[4 * i - 3] = 0
    out[4 * i - 2] = 0
    out[4 * i - 1] = allow_at - now
    out[4 * i] = tat - now
  else
    out[4 * i - 3] = 1
    out[4 * i - 2] = math.floor((now - allow_at) / t)
    out[4 * i - 1] = 0
    out[4 * i] = nxt - now
  end
  nexts[i] = nxt
end
if all then
  for i = 1, n do
    redis.call('SET', KEYS[i], string.format('%d', nexts[i]), 'PX', math.ceil((nexts[i] - now) / 1000) + 1000)
  end
else
  for i = 1, n do
    if out[4 * i - 3] == 1 then out[4 * i - 2] = out[4 * i - 2] + 1 end
  end
end
return out
`)

// RedisOptions configures NewRedis.
type RedisOptions struct {
	// Prefix namespaces every key ("sb:" when empty); counters are
	// Prefix + "rl:" + the request's key.
	Prefix string
	// Log receives the change of state when Redis stops or starts
	// answering (slog.Default() when nil).
	Log *slog.Logger
	// Retry is how long the limiter counts in process after Redis failed
	// before it tries Redis again (1s when 0), so that a dead Redis costs
	// one failed call a second, not one per run.
	Retry time.Duration
	// Degraded is called with true when the limiter starts counting in
	// process because Redis failed, and with false when Redis answers
	// again (nil: nobody is told). Local is called for each run counted
	// in process meanwhile.
	Degraded func(bool)
	Local    func()
}

// Redis is the Limiter shared by instances: GCRA in Redis, one round trip
// per run for all of its limits. While Redis fails it counts in process
// (per instance) and says so through RedisOptions.Degraded.
type Redis struct {
	rdb    *goredis.Client
	prefix string
	local  *Memory
	opts   RedisOptions

	mu      sync.Mutex
	down    bool
	retryAt time.Time // real time: when to try Redis again
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter on the Redis at redisURL, with the same short
// timeouts and no retries as the cache: a dead or stalled Redis costs a run
// half a second at most, once a Retry period. It fails only for an invalid
// URL.
func NewRedis(redisURL string, opts RedisOptions) (*Redis, error) {
	o, err := goredis.ParseURL(redisURL)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the URL, password included
		}
		return nil, fmt.Errorf("redis: invalid URL: %w", err)
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = 500 * time.Millisecond
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = 500 * time.Millisecond
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 500 * time.Millisecond
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = 500 * time.Millisecond
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = -1 // a retried script whose reply was lost would count a run twice
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	o.ContextTimeoutEnabled = true
	if opts.Prefix == "" {
		opts.Prefix = "sb:"
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Retry <= 0 {
		opts.Retry = time.Second
	}
	return &Redis{rdb: goredis.NewClient(o), prefix: opts.Prefix + "rl:", local: NewMemory(), opts: opts}, nil
}

// Close closes the connections.
func (l *Redis) Close() error { return l.rdb.Close() }

// Allow implements Limiter. It never returns an error: when Redis fails
// the run is counted in process.
func (l *Redis) Allow(ctx context.Context, now time.Time, reqs []Request) ([]Decision, bool, error) {
	if l.skipRedis() {
		return l.allowLocal(ctx, now, reqs)
	}
	keys := make([]string, len(reqs))
	args := make([]any, 1, 1+2*len(reqs))
	args[0] = now.UnixMicro()
	for i, q := range reqs {
		keys[i] = l.prefix + q.Key
		args = append(args, q.Rate.interval(), q.Rate.Burst)
	}
	res, err := gcraScript.Run(ctx, l.rdb, keys, args...).Int64Slice()
	if err == nil && len(res) != 4*len(reqs) {
		err = fmt.Errorf("redis: the limit script answered %d values for %d limits", len(res), len(reqs))
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		l.failed(err)
		return l.allowLocal(ctx, now, reqs)
	}
	l.answered()
	out := make([]Decision, len(reqs))
	all := true
	for i := range out {
		v := res[4*i : 4*i+4]
		out[i] = Decision{Allowed: v[0] == 1, Remaining: int(v[1]), RetryAfter: micros(v[2]), Reset: micros(v[3])}
		all = all && out[i].Allowed
	}
	return out, all, nil
}

func (l *Redis) allowLocal(ctx context.Context, now time.Time, reqs []Request) ([]Decision, bool, error) {
	if l.opts.Local != nil {
		l.opts.Local()
	}
	return l.local.Allow(ctx, now, reqs)
}

// skipRedis reports whether Redis failed less than a Retry period ago.
func (l *Redis) skipRedis() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down && time.Now().Before(l.retryAt)
}

func (l *Redis) failed(err error) {
	l.mu.Lock()
	was := l.down
	l.down, l.retryAt = true, time.Now().Add(l.opts.Retry)
	l.mu.Unlock()
	if !was {
		l.opts.Log.Warn("redis is failing: rate limits are counted per instance until it answers", "err", err)
		if l.opts.Degraded != nil {
			l.opts.Degraded(true)
		}
	}
}

func (l *Redis) answered() {
	l.mu.Lock()
	was := l.down
	l.down = false
	l.mu.Unlock()
	if was {
		l.opts.Log.Info("redis answers again: rate limits are shared by every instance")
		if l.opts.Degraded != nil {
			l.opts.Degraded(false)
		}
	}
}
