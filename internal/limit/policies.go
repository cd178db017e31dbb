package limit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/switchboardhq/switchboard"
)

// Policies holds every org's configured rate limits in memory, so that a
// run reads no database, and reloads an org's when the change feed says
// they changed (on any instance). Safe for concurrent use.
type Policies struct {
	store switchboard.LimitStore
	log   *slog.Logger
	orgs  atomic.Pointer[map[string]*orgPolicy]
	mu    sync.Mutex // one reload at a time
}

// orgPolicy is one org's limits.
type orgPolicy struct {
	org    *Rate
	byName map[string]Rate // by canonical command or action name
}

// Feed is what Policies follows: the registry's change listeners.
type Feed interface {
	OnChange(fn func(switchboard.Change))
}

// NewPolicies returns the policies of store, following feed (subscribe
// before the feed is followed). Call Load before serving.
func NewPolicies(store switchboard.LimitStore, feed Feed, log *slog.Logger) *Policies {
	p := &Policies{store: store, log: log}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	empty := map[string]*orgPolicy{}
	p.orgs.Store(&empty)
	if feed != nil {
		feed.OnChange(func(c switchboard.Change) {
			if c.Kind == switchboard.ChangeLimits && c.OrgID != "" {
				if err := p.reload(context.Background(), c.OrgID); err != nil {
					p.log.Warn("reload rate limits", "org", c.OrgID, "err", err)
				}
			}
		})
	}
	return p
}

// Load reads every org's limits.
func (p *Policies) Load(ctx context.Context) error {
	all, err := p.store.AllLimits(ctx)
	if err != nil {
		return fmt.Errorf("load rate limits: %w", err)
	}
	m := map[string]*orgPolicy{}
	for _, l := range all {
		add(m, l)
	}
	p.mu.Lock()
	p.orgs.Store(&m)
	p.mu.Unlock()
	return nil
}

func (p *Policies) reload(ctx context.Context, orgID string) error {
	list, err := p.store.Limits(ctx, orgID)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := *p.orgs.Load()
	m := make(map[string]*orgPolicy, len(old)+1)
	for k, v := range old {
		if k != orgID {
			m[k] = v
		}
	}
	for _, l := range list {
		add(m, l)
	}
	p.orgs.Store(&m)
	return nil
}

func add(m map[string]*orgPolicy, l switchboard.RateLimit) {
	op := m[l.OrgID]
	if op == nil {
		op = &orgPolicy{byName: map[string]Rate{}}
		m[l.OrgID] = op
	}
	r := Rate{PerSecond: l.RunsPerSecond, Burst: l.Burst}
	if l.Name == "" {
		op.org = &r
		return
	}
	op.byName[l.Name] = r
}

// For returns the limits a run of name for org counts against: the org's
// own and the command's or action's, each nil when there is none.
func (p *Policies) For(orgID, name string) (org, named *Rate) {
	op := (*p.orgs.Load())[orgID]
	if op == nil {
		return nil, nil
	}
	if r, ok := op.byName[name]; ok {
		named = &r
	}
	return op.org, named
}
