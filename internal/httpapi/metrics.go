package httpapi

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	routes   map[string]*routeMetrics // by pattern; written before serving, then only read
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		routes: map[string]*routeMetrics{},
	}
	reg.MustRegister(m.requests, m.duration)
	m.add("unmatched")
	return m
}

// routeMetrics holds one route's metrics with its labels resolved, so that
// a request does not hash label values.
type routeMetrics struct {
	name     string
	requests *prometheus.CounterVec
	duration prometheus.Observer
	mu       sync.RWMutex
	counters map[statusKey]prometheus.Counter
}

type statusKey struct {
	method string
	status int
}

// add registers a route; call it before serving.
func (m *httpMetrics) add(pattern string) {
	if _, ok := m.routes[pattern]; ok {
		return
	}
	m.routes[pattern] = &routeMetrics{name: pattern, requests: m.requests, duration: m.duration.WithLabelValues(pattern),
		counters: map[statusKey]prometheus.Counter{}}
}

func (m *httpMetrics) route(pattern string) *routeMetrics {
	if r, ok := m.routes[pattern]; ok {
		return r
	}
	return m.routes["unmatched"]
}

func (r *routeMetrics) observe(method string, status int, d time.Duration) {
	k := statusKey{method, status}
	r.mu.RLock()
	c := r.counters[k]
	r.mu.RUnlock()
	if c == nil {
		c = r.requests.WithLabelValues(r.name, method, strconv.Itoa(status))
		r.mu.Lock()
		r.counters[k] = c
		r.mu.Unlock()
	}
	c.Inc()
	r.duration.Observe(d.Seconds())
}
