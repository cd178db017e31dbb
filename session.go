package switchboard

import "time"

// Session is a browser's short-lived authorization to run a few commands,
// minted by an org's key for a page that must never hold the key (SPEC 10).
// Only the SHA-256 hash of its token is stored.
type Session struct {
	ID    string
	OrgID string
	// KeyID is the key that minted it: the session's actor in the audit
	// log, and revoking the key ends the session.
	KeyID string
	Hash  string // hex SHA-256 of the token
	// Commands are canonical command names, or "kustomer.app.<app id>.*"
	// for every command of an app.
	Commands  []string
	Args      map[string]string // pinned: runs use them and may not override them
	Origins   []string          // the pages' origins that may use it; none: any
	Subject   string            // who, for the audit log
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionScope is what a session principal may do: the runner checks it.
type SessionScope struct {
	ID, Subject string
	// Commands holds the canonical command names, Apps the app ids of
	// "<app>.*" entries.
	Commands  map[string]bool
	Apps      map[string]bool
	Args      map[string]string
	Origins   []string
	ExpiresAt time.Time
}

// Allows reports whether the scope covers the command name of the app.
func (s *SessionScope) Allows(appID, command string) bool {
	return s.Commands[command] || s.Apps[appID]
}
