package httpapi

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

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
