package httpapi

import (
	"net/http"
	"testing"
)

// A route's roles are enforced from its op, so the only ways left to make
// enforcement and document disagree are registering an op that names roles
// without auth, or an authed route with no roles (auth would refuse every
// key). Both panic when the routes are built.
func TestRouteRegistrationGuards(t *testing.T) {
	t.Parallel()
	for name, register := range map[string]func(s *Server){
		"open route with roles": func(s *Server) {
			s.handleOpen("GET /guard", op{id: "guard", roles: admin}, http.NotFoundHandler())
		},
		"authed route without roles": func(s *Server) {
			s.handle("GET /guard", op{id: "guard"}, handleKeyList(s.reg))
		},
		"dispatched operation without roles": func(s *Server) {
			s.operation("GET /guard", op{id: "guard"}, handleKeyList(s.reg))
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := NewServer(Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if recover() == nil {
					t.Error("registered without a panic")
				}
			}()
			register(s)
		})
	}
}
