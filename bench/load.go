package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// request is what a target's workers send, the same bytes every time, and
// what makes an answer a success.
type request struct {
	method string
	url    *url.URL
	header http.Header // read only: shared by every request
	body   []byte

	// A success is a 2xx answer whose body contains every wantBody and
	// whose header wantHeader[0] is wantHeader[1] (when set).
	wantBody   []string
	wantHeader [2]string
}

// newRequest returns a POST of body to rawURL with a JSON content type.
func newRequest(rawURL string, header map[string]string, body []byte) (*request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse %q: %w", rawURL, err)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range header {
		h.Set(k, v)
	}
	return &request{method: http.MethodPost, url: u, header: h, body: body}, nil
}

// result is one measurement of one target.
type result struct {
	Target          string  `json:"target"`
	Workers         int     `json:"workers"`
	OK              int64   `json:"ok"`         // 2xx answers that passed the checks
	Non2xx          int64   `json:"non2xx"`     // answers of another status
	Unexpected      int64   `json:"unexpected"` // 2xx answers that failed a check
	TransportErrors int64   `json:"transportErrors"`
	FirstError      string  `json:"firstError,omitempty"`
	Seconds         float64 `json:"seconds"`
	RPS             float64 `json:"rps"` // OK per second
	P50ms           float64 `json:"p50Ms"`
	P99ms           float64 `json:"p99Ms"`
	Failed          bool    `json:"failed"` // more than 1% errors, or no success
	// CPUs kept busy by processes outside the benchmark during the window,
	// and CPUs stolen by the hypervisor; -1 when unknown.
	OthersCPU float64 `json:"othersCpu"`
	StealCPU  float64 `json:"stealCpu"`
	// CPU time a success took, in microseconds: of the target's server
	// process group, of the upstream and of the load generator; -1 when
	// unknown.
	ServerCPUus   float64 `json:"serverCpuUs"`
	UpstreamCPUus float64 `json:"upstreamCpuUs"`
	LoadCPUus     float64 `json:"loadCpuUs"`
}

// errors is the number of answers that were not a success.
func (r result) errors() int64 { return r.Non2xx + r.Unexpected + r.TransportErrors }

// errorRate is the share of unsuccessful answers.
func (r result) errorRate() float64 {
	total := r.OK + r.errors()
	if total == 0 {
		return 0
	}
	return float64(r.errors()) / float64(total)
}

func (r result) line() string {
	if r.Failed {
		return fmt.Sprintf("FAILED: %s", r.errorSummary())
	}
	return fmt.Sprintf("%9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  errors %d  others' CPU %.2f",
		r.RPS, r.P50ms, r.P99ms, r.errors(), r.OthersCPU)
}

func (r result) errorSummary() string {
	s := fmt.Sprintf("%d ok, %d errors (%.2f%%: %d non-2xx, %d unexpected 2xx, %d transport)",
		r.OK, r.errors(), 100*r.errorRate(), r.Non2xx, r.Unexpected, r.TransportErrors)
	if r.FirstError != "" {
		s += "; first: " + r.FirstError
	}
	return s
}

// loadTransport is the load generator's one shared client transport: keep
// alive, a pool as large as the concurrency, no compression, no proxy.
func loadTransport(concurrency int) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          2 * concurrency,
		MaxIdleConnsPerHost:   2 * concurrency,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		DisableCompression:    true,
	}
}

// measure loads rq with concurrency closed-loop workers for warmup, then
// for duration, and returns what was answered during duration, with the
// samples taken at the start and the end of the window. Answers that
// complete during the warm-up, or after the window, are not counted. When
// sample is not nil, it is called at the start and at the end of the window
// to tell how much CPU other processes took.
func measure(ctx context.Context, tr *http.Transport, rq *request, concurrency int, warmup, duration time.Duration, sample func() cpuSample) (result, error) {
	res, _, _, err := measureSampled(ctx, tr, rq, concurrency, warmup, duration, sample)
	return res, err
}

func measureSampled(ctx context.Context, tr *http.Transport, rq *request, concurrency int, warmup, duration time.Duration, sample func() cpuSample) (result, cpuSample, cpuSample, error) {
	start := time.Now()
	mStart := start.Add(warmup)
	mEnd := mStart.Add(duration)
	stats := make([]workerStats, concurrency)
	var wg sync.WaitGroup
	for i := range stats {
		wg.Go(func() { stats[i].run(ctx, tr, rq, mStart, mEnd) })
	}
	var before, after cpuSample
	if sample != nil {
		wg.Go(func() {
			if sleepUntil(ctx, mStart) {
				before = sample()
				if sleepUntil(ctx, mEnd) {
					after = sample()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return result{}, before, after, err
	}

	var res result
	res.OthersCPU, res.StealCPU = othersCPU(before, after)
	var lat []time.Duration
	for i := range stats {
		s := &stats[i]
		res.OK += s.ok
		res.Non2xx += s.non2xx
		res.Unexpected += s.unexpected
		res.TransportErrors += s.transport
		if res.FirstError == "" {
			res.FirstError = s.firstError
		}
		lat = append(lat, s.latencies...)
	}
	res.Seconds = duration.Seconds()
	res.RPS = float64(res.OK) / res.Seconds
	slices.Sort(lat)
	res.P50ms = ms(percentile(lat, 0.50))
	res.P99ms = ms(percentile(lat, 0.99))
	res.Failed = res.OK == 0 || res.errorRate() > 0.01
	return res, before, after, nil
}

// sleepUntil sleeps until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// workerStats is what one worker saw during the measured window.
type workerStats struct {
	ok, non2xx, unexpected, transport int64
	firstError                        string
	latencies                         []time.Duration // of the successes
}

// run sends rq, waits for the answer and sends it again, until mEnd.
func (s *workerStats) run(ctx context.Context, tr *http.Transport, rq *request, mStart, mEnd time.Time) {
	s.latencies = make([]time.Duration, 0, 1<<14)
	var buf bytes.Buffer
	for ctx.Err() == nil {
		t0 := time.Now()
		kind, err := roundTrip(ctx, tr, rq, &buf)
		t1 := time.Now()
		if !t1.Before(mEnd) {
			return
		}
		if t1.Before(mStart) {
			continue
		}
		switch kind {
		case answerOK:
			s.ok++
			s.latencies = append(s.latencies, t1.Sub(t0))
			continue
		case answerNon2xx:
			s.non2xx++
		case answerUnexpected:
			s.unexpected++
		case answerTransportError:
			if ctx.Err() != nil {
				return
			}
			s.transport++
		}
		if s.firstError == "" {
			s.firstError = err.Error()
		}
	}
}

type answerKind int

const (
	answerOK answerKind = iota
	answerNon2xx
	answerUnexpected
	answerTransportError
)

// roundTrip sends rq once and reads the whole answer into buf (so that the
// connection is reused). The error explains any kind but answerOK.
func roundTrip(ctx context.Context, tr *http.Transport, rq *request, buf *bytes.Buffer) (answerKind, error) {
	resp, err := tr.RoundTrip(rq.httpRequest(ctx))
	if err != nil {
		return answerTransportError, err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return answerTransportError, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answerNon2xx, fmt.Errorf("%s: %s", resp.Status, snippet(buf.Bytes()))
	}
	for _, want := range rq.wantBody {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			return answerUnexpected, fmt.Errorf("2xx answer without %s: %s", want, snippet(buf.Bytes()))
		}
	}
	if name := rq.wantHeader[0]; name != "" {
		if got := resp.Header.Get(name); got != rq.wantHeader[1] {
			return answerUnexpected, fmt.Errorf("2xx answer with %s %q, want %q", name, got, rq.wantHeader[1])
		}
	}
	return answerOK, nil
}

// httpRequest is a new *http.Request of rq, built without parsing the URL
// again.
func (rq *request) httpRequest(ctx context.Context) *http.Request {
	req := &http.Request{
		Method:        rq.method,
		URL:           rq.url,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        rq.header,
		Body:          io.NopCloser(bytes.NewReader(rq.body)),
		ContentLength: int64(len(rq.body)),
		Host:          rq.url.Host,
	}
	return req.WithContext(ctx)
}

// send sends rq once and returns the answer and its body, without checks.
func send(ctx context.Context, tr *http.Transport, rq *request) (*http.Response, []byte, error) {
	resp, err := tr.RoundTrip(rq.httpRequest(ctx))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("read the answer: %w", err)
	}
	return resp, body, nil
}

// verify sends rq once and fails unless the answer is a success.
func verify(ctx context.Context, tr *http.Transport, rq *request) error {
	var buf bytes.Buffer
	if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
		return err
	}
	return nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
