// Package session mints and verifies browser sessions (SPEC 10): short-lived
// tokens that let a page run a few commands of one org without ever holding
// an API key. A session acts as the key that minted it, narrowed to its
// commands, pinned args and origins. Verifying a token reads memory only: an
// index of every live session, kept current on every instance by the
// store's change feed, so that a revocation takes effect everywhere within a
// second.
package session

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// TokenPrefix starts every session token, so that a token is told from an
// API key (sbk_) at a glance and in code.
const TokenPrefix = "sbs_"

// The limits of a session's time to live (SPEC 10).
const (
	DefaultTTL = 900 * time.Second
	MaxTTL     = 3600 * time.Second
)

// Config holds a Manager's dependencies.
type Config struct {
	Store    switchboard.SessionStore
	Registry *registry.Registry
	// Runner resolves the command names a session is minted for.
	Runner *runner.Runner
	Log    *slog.Logger
	Now    func() time.Time
}

// Manager mints, lists, revokes and verifies sessions. It is safe for
// concurrent use.
type Manager struct {
	cfg   Config
	now   func() time.Time
	index atomic.Pointer[map[[32]byte]*switchboard.Principal]
	mu    sync.Mutex // one reload at a time
}

// New returns a Manager following the registry's change feed. Call it
// before the registry's Load, and Load before serving.
func New(cfg Config) *Manager {
	m := &Manager{cfg: cfg, now: cfg.Now}
	if m.now == nil {
		m.now = time.Now
	}
	if m.cfg.Log == nil {
		m.cfg.Log = slog.New(slog.DiscardHandler)
	}
	empty := map[[32]byte]*switchboard.Principal{}
	m.index.Store(&empty)
	cfg.Registry.OnChange(func(c switchboard.Change) {
		if c.Kind == switchboard.ChangeSessions && c.OrgID != "" {
			if err := m.reloadOrg(context.Background(), c.OrgID); err != nil {
				m.cfg.Log.Warn("reload sessions", "org", c.OrgID, "err", err)
			}
		}
	})
	return m
}

// Load reads every live session into the index.
func (m *Manager) Load(ctx context.Context) error {
	all, err := m.cfg.Store.AllSessions(ctx, m.now())
	if err != nil {
		return fmt.Errorf("load sessions: %w", err)
	}
	idx := make(map[[32]byte]*switchboard.Principal, len(all))
	keys := m.cfg.Registry.KeysByID()
	for _, s := range all {
		add(idx, keys, s)
	}
	m.mu.Lock()
	m.index.Store(&idx)
	m.mu.Unlock()
	return nil
}

// reloadOrg replaces one org's sessions in the index.
func (m *Manager) reloadOrg(ctx context.Context, orgID string) error {
	list, err := m.cfg.Store.Sessions(ctx, orgID)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.index.Load()
	idx := make(map[[32]byte]*switchboard.Principal, len(old)+len(list))
	for h, p := range old {
		if p.OrgID != orgID {
			idx[h] = p
		}
	}
	now := m.now()
	keys := m.cfg.Registry.KeysByID()
	for _, s := range list {
		if s.ExpiresAt.After(now) {
			add(idx, keys, s)
		}
	}
	m.index.Store(&idx)
	return nil
}

// add puts a session's principal in idx, unless its minting key (looked up
// in keys, by id) is gone.
func add(idx map[[32]byte]*switchboard.Principal, keys map[string]*switchboard.Principal, s switchboard.Session) {
	key := keys[s.KeyID]
	h, ok := registry.ParseHash(s.Hash)
	if key == nil || key.OrgID != s.OrgID || !ok {
		return
	}
	scope := &switchboard.SessionScope{ID: s.ID, Subject: s.Subject, Commands: map[string]bool{}, Apps: map[string]bool{},
		Args: s.Args, Origins: s.Origins, ExpiresAt: s.ExpiresAt}
	for _, c := range s.Commands {
		if app, ok := strings.CutSuffix(c, ".*"); ok {
			scope.Apps[strings.TrimPrefix(app, "kustomer.app.")] = true
		} else {
			scope.Commands[c] = true
		}
	}
	idx[h] = &switchboard.Principal{OrgID: key.OrgID, KeyID: key.KeyID, KeyName: key.KeyName, Role: key.Role, Session: scope}
}

// Authenticate returns the principal of a session token, or unauthorized.
// It reads memory only.
func (m *Manager) Authenticate(token string) (*switchboard.Principal, error) {
	h := sha256.Sum256([]byte(token))
	p, ok := (*m.index.Load())[h]
	if !ok {
		return nil, errUnauthorized
	}
	if !m.now().Before(p.Session.ExpiresAt) {
		return nil, errExpired
	}
	return p, nil
}

var (
	errUnauthorized = &switchboard.Error{Code: switchboard.CodeUnauthorized,
		Detail: "this session token is not valid: it was revoked, its key was revoked, or it never existed; mint a new one with POST /v1/sessions"}
	errExpired = &switchboard.Error{Code: switchboard.CodeUnauthorized,
		Detail: "this session token expired; mint a new one with POST /v1/sessions (the SDK's getToken does this)"}
)

// MintRequest is what a key asks a session to allow.
type MintRequest struct {
	Commands   []string
	Args       map[string]string
	Origins    []string
	Subject    string
	TTLSeconds int // 0: DefaultTTL
}

// Minted is a new session with its token, shown only now.
type Minted struct {
	switchboard.Session
	Token string
}

// Mint creates a session for p, an admin or agent key. Each command must
// resolve among p's org's installed apps (every spelling; "<app>.*" for
// every command of an app), so a session never does more than its key.
func (m *Manager) Mint(ctx context.Context, p *switchboard.Principal, req MintRequest) (*Minted, error) {
	if p.Session != nil {
		return nil, switchboard.Errorf(switchboard.CodeForbidden, "a session token cannot mint sessions; use the key that minted it")
	}
	var problems []switchboard.Problem
	bad := func(loc, format string, args ...any) {
		problems = append(problems, switchboard.Problem{Location: loc, Message: fmt.Sprintf(format, args...)})
	}
	ttl := DefaultTTL
	if req.TTLSeconds != 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
		if ttl <= 0 || ttl > MaxTTL {
			bad("/ttlSeconds", "ttlSeconds must be 1 to %d; got %d", int(MaxTTL/time.Second), req.TTLSeconds)
		}
	}
	if len(req.Commands) == 0 || len(req.Commands) > 100 {
		bad("/commands", "commands must list 1 to 100 command names (any spelling) or <app>.* entries")
	}
	var commands []string
	seen := map[string]bool{}
	for i, name := range req.Commands {
		c, err := m.canonical(ctx, p, name)
		if err != nil {
			bad(fmt.Sprintf("/commands/%d", i), "%s", err.Error())
			continue
		}
		if !seen[c] {
			seen[c] = true
			commands = append(commands, c)
		}
	}
	for k, v := range req.Args {
		if k == "" || len(k) > 128 || len(v) > 4096 {
			bad("/args/"+k, "an arg name is 1 to 128 characters and its value at most 4096")
		}
	}
	var origins []string
	for i, o := range req.Origins {
		norm, err := origin(o)
		if err != nil {
			bad(fmt.Sprintf("/origins/%d", i), "%s", err.Error())
			continue
		}
		origins = append(origins, norm)
	}
	if len(req.Subject) > 256 {
		bad("/subject", "subject is at most 256 characters")
	}
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the session cannot be minted; fix each problem listed", Problems: problems}
	}
	token := registry.NewSecret(TokenPrefix)
	now := m.now().UTC()
	s := switchboard.Session{ID: registry.NewID("ses"), OrgID: p.OrgID, KeyID: p.KeyID, Hash: registry.HashKey(token),
		Commands: commands, Args: req.Args, Origins: origins, Subject: req.Subject,
		CreatedAt: now, ExpiresAt: now.Add(ttl).Truncate(time.Microsecond)}
	if s.Args == nil {
		s.Args = map[string]string{}
	}
	if err := m.cfg.Store.CreateSession(ctx, s); err != nil {
		return nil, err
	}
	// This instance reads its own write before answering.
	if err := m.cfg.Registry.Sync(ctx); err != nil {
		return nil, err
	}
	return &Minted{Session: s, Token: token}, nil
}

// canonical resolves a command name, or an "<app>.*" entry, for p's org.
func (m *Manager) canonical(ctx context.Context, p *switchboard.Principal, name string) (string, error) {
	if app, ok := strings.CutSuffix(name, ".*"); ok {
		app = strings.TrimPrefix(app, "kustomer.app.")
		state, err := m.cfg.Registry.Org(ctx, p.OrgID)
		if err != nil {
			return "", err
		}
		for _, inst := range state.Apps() {
			if inst.AppID == app || inst.App.BareID == app {
				return "kustomer.app." + inst.AppID + ".*", nil
			}
		}
		return "", fmt.Errorf("no app %q is installed for your org", app)
	}
	res, err := m.cfg.Runner.Command(ctx, p, name)
	if err != nil {
		return "", fmt.Errorf("no command %q among your org's installed apps", name)
	}
	return res.Command.Name, nil
}

// origin normalizes a page's origin: scheme://host[:port], nothing else.
func origin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("an origin is scheme://host[:port], such as https://desk.example.com; got %q", s)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// List returns the live sessions p may see: an admin's org's, or the ones
// an agent key minted.
func (m *Manager) List(ctx context.Context, p *switchboard.Principal) ([]switchboard.Session, error) {
	all, err := m.cfg.Store.Sessions(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := []switchboard.Session{}
	for _, s := range all {
		if s.ExpiresAt.After(now) && (p.Role == switchboard.RoleAdmin || s.KeyID == p.KeyID) {
			out = append(out, s)
		}
	}
	return out, nil
}

// Revoke ends a session at once on every instance: an admin any of its
// org's, an agent the ones it minted.
func (m *Manager) Revoke(ctx context.Context, p *switchboard.Principal, id string) error {
	if p.Role != switchboard.RoleAdmin {
		list, err := m.List(ctx, p)
		if err != nil {
			return err
		}
		mine := false
		for _, s := range list {
			mine = mine || s.ID == id
		}
		if !mine {
			return switchboard.Errorf(switchboard.CodeNotFound, "session %q not found among the sessions this key minted", id)
		}
	}
	if err := m.cfg.Store.DeleteSession(ctx, p.OrgID, id); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeNotFound {
			return switchboard.Errorf(switchboard.CodeNotFound, "session %q not found; GET /v1/sessions lists the live ones", id)
		}
		return err
	}
	return m.cfg.Registry.Sync(ctx)
}
