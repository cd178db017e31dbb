// Package httpapi is Switchboard's REST API on the standard library's mux:
// routes, handlers, the problem documents of SPEC 7, authentication and role
// checks, request logs and metrics, and the OpenAPI document generated from
// the same route table that serves requests.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/session"
)

// Config holds the server's dependencies.
type Config struct {
	Registry *registry.Registry
	Runner   *runner.Runner
	// Sessions mints and verifies browser sessions; nil leaves their routes
	// out (and refuses session tokens).
	Sessions *session.Manager
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
	// MaxBodies and MaxBodiesPerKey cap the request bodies being read at
	// once, in total and per key (DefaultMaxBodies, DefaultMaxBodiesPerKey
	// when 0); beyond them a request answers 503 at once.
	MaxBodies, MaxBodiesPerKey int
}

// Server is the HTTP API.
type Server struct {
	reg      *registry.Registry
	run      *runner.Runner
	oauth    *oauth.Manager
	sessions *session.Manager
	log      *slog.Logger
	mux      *http.ServeMux
	metrics  *httpMetrics
	promReg  *prometheus.Registry
	ready    func(context.Context) error
	openapi  []byte
	routes   []route
	ids      *idSource
	access   io.Writer
	bodies   *bodyGate
}

// NewServer builds the API with every route of routes.go.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{reg: cfg.Registry, run: cfg.Runner, oauth: cfg.OAuth, sessions: cfg.Sessions, access: cfg.AccessLog, log: cfg.Log, mux: http.NewServeMux(), promReg: cfg.Metrics, ready: cfg.Ready}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.promReg == nil {
		s.promReg = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.promReg)
	s.ids = newIDSource()
	s.bodies = newBodyGate(cfg.MaxBodies, cfg.MaxBodiesPerKey)
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
	*rw = statusWriter{ResponseWriter: w, info: reqInfo{log: s.log, bodies: s.bodies}}
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
		s.logRequest(start, r, route.name, rw.status(), d, &rw.info)
	}()
	s.mux.ServeHTTP(rw, r)
}
