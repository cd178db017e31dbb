package runner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// A run whose templates use an app setting with neither a value nor a
// default is refused before anything is sent (SPEC 4.9): an empty token in
// an Authorization header reaches the upstream as a confusing 401, while
// setting_missing says what to set. The check costs nothing when every
// setting of the command or action has a value (Installed.Missing is nil).

// commandMissing refuses a command run whose header or body templates use
// one of the command's missing settings. acct holds the names an app
// account supplies, which come first in the templates' scope.
func (r *Runner) commandMissing(cmd *appdef.Command, inst *registry.Installed, req *CommandRequest, acct map[string]any) error {
	missing := inst.Missing(cmd.Name)
	if len(missing) == 0 {
		return nil
	}
	used := map[string]bool{}
	for _, h := range req.Headers {
		r.usedNames(h.Value, used)
	}
	if req.HasBody {
		r.usedInValue(req.Body, used)
	}
	return refuseMissing("command", cmd.Name, inst, missing, used, acct)
}

// actionMissing refuses an action run whose inputTemplate uses one of its
// missing settings.
func actionMissing(a *appdef.Action, inst *registry.Installed, acct map[string]any) error {
	missing := inst.Missing(a.Name)
	if len(missing) == 0 || a.Input == nil {
		return nil
	}
	used := map[string]bool{}
	for _, n := range a.Input.Names() {
		used[n] = true
	}
	return refuseMissing("action", a.Name, inst, missing, used, acct)
}

func (r *Runner) usedNames(src string, used map[string]bool) {
	if !strings.Contains(src, "{{") {
		return
	}
	if t, err := r.tmpls.Get(src); err == nil { // a bad template is reported when rendered
		for _, n := range t.Names() {
			used[n] = true
		}
	}
}

func (r *Runner) usedInValue(v any, used map[string]bool) {
	switch x := v.(type) {
	case string:
		r.usedNames(x, used)
	case []any:
		for _, e := range x {
			r.usedInValue(e, used)
		}
	case *jsonv.Object:
		for _, m := range x.Members {
			r.usedInValue(m.Value, used)
		}
	}
}

func refuseMissing(kind, name string, inst *registry.Installed, missing []appdef.SettingRef, used map[string]bool, acct map[string]any) error {
	var refs []appdef.SettingRef
	for _, ref := range missing {
		if _, fromAccount := acct[ref.Var]; used[ref.Var] && !fromAccount {
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return nil
	}
	if err := refuseUnreadable(kind, name, inst, refs); err != nil {
		return err
	}
	app := inst.App.BareID
	var keys, problems []string
	for _, ref := range refs {
		keys = append(keys, ref.Key())
		problems = append(problems, fmt.Sprintf("{{%s}} is the setting %s, which has no value and no default", ref.Var, ref.Key()))
	}
	slices.Sort(keys)
	ref := refs[0]
	e := &switchboard.Error{Code: switchboard.CodeSettingMissing,
		Detail: fmt.Sprintf("the %s %s uses the setting%s %s of the app %s, which %s no value and no default; nothing was sent. Set it with PUT /v1/apps/%s/settings {%q: {%q: ...}} or: switchboard settings set %s %s=VALUE",
			kind, name, plural(len(keys)), strings.Join(keys, ", "), app, hasHave(len(keys)), app, ref.Category, ref.Name, app, ref.Key()),
		Extra: map[string]any{"settings": keys}}
	for _, p := range problems {
		e.Problems = append(e.Problems, switchboard.Problem{Message: p})
	}
	return e
}

// refuseUnreadable refuses a run that uses a stored secret this instance's
// key cannot open (registry.Installed.Unreadable): the value exists, so the
// run is unavailable here rather than missing a setting.
func refuseUnreadable(kind, name string, inst *registry.Installed, refs []appdef.SettingRef) error {
	var keys, reasons []string
	for _, ref := range refs {
		if why, ok := inst.Unreadable[ref.Key()]; ok && !slices.Contains(keys, ref.Key()) {
			keys = append(keys, ref.Key())
			reasons = append(reasons, fmt.Sprintf("the secret %s of app %s cannot be opened with this instance's secret key (%s)", ref.Key(), inst.App.BareID, why))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	e := &switchboard.Error{Code: switchboard.CodeUnavailable,
		Detail: fmt.Sprintf("%s; the %s %s uses %s, so nothing was sent. Set %s again with PUT /v1/apps/%s/settings, or start the instance with the key %s sealed with",
			strings.Join(reasons, "; "), kind, name, itThem(len(keys)), itThem(len(keys)), inst.App.BareID, itWasThey(len(keys))),
		Extra: map[string]any{"settings": keys}}
	return e
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

func itWasThey(n int) string {
	if n == 1 {
		return "it was"
	}
	return "they were"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func hasHave(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}
