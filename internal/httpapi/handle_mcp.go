package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/mcp"
)

// handleMCP registers the MCP endpoint for every method (the transport
// answers the ones it does not serve) behind the same auth as the run
// routes, a session token included. It is left out of the OpenAPI
// document, which cannot describe a JSON-RPC endpoint; its metrics and
// access lines are labelled with the pattern.
func (s *Server) handleMCP(pattern string, doc op) {
	if s.mcp == nil {
		return
	}
	s.metrics.add(pattern)
	h := s.mcp
	s.mux.Handle(pattern, s.auth(doc.roles, true, func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		r.Body = http.MaxBytesReader(w, r.Body, MaxRunBytes)
		token := bearer(r)
		recheck := func() (*switchboard.Principal, error) { return s.authenticate(token) }
		h.ServeHTTP(w, r.WithContext(mcp.WithCaller(r.Context(), p, recheck)))
		return nil
	}))
}
