package registry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/switchboardhq/switchboard"
)

// A stored secret that this instance's key cannot open (a ciphertext sealed
// with another key, or corrupted) fails only the runs that use it: loadOrg
// leaves it without a value and lists it in Installed.Unreadable, and the
// registry remembers it per org, as of the org's last load, so that it is
// logged once and /readyz reports it until it opens or is gone.

// unreadableSecret is one stored secret that did not open.
type unreadableSecret struct {
	app, setting string // app id, "<category>.<name>"
	why          string
}

// unreadableSecrets is what the registry remembers of them, by org.
type unreadableSecrets struct {
	mu    sync.Mutex
	byOrg map[string][]unreadableSecret
	n     int
}

// Reasons a secret does not open, as Installed.Unreadable gives them.
const (
	whyOtherKey = "SWITCHBOARD_SECRET_KEY does not match the key it was sealed with"
	whyCorrupt  = "it is sealed with this key but does not open: the stored value is corrupt, or was copied from another setting"
)

// whyUnreadable tells a ciphertext sealed with a key this instance does not
// have (every ciphertext names its key) from one its key should open.
func (r *Registry) whyUnreadable(ciphertext []byte) string {
	if r.box.NeedsRotation(ciphertext) {
		return whyOtherKey
	}
	return whyCorrupt
}

// noteUnreadable records the secrets of an org that did not open on its
// latest load, logging each one the first time (never its value) and each
// one that opens again.
func (r *Registry) noteUnreadable(orgID string, found []unreadableSecret) {
	u := &r.unreadable
	u.mu.Lock()
	defer u.mu.Unlock()
	had := map[unreadableSecret]bool{}
	for _, s := range u.byOrg[orgID] {
		had[s] = true
	}
	for _, s := range found {
		if !had[s] {
			r.log.Warn("a stored secret cannot be opened: the runs that use it answer 503 until it is set again or the instance has the key it was sealed with",
				"org", orgID, "app", s.app, "setting", s.setting, "reason", s.why)
		}
		delete(had, s)
	}
	for s := range had {
		r.log.Info("a stored secret that could not be opened opens now, or is gone", "org", orgID, "app", s.app, "setting", s.setting)
	}
	u.n += len(found) - len(u.byOrg[orgID])
	if len(found) == 0 {
		delete(u.byOrg, orgID)
		return
	}
	if u.byOrg == nil {
		u.byOrg = map[string][]unreadableSecret{}
	}
	u.byOrg[orgID] = found
}

// Unreadable returns how many stored secrets this instance could not open,
// as of each org's latest load.
func (r *Registry) Unreadable() int {
	r.unreadable.mu.Lock()
	defer r.unreadable.mu.Unlock()
	return r.unreadable.n
}

// ErrUnreadableSecrets is wrapped by Ready's error while stored secrets
// cannot be opened.
var ErrUnreadableSecrets = errors.New("stored secrets cannot be opened")

// Ready reports whether the instance can serve: the store answers (else
// the store's error), and every stored secret it has tried to open opens
// (else an unavailable error that wraps ErrUnreadableSecrets and says how
// many do not, naming no org). An org whose state was dropped since is
// loaded again first, so that a secret set again counts at once.
func (r *Registry) Ready(ctx context.Context) error {
	if err := r.store.Ping(ctx); err != nil {
		return err
	}
	r.unreadable.mu.Lock()
	orgs := make([]string, 0, len(r.unreadable.byOrg))
	for org := range r.unreadable.byOrg {
		orgs = append(orgs, org)
	}
	r.unreadable.mu.Unlock()
	sort.Strings(orgs)
	for _, org := range orgs {
		if _, loaded := r.orgs.Load(org); !loaded {
			if _, err := r.Org(ctx, org); err != nil {
				r.log.Warn("readiness: load org", "org", org, "err", err)
			}
		}
	}
	// Only a key this instance lacks makes it unready: that is this
	// instance's misconfiguration, which the load balancer should route
	// around. A corrupt value is the same on every instance; marking each
	// unready would take the whole fleet out for one setting, so it is
	// left to its runs' 503, the log and switchboard_unreadable_secrets.
	n := r.unreadableWith(whyOtherKey)
	if n == 0 {
		return nil
	}
	what, it, was := "a stored secret", "it", "was"
	if n > 1 {
		what, it, was = fmt.Sprintf("%d stored secrets", n), "them", "were"
	}
	return &switchboard.Error{Code: switchboard.CodeUnavailable, Err: ErrUnreadableSecrets,
		Detail: fmt.Sprintf("%s cannot be opened with this instance's secret key (SWITCHBOARD_SECRET_KEY does not match the key %s %s sealed with): "+
			"the runs that use %s answer 503 until %s set again or the instance has the key; the log names %s (\"a stored secret cannot be opened\")",
			what, it, was, it, isAre(n), it)}
}

// unreadableWith counts the unreadable secrets of one reason.
func (r *Registry) unreadableWith(why string) int {
	r.unreadable.mu.Lock()
	defer r.unreadable.mu.Unlock()
	n := 0
	for _, list := range r.unreadable.byOrg {
		for _, s := range list {
			if s.why == why {
				n++
			}
		}
	}
	return n
}

func isAre(n int) string {
	if n == 1 {
		return "it is"
	}
	return "they are"
}
