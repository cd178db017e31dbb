// Package registry is the platform's service layer over the Store: orgs and
// keys, app registration with namespacing, installs and settings. It also
// holds what the run path needs in memory (key hashes, compiled definitions,
// installs with decrypted settings) and keeps it fresh from the store's
// change feed, so that a run reads no database.
package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/secretbox"
)

// Store is what the registry keeps in the database: orgs, keys, apps and
// installs, settings, the change feed it follows, and the audit log it lists.
type Store interface {
	switchboard.OrgStore
	switchboard.KeyStore
	switchboard.AppStore
	switchboard.SettingStore
	switchboard.AuditStore
	switchboard.ChangeFeed
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
}

// Config configures a Registry.
type Config struct {
	Store Store
	Box   *secretbox.Box
	Log   *slog.Logger
	// OperatorKey is the operator's API key ("" disables the operator).
	OperatorKey string
	// PollInterval is how often the change feed is read as a backstop to
	// notifications (default 500ms).
	PollInterval time.Duration
	// CompiledCacheBytes bounds the compiled definitions kept beyond those
	// of installed versions (0: DefaultCompiledCacheBytes).
	CompiledCacheBytes int64
	Now                func() time.Time
}

// Registry is safe for concurrent use.
type Registry struct {
	store    Store
	box      *secretbox.Box
	log      *slog.Logger
	now      func() time.Time
	poll     time.Duration
	operator [32]byte
	hasOp    bool

	keys atomic.Pointer[map[[32]byte]*switchboard.Principal]

	// apps holds compiled definitions; versions are immutable, so an entry
	// never goes stale (compiled.go).
	apps *compiledCache

	orgs       sync.Map          // org id -> *OrgState
	unreadable unreadableSecrets // stored secrets that did not open, by org
	loadSF     singleflight.Group
	epoch      atomic.Uint64 // counts invalidations, so that a load racing one is not kept

	listeners []func(switchboard.Change) // told of every change; set before Start
	applied   []func(all bool)           // told once changes are applied; set before Start

	syncMu   sync.Mutex // one reader of the change feed at a time
	lastSeq  atomic.Int64
	lastPoll atomic.Int64 // unix nanos of the last successful read of the feed
	wake     chan struct{}
}

// New returns a Registry; call Start to load keys and follow changes.
func New(cfg Config) *Registry {
	r := &Registry{
		store: cfg.Store, box: cfg.Box, log: cfg.Log, now: cfg.Now, poll: cfg.PollInterval,
		apps: newCompiledCache(cfg.CompiledCacheBytes), wake: make(chan struct{}, 1),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.poll <= 0 {
		r.poll = 500 * time.Millisecond
	}
	if cfg.OperatorKey != "" {
		r.operator = sha256.Sum256([]byte(cfg.OperatorKey))
		r.hasOp = true
	}
	empty := map[[32]byte]*switchboard.Principal{}
	r.keys.Store(&empty)
	return r
}

// Start loads every key and follows the change feed until ctx ends: Load,
// then Follow on a goroutine of its own. The server calls the two itself, so
// that its errgroup owns the loop.
func (r *Registry) Start(ctx context.Context) error {
	if err := r.Load(ctx); err != nil {
		return err
	}
	go r.Follow(ctx)
	return nil
}

// Load reads every key and the change feed's position. Call it once, before
// serving.
func (r *Registry) Load(ctx context.Context) error {
	seq, err := r.store.LastChange(ctx)
	if err != nil {
		return fmt.Errorf("read change feed: %w", err)
	}
	if err := r.reloadAllKeys(ctx); err != nil {
		return err
	}
	r.lastSeq.Store(seq)
	r.lastPoll.Store(r.now().UnixNano())
	return nil
}

// OnChange registers fn to be told of every change the registry applies,
// from this instance or another. Call it before Start, or before Follow runs
// and anything writes.
func (r *Registry) OnChange(fn func(switchboard.Change)) {
	r.listeners = append(r.listeners, fn)
}

// OnApplied registers fn to be called after the changes told to the OnChange
// listeners have been applied to the registry's state, so that what fn reads
// from the registry has them; all is true when the state was dropped whole
// (after a gap in the change feed) and no change was told. Call it before
// Start, or before Follow runs and anything writes.
func (r *Registry) OnApplied(fn func(all bool)) {
	r.applied = append(r.applied, fn)
}

func (r *Registry) tellApplied(all bool) {
	for _, fn := range r.applied {
		fn(all)
	}
}

// Notify asks the registry to read the change feed now, for example when
// PostgreSQL announces a change.
func (r *Registry) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Follow reads the change feed every poll interval, and at once when Notify
// is called, until ctx ends.
func (r *Registry) Follow(ctx context.Context) {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
		if err := r.Sync(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("read change feed", "err", err)
		}
	}
}

// staleAfter is how long an instance may go without reading the feed before
// it trusts nothing it holds (the store prunes old changes).
const staleAfter = 10 * time.Minute

// Sync applies every change not yet applied. Writes call it before they
// return, so that an instance always reads its own writes.
func (r *Registry) Sync(ctx context.Context) error {
	r.syncMu.Lock()
	defer r.syncMu.Unlock()
	if time.Duration(r.now().UnixNano()-r.lastPoll.Load()) > staleAfter {
		r.log.Warn("change feed not read for a long time; reloading everything")
		seq, err := r.store.LastChange(ctx)
		if err != nil {
			return err
		}
		if err := r.reloadAllKeys(ctx); err != nil {
			return err
		}
		r.epoch.Add(1)
		r.orgs.Range(func(id, _ any) bool { r.dropOrg(id.(string)); return true })
		r.lastSeq.Store(seq)
		r.lastPoll.Store(r.now().UnixNano())
		r.tellApplied(true)
		return nil
	}
	for {
		changes, err := r.store.Changes(ctx, r.lastSeq.Load(), 500)
		if err != nil {
			return err
		}
		r.lastPoll.Store(r.now().UnixNano())
		keyOrgs := map[string]bool{}
		for _, c := range changes {
			for _, l := range r.listeners {
				l(c)
			}
			switch c.Kind {
			case switchboard.ChangeKeys:
				keyOrgs[c.OrgID] = true
			case switchboard.ChangeInstalls, switchboard.ChangeSettings, switchboard.ChangeAccounts, switchboard.ChangeApps:
				if c.OrgID != "" {
					r.epoch.Add(1)
					r.dropOrg(c.OrgID)
				}
			}
		}
		for org := range keyOrgs {
			if err := r.reloadKeys(ctx, org); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			r.lastSeq.Store(changes[len(changes)-1].Seq)
			r.tellApplied(false)
		}
		if len(changes) < 500 {
			return nil
		}
	}
}

func (r *Registry) reloadAllKeys(ctx context.Context) error {
	keys, err := r.store.AllKeys(ctx)
	if err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	m := make(map[[32]byte]*switchboard.Principal, len(keys))
	for _, k := range keys {
		if h, ok := ParseHash(k.Hash); ok {
			m[h] = principal(k)
		}
	}
	r.keys.Store(&m)
	return nil
}

func (r *Registry) reloadKeys(ctx context.Context, orgID string) error {
	keys, err := r.store.Keys(ctx, orgID)
	if err != nil {
		return fmt.Errorf("load keys of %s: %w", orgID, err)
	}
	old := *r.keys.Load()
	m := make(map[[32]byte]*switchboard.Principal, len(old)+len(keys))
	for h, p := range old {
		if p.OrgID != orgID {
			m[h] = p
		}
	}
	for _, k := range keys {
		if h, ok := ParseHash(k.Hash); ok {
			m[h] = principal(k)
		}
	}
	r.keys.Store(&m)
	return nil
}

func principal(k switchboard.Key) *switchboard.Principal {
	return &switchboard.Principal{OrgID: k.OrgID, KeyID: k.ID, KeyName: k.Name, Role: k.Role}
}

// ParseHash reads the stored, hex form of a key's or a session token's
// SHA-256 back into the form the in-memory indexes are keyed by.
func ParseHash(s string) ([32]byte, bool) {
	var h [32]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// HashKey returns the stored form of an API key or a session token.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// KeysByID returns the principal of every key by its id, from memory:
// sessions act as the key that minted them. Build it once for a batch of
// lookups; it is a copy of the index, O(keys).
func (r *Registry) KeysByID() map[string]*switchboard.Principal {
	keys := *r.keys.Load()
	m := make(map[string]*switchboard.Principal, len(keys))
	for _, p := range keys {
		m[p.KeyID] = p
	}
	return m
}

var operatorPrincipal = &switchboard.Principal{KeyID: "operator", KeyName: "operator", Role: switchboard.RoleOperator}

// Authenticate returns the principal of an API key, or an unauthorized error.
// It reads memory only.
func (r *Registry) Authenticate(key string) (*switchboard.Principal, error) {
	if key == "" {
		return nil, errUnauthorized
	}
	h := sha256.Sum256([]byte(key))
	if p, ok := (*r.keys.Load())[h]; ok {
		return p, nil
	}
	if r.hasOp && subtle.ConstantTimeCompare(h[:], r.operator[:]) == 1 {
		return operatorPrincipal, nil
	}
	return nil, errUnauthorized
}

var errUnauthorized = &switchboard.Error{Code: switchboard.CodeUnauthorized,
	Detail: "a valid API key is required: send it as Authorization: Bearer <key>"}

// newKey returns a new random API key: 32 bytes of entropy with a prefix
// that secret scanners can find.
func newKey() string { return NewSecret("sbk_") }

// NewSecret returns prefix and 32 random bytes in base64url: an API key
// (sbk_) or a session token (sbs_).
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// NewID returns a random id with a prefix, such as "key_3f2a...".
func NewID(prefix string) string { return prefix + "_" + randomHex(8) }

// CreateOrg creates an org and its first admin key (operator only). An
// empty id gets a random one.
func (r *Registry) CreateOrg(ctx context.Context, id, name string) (switchboard.Org, string, error) {
	if id == "" {
		id = randomHex(12)
	}
	if !switchboard.ValidOrgID(id) {
		return switchboard.Org{}, "", &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail:   "an org id is 1 to 64 of lowercase letters and digits",
			Problems: []switchboard.Problem{{Message: fmt.Sprintf("%q is not 1 to 64 of [a-z0-9]", id), Location: "/id"}}}
	}
	if name == "" {
		name = id
	}
	now := r.now().UTC()
	org := switchboard.Org{ID: id, Name: name, CreatedAt: now}
	key := newKey()
	k := switchboard.Key{ID: NewID("key"), OrgID: id, Name: "admin", Role: switchboard.RoleAdmin, Hash: HashKey(key), CreatedAt: now}
	if err := r.store.CreateOrg(ctx, org, k); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeConflict {
			return switchboard.Org{}, "", switchboard.Errorf(switchboard.CodeConflict, "an org with id %q already exists; choose another id, or send none for a random one", id)
		}
		return switchboard.Org{}, "", err
	}
	return org, key, r.Sync(ctx)
}

// CreateKey creates a key of the caller's org and returns it with the key
// itself, which is never shown again.
func (r *Registry) CreateKey(ctx context.Context, p *switchboard.Principal, name string, role switchboard.Role) (switchboard.Key, string, error) {
	var problems []switchboard.Problem
	if strings.TrimSpace(name) == "" || len(name) > 128 {
		problems = append(problems, switchboard.Problem{Message: "name is required (1 to 128 characters)", Location: "/name"})
	}
	if !switchboard.ValidKeyRole(role) {
		problems = append(problems, switchboard.Problem{Message: fmt.Sprintf("role must be admin, agent or auditor; got %q", role), Location: "/role"})
	}
	if len(problems) > 0 {
		return switchboard.Key{}, "", &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the key cannot be created", Problems: problems}
	}
	key := newKey()
	k := switchboard.Key{ID: NewID("key"), OrgID: p.OrgID, Name: name, Role: role, Hash: HashKey(key), CreatedAt: r.now().UTC()}
	if err := r.store.CreateKey(ctx, k); err != nil {
		return switchboard.Key{}, "", err
	}
	return k, key, r.Sync(ctx)
}

// Keys lists the caller's org's keys.
func (r *Registry) Keys(ctx context.Context, p *switchboard.Principal) ([]switchboard.Key, error) {
	return r.store.Keys(ctx, p.OrgID)
}

// DeleteKey revokes a key of the caller's org; it stops working at once.
func (r *Registry) DeleteKey(ctx context.Context, p *switchboard.Principal, id string) error {
	if err := r.store.DeleteKey(ctx, p.OrgID, id); err != nil {
		if switchboard.IsNotFound(err) {
			return switchboard.Errorf(switchboard.CodeNotFound, "key %q not found; GET /v1/keys lists your org's keys", id)
		}
		return err
	}
	return r.Sync(ctx)
}

// AuditEntries lists the caller's org's audit entries.
func (r *Registry) AuditEntries(ctx context.Context, p *switchboard.Principal, f switchboard.AuditFilter) ([]switchboard.AuditEntry, string, error) {
	return r.store.AuditEntries(ctx, p.OrgID, f)
}
