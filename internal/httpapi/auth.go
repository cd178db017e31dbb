package httpapi

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// auth authenticates the bearer key and checks its role before h runs.
func (s *Server) auth(roles []switchboard.Role, h authedFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.reg.Authenticate(bearer(r))
		if err != nil {
			return err
		}
		info(w).principal = p
		if !p.Is(roles...) {
			return switchboard.Errorf(switchboard.CodeForbidden, "this key's role (%s) may not do this; it needs one of: %s", p.Role, roleList(roles))
		}
		return h(w, r, p)
	}
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
