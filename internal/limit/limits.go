package limit

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
)

// Config configures Limits.
type Config struct {
	Policies *Policies
	// Limiter counts runs against rates (NewMemory when nil).
	Limiter Limiter
	// MaxInflight caps the runs in flight per (org, upstream host)
	// (DefaultMaxInflight when 0).
	MaxInflight int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Metrics counts refusals (nil: counted nowhere).
	Metrics *Metrics
}

// Limits is what a run passes before it calls an upstream: the upstream's
// own Retry-After, the org's and the command's rate limits, and the cap on
// runs in flight. Safe for concurrent use.
type Limits struct {
	policies *Policies
	limiter  Limiter
	inflight *Inflight
	holds    Holds
	now      func() time.Time
	metrics  *Metrics
}

// New returns the limits of cfg.
func New(cfg Config) *Limits {
	l := &Limits{policies: cfg.Policies, limiter: cfg.Limiter, inflight: NewInflight(cfg.MaxInflight), now: cfg.Now, metrics: cfg.Metrics}
	if l.limiter == nil {
		l.limiter = NewMemory()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.metrics == nil {
		l.metrics = NewMetrics(prometheus.NewRegistry())
	}
	return l
}

// Inflight is the cap on runs in flight.
func (l *Limits) Inflight() *Inflight { return l.inflight }

// Admit decides whether a run of name (a canonical command or action name)
// for org may call host now. When it may, the Place's Release gives back its place
// among the runs in flight once the call is done; when it may not, the
// error is a *Refusal: 429 rate_limited while the upstream's Retry-After
// lasts or over a rate limit, 503 unavailable beyond the cap on runs in
// flight. Only a cancelled ctx fails otherwise.
func (l *Limits) Admit(ctx context.Context, org, name, host string) (Place, error) {
	now := l.now()
	if d := l.holds.Until(org, name, now); d > 0 {
		l.metrics.refused.WithLabelValues("upstream_retry_after").Inc()
		s := seconds(d)
		return Place{}, &Refusal{Reason: "upstream_retry_after", Stale: true,
			Header: http.Header{"Retry-After": {strconv.FormatInt(s, 10)}},
			Err: &switchboard.Error{Code: switchboard.CodeRateLimited,
				Detail: fmt.Sprintf("the upstream of %s answered with Retry-After; it is not called again for %d s (retry then)", name, s)}}
	}
	if l.policies != nil {
		if orgRate, named := l.policies.For(org, name); orgRate != nil || named != nil {
			if err := l.count(ctx, now, org, name, orgRate, named); err != nil {
				return Place{}, err
			}
		}
	}
	place, ok := l.inflight.Acquire(org, host)
	if !ok {
		l.metrics.refused.WithLabelValues("inflight").Inc()
		return Place{}, &Refusal{Reason: "inflight", Stale: true, Header: http.Header{"Retry-After": {"1"}},
			Err: &switchboard.Error{Code: switchboard.CodeUnavailable,
				Detail: fmt.Sprintf("%d runs of your org are already waiting for %s, the most allowed at once (--max-inflight-per-upstream); retry in a second", l.inflight.Max(), host)}}
	}
	return place, nil
}

// count counts the run against the org's limit and the command's.
func (l *Limits) count(ctx context.Context, now time.Time, org, name string, orgRate, named *Rate) error {
	var reqBuf [2]Request
	var polBuf [2]policy
	reqs, ps := reqBuf[:0], polBuf[:0]
	key := "{" + org + "}"
	if orgRate != nil {
		reqs = append(reqs, Request{Key: key, Rate: *orgRate})
		ps = append(ps, policy{name: "org", rate: *orgRate})
	}
	if named != nil {
		reqs = append(reqs, Request{Key: key + ":" + name, Rate: *named})
		ps = append(ps, policy{name: "command", rate: *named})
	}
	ds, ok, err := l.limiter.Allow(ctx, now, reqs)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	l.metrics.refused.WithLabelValues("rate_limit").Inc()
	h := rateHeaders(ps, ds)
	var over []string
	for i, d := range ds {
		if d.Allowed {
			continue
		}
		if ps[i].name == "org" {
			over = append(over, "your org's rate limit")
		} else {
			over = append(over, "the rate limit of "+name)
		}
	}
	which := strings.Join(over, " and ")
	return &Refusal{Reason: "rate_limit", Header: h, Err: &switchboard.Error{Code: switchboard.CodeRateLimited,
		Detail: fmt.Sprintf("over %s; nothing was sent upstream; retry after %s s (the RateLimit and RateLimit-Policy headers describe the limits)", which, h.Get("Retry-After"))}}
}

// Note records an upstream's answer to a run of name for org: a 429 or 503
// with a Retry-After keeps further runs from calling it until then. It
// returns the wait (0 for none).
func (l *Limits) Note(org, name string, status int, header http.Header) time.Duration {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0
	}
	v := header.Get("Retry-After")
	if v == "" {
		return 0
	}
	now := l.now()
	d, ok := ParseRetryAfter(v, now)
	if !ok {
		return 0
	}
	l.holds.Hold(org, name, now.Add(d))
	l.metrics.holds.Inc()
	return d
}

// Metrics are the limits' Prometheus metrics. No label carries an org, a
// key or a command name.
type Metrics struct {
	refused  *prometheus.CounterVec
	holds    prometheus.Counter
	degraded prometheus.Gauge
	local    prometheus.Counter
}

// NewMetrics registers the limits' metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_runs_refused_total",
			Help: "Runs refused before calling the upstream, by reason: rate_limit, inflight (the cap per org and upstream host) or upstream_retry_after."}, []string{"reason"}),
		holds: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_upstream_retry_after_total",
			Help: "Upstream answers (429 or 503) whose Retry-After now keeps runs from calling."}),
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "switchboard_rate_limit_degraded",
			Help: "1 while Redis fails and rate limits are counted per instance, 0 while they are shared."}),
		local: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_rate_limit_local_total",
			Help: "Runs counted against rate limits in process because Redis failed."}),
	}
	for _, r := range []string{"rate_limit", "inflight", "upstream_retry_after"} {
		m.refused.WithLabelValues(r)
	}
	reg.MustRegister(m.refused, m.holds, m.degraded, m.local)
	return m
}

// Degraded sets the degraded gauge (RedisOptions.Degraded).
func (m *Metrics) Degraded(on bool) {
	if on {
		m.degraded.Set(1)
	} else {
		m.degraded.Set(0)
	}
}

// Local counts a run counted in process (RedisOptions.Local).
func (m *Metrics) Local() { m.local.Inc() }

// Metrics returns the limits' metrics.
func (l *Limits) Metrics() *Metrics { return l.metrics }

// RefusedCounter, DegradedGauge and LocalCounter expose the metrics, for
// tests.
func (m *Metrics) RefusedCounter(reason string) prometheus.Counter {
	return m.refused.WithLabelValues(reason)
}
func (m *Metrics) DegradedGauge() prometheus.Gauge  { return m.degraded }
func (m *Metrics) LocalCounter() prometheus.Counter { return m.local }

// Held is how long runs of name for org must still wait for the
// upstream's Retry-After (0: they need not).
func (l *Limits) Held(org, name string) time.Duration {
	return l.holds.Until(org, name, l.now())
}
