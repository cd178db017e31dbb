package registry

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
)

// Registered is the outcome of a registration.
type Registered struct {
	Version  switchboard.AppVersion
	Created  bool // false when an identical definition was registered before
	Warnings []switchboard.Problem
}

// Register registers a version of an app definition: a private app of the
// caller's org, or with public set (operator only) a public app.
func (r *Registry) Register(ctx context.Context, p *switchboard.Principal, data []byte, public bool) (*Registered, error) {
	opts := appdef.Options{OrgID: p.OrgID}
	if public {
		if p.Role != switchboard.RoleOperator {
			return nil, switchboard.Errorf(switchboard.CodeForbidden, "only the operator registers public apps")
		}
		opts.OrgID = ""
	} else if p.Role == switchboard.RoleOperator {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: "the operator registers public apps only: add ?visibility=public (private apps are registered with an org's admin key)"}
	}
	app, warnings, err := appdef.Parse(data, opts)
	if err != nil {
		return nil, err
	}
	existing, err := r.store.AppVersion(ctx, app.ID, app.Version)
	switch {
	case err == nil:
		if existing.OrgID != opts.OrgID {
			return nil, errTaken(app)
		}
		if existing.Hash == app.Hash {
			return &Registered{Version: existing, Warnings: warnings}, nil
		}
		return nil, &switchboard.Error{Code: switchboard.CodeConflict,
			Detail:   fmt.Sprintf("version %s of %s is already registered with a different definition: increment the version", app.Version, app.ID),
			Problems: []switchboard.Problem{{Message: "this version is already registered: increment the version", Location: "/version"}}}
	case !switchboard.IsNotFound(err):
		return nil, err
	}
	latest, err := r.store.LatestAppVersion(ctx, app.ID)
	switch {
	case err == nil:
		if latest.OrgID != opts.OrgID {
			return nil, errTaken(app)
		}
		if appdef.CompareVersions(app.Version, latest.Version) <= 0 {
			return nil, &switchboard.Error{Code: switchboard.CodeInvalidDefinition,
				Detail: fmt.Sprintf("version %s is not greater than %s, the latest registered version of %s", app.Version, latest.Version, app.ID),
				Problems: []switchboard.Problem{{Location: "/version",
					Message: fmt.Sprintf("must be greater than the latest registered version, %s", latest.Version)}}}
		}
	case !switchboard.IsNotFound(err):
		return nil, err
	}
	v := switchboard.AppVersion{AppID: app.ID, OrgID: opts.OrgID, Version: app.Version, Visibility: app.Visibility,
		Title: app.Title, Definition: app.JSON, Hash: app.Hash, CreatedAt: r.now().UTC()}
	if err := r.store.CreateAppVersion(ctx, v, !public); err != nil {
		if switchboard.ErrorCode(err) == switchboard.CodeConflict {
			return nil, &switchboard.Error{Code: switchboard.CodeConflict,
				Detail: fmt.Sprintf("another version of %s was registered at the same time; fetch the latest version and try again", app.ID), Err: err}
		}
		return nil, err
	}
	r.apps.put(app)
	return &Registered{Version: v, Created: true, Warnings: warnings}, r.Sync(ctx)
}

func errTaken(app *appdef.App) error {
	return switchboard.Errorf(switchboard.CodeConflict, "the app id %q is already used by another app; choose another id", app.ID)
}

// visible finds the app a caller means by name: the caller's own private app
// first (name may be bare or namespaced), then a public app. Another org's
// private app is not found, exactly as a name that does not exist.
func (r *Registry) visible(ctx context.Context, p *switchboard.Principal, name string) (switchboard.AppVersion, error) {
	var candidates []string
	if p.OrgID != "" {
		candidates = append(candidates, appdef.Namespace(appdef.Bare(name, p.OrgID), p.OrgID))
	}
	candidates = append(candidates, name)
	for _, id := range candidates {
		v, err := r.store.LatestAppVersion(ctx, id)
		if err != nil {
			if switchboard.IsNotFound(err) {
				continue
			}
			return v, err
		}
		if v.Visibility == switchboard.Public || (p.OrgID != "" && v.OrgID == p.OrgID) {
			return v, nil
		}
	}
	return switchboard.AppVersion{}, switchboard.Errorf(switchboard.CodeNotFound, "app %q not found; GET /v1/apps/available lists the apps you can see", name)
}

// Apps lists the latest version of each app the caller can see.
func (r *Registry) Apps(ctx context.Context, p *switchboard.Principal) ([]switchboard.AppSummary, error) {
	return r.store.Apps(ctx, p.OrgID)
}

// App returns the latest version of an app and the list of its versions.
func (r *Registry) App(ctx context.Context, p *switchboard.Principal, name string) (switchboard.AppVersion, []switchboard.AppVersion, error) {
	v, err := r.visible(ctx, p, name)
	if err != nil {
		return v, nil, err
	}
	versions, err := r.store.AppVersions(ctx, v.AppID)
	return v, versions, err
}

// AppVersion returns one version of an app the caller can see.
func (r *Registry) AppVersion(ctx context.Context, p *switchboard.Principal, name, version string) (switchboard.AppVersion, error) {
	latest, err := r.visible(ctx, p, name)
	if err != nil {
		return latest, err
	}
	v, err := r.store.AppVersion(ctx, latest.AppID, version)
	if switchboard.IsNotFound(err) {
		return v, switchboard.Errorf(switchboard.CodeNotFound, "app %q has no version %q; GET /v1/apps/available/%s lists its versions", latest.AppID, version, latest.AppID)
	}
	return v, err
}

// Install installs an app for the caller's org: version "" means the latest.
func (r *Registry) Install(ctx context.Context, p *switchboard.Principal, name, version string) (switchboard.Install, error) {
	v, err := r.visible(ctx, p, name)
	if err != nil {
		return switchboard.Install{}, err
	}
	if version != "" && version != v.Version {
		if v, err = r.store.AppVersion(ctx, v.AppID, version); err != nil {
			if switchboard.IsNotFound(err) {
				return switchboard.Install{}, &switchboard.Error{Code: switchboard.CodeNotFound,
					Detail:   fmt.Sprintf("app %q has no version %q", name, version),
					Problems: []switchboard.Problem{{Message: "no such version", Location: "/version"}}}
			}
			return switchboard.Install{}, err
		}
	}
	in := switchboard.Install{OrgID: p.OrgID, AppID: v.AppID, Version: v.Version, InstalledAt: r.now().UTC()}
	if err := r.store.PutInstall(ctx, in); err != nil {
		return in, err
	}
	return in, r.Sync(ctx)
}

// Uninstall removes an app from the caller's org.
func (r *Registry) Uninstall(ctx context.Context, p *switchboard.Principal, name string) error {
	v, err := r.visible(ctx, p, name)
	if err != nil {
		return err
	}
	if err := r.store.DeleteInstall(ctx, p.OrgID, v.AppID); err != nil {
		if switchboard.IsNotFound(err) {
			return switchboard.Errorf(switchboard.CodeNotFound, "app %q is not installed; GET /v1/apps/installed lists your org's installed apps", name)
		}
		return err
	}
	return r.Sync(ctx)
}

// InstalledApp is an install with the title of its version.
type InstalledApp struct {
	switchboard.Install
	Title      string
	Visibility switchboard.Visibility
}

// Installed lists the caller's org's installed apps.
func (r *Registry) Installed(ctx context.Context, p *switchboard.Principal) ([]InstalledApp, error) {
	state, err := r.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	out := make([]InstalledApp, 0, len(state.list))
	for _, in := range state.list {
		out = append(out, InstalledApp{Install: in.Install, Title: in.App.Title, Visibility: in.App.Visibility})
	}
	return out, nil
}

// definitionFor returns the definition that governs an app's settings for
// the caller: the installed version, else the latest.
func (r *Registry) definitionFor(ctx context.Context, p *switchboard.Principal, name string) (*appdef.App, error) {
	v, err := r.visible(ctx, p, name)
	if err != nil {
		return nil, err
	}
	state, err := r.Org(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	if in := state.apps[v.AppID]; in != nil {
		return in.App, nil
	}
	return r.compiled(v)
}
