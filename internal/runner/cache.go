package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// Metrics are the runner's Prometheus counters. No label carries an org, a
// key or a command name.
type Metrics struct {
	hits, misses, stale, probes, activations, cacheErrors prometheus.Counter
}

// NewMetrics registers the runner's counters with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	c := func(name, help string) prometheus.Counter {
		x := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		reg.MustRegister(x)
		return x
	}
	return &Metrics{
		hits:        c("switchboard_cache_hits_total", "Runs answered from the cache while fresh."),
		misses:      c("switchboard_cache_misses_total", "Runs of cached commands that called the upstream live."),
		stale:       c("switchboard_cache_stale_total", "Runs answered with a stale response in Cache Fallback Mode."),
		probes:      c("switchboard_cache_probes_total", "Live calls made in Cache Fallback Mode (every 5th run)."),
		activations: c("switchboard_cache_fallback_activations_total", "Times Cache Fallback Mode was turned on for a key."),
		cacheErrors: c("switchboard_cache_errors_total", "Cache operations that failed; the run went on uncached."),
	}
}

// cacheKey digests what makes two runs the same request (SPEC 4): the org,
// the command, the app version, the rendered URL, headers and body.
func cacheKey(orgID string, cmd *appdef.Command, version string, c *call) string {
	buf := keyBufs.Get().(*[]byte)
	b := (*buf)[:0]
	for _, s := range [...]string{orgID, cmd.Name, version, c.rawURL} {
		b = append(append(b, s...), 0)
	}
	// Headers in a fixed order, names lower-cased: the same request
	// whatever order or case the caller used.
	hs := c.headers
	if len(hs) > 1 {
		hs = append([]Header(nil), hs...)
		sort.Slice(hs, func(i, j int) bool { return strings.ToLower(hs[i].Name) < strings.ToLower(hs[j].Name) })
	}
	for _, x := range hs {
		for i := 0; i < len(x.Name); i++ {
			ch := x.Name[i]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b = append(b, ch)
		}
		b = append(append(append(b, 0), x.Value...), 0)
	}
	b = append(append(b, 0), c.body...)
	sum := sha256.Sum256(b)
	*buf = b
	keyBufs.Put(buf)
	var out [4 + 2*sha256.Size]byte
	copy(out[:], "run:")
	hex.Encode(out[4:], sum[:])
	return string(out[:])
}

var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// liveResult is what one live call yields, shared by the runs that waited
// for it.
type liveResult struct {
	doc    []byte // encoded response without cache members (nil on error)
	status int
	err    error
	stored bool // the response was cached (status < 400)
	// fromPeer marks a response another instance fetched and stored while
	// this one waited.
	fromPeer bool
	// flip is AuditFallbackOn or AuditFallbackOff when recording this
	// call's outcome turned fallback mode on or off ("" otherwise); at is
	// when, took how long the live call took.
	flip string
	at   time.Time
	took time.Duration
}

// upstreamError is the error code of a live call that failed: its own, or
// upstream_error for a status of 400 or more.
func (res *liveResult) upstreamError() string {
	if res.err != nil {
		return string(switchboard.ErrorCode(res.err))
	}
	return string(switchboard.CodeUpstreamError)
}

// fetchCached runs a command with cacheSeconds through the cache and
// Cache Fallback Mode.
func (r *Runner) fetchCached(ctx context.Context, p *switchboard.Principal, cmd *appdef.Command, inst *registry.Installed, c *call) (fetched, error) {
	key := cacheKey(p.OrgID, cmd, inst.Version, c)
	l, err := r.cache.Lookup(ctx, key)
	if err != nil {
		r.cacheFailed(err)
		res := r.live(ctx, cmd, c)
		return r.answer(res, CacheNone)
	}
	if l.Entry != nil {
		age := r.now().Sub(l.Entry.FetchedAt)
		switch {
		case !l.Fallback && age < time.Duration(cmd.CacheSeconds)*time.Second:
			r.metrics.hits.Inc()
			return served(l.Entry.Doc, l.Entry.Status, CacheHit, false), nil
		case l.Fallback && !l.Probe:
			r.metrics.stale.Inc()
			return served(l.Entry.Doc, l.Entry.Status, CacheStale, true), nil
		}
	}
	if l.Fallback {
		r.metrics.probes.Inc()
	}
	leader := false
	v, _, _ := r.flight.Do(key, func() (any, error) {
		leader = true
		// The call outlives any one caller that gives up: others may be
		// waiting for it. The outbound timeout still bounds it.
		return r.fetchShared(context.WithoutCancel(ctx), key, cmd, c, l.Entry), nil
	})
	res := v.(*liveResult)
	if leader && res.flip != "" {
		// Only the run that made the call writes the entry: on every
		// instance, the cache told only this one that its call flipped it.
		r.writeFallback(ctx, p, cmd, c, res)
	}
	if res.err == nil && res.status < 400 {
		if res.fromPeer || (!leader && res.stored) {
			// Another run fetched it while this one waited: from this run's
			// side, it came from the cache.
			r.metrics.hits.Inc()
			return served(res.doc, res.status, CacheHit, false), nil
		}
		r.metrics.misses.Inc()
		return served(res.doc, res.status, CacheMiss, false), nil
	}
	// The live call failed: serve what the cache has, stale, if anything,
	// and let the audit entry say what the upstream answered. A run refused
	// by a rate limit is not served from the cache (SPEC 13).
	if ref := refusal(res.err); ref != nil && (!ref.Stale || l.Entry == nil) {
		return fetched{cache: CacheNone}, res.err
	}
	if l.Entry != nil {
		r.metrics.stale.Inc()
		f := served(l.Entry.Doc, l.Entry.Status, CacheStale, true)
		f.upstreamStatus, f.upstreamError = res.status, res.upstreamError()
		return f, nil
	}
	r.metrics.misses.Inc()
	return r.answer(res, CacheMiss)
}

// lockPoll is how often a run waiting for another instance's fetch looks
// for its result.
const lockPoll = 20 * time.Millisecond

// fetchShared makes one live call of key across every instance sharing the
// cache: it takes the key's lock and fetches, or, when another instance
// holds it, waits for what that instance stores (seen is the entry this run
// found, so that a newer one can be told apart). A run that cannot use the
// lock, or waits longer than a fetch can take, fetches itself.
func (r *Runner) fetchShared(ctx context.Context, key string, cmd *appdef.Command, c *call, seen *switchboard.CacheEntry) *liveResult {
	ttl := r.out.Timeout() + time.Second
	deadline := time.Now().Add(ttl)
	newer := func() *switchboard.CacheEntry {
		e, err := r.cache.Peek(ctx, key)
		if err != nil || e == nil || (seen != nil && !e.FetchedAt.After(seen.FetchedAt)) {
			return nil
		}
		return e
	}
	for {
		release, ok, err := r.cache.Lock(ctx, key, ttl)
		if err != nil {
			r.cacheFailed(err)
			return r.fetchAndRecord(ctx, key, cmd, c)
		}
		if ok {
			defer release()
			// The holder before us may have stored just before it let go.
			if e := newer(); e != nil {
				return &liveResult{doc: e.Doc, status: e.Status, stored: true, fromPeer: true}
			}
			return r.fetchAndRecord(ctx, key, cmd, c)
		}
		time.Sleep(lockPoll)
		if e := newer(); e != nil {
			return &liveResult{doc: e.Doc, status: e.Status, stored: true, fromPeer: true}
		}
		if time.Now().After(deadline) {
			return r.fetchAndRecord(ctx, key, cmd, c)
		}
	}
}

// fetchAndRecord calls live and records the outcome in the cache: a
// response below 400 is stored (ending fallback mode), anything else turns
// fallback mode on. It notes whether that turned fallback mode on or off.
func (r *Runner) fetchAndRecord(ctx context.Context, key string, cmd *appdef.Command, c *call) *liveResult {
	start := r.now()
	res := r.live(ctx, cmd, c)
	res.at = r.now()
	res.took = res.at.Sub(start)
	if refusal(res.err) != nil {
		return res // refused before calling: the upstream did not fail
	}
	if res.err == nil && res.status < 400 {
		ended, err := r.cache.Store(ctx, key, switchboard.CacheEntry{Doc: res.doc, Status: res.status, FetchedAt: res.at})
		if err != nil {
			r.cacheFailed(err)
			return res
		}
		res.stored = true
		if ended {
			res.flip = switchboard.AuditFallbackOff
		}
		return res
	}
	activated, err := r.cache.Activate(ctx, key)
	if err != nil {
		r.cacheFailed(err)
	} else if activated {
		r.metrics.activations.Inc()
		res.flip = switchboard.AuditFallbackOn
	}
	return res
}

// live calls the upstream once and encodes its answer.
func (r *Runner) live(ctx context.Context, cmd *appdef.Command, c *call) *liveResult {
	org := c.org // a retry's call is prepared anew, without it
	place, err := r.admit(ctx, org, cmd.Name, c.url)
	if err != nil {
		return &liveResult{err: err}
	}
	defer place.Release()
	resp, err := r.out.Do(ctx, &outbound.Request{Method: c.method, URL: c.url, Header: c.httpHeader(), Body: c.body})
	if err == nil && c.retry != nil && refreshes(c.auth, resp.Status) {
		// The account's token was refused: refresh it once and retry once.
		c2, rerr := c.retry(ctx)
		if rerr != nil {
			return &liveResult{err: rerr}
		}
		c = c2
		resp, err = r.out.Do(ctx, &outbound.Request{Method: c.method, URL: c.url, Header: c.httpHeader(), Body: c.body})
	}
	if err != nil {
		return &liveResult{err: err}
	}
	r.note(org, cmd.Name, resp)
	return &liveResult{doc: encodeResponse(resp, cmd, c.redact), status: resp.Status}
}

// fetched is what fetching a command yields besides an error: the answer,
// the upstream's status (0 when it did not answer) and the cache state,
// which the audit entry records also when the run failed. A stale answer
// served because the live call failed has that call's status (0 when the
// upstream did not answer) and error code in upstreamStatus and
// upstreamError.
type fetched struct {
	answer         Answer
	status         int
	cache          string
	upstreamStatus int
	upstreamError  string
}

// served is a fetch answered with doc.
func served(doc []byte, status int, cache string, fallback bool) fetched {
	return fetched{answer: Answer{Doc: doc, Cache: cache, Fallback: fallback}, status: status, cache: cache}
}

// answer turns a live result into the run's answer.
func (r *Runner) answer(res *liveResult, cache string) (fetched, error) {
	if res.err != nil {
		return fetched{cache: cache}, res.err
	}
	return served(res.doc, res.status, cache, false), nil
}

// cacheFailed counts a cache failure and logs it at most once a minute.
func (r *Runner) cacheFailed(err error) {
	r.metrics.cacheErrors.Inc()
	r.cacheLogMu.Lock()
	defer r.cacheLogMu.Unlock()
	if now := r.now(); now.Sub(r.cacheLoggedAt) >= time.Minute {
		r.cacheLoggedAt = now
		r.log.Warn("the cache is failing; runs go on uncached and without fallback", "err", err)
	}
}

// flightGroup deduplicates concurrent live calls of one key.
type flightGroup = singleflight.Group
