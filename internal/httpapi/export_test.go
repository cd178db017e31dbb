package httpapi

import "github.com/switchboardhq/switchboard"

// TableRoute is one row of a Server's route table, as the external tests
// see it.
type TableRoute struct {
	Pattern string             // "GET /v1/keys"
	Roles   []switchboard.Role // nil: no key needed
}

// RouteTable returns every operation s serves (dispatched ones included)
// with the roles of its op, which are the roles auth enforces.
func RouteTable(s *Server) []TableRoute {
	out := make([]TableRoute, len(s.routes))
	for i, rt := range s.routes {
		out[i] = TableRoute{Pattern: rt.pattern, Roles: rt.doc.roles}
	}
	return out
}
