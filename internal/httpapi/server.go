// Package httpapi is Switchboard's REST API on the standard library's mux:
// routes, handlers, the problem documents of SPEC 7, authentication and role
// checks, request logs and metrics, and the OpenAPI document generated from
// the same route table that serves requests.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// Config holds the server's dependencies.
type Config struct {
	Registry *registry.Registry
	Runner   *runner.Runner
	Log      *slog.Logger
	Metrics  *prometheus.Registry
	// Version is reported in the OpenAPI document.
	Version string
	// Ready, when set, is consulted by /readyz besides the store.
	Ready func(context.Context) error
}

// Server is the HTTP API.
type Server struct {
	reg     *registry.Registry
	run     *runner.Runner
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *httpMetrics
	promReg *prometheus.Registry
	ready   func(context.Context) error
	openapi []byte
	routes  []route
}

// NewServer builds the API with every route of routes.go.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{reg: cfg.Registry, run: cfg.Runner, log: cfg.Log, mux: http.NewServeMux(), promReg: cfg.Metrics, ready: cfg.Ready}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.promReg == nil {
		s.promReg = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.promReg)
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
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 {
		id = newRequestID()
	}
	w.Header()["X-Request-Id"] = []string{id}
	rw := &statusWriter{ResponseWriter: w}
	info := &reqInfo{id: id, log: s.log}
	r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, info))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "request_id", id, "route", r.Pattern, "panic", v, "stack", string(debug.Stack()))
			if !rw.wrote {
				writeError(rw, r, s.log, switchboard.Internal(nil))
			}
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.observe(route, r.Method, rw.status(), d)
		attrs := []slog.Attr{
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("route", route),
			slog.String("path", r.URL.Path), slog.Int("status", rw.status()), slog.Float64("ms", float64(d.Microseconds())/1000),
		}
		if info.principal != nil {
			attrs = append(attrs, slog.String("org", info.principal.OrgID), slog.String("key_id", info.principal.KeyID))
		}
		if info.err != "" {
			attrs = append(attrs, slog.String("error", info.err))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
	}()
	s.mux.ServeHTTP(rw, r)
}

type reqInfoKey struct{}

// reqInfo carries what the request log line reports, filled in by handlers.
type reqInfo struct {
	id        string
	log       *slog.Logger
	principal *switchboard.Principal
	err       string
}

func info(r *http.Request) *reqInfo {
	if i, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return i
	}
	return &reqInfo{log: slog.New(slog.DiscardHandler)}
}

func requestID(r *http.Request) string { return info(r).id }

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
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
		info(r).principal = p
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
	i := info(r)
	i.err = string(switchboard.ErrorCode(err))
	writeError(w, r, i.log, err)
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
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
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *httpMetrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
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
