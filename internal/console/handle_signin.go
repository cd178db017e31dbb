package console

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
)

type signInData struct {
	Next string
}

// signInPage shows the sign-in form, with a fresh CSRF token in a cookie
// of its own (there is no session yet to derive one from).
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s, err := c.current(r); err == nil {
		http.Redirect(w, r, c.landing(s.p), http.StatusSeeOther)
		return
	}
	c.renderSignIn(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), nil)
}

func (c *Console) renderSignIn(w http.ResponseWriter, r *http.Request, status int, next string, ev *errorView) {
	token := newToken()
	c.setCookie(w, r, signInCookie, token, 3600)
	c.render(w, r, status, "signin", nil, view{Title: "Sign in", CSRF: token, Error: ev, Data: signInData{Next: next}})
}

func (c *Console) signInPost(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := parseForm(w, r, 64<<10); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	ck, _ := r.Cookie(signInCookie)
	if ck == nil || !sameOrigin(r) || !equalTokens(r.PostFormValue("csrf"), ck.Value) {
		c.renderSignIn(w, r, http.StatusForbidden, next, c.problemOf(w, errCSRF))
		return
	}
	p, err := c.signIn(w, r, r.PostFormValue("key"))
	if err != nil {
		ev := c.problemOf(w, err)
		c.renderSignIn(w, r, ev.Status, next, ev)
		return
	}
	if next == Prefix {
		next = c.landing(p)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// landing is the first page of a role.
func (c *Console) landing(p *switchboard.Principal) string {
	if p.Role == switchboard.RoleAuditor {
		return "/console/audit"
	}
	return "/console/apps"
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	http.Redirect(w, r, c.landing(s.p), http.StatusSeeOther)
	return nil
}

func (c *Console) signOutPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if err := c.signOut(w, r, s); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/sign-in", http.StatusSeeOther)
	return nil
}

type connectedData struct {
	Next string
}

// connectedPage is where an OAuth provider's redirect comes back to. It
// needs no session: the browser arrives from the provider's site, so a
// SameSite=Strict cookie is not sent with it; the page's link (followed at
// once by the script) starts a same-site navigation, which carries it.
func (c *Console) connectedPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	next := safeNext(r.URL.Query().Get("next"))
	c.render(w, r, http.StatusOK, "connected", nil, view{Title: "Account connected", Data: connectedData{Next: next}})
}
