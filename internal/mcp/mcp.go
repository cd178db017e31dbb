// Package mcp serves an org's commands and workflow actions as tools for AI
// agents over the Model Context Protocol's Streamable HTTP transport (SPEC
// 14). It is stateless: every request builds the tool list of its own
// principal, so any instance answers any request and a change to the org's
// apps or a revoked session shows at once. Runs go through the runner, as
// the REST run routes do; httpapi authenticates the request first and puts
// the caller in its context (WithCaller).
package mcp

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// Via is what the audit entry of a run made through MCP records.
const Via = "mcp"

type ctxKey int

const (
	callerKey ctxKey = iota
	serverKey
)

type caller struct {
	p       *switchboard.Principal
	recheck Recheck
}

// WithCaller returns ctx carrying the authenticated principal of an MCP
// request and the way to authenticate its credential again (for a stream
// that outlives the request's check).
func WithCaller(ctx context.Context, p *switchboard.Principal, recheck Recheck) context.Context {
	return context.WithValue(ctx, callerKey, caller{p, recheck})
}

// Handler serves /mcp.
type Handler struct {
	run     *runner.Runner
	log     *slog.Logger
	version string
	h       *sdk.StreamableHTTPHandler

	// servers holds the server built for each caller until a change that
	// may alter its tools (Applied) replaces it with an empty one.
	servers atomic.Pointer[serverCache]

	mu        sync.Mutex
	listeners map[*listener]struct{} // open subscriptions/listen streams
	pending   map[string]bool        // orgs changed since the last Applied ("": all)
	closed    bool
}

// maxServers bounds the servers kept: a caller past it has its server built
// for each request.
const maxServers = 1024

type serverCache struct {
	m sync.Map // callerID -> *built
	n atomic.Int64
}

func newServerCache() *serverCache { return &serverCache{} }

// callerID names a caller's tools: a key, or a session of a key.
type callerID struct{ org, key, session string }

type built struct {
	srv   *sdk.Server
	tools []boundTool
}

// New returns the handler of /mcp. Its requests must carry a caller
// (WithCaller); one without answers 400. Tell it of the registry's changes
// (Changed and Applied) for its servers to follow them and open streams to
// hear of them.
func New(run *runner.Runner, log *slog.Logger, version string) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{run: run, log: log, version: version, listeners: map[*listener]struct{}{}, pending: map[string]bool{}}
	h.servers.Store(newServerCache())
	h.h = sdk.NewStreamableHTTPHandler(func(r *http.Request) *sdk.Server {
		s, _ := r.Context().Value(serverKey).(*sdk.Server)
		return s
	}, &sdk.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		// Switchboard is a server behind its own authentication; a key or
		// session token is required, so DNS rebinding gains nothing.
		DisableLocalhostProtection: true,
	})
	return h
}

// ServeHTTP builds the server of the request's principal once (the SDK may
// ask for it twice) and serves the request with it; a subscriptions/listen
// stream is followed until it ends.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, ok := r.Context().Value(callerKey).(caller)
	if !ok || c.p == nil {
		http.Error(w, "no principal", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost {
		ctx := r.Context()
		// The protocol's stateless revision names the method in a header
		// that the SDK checks against the body. A stream's server is its
		// own: it changes with the caller's tools.
		listen := r.Header.Get("Mcp-Method") == "subscriptions/listen" && c.recheck != nil
		b, err := h.serverOf(ctx, c.p, !listen)
		if err != nil {
			h.log.Error("mcp: list the tools", "org", c.p.OrgID, "err", err)
			http.Error(w, "the tools could not be listed", http.StatusServiceUnavailable)
			return
		}
		if listen {
			var stop func()
			ctx, stop = h.listen(ctx, c.p, c.recheck, b.srv, b.tools)
			defer stop()
		}
		r = r.WithContext(context.WithValue(ctx, serverKey, b.srv))
	}
	h.h.ServeHTTP(w, r)
}

// serverOf returns the server of p's tools: the one kept for p when shared,
// else (or when none is kept) one built now, kept when shared unless a
// change was applied while it was built.
func (h *Handler) serverOf(ctx context.Context, p *switchboard.Principal, shared bool) (*built, error) {
	id := callerID{org: p.OrgID, key: p.KeyID}
	if p.Session != nil {
		id.session = p.Session.ID
	}
	cache := h.servers.Load()
	if shared {
		if b, ok := cache.m.Load(id); ok {
			return b.(*built), nil
		}
	}
	s, tools, err := h.server(ctx, p)
	if err != nil {
		return nil, err
	}
	b := &built{srv: s, tools: tools}
	if shared && h.servers.Load() == cache {
		// n counts the servers stored: a place is taken before storing
		// and given back when the cache is full or another request of the
		// same caller stored its server first (which both then use).
		if cache.n.Add(1) > maxServers {
			cache.n.Add(-1)
		} else if prev, loaded := cache.m.LoadOrStore(id, b); loaded {
			cache.n.Add(-1)
			return prev.(*built), nil
		}
	}
	return b, nil
}

// server returns an MCP server with the tools p may call, and those tools.
func (h *Handler) server(ctx context.Context, p *switchboard.Principal) (*sdk.Server, []boundTool, error) {
	s := sdk.NewServer(&sdk.Implementation{Name: "switchboard", Version: h.version}, &sdk.ServerOptions{Logger: h.log,
		// Declared even with no tools yet, so that an agent listens for
		// the ones an install brings.
		Capabilities: &sdk.ServerCapabilities{Tools: &sdk.ToolCapabilities{ListChanged: true}}})
	tools, err := h.tools(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]bool, len(tools))
	for _, t := range tools {
		s.AddTool(t.tool, t.handler)
		names[t.tool.Name] = true
	}
	s.AddReceivingMiddleware(h.unknownTool(names, p))
	return s, tools, nil
}

// unknownTool answers a call of a tool that p may not call (or that does not
// exist) as a refusal, a result with isError and a problem document, as
// SPEC 14 has every refusal; the SDK alone would answer a protocol error.
func (h *Handler) unknownTool(names map[string]bool, p *switchboard.Principal) sdk.Middleware {
	return func(next sdk.MethodHandler) sdk.MethodHandler {
		return func(ctx context.Context, method string, req sdk.Request) (sdk.Result, error) {
			if method != "tools/call" {
				return next(ctx, method, req)
			}
			params, ok := req.GetParams().(*sdk.CallToolParamsRaw)
			if ok && !names[params.Name] {
				return h.failed(p, switchboard.Errorf(switchboard.CodeNotFound,
					"there is no tool named %q that this caller may call; tools/list names the ones it may", params.Name)), nil
			}
			return next(ctx, method, req)
		}
	}
}
