// Package console is the web console of SPEC 11, served at /console/ by the
// same binary: html/template pages and assets embedded with go:embed, no
// build step, no CDN. A person signs in with an API key, which is exchanged
// for a server-side session (console_sessions in the store) held in an
// HttpOnly, SameSite=Strict cookie; every state-changing form carries a CSRF
// token; the Content-Security-Policy allows no inline script and no other
// origin. Every page calls the platform's own services (registry, runner,
// oauth, session, limit), never a second implementation of what they
// check, and what a page shows and allows follows the key's role, as the
// REST routes do.
package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/session"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// Session lifetimes (SPEC 11).
const (
	// AbsoluteTTL is how long a sign-in lasts, however active.
	AbsoluteTTL = 12 * time.Hour
	// IdleTTL is how long a sign-in lasts without a request.
	IdleTTL = time.Hour
	// touchEvery is how stale a session's last-seen time may get before a
	// request writes it again: the idle timeout is exact to this much, and
	// a page view costs no write most of the time.
	touchEvery = time.Minute
	// pruneEvery is how often Prune drops ended sessions.
	pruneEvery = 10 * time.Minute
)

// Config holds the console's dependencies.
type Config struct {
	Registry *registry.Registry
	Runner   *runner.Runner
	// OAuth serves app accounts; nil hides them.
	OAuth *oauth.Manager
	// Sessions mints browser sessions; nil hides their page.
	Sessions *session.Manager
	Store    switchboard.ConsoleSessionStore
	// Orgs lists the orgs on the operator's page.
	Orgs switchboard.OrgDirectory
	Log  *slog.Logger
	Now  func() time.Time
	// PublicURL is the server's address as browsers reach it: the curl
	// calls the playground shows, and the pages OAuth returns to.
	PublicURL string
	// Limits reads and writes rate limits (SPEC 13); nil hides them.
	Limits *limit.Service
	// OperatorKey is the configured operator key ("" when there is none):
	// an operator's sign-in ends when the key changes.
	OperatorKey string
}

// Console is the web console, an http.Handler for everything under Prefix.
type Console struct {
	cfg   Config
	now   func() time.Time
	log   *slog.Logger
	mux   *http.ServeMux
	pages *pages
	// operatorID is the key id an operator's session records: derived
	// from the operator key's hash, so that a session signed in with a
	// previous operator key does not outlive it.
	operatorID string
	routes     []route
}

// New builds the console, compiling every template.
func New(cfg Config) (*Console, error) {
	c := &Console{cfg: cfg, now: cfg.Now, log: cfg.Log, mux: http.NewServeMux()}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if cfg.OperatorKey != "" {
		h := sha256.Sum256([]byte(registry.HashKey(cfg.OperatorKey)))
		c.operatorID = "operator:" + hex.EncodeToString(h[:8])
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	c.pages = p
	c.addRoutes()
	return c, nil
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	c.mux.ServeHTTP(w, r)
}

// csp allows the console's own scripts, styles and images and nothing
// else: no inline script or style, no other origin, no framing, and forms
// post only to the console.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func secureHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Prune drops ended sessions every 10 minutes until ctx ends.
func (c *Console) Prune(ctx context.Context) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := c.now()
			if err := c.cfg.Store.PruneConsoleSessions(ctx, now, now.Add(-IdleTTL)); err != nil {
				c.log.Warn("prune console sessions", "err", err)
			}
		}
	}
}

// publicURL is the server's address for r: the configured one, else the
// request's own origin.
func (c *Console) publicURL(r *http.Request) string {
	if c.cfg.PublicURL != "" {
		return strings.TrimRight(c.cfg.PublicURL, "/")
	}
	return origin(r)
}

// origin is the origin r was sent to.
func origin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ReturnPath is the console page that OAuth providers send the browser
// back to (through the static redirect URI); the server allows it as a
// return URL.
const ReturnPath = "/console/connected"
