package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// Who may use a page: the same roles as the REST routes that do the same
// thing (TestConsoleRoles walks this table as TestRouteRoles walks the
// API's).
var (
	everyone = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent, switchboard.RoleAuditor, switchboard.RoleOperator}
	operator = []switchboard.Role{switchboard.RoleOperator}
	admin    = []switchboard.Role{switchboard.RoleAdmin}
	members  = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent}
	readers  = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent, switchboard.RoleOperator}
	auditors = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAuditor}
	writers  = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleOperator}
)

// route is one page or form of the console.
type route struct {
	Pattern string
	Roles   []switchboard.Role
}

// handlerFunc serves a request of a signed-in person; it returns an error
// only before it has written anything.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *signedIn) error

// maxForm bounds a form's body (a definition pasted or uploaded is the
// largest, 5 MiB as POST /v1/apps/available allows, plus the form's
// encoding).
const maxForm = 6 << 20

// addRoutes registers every page: the console's table of contents.
func (c *Console) addRoutes() {
	c.mux.Handle("GET /console/assets/", http.StripPrefix("/console/assets/", assets()))
	c.mux.HandleFunc("GET /console/sign-in", c.signInPage)
	c.mux.HandleFunc("POST /console/sign-in", c.signInPost)
	c.mux.HandleFunc("GET /console/connected", c.connectedPage)

	c.handle("GET /console/{$}", everyone, c.home)
	c.handle("POST /console/sign-out", everyone, c.signOutPost)

	c.handle("GET /console/apps", readers, c.appsPage)
	c.handle("GET /console/apps/{app}", readers, c.appPage)
	c.handle("POST /console/apps/{app}/install", admin, c.installPost)
	c.handle("POST /console/apps/{app}/uninstall", admin, c.uninstallPost)
	c.handle("POST /console/apps/{app}/settings", admin, c.settingsPost)
	c.handle("POST /console/apps/{app}/accounts", admin, c.connectPost)
	c.handle("POST /console/apps/{app}/accounts/{name}/disconnect", admin, c.disconnectPost)
	if c.cfg.Limits != nil {
		c.handle("POST /console/apps/{app}/limits", admin, c.appLimitsPost)
	}
	c.handle("GET /console/register", writers, c.registerPage)
	c.handle("POST /console/register", writers, c.registerPost)

	c.handle("GET /console/playground", members, c.playgroundPage)
	c.handle("POST /console/playground", members, c.playgroundPost)

	c.handle("GET /console/audit", auditors, c.auditPage)

	c.handle("GET /console/keys", admin, c.keysPage)
	c.handle("POST /console/keys", admin, c.keyCreatePost)
	c.handle("POST /console/keys/{id}/revoke", admin, c.keyRevokePost)

	if c.cfg.Sessions != nil {
		c.handle("GET /console/sessions", members, c.sessionsPage)
		c.handle("POST /console/sessions", members, c.sessionMintPost)
		c.handle("POST /console/sessions/{id}/revoke", members, c.sessionRevokePost)
	}

	c.handle("GET /console/orgs", operator, c.orgsPage)
	c.handle("POST /console/orgs", operator, c.orgCreatePost)
	if c.cfg.Limits != nil {
		c.handle("POST /console/orgs/{org}/limits", operator, c.orgLimitsPost)
	}

	c.mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := c.current(r)
		c.fail(w, r, s, switchboard.Errorf(switchboard.CodeNotFound, "there is no console page at %s; the menu lists the pages you can use", r.URL.Path))
	})
}

// Routes lists the console's pages and forms with their roles, for tests.
func (c *Console) Routes() []route { return c.routes }

// handle registers a page or form that needs a signed-in person with one of
// roles. A GET without a session goes to the sign-in page (and back after);
// a POST needs the session's CSRF token and the console's own origin.
func (c *Console) handle(pattern string, roles []switchboard.Role, h handlerFunc) {
	c.routes = append(c.routes, route{Pattern: pattern, Roles: roles})
	post := strings.HasPrefix(pattern, "POST ")
	c.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if post {
			if err := parseForm(w, r, maxForm); err != nil {
				c.fail(w, r, nil, err)
				return
			}
		}
		s, err := c.current(r)
		if err != nil {
			if errors.Is(err, errSignedOut) && !post {
				http.Redirect(w, r, "/console/sign-in?next="+queryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.fail(w, r, nil, err)
			return
		}
		if post {
			if err := checkForm(r, s.csrf); err != nil {
				c.fail(w, r, s, err)
				return
			}
		}
		if !s.p.Is(roles...) {
			c.fail(w, r, s, switchboard.Errorf(switchboard.CodeForbidden,
				"your key's role (%s) may not use this page; it needs one of: %s", s.p.Role, roleList(roles)))
			return
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

func roleList(roles []switchboard.Role) string {
	parts := make([]string, len(roles))
	for i, r := range roles {
		parts[i] = string(r)
	}
	return strings.Join(parts, ", ")
}

// parseForm reads a form's body (URL-encoded or multipart), at most max
// bytes of it.
func parseForm(w http.ResponseWriter, r *http.Request, max int64) error {
	r.Body = http.MaxBytesReader(w, r.Body, max)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20) // larger files go to temporary files, removed after the request
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooLarge):
		return switchboard.Errorf(switchboard.CodePayloadTooLarge, "the form is larger than %d MiB; a definition may have at most 5 MiB", max>>20)
	default:
		return switchboard.Errorf(switchboard.CodeInvalidInput, "the form could not be read (%v); reload the page and submit it again", err)
	}
}
