package registry

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// OrgState is what the run path needs of one org, held in memory and
// replaced as a whole when anything in it changes.
type OrgState struct {
	OrgID string
	apps  map[string]*Installed // by app id
	list  []*Installed

	// The runner remembers how names resolved, so that a run parses no
	// name twice. Only names that resolved are kept, so callers cannot
	// grow these without bound.
	commands, actions sync.Map // name -> Resolution
	remembered        atomic.Int64
}

// maxRemembered bounds the resolutions an org's state keeps.
const maxRemembered = 10000

// Resolution is what a command or action name resolved to: the installed
// app and one of its commands or actions (the other is nil).
type Resolution struct {
	Inst    *Installed
	Command *appdef.Command
	Action  *appdef.Action
}

// Resolved returns what name resolved to before.
func (s *OrgState) Resolved(name string, action bool) (Resolution, bool) {
	m := &s.commands
	if action {
		m = &s.actions
	}
	v, ok := m.Load(name)
	if !ok {
		return Resolution{}, false
	}
	return v.(Resolution), true // only Remember stores, and only Resolutions
}

// Remember records what name resolves to, for as long as this state lives.
func (s *OrgState) Remember(name string, action bool, v Resolution) {
	if s.remembered.Add(1) > maxRemembered {
		return
	}
	if action {
		s.actions.Store(name, v)
	} else {
		s.commands.Store(name, v)
	}
}

// Apps lists the installed apps.
func (s *OrgState) Apps() []*Installed { return s.list }

// Installed is an installed app with its org's settings.
type Installed struct {
	switchboard.Install
	App *appdef.App
	// Values holds every setting value by "<category>.<name>": stored values
	// over declared defaults; secrets decrypted, as tmpl.Opaque.
	Values map[string]any
	// Secrets are the decrypted, non-empty secret values, longest first,
	// for redaction.
	Secrets []string
	// Unreadable holds the stored secrets that this instance's key cannot
	// open, by "<category>.<name>", with the likely reason. They have no
	// value here (not even a default): a run that uses one is refused as
	// unavailable, and nothing else of the org is affected.
	Unreadable map[string]string
	// bindings are the template variables of each command and action.
	bindings map[string]map[string]any
	// missing lists, by command and action, its appSettings that have
	// neither a value nor a default (absent when there are none).
	missing map[string][]appdef.SettingRef
}

// App returns an installed app by its stored id.
func (s *OrgState) App(id string) *Installed { return s.apps[id] }

// Bindings returns the template variables that a component's appSettings
// make available ({"authToken": "<secret>"}), computed once per state.
func (in *Installed) Bindings(component string) map[string]any { return in.bindings[component] }

// Missing returns the appSettings of a command or action (by canonical
// name) that have no value here: neither a value nor a default, refused
// with setting_missing (SPEC 4.9) when a run's templates use one, or a
// secret listed in Unreadable, refused as unavailable.
func (in *Installed) Missing(component string) []appdef.SettingRef { return in.missing[component] }

// Org returns the in-memory state of an org, loading it on first use.
func (r *Registry) Org(ctx context.Context, orgID string) (*OrgState, error) {
	if s, ok := r.orgs.Load(orgID); ok {
		return s.(*OrgState), nil
	}
	v, err, _ := r.loadSF.Do(orgID, func() (any, error) {
		epoch := r.epoch.Load()
		s, err := r.loadOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		r.orgs.Store(orgID, s)
		// A change applied while loading may have been read before it
		// committed: keep the state for this caller, reload for the next.
		if r.epoch.Load() != epoch {
			r.orgs.Delete(orgID)
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*OrgState), nil
}

// dropOrg forgets an org's state, to be loaded again on next use. Its
// compiled definitions are marked as recently used, so that the next load
// finds them in memory rather than compiling them again.
func (r *Registry) dropOrg(orgID string) {
	s, ok := r.orgs.LoadAndDelete(orgID)
	if !ok {
		return
	}
	for _, in := range s.(*OrgState).list {
		r.apps.hold(in.App)
	}
}

func (r *Registry) loadOrg(ctx context.Context, orgID string) (*OrgState, error) {
	installs, err := r.store.Installs(ctx, orgID)
	if err != nil {
		return nil, err
	}
	s := &OrgState{OrgID: orgID, apps: make(map[string]*Installed, len(installs))}
	var unreadable []unreadableSecret
	for _, in := range installs {
		v, err := r.store.AppVersion(ctx, in.AppID, in.Version)
		if err != nil {
			return nil, fmt.Errorf("load installed app %s@%s: %w", in.AppID, in.Version, err)
		}
		app, err := r.compiled(v)
		if err != nil {
			return nil, err
		}
		values, err := r.store.Settings(ctx, orgID, in.AppID)
		if err != nil {
			return nil, err
		}
		inst := &Installed{Install: in, App: app, Values: map[string]any{}, bindings: map[string]map[string]any{}}
		for key, decl := range app.Settings {
			if decl.Default != nil {
				inst.Values[key] = decl.Default
			}
		}
		for _, sv := range values {
			key := sv.Category + "." + sv.Name
			if sv.Secret {
				pt, err := r.box.Open(sv.Ciphertext, switchboard.SettingAAD(orgID, in.AppID, key))
				if err != nil {
					// Only the runs that use it fail; a default must
					// not stand in for the value an admin stored.
					delete(inst.Values, key)
					why := r.whyUnreadable(sv.Ciphertext)
					if inst.Unreadable == nil {
						inst.Unreadable = map[string]string{}
					}
					inst.Unreadable[key] = why
					unreadable = append(unreadable, unreadableSecret{app: in.AppID, setting: key, why: why})
					continue
				}
				inst.Values[key] = tmpl.Opaque(pt) // printable whole, never taken apart

				if len(pt) > 0 {
					inst.Secrets = append(inst.Secrets, string(pt))
				}
				continue
			}
			val, err := jsonv.Decode(sv.Value)
			if err != nil {
				return nil, switchboard.Internal(fmt.Errorf("setting %s of %s: %w", key, in.AppID, err))
			}
			inst.Values[key] = val
		}
		// Longest first, so that redacting a secret that contains another
		// replaces it whole.
		sort.SliceStable(inst.Secrets, func(i, j int) bool { return len(inst.Secrets[i]) > len(inst.Secrets[j]) })
		for _, c := range app.Commands {
			inst.bind(c.Name, c.AppSettings)
		}
		for _, a := range app.Actions {
			inst.bind(a.Name, a.AppSettings)
		}
		s.apps[in.AppID] = inst
		s.list = append(s.list, inst)
	}
	r.noteUnreadable(orgID, unreadable)
	return s, nil
}

// bind makes a component's template variables from its appSettings; one
// with no value and no default renders empty and is noted as missing.
func (in *Installed) bind(component string, refs []appdef.SettingRef) {
	m := make(map[string]any, len(refs))
	for _, ref := range refs {
		if v, ok := in.Values[ref.Key()]; ok {
			m[ref.Var] = v
			continue
		}
		m[ref.Var] = ""
		if in.missing == nil {
			in.missing = map[string][]appdef.SettingRef{}
		}
		in.missing[component] = append(in.missing[component], ref)
	}
	in.bindings[component] = m
}
