package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/session"
)

// auth authenticates the bearer key, or a session token where sessions
// allows one, and checks its role before h runs.
func (s *Server) auth(roles []switchboard.Role, sessions bool, h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(bearer(r))
		if err != nil {
			return err
		}
		info(w).principal = p
		if p.Session != nil {
			if !sessions {
				return errSessionRoute
			}
			if len(p.Session.Origins) > 0 && !slices.Contains(p.Session.Origins, strings.ToLower(r.Header.Get("Origin"))) {
				return switchboard.Errorf(switchboard.CodeForbidden, "this session may be used only from %s; the request comes from %q",
					strings.Join(p.Session.Origins, ", "), r.Header.Get("Origin"))
			}
		}
		if !p.Is(roles...) {
			return switchboard.Errorf(switchboard.CodeForbidden, "this key's role (%s) may not do this; it needs one of: %s", p.Role, roleList(roles))
		}
		return h(w, r, p)
	}
}

var errSessionRoute = &switchboard.Error{Code: switchboard.CodeForbidden,
	Detail: "a session token may only run and describe its commands (POST /v1/commands/{name}/run, GET /v1/commands/{name}); use an API key from a server for anything else"}

// authenticate returns the principal of an API key or a session token,
// from memory.
func (s *Server) authenticate(token string) (*switchboard.Principal, error) {
	if strings.HasPrefix(token, session.TokenPrefix) && s.sessions != nil {
		return s.sessions.Authenticate(token)
	}
	return s.reg.Authenticate(token)
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
