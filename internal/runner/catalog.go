package runner

import (
	"context"

	"github.com/switchboardhq/switchboard"
)

// Commands lists the commands of every app installed for p's org.
func (r *Runner) Commands(ctx context.Context, p *switchboard.Principal) ([]Resolved, error) {
	state, err := r.reg.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	var out []Resolved
	for _, inst := range state.Apps() {
		for _, c := range inst.App.Commands {
			out = append(out, Resolved{Inst: inst, Command: c})
		}
	}
	return out, nil
}

// Command finds one command by any spelling of its name; a session finds
// only the commands of its scope.
func (r *Runner) Command(ctx context.Context, p *switchboard.Principal, name string) (Resolved, error) {
	res, err := r.resolve(ctx, p, name, false)
	if err != nil {
		return Resolved{}, err
	}
	return res, inScope(p, res, name)
}

// Actions lists the actions of every app installed for p's org.
func (r *Runner) Actions(ctx context.Context, p *switchboard.Principal) ([]Resolved, error) {
	state, err := r.reg.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	var out []Resolved
	for _, inst := range state.Apps() {
		for _, a := range inst.App.Actions {
			out = append(out, Resolved{Inst: inst, Action: a})
		}
	}
	return out, nil
}

// Action finds one action by any spelling of its name.
func (r *Runner) Action(ctx context.Context, p *switchboard.Principal, name string) (Resolved, error) {
	return r.resolve(ctx, p, name, true)
}

// CanonicalName returns the canonical name of an installed command or
// action spelled any way, or name itself when it resolves to neither (the
// audit log may hold runs of apps since uninstalled).
func (r *Runner) CanonicalName(ctx context.Context, p *switchboard.Principal, name string) string {
	if res, err := r.resolve(ctx, p, name, false); err == nil {
		return res.Command.Name
	}
	if res, err := r.resolve(ctx, p, name, true); err == nil {
		return res.Action.Name
	}
	return name
}
