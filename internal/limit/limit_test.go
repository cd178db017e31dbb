package limit_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/redis/redistest"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testLimiter is the conformance suite of a Limiter: the exact counts of
// GCRA with a burst, on a clock the test moves.
func testLimiter(t *testing.T, newLimiter func(t *testing.T) limit.Limiter) {
	ctx := context.Background()
	t.Run("BurstThenRate", func(t *testing.T) {
		l := newLimiter(t)
		r := limit.Rate{PerSecond: 2, Burst: 5}
		req := []limit.Request{{Key: "{a}", Rate: r}}
		for i := range 5 {
			ds, ok, err := l.Allow(ctx, t0, req)
			if err != nil || !ok {
				t.Fatalf("run %d of the burst: ok=%v err=%v", i+1, ok, err)
			}
			if ds[0].Remaining != 4-i {
				t.Errorf("run %d: remaining %d, want %d", i+1, ds[0].Remaining, 4-i)
			}
		}
		ds, ok, err := l.Allow(ctx, t0, req)
		if err != nil || ok {
			t.Fatalf("run 6 at once: ok=%v err=%v, want refused", ok, err)
		}
		if ds[0].RetryAfter != 500*time.Millisecond || ds[0].Remaining != 0 {
			t.Errorf("run 6: %+v, want retry after 500ms, 0 remaining", ds[0])
		}
		// 499ms later still refused; at 500ms one more passes, and only one.
		if _, ok, _ := l.Allow(ctx, t0.Add(499*time.Millisecond), req); ok {
			t.Error("allowed 499ms after the burst; want refused until 500ms")
		}
		if _, ok, _ := l.Allow(ctx, t0.Add(500*time.Millisecond), req); !ok {
			t.Error("refused 500ms after the burst; want one more allowed")
		}
		if _, ok, _ := l.Allow(ctx, t0.Add(500*time.Millisecond), req); ok {
			t.Error("allowed two runs 500ms after the burst; want one")
		}
		// After the whole burst's time, the burst is back.
		later := t0.Add(500*time.Millisecond + 5*500*time.Millisecond)
		for i := range 5 {
			if _, ok, _ := l.Allow(ctx, later, req); !ok {
				t.Fatalf("run %d of the second burst refused", i+1)
			}
		}
		if _, ok, _ := l.Allow(ctx, later, req); ok {
			t.Error("the second burst let 6 through")
		}
	})
	t.Run("SlowRate", func(t *testing.T) {
		l := newLimiter(t)
		req := []limit.Request{{Key: "{slow}", Rate: limit.Rate{PerSecond: 0.1, Burst: 1}}}
		if _, ok, _ := l.Allow(ctx, t0, req); !ok {
			t.Fatal("first run refused")
		}
		ds, ok, _ := l.Allow(ctx, t0.Add(time.Second), req)
		if ok || ds[0].RetryAfter != 9*time.Second {
			t.Errorf("second run a second later: ok=%v %+v, want refused, retry after 9s", ok, ds[0])
		}
	})
	t.Run("AllOrNone", func(t *testing.T) {
		l := newLimiter(t)
		org := limit.Request{Key: "{o}", Rate: limit.Rate{PerSecond: 1, Burst: 3}}
		cmd := limit.Request{Key: "{o}:cmd", Rate: limit.Rate{PerSecond: 1, Burst: 1}}
		if _, ok, _ := l.Allow(ctx, t0, []limit.Request{org, cmd}); !ok {
			t.Fatal("first run refused")
		}
		// The command's limit refuses: the org's is not used up by it.
		for range 3 {
			ds, ok, _ := l.Allow(ctx, t0, []limit.Request{org, cmd})
			if ok || ds[0].Allowed == false || ds[1].Allowed {
				t.Fatalf("over the command's limit: ok=%v %+v, want refused by the command only", ok, ds)
			}
			if ds[0].Remaining != 2 {
				t.Errorf("the org's remaining while refused = %d, want 2 (the run was not counted)", ds[0].Remaining)
			}
		}
		// So the org still has two: another command may use them.
		other := limit.Request{Key: "{o}:other", Rate: limit.Rate{PerSecond: 1, Burst: 5}}
		for i := range 2 {
			if _, ok, _ := l.Allow(ctx, t0, []limit.Request{org, other}); !ok {
				t.Fatalf("run %d of another command refused; the refused runs used up the org's limit", i+1)
			}
		}
		if _, ok, _ := l.Allow(ctx, t0, []limit.Request{org, other}); ok {
			t.Error("the org's limit let a 4th run through")
		}
	})
	t.Run("KeysApart", func(t *testing.T) {
		l := newLimiter(t)
		r := limit.Rate{PerSecond: 1, Burst: 1}
		for _, k := range []string{"{a}", "{b}", "{a}:x"} {
			if _, ok, _ := l.Allow(ctx, t0, []limit.Request{{Key: k, Rate: r}}); !ok {
				t.Errorf("%s refused: keys share a counter", k)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		l := newLimiter(t)
		req := []limit.Request{{Key: "{c}", Rate: limit.Rate{PerSecond: 1, Burst: 20}}}
		var mu sync.Mutex
		allowed := 0
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if _, ok, err := l.Allow(ctx, t0, req); err == nil && ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if allowed != 20 {
			t.Errorf("50 concurrent runs against a burst of 20: %d allowed", allowed)
		}
	})
}

func TestMemory(t *testing.T) {
	testLimiter(t, func(t *testing.T) limit.Limiter { return limit.NewMemory() })
}

func TestRedis(t *testing.T) {
	url := redistest.URL(t)
	testLimiter(t, func(t *testing.T) limit.Limiter {
		l, err := limit.NewRedis(url, limit.RedisOptions{Prefix: redistest.Prefix(t, url)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	})
}

// TestRedisShared: two limiters on one Redis (two instances) share one
// count.
func TestRedisShared(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	a, err := limit.NewRedis(url, limit.RedisOptions{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := limit.NewRedis(url, limit.RedisOptions{Prefix: prefix})
	defer b.Close()
	req := []limit.Request{{Key: "{org}", Rate: limit.Rate{PerSecond: 1, Burst: 4}}}
	ctx := context.Background()
	for i, l := range []*limit.Redis{a, b, a, b} {
		if _, ok, err := l.Allow(ctx, t0, req); err != nil || !ok {
			t.Fatalf("run %d: ok=%v err=%v", i+1, ok, err)
		}
	}
	for _, l := range []*limit.Redis{a, b} {
		if _, ok, _ := l.Allow(ctx, t0, req); ok {
			t.Error("a 5th run passed: the instances do not share the count")
		}
	}
}

// TestRedisDown: when Redis stops answering, runs are counted in process
// (per instance), the degraded gauge says so, and once Redis answers again
// the count is shared again.
func TestRedisDown(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix(t, url)
	proxy := apitest.NewProxy(t, strings.TrimPrefix(strings.Split(strings.TrimPrefix(url, "redis://"), "/")[0], "@"))
	reg := prometheus.NewRegistry()
	m := limit.NewMetrics(reg)
	l, err := limit.NewRedis("redis://"+proxy.Addr()+"/0", limit.RedisOptions{Prefix: prefix, Retry: 50 * time.Millisecond,
		Degraded: m.Degraded, Local: m.Local})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	req := []limit.Request{{Key: "{org}", Rate: limit.Rate{PerSecond: 1, Burst: 2}}}
	if _, ok, err := l.Allow(ctx, t0, req); !ok || err != nil {
		t.Fatalf("first run through Redis: ok=%v err=%v", ok, err)
	}
	if got := value(m.DegradedGauge()); got != 0 {
		t.Fatalf("degraded = %v before Redis went away", got)
	}
	proxy.Down()
	// In process the limit still holds: a fresh count of 2 on this
	// instance, never an error, never unlimited.
	allowed := 0
	for range 5 {
		_, ok, err := l.Allow(ctx, t0, req)
		if err != nil {
			t.Fatalf("with Redis down Allow failed: %v", err)
		}
		if ok {
			allowed++
		}
	}
	if allowed != 2 {
		t.Errorf("with Redis down, %d of 5 runs passed a burst of 2 counted in process", allowed)
	}
	if got := value(m.DegradedGauge()); got != 1 {
		t.Errorf("degraded = %v with Redis down, want 1", got)
	}
	if got := value(m.LocalCounter()); got != 5 {
		t.Errorf("local decisions = %v, want 5", got)
	}
	proxy.Up()
	deadline := time.Now().Add(5 * time.Second)
	for value(m.DegradedGauge()) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("still degraded 5s after Redis came back")
		}
		time.Sleep(60 * time.Millisecond)
		l.Allow(ctx, t0.Add(time.Hour), []limit.Request{{Key: "{probe}", Rate: limit.Rate{PerSecond: 1, Burst: 1000}}})
	}
	// Redis's count resumes where it was: one of two used.
	if _, ok, _ := l.Allow(ctx, t0, req); !ok {
		t.Error("the second run of the burst through Redis was refused")
	}
	if _, ok, _ := l.Allow(ctx, t0, req); ok {
		t.Error("a third run passed through Redis")
	}
}

func TestInflight(t *testing.T) {
	f := limit.NewInflight(2)
	p1, ok1 := f.Acquire("a", "api.test:443")
	_, ok2 := f.Acquire("a", "api.test:443")
	_, ok3 := f.Acquire("a", "api.test:443")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("acquire 3 of a cap of 2: %v %v %v", ok1, ok2, ok3)
	}
	if _, ok := f.Acquire("b", "api.test:443"); !ok {
		t.Error("another org was refused: the cap is per org")
	}
	if _, ok := f.Acquire("a", "other.test:443"); !ok {
		t.Error("another host was refused: the cap is per host")
	}
	p1.Release()
	if _, ok := f.Acquire("a", "api.test:443"); !ok {
		t.Error("a released place was not given back")
	}
	if _, ok := f.Acquire("a", "api.test:443"); ok {
		t.Error("one release gave back two places")
	}
	limit.Place{}.Release() // the zero Place holds nothing
	if n := f.InFlight("a", "api.test:443"); n != 2 {
		t.Errorf("in flight = %d, want 2", n)
	}
	// Idle counts are swept as hosts come and go; held ones stay counted.
	for i := range 20000 {
		p, ok := f.Acquire("a", fmt.Sprintf("h%d.test:443", i))
		if !ok {
			t.Fatalf("host %d refused", i)
		}
		p.Release()
	}
	if n := f.InFlight("a", "api.test:443"); n != 2 {
		t.Errorf("after the sweeps, in flight = %d, want 2", n)
	}
	if _, ok := f.Acquire("a", "api.test:443"); ok {
		t.Error("a sweep dropped a count that was held")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := t0
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"0", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"99999999999999999999999", limit.MaxHold, true},
		{"86400", limit.MaxHold, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-30 * time.Second).Format(http.TimeFormat), 0, false},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), limit.MaxHold, true},
		{"Sunday, 01-Nov-26 12:00:10 GMT", 10 * time.Second, true}, // RFC 850, which RFC 9110 still accepts
	}
	for _, tt := range tests {
		got, ok := limit.ParseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "", "Sun, 01 Nov 2026 12:00:30 GMT", "99999999999999999999", " 5", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := limit.ParseRetryAfter(s, t0)
		if ok && (d <= 0 || d > limit.MaxHold) {
			t.Errorf("ParseRetryAfter(%q) = %v: out of (0, MaxHold]", s, d)
		}
		if !ok && d != 0 {
			t.Errorf("ParseRetryAfter(%q) = %v, false: want 0 when not ok", s, d)
		}
	})
}

// fakeLimits is a LimitStore with fixed limits.
type fakeLimits []switchboard.RateLimit

func (f fakeLimits) PutLimits(context.Context, string, []switchboard.RateLimit) error { return nil }
func (f fakeLimits) Limits(_ context.Context, org string) ([]switchboard.RateLimit, error) {
	var out []switchboard.RateLimit
	for _, l := range f {
		if l.OrgID == org {
			out = append(out, l)
		}
	}
	return out, nil
}
func (f fakeLimits) AllLimits(context.Context) ([]switchboard.RateLimit, error) { return f, nil }

// TestAdmit: a burst of N passes, N+1 is refused with the right
// Retry-After and the IETF fields; other orgs and unlimited commands are
// not touched; the upstream's Retry-After holds runs of its command.
func TestAdmit(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0}
	pol := limit.NewPolicies(fakeLimits{
		{OrgID: "a", RunsPerSecond: 10, Burst: 20},
		{OrgID: "a", Name: "kustomer.app.shop.refund", RunsPerSecond: 0.5, Burst: 3},
	}, nil, nil)
	if err := pol.Load(ctx); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	l := limit.New(limit.Config{Policies: pol, Now: clk.Now, MaxInflight: 100, Metrics: limit.NewMetrics(reg)})
	admit := func(org, name string) error {
		place, err := l.Admit(ctx, org, name, "api.shop.test:443")
		if err == nil {
			place.Release()
		}
		return err
	}
	for i := range 3 {
		if err := admit("a", "kustomer.app.shop.refund"); err != nil {
			t.Fatalf("run %d of a burst of 3: %v", i+1, err)
		}
	}
	err := admit("a", "kustomer.app.shop.refund")
	ref, ok := err.(*limit.Refusal)
	if !ok || ref.Err.Code != switchboard.CodeRateLimited || ref.Stale {
		t.Fatalf("run 4: %v, want a rate_limited refusal the cache may not serve", err)
	}
	want := http.Header{
		"Retry-After":      {"2"},
		"Ratelimit-Policy": {`"org";q=20;w=2, "command";q=3;w=6`},
		"Ratelimit":        {`"org";r=17;t=1, "command";r=0;t=2`},
	}
	if diff := cmp.Diff(want, ref.ResponseHeader()); diff != "" {
		t.Errorf("headers of run 4 (-want +got):\n%s", diff)
	}
	if !strings.Contains(ref.Err.Detail, "kustomer.app.shop.refund") {
		t.Errorf("detail %q does not name the command's limit", ref.Err.Detail)
	}
	// 1.999s later still refused; at 2s one more.
	clk.Add(1999 * time.Millisecond)
	if err := admit("a", "kustomer.app.shop.refund"); err == nil {
		t.Error("allowed before Retry-After passed")
	}
	clk.Add(time.Millisecond)
	if err := admit("a", "kustomer.app.shop.refund"); err != nil {
		t.Errorf("refused once Retry-After passed: %v", err)
	}
	// The org's own limit: 20 at once. Its burst is back by now, 2s after
	// the first three; one run was just counted.
	for i := range 19 {
		if err := admit("a", "kustomer.app.shop.lookup"); err != nil {
			t.Fatalf("run %d of the org's burst: %v", i+2, err)
		}
	}
	err = admit("a", "kustomer.app.shop.lookup")
	if ref, ok := err.(*limit.Refusal); !ok || ref.Header.Get("Retry-After") != "1" || !strings.Contains(ref.Err.Detail, "org's rate limit") {
		t.Errorf("run 21 of the org: %v, want refused by the org's limit with Retry-After 1", err)
	} else if got := ref.Header.Get("Ratelimit-Policy"); got != `"org";q=20;w=2` {
		t.Errorf("RateLimit-Policy = %q for a command without a limit of its own", got)
	}
	// Another org has no limit.
	for range 100 {
		if err := admit("b", "kustomer.app.shop.refund"); err != nil {
			t.Fatalf("org b, which has no limit: %v", err)
		}
	}
	if got := value(l.Metrics().RefusedCounter("rate_limit")); got != 3 {
		t.Errorf("rate_limit refusals = %v, want 3", got)
	}

	// The upstream's Retry-After.
	if d := l.Note("b", "kustomer.app.shop.refund", 429, http.Header{"Retry-After": {"30"}}); d != 30*time.Second {
		t.Fatalf("Note 429 Retry-After 30 = %v", d)
	}
	if d := l.Note("b", "kustomer.app.shop.other", 500, http.Header{"Retry-After": {"30"}}); d != 0 {
		t.Errorf("a 500's Retry-After held runs for %v; only 429 and 503 do", d)
	}
	err = admit("b", "kustomer.app.shop.refund")
	if ref, ok := err.(*limit.Refusal); !ok || ref.Err.Code != switchboard.CodeRateLimited || !ref.Stale || ref.Header.Get("Retry-After") != "30" {
		t.Fatalf("during the upstream's Retry-After: %v, want rate_limited, stale allowed, Retry-After 30", err)
	}
	if err := admit("b", "kustomer.app.shop.other"); err != nil {
		t.Errorf("another command is held too: %v", err)
	}
	if err := admit("c", "kustomer.app.shop.refund"); err != nil {
		t.Errorf("another org is held too: %v", err)
	}
	clk.Add(29 * time.Second)
	if ref, ok := admit("b", "kustomer.app.shop.refund").(*limit.Refusal); !ok || ref.Header.Get("Retry-After") != "1" {
		t.Errorf("a second before the end: %v, want Retry-After 1", ref)
	}
	clk.Add(time.Second)
	if err := admit("b", "kustomer.app.shop.refund"); err != nil {
		t.Errorf("after the upstream's Retry-After passed: %v", err)
	}
}

func TestAdmitInflight(t *testing.T) {
	l := limit.New(limit.Config{MaxInflight: 2})
	ctx := context.Background()
	var places []limit.Place
	for i := range 2 {
		p, err := l.Admit(ctx, "a", "x", "slow.test:443")
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		places = append(places, p)
	}
	_, err := l.Admit(ctx, "a", "x", "slow.test:443")
	ref, ok := err.(*limit.Refusal)
	if !ok || ref.Err.Code != switchboard.CodeUnavailable || ref.Header.Get("Retry-After") != "1" || !ref.Stale {
		t.Fatalf("third run in flight: %v, want 503 unavailable, Retry-After 1, stale allowed", err)
	}
	if p, err := l.Admit(ctx, "b", "x", "slow.test:443"); err != nil {
		t.Errorf("another org: %v", err)
	} else {
		p.Release()
	}
	places[0].Release()
	if _, err := l.Admit(ctx, "a", "x", "slow.test:443"); err != nil {
		t.Errorf("after one finished: %v", err)
	}
}

// value reads a counter's or gauge's value.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}

// BenchmarkAdmit is what the limits add to a run: with no limit
// configured (the cap on runs in flight only), and with an org and a
// command limit counted in process.
func BenchmarkAdmit(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		limits fakeLimits
	}{{"unlimited", nil}, {"limited-memory", fakeLimits{
		{OrgID: "a", RunsPerSecond: 1e9, Burst: 1e6},
		{OrgID: "a", Name: "kustomer.app.shop.get", RunsPerSecond: 1e9, Burst: 1e6},
	}}} {
		b.Run(tc.name, func(b *testing.B) {
			pol := limit.NewPolicies(tc.limits, nil, nil)
			if err := pol.Load(ctx); err != nil {
				b.Fatal(err)
			}
			l := limit.New(limit.Config{Policies: pol, MaxInflight: 1 << 20})
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					place, err := l.Admit(ctx, "a", "kustomer.app.shop.get", "api.shop.test:443")
					if err != nil {
						b.Fatal(err)
					}
					place.Release()
				}
			})
		})
	}
}

// BenchmarkRedisAllow is one run counted against two limits in Redis.
func BenchmarkRedisAllow(b *testing.B) {
	url := redistest.URL(b)
	l, err := limit.NewRedis(url, limit.RedisOptions{Prefix: redistest.Prefix(b, url)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	reqs := []limit.Request{{Key: "{a}", Rate: limit.Rate{PerSecond: 1e9, Burst: 1e6}}, {Key: "{a}:get", Rate: limit.Rate{PerSecond: 1e9, Burst: 1e6}}}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok, err := l.Allow(ctx, time.Now(), reqs); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
}
