package switchboard

import (
	"context"
	"time"
)

// The store's ports, one per concern. Every method that reads or writes an
// org's data takes the org id and never returns another org's rows. Methods
// return *Error values with CodeNotFound when a record does not exist and
// CodeConflict when a write collides with an existing record; any other error
// is an internal one. Every write also appends a Change in the same
// transaction, so that every instance can refresh what it holds in memory.
//
// Each consumer takes only the ports it uses (the runner an AuditStore, oauth
// an AccountStore), so that a fake for its tests is small and a new feature
// names exactly the state it touches.

// OrgStore keeps orgs.
type OrgStore interface {
	// CreateOrg creates an org together with its first admin key.
	// Conflict: the org id is taken.
	CreateOrg(ctx context.Context, org Org, admin Key) error
	// Org returns an org. Not found: no such org.
	Org(ctx context.Context, id string) (Org, error)
}

// KeyStore keeps API keys (their hashes).
type KeyStore interface {
	// CreateKey stores a new key of key.OrgID.
	CreateKey(ctx context.Context, key Key) error
	// Keys lists an org's keys, oldest first.
	Keys(ctx context.Context, orgID string) ([]Key, error)
	// AllKeys lists every key of every org, for the in-memory index.
	AllKeys(ctx context.Context) ([]Key, error)
	// DeleteKey revokes a key, and every session it minted. Not found: no
	// such key in that org.
	DeleteKey(ctx context.Context, orgID, id string) error
}

// SessionStore keeps browser sessions (SPEC 10).
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// Sessions lists an org's sessions, expired ones included until they
	// are pruned, newest first.
	Sessions(ctx context.Context, orgID string) ([]Session, error)
	// AllSessions lists every org's sessions that expire after t, for the
	// in-memory index.
	AllSessions(ctx context.Context, after time.Time) ([]Session, error)
	// DeleteSession revokes a session. Not found: no such session in that
	// org.
	DeleteSession(ctx context.Context, orgID, id string) error
}

// AppStore keeps app versions and each org's installs.
type AppStore interface {
	// CreateAppVersion stores a new version of an app (creating the app on
	// its first version) and, when install is set, installs that version for
	// the app's org. Conflict: the version exists, or the app id belongs to
	// another owner, or another version was registered concurrently.
	CreateAppVersion(ctx context.Context, v AppVersion, install bool) error
	// AppVersion returns one version with its definition. Not found.
	AppVersion(ctx context.Context, appID, version string) (AppVersion, error)
	// LatestAppVersion returns the newest version of an app. Not found.
	LatestAppVersion(ctx context.Context, appID string) (AppVersion, error)
	// AppVersions lists an app's versions, oldest first, without definitions.
	AppVersions(ctx context.Context, appID string) ([]AppVersion, error)
	// Apps lists the latest version of every app an org can see: the
	// public apps and the org's own private apps. With orgID "" it lists the
	// public apps only.
	Apps(ctx context.Context, orgID string) ([]AppSummary, error)

	// PutInstall installs (or re-installs at another version) an app.
	PutInstall(ctx context.Context, in Install) error
	// DeleteInstall uninstalls an app. Not found: it was not installed.
	DeleteInstall(ctx context.Context, orgID, appID string) error
	// Installs lists the apps installed for an org.
	Installs(ctx context.Context, orgID string) ([]Install, error)
}

// SettingStore keeps each org's setting values of each app (secrets sealed).
type SettingStore interface {
	// PutSettings writes setting values of one app for one org, all or none.
	PutSettings(ctx context.Context, orgID, appID string, values []SettingValue) error
	// Settings returns every stored setting value of one app for one org.
	Settings(ctx context.Context, orgID, appID string) ([]SettingValue, error)
}

// AccountStore keeps OAuth 2.0 app accounts and pending authorizations.
type AccountStore interface {
	// PutAccount creates or replaces an app account.
	PutAccount(ctx context.Context, a Account) error
	// Account returns an app account. Not found.
	Account(ctx context.Context, orgID, appID, name string) (Account, error)
	// Accounts lists an org's accounts of an app, by name.
	Accounts(ctx context.Context, orgID, appID string) ([]Account, error)
	// DeleteAccount removes an app account. Not found.
	DeleteAccount(ctx context.Context, orgID, appID, name string) error
	// UpdateAccount reads an account, lets fn change it and writes it back
	// when fn reports a change, holding the account's row lock meanwhile
	// where the database has row locks (PostgreSQL), so that instances
	// refreshing the same token take turns. Not found.
	UpdateAccount(ctx context.Context, orgID, appID, name string, fn func(*Account) (bool, error)) (Account, error)
	// CreateOAuthState stores a pending authorization.
	CreateOAuthState(ctx context.Context, s OAuthState) error
	// TakeOAuthState returns a pending authorization and deletes it, so
	// that a state is used once. Not found.
	TakeOAuthState(ctx context.Context, hash string) (OAuthState, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores audit entries in one transaction: when it returns
	// nil, all of them are durable.
	AppendAudit(ctx context.Context, entries []AuditEntry) error
	// AuditEntries lists an org's audit entries newest first, with the cursor
	// of the next page ("" on the last page). Invalid input: a bad cursor.
	AuditEntries(ctx context.Context, orgID string, f AuditFilter) ([]AuditEntry, string, error)
}

// ChangeFeed is the store's log of writes, which every instance follows to
// refresh what it holds in memory.
type ChangeFeed interface {
	// Changes lists changes after seq, oldest first, at most limit.
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// LastChange returns the sequence number of the newest change (0 when
	// there is none).
	LastChange(ctx context.Context) (int64, error)
	// Listen calls notify whenever a change may have been committed by any
	// instance, until ctx ends or the store is closed. A store without
	// notifications (SQLite, one instance) returns at once: its followers
	// poll the feed and are told of local writes directly.
	Listen(ctx context.Context, notify func())
}

// Maintenance is the work that keeps a store small and its secrets sealed
// with the current key.
type Maintenance interface {
	// PruneChanges drops change-feed entries committed before t.
	PruneChanges(ctx context.Context, before time.Time) error
	// PruneOAuthStates drops pending authorizations that expired before t.
	PruneOAuthStates(ctx context.Context, before time.Time) error
	// PruneSessions drops sessions that expired before t.
	PruneSessions(ctx context.Context, before time.Time) error
	// PruneAudit deletes at most batch audit entries recorded before t
	// (strictly), oldest first within each org, and returns how many it
	// deleted: fewer than batch means that none older are left. It is the
	// operator's retention, run by the server and never on an org's
	// request, so it alone of the audit methods spans every org. Each
	// call is short (one small delete per org it reaches) so that audit
	// writes wait little; callers loop, pausing between calls. Invalid
	// input: batch is not positive.
	PruneAudit(ctx context.Context, before time.Time, batch int) (int, error)
	// Reseal passes every sealed value (secret settings, account tokens,
	// web hooks' secrets) with its additional data to fn, which opens it
	// with whichever key sealed it and seals it with the current one, and
	// writes back each
	// value fn changed, on its own and only if no one wrote it meanwhile, so
	// that the server may keep running. It returns how many it rewrote.
	Reseal(ctx context.Context, fn func(ciphertext, aad []byte) ([]byte, bool, error)) (int, error)
	// KeyCheck returns the key check value: a constant sealed with the key
	// the store's secrets are sealed with, which an instance opens at start
	// to prove that it has that key. not_found when none is stored yet.
	KeyCheck(ctx context.Context) ([]byte, error)
	// PutKeyCheck stores the key check value. Unless replace, a value
	// already stored stays (the first of several instances starting
	// together wins; read it back with KeyCheck); with replace (after
	// rotation) sealed takes its place.
	PutKeyCheck(ctx context.Context, sealed []byte, replace bool) error
}

// Store is the durable state of the platform: every port, on one database.
type Store interface {
	OrgStore
	KeyStore
	SessionStore
	AppStore
	SettingStore
	AccountStore
	AuditStore
	ChangeFeed
	Maintenance
	ConsoleSessionStore
	OrgDirectory

	LimitStore

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// ChangeKind names what a Change touched.
type ChangeKind string

// The kinds of change, each naming what an instance reloads.
const (
	ChangeKeys     ChangeKind = "keys"     // an org's keys (Ref: the key id)
	ChangeApps     ChangeKind = "apps"     // an app got a version (Ref: app id)
	ChangeInstalls ChangeKind = "installs" // an org's installs (Ref: app id)
	ChangeSettings ChangeKind = "settings" // an org's settings of an app (Ref: app id)
	ChangeAccounts ChangeKind = "accounts" // an org's app accounts (Ref: app id)
	ChangeSessions ChangeKind = "sessions" // an org's sessions (Ref: session id)
)

// Change is one entry of the store's change feed.
type Change struct {
	Seq   int64
	Kind  ChangeKind
	OrgID string
	Ref   string
	At    time.Time
}

// ConsoleSessionStore keeps the web console's sign-in sessions (SPEC 11),
// by the hash of their cookie's token. They are read on each console
// request, from whichever instance serves it, so they need no change feed.
type ConsoleSessionStore interface {
	// CreateConsoleSession stores a new session. Conflict: the hash exists.
	CreateConsoleSession(ctx context.Context, s ConsoleSession) error
	// ConsoleSession returns a session by the hash of its token. Not found.
	ConsoleSession(ctx context.Context, hash string) (ConsoleSession, error)
	// TouchConsoleSession records a request made with a session at seen.
	// Not found.
	TouchConsoleSession(ctx context.Context, hash string, seen time.Time) error
	// DeleteConsoleSession ends a session (sign-out). Not found.
	DeleteConsoleSession(ctx context.Context, hash string) error
	// PruneConsoleSessions drops the sessions that expired before expired
	// or were last seen before seen.
	PruneConsoleSessions(ctx context.Context, expired, seen time.Time) error
}

// OrgDirectory lists every org, for the operator's console page: the one
// read that spans orgs on an operator's request, so it has a port of its
// own rather than a place in OrgStore, which every tenant path uses.
type OrgDirectory interface {
	// Orgs lists orgs by creation, newest first, at most limit.
	Orgs(ctx context.Context, limit int) ([]Org, error)
}

// LimitStore keeps rate limits (SPEC 13).
type LimitStore interface {
	// PutLimits writes limits of one org, all or none: each replaces the
	// limit of its (AppID, Name), and one with RunsPerSecond 0 removes it.
	PutLimits(ctx context.Context, orgID string, limits []RateLimit) error
	// Limits lists an org's limits, its own first, then by app and name.
	Limits(ctx context.Context, orgID string) ([]RateLimit, error)
	// AllLimits lists every org's limits, for the in-memory policies.
	AllLimits(ctx context.Context) ([]RateLimit, error)
}

// WorkflowStore keeps hook URLs, received events and workflow runs (SPEC
// 12). The writes that must commit with a job of the workflow engine go
// through a transaction of the store (sqlstore.Tx) instead.
type WorkflowStore interface {
	// EnsureHooks stores each endpoint whose (org, app, event) has none
	// yet and returns the endpoints of those events as stored, in the
	// order given; created tells which were created by this call.
	EnsureHooks(ctx context.Context, hooks []HookEndpoint) (stored []HookEndpoint, created []bool, err error)
	// HookEndpoint returns an endpoint by its id, whatever its org (the id
	// is the credential of a delivery). Not found.
	HookEndpoint(ctx context.Context, id string) (HookEndpoint, error)
	// RegenerateHook gives an org's endpoint of an event a new id and
	// secret. Not found.
	RegenerateHook(ctx context.Context, orgID, appID, eventName, newID string, secret []byte) (HookEndpoint, error)
	// WorkflowRuns lists an org's runs newest first, with the cursor of the
	// next page ("" on the last). Invalid input: a bad cursor.
	WorkflowRuns(ctx context.Context, orgID string, f RunFilter) ([]WorkflowRun, string, error)
	// WorkflowRun returns one run of an org with its steps in order. Not
	// found.
	WorkflowRun(ctx context.Context, orgID, id string) (WorkflowRun, []WorkflowStep, error)
}
