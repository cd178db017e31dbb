// Package mcp serves an org's commands and workflow actions as tools for AI
// agents over the Model Context Protocol's Streamable HTTP transport (SPEC
// 14). It is stateless: every request builds the tool list of its own
// principal, so any instance answers any request and a change to the org's
// apps or a revoked session shows at once. Runs go through the runner, as
// the REST run routes do; httpapi authenticates the request first and puts
// the principal in its context (WithPrincipal).
package mcp

import (
	"context"
	"log/slog"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// Via is what the audit entry of a run made through MCP records.
const Via = "mcp"

type ctxKey int

const (
	principalKey ctxKey = iota
	serverKey
)

// WithPrincipal returns ctx carrying the authenticated principal of an MCP
// request.
func WithPrincipal(ctx context.Context, p *switchboard.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

func principal(ctx context.Context) *switchboard.Principal {
	p, _ := ctx.Value(principalKey).(*switchboard.Principal)
	return p
}

// Handler serves /mcp.
type Handler struct {
	run     *runner.Runner
	log     *slog.Logger
	version string
	h       *sdk.StreamableHTTPHandler
}

// New returns the handler of /mcp. Its requests must carry a principal
// (WithPrincipal); one without answers 400.
func New(run *runner.Runner, log *slog.Logger, version string) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{run: run, log: log, version: version}
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
// ask for it twice) and serves the request with it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if p == nil {
		http.Error(w, "no principal", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodPost {
		s, err := h.server(r.Context(), p)
		if err != nil {
			h.log.Error("mcp: list the tools", "org", p.OrgID, "err", err)
			http.Error(w, "the tools could not be listed", http.StatusServiceUnavailable)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), serverKey, s))
	}
	h.h.ServeHTTP(w, r)
}

// server returns an MCP server with the tools p may call.
func (h *Handler) server(ctx context.Context, p *switchboard.Principal) (*sdk.Server, error) {
	s := sdk.NewServer(&sdk.Implementation{Name: "switchboard", Version: h.version}, &sdk.ServerOptions{Logger: h.log})
	tools, err := h.tools(ctx, p)
	if err != nil {
		return nil, err
	}
	for _, t := range tools {
		s.AddTool(t.tool, t.handler)
	}
	return s, nil
}
