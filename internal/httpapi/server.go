// Package httpapi is Switchboard's REST API on the standard library's mux:
// routes, handlers, the problem documents of SPEC 7, authentication and role
// checks, request logs and metrics, and the OpenAPI document generated from
// the same route table that serves requests.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// Config holds the server's dependencies.
type Config struct {
	Registry *registry.Registry
	Runner   *runner.Runner
	// OAuth serves app accounts; nil leaves their routes out.
	OAuth   *oauth.Manager
	Log     *slog.Logger
	Metrics *prometheus.Registry
	// Version is reported in the OpenAPI document.
	Version string
	// Ready, when set, is consulted by /readyz besides the store.
	Ready func(context.Context) error
	// AccessLog, when set, receives the line of each request, in the JSON
	// format of the slog lines, written without slog (formatting a line
	// with slog costs as much as the rest of a cached run). Nil logs
	// requests through Log.
	AccessLog io.Writer
}

// Server is the HTTP API.
type Server struct {
	reg     *registry.Registry
	run     *runner.Runner
	oauth   *oauth.Manager
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *httpMetrics
	promReg *prometheus.Registry
	ready   func(context.Context) error
	openapi []byte
	routes  []route
	ids     *idSource
	access  io.Writer
}

// NewServer builds the API with every route of routes.go.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{reg: cfg.Registry, run: cfg.Runner, oauth: cfg.OAuth, access: cfg.AccessLog, log: cfg.Log, mux: http.NewServeMux(), promReg: cfg.Metrics, ready: cfg.Ready}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.promReg == nil {
		s.promReg = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.promReg)
	s.ids = newIDSource()
	s.addRoutes()
	doc, err := s.buildOpenAPI(cfg.Version)
	if err != nil {
		return nil, err
	}
	s.openapi = doc
	return s, nil
}

// ServeHTTP implements http.Handler: request id, recovery, the route, then
// one log line and the metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := writerPool.Get().(*statusWriter)
	*rw = statusWriter{ResponseWriter: w, info: reqInfo{log: s.log}}
	defer writerPool.Put(rw)
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 {
		id = s.ids.next()
	}
	rw.info.id = id
	w.Header()["X-Request-Id"] = []string{id}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "request_id", id, "route", r.Pattern, "panic", v, "stack", string(debug.Stack()))
			if !rw.wrote {
				writeError(rw, r, switchboard.Internal(nil))
			}
		}
		d := time.Since(start)
		route := s.metrics.route(r.Pattern)
		route.observe(r.Method, rw.status(), d)
		info := &rw.info
		if s.access != nil {
			s.logAccess(start, r, route.name, rw.status(), d, info)
			return
		}
		var buf [9]slog.Attr
		attrs := append(buf[:0],
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route.name),
			slog.String("path", r.URL.Path), slog.Int("status", rw.status()), slog.Float64("ms", float64(d.Microseconds())/1000))
		if info.principal != nil {
			attrs = append(attrs, slog.String("org", info.principal.OrgID), slog.String("key_id", info.principal.KeyID))
		}
		if info.err != "" {
			attrs = append(attrs, slog.String("error", info.err))
		}
		s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
	}()
	s.mux.ServeHTTP(rw, r)
}

var writerPool = sync.Pool{New: func() any { return new(statusWriter) }}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logAccess writes a request's line: the same members, in the same JSON
// format, as the slog line it stands for.
func (s *Server) logAccess(start time.Time, r *http.Request, route string, status int, d time.Duration, info *reqInfo) {
	buf := lineBufs.Get().(*[]byte)
	b := append((*buf)[:0], `{"time":"`...)
	b = start.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b, _ = jsontext.AppendQuote(b, info.id)
	b = append(b, `,"method":`...)
	b, _ = jsontext.AppendQuote(b, r.Method)
	b = append(b, `,"route":`...)
	b, _ = jsontext.AppendQuote(b, route)
	b = append(b, `,"path":`...)
	b, _ = jsontext.AppendQuote(b, r.URL.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"ms":`...)
	b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
	if info.principal != nil {
		b = append(b, `,"org":`...)
		b, _ = jsontext.AppendQuote(b, info.principal.OrgID)
		b = append(b, `,"key_id":`...)
		b, _ = jsontext.AppendQuote(b, info.principal.KeyID)
	}
	if info.err != "" {
		b = append(b, `,"error":`...)
		b, _ = jsontext.AppendQuote(b, info.err)
	}
	b = append(b, "}\n"...)
	_, _ = s.access.Write(b)
	*buf = b
	lineBufs.Put(buf)
}

// reqInfo carries what the request log line reports, filled in by handlers.
type reqInfo struct {
	id        string
	log       *slog.Logger
	principal *switchboard.Principal
	err       string
}

// info returns the request's reqInfo, kept in the response writer that
// ServeHTTP hands to every handler (a context value would cost an
// allocation of the request on every call).
func info(w http.ResponseWriter) *reqInfo {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return &x.info
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return &reqInfo{log: slog.New(slog.DiscardHandler)}
		}
	}
}

// idSource makes request ids: a random prefix per process and a counter,
// unique without a call to the random source per request.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:])}
}

func (s *idSource) next() string {
	var buf [24]byte
	out := append(buf[:0], s.prefix...)
	out = strconv.AppendUint(out, s.n.Add(1), 36)
	return string(out)
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	info  reqInfo
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authed is a handler that runs with an authenticated principal.
type authed func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal)

// auth authenticates the bearer key and checks its role before h runs.
func (s *Server) auth(roles []switchboard.Role, h authed) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.reg.Authenticate(bearer(r))
		if err != nil {
			fail(w, r, err)
			return
		}
		info(w).principal = p
		if !p.Is(roles...) {
			fail(w, r, switchboard.Errorf(switchboard.CodeForbidden, "this key's role (%s) may not do this; it needs one of: %s", p.Role, roleList(roles)))
			return
		}
		h(w, r, p)
	})
}

func roleList(roles []switchboard.Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// fail writes err as a problem and notes it for the request's log line.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	info(w).err = string(switchboard.ErrorCode(err))
	writeError(w, r, err)
}

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

func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.promReg, promhttp.HandlerOpts{})
}

func (s *Server) handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReadyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		err := s.reg.Ready(ctx)
		if err == nil && s.ready != nil {
			err = s.ready(ctx)
		}
		if err != nil {
			s.log.Warn("not ready", "err", err)
			fail(w, r, &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: "the database does not answer", Err: err})
			return
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}
