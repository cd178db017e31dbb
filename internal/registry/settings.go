package registry

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// PutSettings sets setting values of an app for the caller's org from
// {"<category>": {"<name>": value}}. Values are checked against the declared
// types; undeclared names take strings; null removes a value. Secrets are
// encrypted before they reach the store.
func (r *Registry) PutSettings(ctx context.Context, p *switchboard.Principal, name string, body any) error {
	app, err := r.definitionFor(ctx, p, name)
	if err != nil {
		return err
	}
	cats, ok := body.(*jsonv.Object)
	if !ok {
		return &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: `settings are an object of categories, each an object of values: {"default": {"authToken": "..."}}`}
	}
	stored, err := r.store.Settings(ctx, p.OrgID, app.ID)
	if err != nil {
		return err
	}
	wasSecret := map[string]bool{}
	for _, sv := range stored {
		if sv.Secret {
			wasSecret[sv.Category+"."+sv.Name] = true
		}
	}
	var problems []switchboard.Problem
	var values []switchboard.SettingValue
	now := r.now().UTC()
	for _, cm := range cats.Members {
		cptr := appdef.Pointer("", cm.Key)
		names, ok := cm.Value.(*jsonv.Object)
		if !ok {
			problems = append(problems, switchboard.Problem{Location: cptr, Message: "must be an object of setting names and values"})
			continue
		}
		for _, nm := range names.Members {
			ptr := appdef.Pointer(cptr, nm.Key)
			if strings.Contains(cm.Key, ".") || strings.Contains(nm.Key, ".") || cm.Key == "" || nm.Key == "" {
				problems = append(problems, switchboard.Problem{Location: ptr, Message: "category and setting names are non-empty and contain no '.'"})
				continue
			}
			key := cm.Key + "." + nm.Key
			decl := app.Settings[key]
			sv := switchboard.SettingValue{Category: cm.Key, Name: nm.Key, UpdatedAt: now}
			if nm.Value == nil {
				sv.Delete = true
				values = append(values, sv)
				continue
			}
			if decl != nil {
				if msg := appdef.CheckSettingValue(decl, nm.Value); msg != "" {
					problems = append(problems, switchboard.Problem{Location: ptr, Message: fmt.Sprintf("%s is declared as %s and %s", key, decl.Type, msg)})
					continue
				}
			} else if _, isStr := nm.Value.(string); !isStr {
				problems = append(problems, switchboard.Problem{Location: ptr,
					Message: fmt.Sprintf("%s is not declared in the app's settings, so its value must be a string", key)})
				continue
			}
			if (decl != nil && decl.Secret) || wasSecret[key] {
				sv.Secret = true
				sv.Ciphertext = r.box.Seal([]byte(nm.Value.(string)), switchboard.SettingAAD(p.OrgID, app.ID, key))
			} else {
				sv.Value, _ = jsonv.Marshal(nm.Value)
			}
			values = append(values, sv)
		}
	}
	if len(problems) > 0 {
		return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the settings were not saved: fix each problem listed", Problems: problems}
	}
	if err := r.store.PutSettings(ctx, p.OrgID, app.ID, values); err != nil {
		return err
	}
	return r.Sync(ctx)
}

// SecretStatus stands in for a secret's value in every answer.
type SecretStatus struct {
	Secret bool `json:"secret"`
	Set    bool `json:"set"`
}

// Settings returns every setting of an app for the caller's org as
// {"<category>": {"<name>": value}}: declared settings with their defaults,
// stored values over them, and each secret replaced by its SecretStatus.
// When required settings have no value and no default, "missing" lists them
// as "<category>.<name>" (a category named "missing" is shadowed by the
// list; registration warns of it).
func (r *Registry) Settings(ctx context.Context, p *switchboard.Principal, name string) (*jsonv.Object, error) {
	app, err := r.definitionFor(ctx, p, name)
	if err != nil {
		return nil, err
	}
	stored, err := r.store.Settings(ctx, p.OrgID, app.ID)
	if err != nil {
		return nil, err
	}
	type entry struct {
		cat, name string
		value     any
	}
	entries := map[string]*entry{}
	for key, decl := range app.Settings {
		e := &entry{cat: decl.Category, name: decl.Name, value: decl.Default}
		if decl.Secret {
			e.value = SecretStatus{Secret: true}
		}
		entries[key] = e
	}
	for _, sv := range stored {
		key := sv.Category + "." + sv.Name
		e := &entry{cat: sv.Category, name: sv.Name}
		decl := app.Settings[key]
		switch {
		case sv.Secret || (decl != nil && decl.Secret):
			e.value = SecretStatus{Secret: true, Set: true}
		default:
			v, err := jsonv.Decode(sv.Value)
			if err != nil {
				return nil, switchboard.Internal(fmt.Errorf("setting %s: %w", key, err))
			}
			e.value = v
		}
		entries[key] = e
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := jsonv.NewObject(4)
	for _, k := range keys {
		e := entries[k]
		cat, ok := out.Get(e.cat)
		if !ok {
			cat = jsonv.NewObject(4)
			out.Set(e.cat, cat)
		}
		var v any = e.value
		if s, ok := v.(SecretStatus); ok {
			o := jsonv.NewObject(2)
			o.Set("secret", true)
			o.Set("set", s.Set)
			v = o
		}
		cat.(*jsonv.Object).Set(e.name, v)
	}
	// Required settings with no value and no default, which runs that use
	// them refuse (SPEC 4.9), listed where a console or script looks.
	var missing []any
	for _, k := range keys {
		if decl := app.Settings[k]; decl != nil && decl.Required && !isSet(entries[k].value) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		out.Set("missing", missing)
	}
	return out, nil
}

// isSet reports whether a setting's entry holds a value.
func isSet(v any) bool {
	if s, ok := v.(SecretStatus); ok {
		return s.Set
	}
	return v != nil
}
