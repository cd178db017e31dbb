// Package limit is Switchboard's upstream etiquette (SPEC 13): rate limits
// counted with GCRA, in process (Memory) or across instances in Redis
// (Redis, which counts in process while Redis is down); a cap on the runs
// in flight per (org, upstream host); and the memory of an upstream's
// Retry-After. Limits puts them together for the runner, and Policies holds
// each org's configured limits in memory, following the change feed.
package limit

import (
	"context"
	"time"
)

// Rate is a limit: PerSecond runs a second on average, Burst at once.
type Rate struct {
	PerSecond float64
	Burst     int
}

// interval is the GCRA emission interval in microseconds (at least 1).
func (r Rate) interval() int64 {
	return max(int64(1e6/r.PerSecond+0.5), 1)
}

// Window is the time the whole burst takes to come back, in whole seconds
// (at least 1): the w of the RateLimit-Policy field.
func (r Rate) Window() int64 {
	us := r.interval() * int64(r.Burst)
	return max((us+999_999)/1_000_000, 1)
}

// Request is one limit to count a run against: Key names the counter.
type Request struct {
	Key  string
	Rate Rate
}

// Decision is what one limit says of a run.
type Decision struct {
	// Allowed is false when this limit refuses the run.
	Allowed bool
	// Remaining is how many more runs it would allow now.
	Remaining int
	// RetryAfter is how long until it allows one more (0 when allowed).
	RetryAfter time.Duration
	// Reset is how long until its whole burst is back.
	Reset time.Duration
}

// Limiter counts runs against rates with GCRA. A run is counted against
// every limit of a call or against none: a run that one limit refuses uses
// up nothing of the others.
type Limiter interface {
	// Allow counts one run at now against each request and returns each
	// one's decision, in order, and whether all of them allow it. An
	// error means it could not count (Redis failing).
	Allow(ctx context.Context, now time.Time, reqs []Request) ([]Decision, bool, error)
}

// step is GCRA: tat is the theoretical arrival time of the next run (µs;
// 0 or past: none pending), now the time (µs). It returns the decision and
// the tat to keep when the run is counted. Both implementations compute
// exactly this; redis.lua is the same arithmetic.
func step(tat, now int64, r Rate) (Decision, int64) {
	t := r.interval()
	tat = max(tat, now)
	next := tat + t
	allowAt := next - t*int64(r.Burst)
	if now < allowAt {
		return Decision{RetryAfter: micros(allowAt - now), Reset: micros(tat - now)}, tat
	}
	return Decision{Allowed: true, Remaining: int((now - allowAt) / t), Reset: micros(next - now)}, next
}

func micros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
