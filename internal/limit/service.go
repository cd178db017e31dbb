package limit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// Service reads and writes the configured limits for the API: an org's
// own (the operator's) and its commands' and actions' (its admin's).
type Service struct {
	store switchboard.LimitStore
	orgs  switchboard.OrgStore
	reg   *registry.Registry
}

// NewService returns the service on store; reg resolves apps and applies
// each write at once on this instance (Sync).
func NewService(store switchboard.LimitStore, orgs switchboard.OrgStore, reg *registry.Registry) *Service {
	return &Service{store: store, orgs: orgs, reg: reg}
}

// OrgLimit returns an org's own limit (nil when it has none). Not found:
// no such org.
func (s *Service) OrgLimit(ctx context.Context, orgID string) (*switchboard.RateLimit, error) {
	if _, err := s.orgs.Org(ctx, orgID); err != nil {
		return nil, err
	}
	all, err := s.store.Limits(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.AppID == "" && l.Name == "" {
			return &l, nil
		}
	}
	return nil, nil
}

// OrgLimits returns every org's own limit by org id (orgs without one are
// absent), for the operator's list of orgs: one read, not one per org.
func (s *Service) OrgLimits(ctx context.Context) (map[string]switchboard.RateLimit, error) {
	all, err := s.store.AllLimits(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]switchboard.RateLimit{}
	for _, l := range all {
		if l.AppID == "" && l.Name == "" {
			out[l.OrgID] = l
		}
	}
	return out, nil
}

// PutOrgLimit sets an org's own limit, or removes it when rate is nil.
func (s *Service) PutOrgLimit(ctx context.Context, orgID string, rate *Rate) error {
	if _, err := s.orgs.Org(ctx, orgID); err != nil {
		return err
	}
	l := switchboard.RateLimit{OrgID: orgID}
	if rate != nil {
		l.RunsPerSecond, l.Burst = rate.PerSecond, rate.Burst
	}
	if err := s.store.PutLimits(ctx, orgID, []switchboard.RateLimit{l}); err != nil {
		return err
	}
	return s.reg.Sync(ctx)
}

// installed finds the app name means among the caller's org's installed
// apps: its private app first, then a public one.
func (s *Service) installed(ctx context.Context, p *switchboard.Principal, name string) (*registry.Installed, error) {
	state, err := s.reg.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	for _, id := range []string{appdef.Namespace(appdef.Bare(name, p.OrgID), p.OrgID), name} {
		if inst := state.App(id); inst != nil {
			return inst, nil
		}
	}
	return nil, switchboard.Errorf(switchboard.CodeNotFound,
		"app %q is not installed for your org; limits are set on installed apps (POST /v1/apps/%s/install)", name, name)
}

// AppLimits returns the limits of an installed app's commands and actions,
// by canonical name, and the app's stored id.
func (s *Service) AppLimits(ctx context.Context, p *switchboard.Principal, name string) (string, []switchboard.RateLimit, error) {
	inst, err := s.installed(ctx, p, name)
	if err != nil {
		return "", nil, err
	}
	all, err := s.store.Limits(ctx, p.OrgID)
	if err != nil {
		return "", nil, err
	}
	var out []switchboard.RateLimit
	for _, l := range all {
		if l.AppID == inst.AppID {
			out = append(out, l)
		}
	}
	return inst.AppID, out, nil
}

// PutAppLimits sets the limits of an installed app's commands and actions
// named in set (any spelling of SPEC 2; a nil rate removes the limit) and
// leaves the others. Every name that is not a command or action of the app
// is a problem at its pointer, and nothing is written.
func (s *Service) PutAppLimits(ctx context.Context, p *switchboard.Principal, name string, set map[string]*Rate) error {
	inst, err := s.installed(ctx, p, name)
	if err != nil {
		return err
	}
	var problems []switchboard.Problem
	var limits []switchboard.RateLimit
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		canonical, local, err := appdef.CanonicalName(k, inst.App.BareID, inst.App.ID)
		if err == nil && inst.App.Command(local) == nil && inst.App.Action(local) == nil {
			err = fmt.Errorf("app %s has no command or action %q (its commands and actions: %s)", inst.App.BareID, local, components(inst.App))
		}
		if err != nil {
			problems = append(problems, switchboard.Problem{Location: appdef.Pointer("", k), Message: err.Error()})
			continue
		}
		l := switchboard.RateLimit{OrgID: p.OrgID, AppID: inst.AppID, Name: canonical}
		if r := set[k]; r != nil {
			l.RunsPerSecond, l.Burst = r.PerSecond, r.Burst
		}
		limits = append(limits, l)
	}
	if len(problems) > 0 {
		return &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: "the limits name commands or actions the app does not have; each problem names one", Problems: problems}
	}
	if len(limits) == 0 {
		return nil
	}
	if err := s.store.PutLimits(ctx, p.OrgID, limits); err != nil {
		return err
	}
	return s.reg.Sync(ctx)
}

// components lists an app's command and action names, for a problem.
func components(a *appdef.App) string {
	var names []string
	for _, c := range a.Commands {
		names = append(names, c.Local)
	}
	for _, x := range a.Actions {
		names = append(names, x.Local)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
