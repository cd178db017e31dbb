package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// The cookies: the session's token, and the sign-in form's CSRF token
// (double submit, before there is a session).
const (
	sessionCookie = "sb_console"
	signInCookie  = "sb_console_signin"
)

// signedIn is the person making a request: the principal of the key they
// signed in with, their session, and the CSRF token their forms carry.
type signedIn struct {
	p    *switchboard.Principal
	sess switchboard.ConsoleSession
	csrf string
}

// errSignedOut means the request carries no live session.
var errSignedOut = &switchboard.Error{Code: switchboard.CodeUnauthorized,
	Detail: "you are not signed in, or your session ended (after 1 hour idle or 12 hours in all); sign in again with an API key"}

// errCSRF refuses a state-changing request without the form's token, or
// from another origin.
var errCSRF = &switchboard.Error{Code: switchboard.CodeForbidden,
	Detail: "this form's security token is missing or stale; reload the page and submit it again"}

func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// csrfFor derives a session's CSRF token from its cookie's token: only the
// holder of the cookie can compute it, no instance needs to store it, and
// it ends with the session.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("switchboard console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure reports whether cookies must be Secure: the request came over TLS,
// or the server is published at an https:// URL (behind a TLS proxy).
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(c.cfg.PublicURL, "https://")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// signIn exchanges an API key for a session and sets its cookie.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request, key string) (*switchboard.Principal, error) {
	p, err := c.cfg.Registry.Authenticate(strings.TrimSpace(key))
	if err != nil {
		return nil, &switchboard.Error{Code: switchboard.CodeUnauthorized,
			Detail: "that is not a valid API key; paste a key created with POST /v1/keys (or the org's admin key, or the operator key)"}
	}
	keyID := p.KeyID
	if p.Role == switchboard.RoleOperator {
		keyID = c.operatorID
	}
	// A sign-in replaces the browser's previous session, if any.
	if old, err := r.Cookie(sessionCookie); err == nil && old.Value != "" {
		_ = c.cfg.Store.DeleteConsoleSession(r.Context(), registry.HashKey(old.Value))
	}
	token := newToken()
	now := c.now().UTC()
	s := switchboard.ConsoleSession{Hash: registry.HashKey(token), OrgID: p.OrgID, KeyID: keyID, Role: p.Role,
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(AbsoluteTTL)}
	if err := c.cfg.Store.CreateConsoleSession(r.Context(), s); err != nil {
		return nil, err
	}
	c.setCookie(w, r, sessionCookie, token, int(AbsoluteTTL.Seconds()))
	c.setCookie(w, r, signInCookie, "", -1)
	return p, nil
}

// current returns the signed-in person of a request, or errSignedOut. It
// reads the session from the store (any instance may have created it),
// checks both timeouts and that the key still exists (revoking a key ends
// its console sessions on every instance, through the registry's index),
// and records the request for the idle timeout.
func (c *Console) current(r *http.Request) (*signedIn, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, errSignedOut
	}
	s, err := c.cfg.Store.ConsoleSession(r.Context(), registry.HashKey(ck.Value))
	if err != nil {
		if switchboard.IsNotFound(err) {
			return nil, errSignedOut
		}
		return nil, err
	}
	now := c.now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.SeenAt.Add(IdleTTL)) {
		return nil, errSignedOut
	}
	p := c.principal(s)
	if p == nil {
		return nil, errSignedOut
	}
	if now.Sub(s.SeenAt) >= touchEvery {
		if err := c.cfg.Store.TouchConsoleSession(r.Context(), s.Hash, now.UTC()); err != nil {
			if switchboard.IsNotFound(err) {
				return nil, errSignedOut // signed out meanwhile
			}
			return nil, err
		}
	}
	return &signedIn{p: p, sess: s, csrf: csrfFor(ck.Value)}, nil
}

// principal finds the key a session was signed in with, from memory; nil
// when it was revoked (or, for the operator, replaced).
func (c *Console) principal(s switchboard.ConsoleSession) *switchboard.Principal {
	if s.Role == switchboard.RoleOperator {
		if c.operatorID == "" || s.KeyID != c.operatorID {
			return nil
		}
		return &switchboard.Principal{KeyID: "operator", KeyName: "operator", Role: switchboard.RoleOperator}
	}
	p := c.cfg.Registry.KeysByID()[s.KeyID]
	if p == nil || p.OrgID != s.OrgID || p.Role != s.Role {
		return nil
	}
	return p
}

// signOut ends the request's session on the server and clears its cookie.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	err := c.cfg.Store.DeleteConsoleSession(r.Context(), s.sess.Hash)
	if err != nil && !switchboard.IsNotFound(err) {
		return err
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	return nil
}

// sameOrigin refuses a state-changing request that a browser sent from
// another origin (the Origin header, or failing it the Referer): a second
// line of defence behind the CSRF token and SameSite=Strict.
func sameOrigin(r *http.Request) bool {
	want := origin(r)
	if o := r.Header.Get("Origin"); o != "" {
		return o == want || (o == "https://"+r.Host && r.TLS == nil) // a TLS proxy in front
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err == nil && u.Host == r.Host
	}
	return true // not sent by a browser that reveals origins; the CSRF token decides
}

// checkForm checks a state-changing request's origin and CSRF token.
func checkForm(r *http.Request, want string) error {
	if !sameOrigin(r) || !equalTokens(r.PostFormValue("csrf"), want) {
		return errCSRF
	}
	return nil
}

// safeNext returns where to go after signing in: a console path, never
// another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "//") {
		return Prefix
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, Prefix) {
		return Prefix
	}
	return next
}
