// Package httpapi is Switchboard's REST API on the standard library's mux:
// routes, handlers, the problem documents of SPEC 7, authentication and role
// checks, request logs and metrics, and the OpenAPI document generated from
// the same route table that serves requests.
package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/session"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// Config holds the server's dependencies.
type Config struct {
	Registry *registry.Registry
	Runner   *runner.Runner
	// Sessions mints and verifies browser sessions; nil leaves their routes
	// out (and refuses session tokens).
	Sessions *session.Manager
	// OAuth serves app accounts; nil leaves their routes out.
	OAuth *oauth.Manager
	// Log receives the API's lines, each key once in a line (see
	// uniqueKeys): a key the line has replaces one bound with With. Only
	// attributes bound to Log before it is given are out of its reach:
	// give a logger without the request line's keys (request_id, method,
	// route, path, status, ms, org, key_id, error).
	Log     *slog.Logger
	Metrics *prometheus.Registry
	// Version is reported in the OpenAPI document and by GET /v1/version
	// (the build info's module version when empty).
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
	// MCP serves /mcp (SPEC 14) once auth has put the principal in the
	// request's context (mcp.WithCaller); nil leaves the route out.
	MCP http.Handler
	// Console serves the web console under /console/ (SPEC 11), with its
	// own routes, sessions and CSRF checks; nil leaves it out.
	Console http.Handler

	// Limits reads and writes rate limits (SPEC 13); nil leaves their
	// routes out.
	Limits *limit.Service

	// Workflows serves hooks and workflow runs (SPEC 12); nil leaves their
	// routes out.
	Workflows *workflow.Engine
	// PublicURL is where callers reach the server, for hook URLs; empty
	// means the request's own host.
	PublicURL string
}

// Server is the HTTP API.
type Server struct {
	reg       *registry.Registry
	run       *runner.Runner
	oauth     *oauth.Manager
	sessions  *session.Manager
	mcp       http.Handler
	console   http.Handler
	log       *slog.Logger
	mux       *http.ServeMux
	metrics   *httpMetrics
	promReg   *prometheus.Registry
	ready     func(context.Context) error
	openapi   []byte
	routes    []route
	ids       *idSource
	access    io.Writer
	bodies    *bodyGate
	limits    *limit.Service
	version   string
	flows     *workflow.Engine
	publicURL string
}

// NewServer builds the API with every route of routes.go.
func NewServer(cfg Config) (*Server, error) {
	s := &Server{reg: cfg.Registry, run: cfg.Runner, oauth: cfg.OAuth, sessions: cfg.Sessions, mcp: cfg.MCP, access: cfg.AccessLog, log: cfg.Log, mux: http.NewServeMux(), promReg: cfg.Metrics, ready: cfg.Ready}
	s.console = cfg.Console
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Every line the API writes, and any logger made from s.log with With,
	// has each key once.
	s.log = slog.New(newUniqueKeys(s.log.Handler()))
	if s.promReg == nil {
		s.promReg = prometheus.NewRegistry()
	}
	s.metrics = newHTTPMetrics(s.promReg)
	s.ids = newIDSource()
	s.bodies = newBodyGate(cfg.MaxBodies, cfg.MaxBodiesPerKey)
	s.limits = cfg.Limits
	s.flows, s.publicURL = cfg.Workflows, cfg.PublicURL
	s.version = cfg.Version
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
				fail(rw, r, switchboard.Internal(errors.New("the panic logged above")))
			}
		}
		d := time.Since(start)
		route := s.metrics.route(r.Pattern)
		route.observe(r.Method, rw.status(), d)
		s.logRequest(start, r, route.name, rw.status(), d, &rw.info)
	}()
	if err := checkHead(r); err != nil {
		fail(rw, r, err)
		return
	}
	s.mux.ServeHTTP(rw, r)
}

// MaxHeaderBytes bounds a request's head: its request line and header
// fields, counted as they are sent (each line with its CRLF). ServeHTTP
// answers a larger one 431 with a problem document.
const MaxHeaderBytes = 64 << 10

// ServerMaxHeaderBytes is the http.Server.MaxHeaderBytes to serve the API
// with. It is well above MaxHeaderBytes so that every head up to that limit
// reaches ServeHTTP, which answers it as a problem; only a head beyond this
// one is refused by net/http itself before any handler runs (431 in
// text/plain, then the connection is closed). It is net/http's default.
const ServerMaxHeaderBytes = 1 << 20

// headerBytes is the size of r's head as the client sent it, near enough:
// net/http keeps neither the original spacing nor Host among the fields.
// It costs a walk of the header map, with no allocation.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + len(" \r\n ")
	if r.Host != "" {
		n += len("Host: \r\n") + len(r.Host)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + len(": \r\n")
		}
	}
	return n + len("\r\n")
}

// canonicalPath reports whether p is in the mux's canonical form: rooted,
// without empty, "." or ".." segments (a trailing slash is allowed). The mux
// would redirect any other path to its cleaned form, with an HTML body.
func canonicalPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '/' {
			continue
		}
		seg := p[i+1:]
		if j := strings.IndexByte(seg, '/'); j >= 0 {
			seg = seg[:j]
			if seg == "" {
				return false // "//"
			}
		}
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// checkHead refuses what the mux or net/http would answer in text or HTML:
// a head over MaxHeaderBytes, and a path that is not canonical. It returns
// nil for the requests that go on to the mux.
func checkHead(r *http.Request) error {
	if n := headerBytes(r); n > MaxHeaderBytes {
		return &withStatus{status: http.StatusRequestHeaderFieldsTooLarge, err: switchboard.Errorf(switchboard.CodeInvalidInput,
			"the request line and header fields (%d bytes) exceed the limit of %d KiB; send large data in the body", n, MaxHeaderBytes>>10)}
	}
	p := r.URL.Path
	if r.URL.RawPath != "" {
		p = r.URL.EscapedPath() // what the mux looks at: an escaped %2F is not a separator
	}
	if !canonicalPath(p) {
		return switchboard.Errorf(switchboard.CodeNotFound,
			"no route %s %s: the path is not in canonical form (an empty segment, . or ..); send %s instead (GET /openapi.json lists every route)",
			r.Method, p, cleanPath(p))
	}
	return nil
}

// cleanPath is the canonical form of p, as the mux computes it.
func cleanPath(p string) string {
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}
