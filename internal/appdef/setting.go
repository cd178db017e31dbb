package appdef

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Setting is a declared setting.
type Setting struct {
	Category, Name string
	Type           string // string, number, boolean or secret
	Default        any    // nil when there is none
	Required       bool
	Hidden         bool
	Description    string
	// Secret is set for type "secret" and for a setting that a command or
	// action references through appSettings.
	Secret bool
}

// SettingRef makes a setting available to templates under Var.
type SettingRef struct {
	Var      string
	Category string
	Name     string
}

// Key returns "<category>.<name>".
func (r SettingRef) Key() string { return r.Category + "." + r.Name }

var settingProps = []string{"type", "defaultValue", "required", "description", "hidden", "displayName"}

var settingNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidName reports whether s is a valid setting category, setting name or
// app account name: 1 to 128 of letters, digits, '_' and '-'.
func ValidName(s string) bool { return settingNamePattern.MatchString(s) }

func (c *compiler) settings(v any, ptr string) {
	cats, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "settings must be an object of categories, each an object of settings, not %s", typeName(v))
		return
	}
	for _, cm := range cats.Members {
		cptr := Pointer(ptr, cm.Key)
		if !settingNamePattern.MatchString(cm.Key) {
			c.fail(cptr, "a setting category must be 1 to 128 of letters, digits, '_' and '-'; got %q", cm.Key)
			continue
		}
		if cm.Key == "missing" {
			c.warn(cptr, `the settings category "missing" is shadowed in GET /v1/apps/{app}/settings by the list of required settings that have no value; rename the category to read its values there`)
		}
		names, ok := cm.Value.(*jsonv.Object)
		if !ok {
			c.fail(cptr, "settings.%s must be an object of settings, not %s", cm.Key, typeName(cm.Value))
			continue
		}
		for _, nm := range names.Members {
			nptr := Pointer(cptr, nm.Key)
			if !settingNamePattern.MatchString(nm.Key) {
				c.fail(nptr, "a setting name must be 1 to 128 of letters, digits, '_' and '-'; got %q", nm.Key)
				continue
			}
			decl, ok := nm.Value.(*jsonv.Object)
			if !ok {
				c.fail(nptr, "a setting must be an object with a type, not %s", typeName(nm.Value))
				continue
			}
			c.unknown(decl, nptr, settingProps, "a setting")
			s := &Setting{Category: cm.Key, Name: nm.Key}
			if t, ok := c.str(decl, "type", nptr, true); ok {
				switch t {
				case "string", "number", "boolean", "secret":
					s.Type = t
					s.Secret = t == "secret"
				default:
					c.fail(Pointer(nptr, "type"), "type must be string, number, boolean or secret; got %q", t)
				}
			}
			if d, ok := decl.Get("defaultValue"); ok && s.Type != "" && d != nil {
				if msg := CheckSettingValue(s, d); msg != "" {
					c.fail(Pointer(nptr, "defaultValue"), "defaultValue %s", msg)
				} else {
					s.Default = d
				}
			}
			s.Required = c.boolean(decl, "required", nptr)
			s.Hidden = c.boolean(decl, "hidden", nptr)
			s.Description, _ = c.str(decl, "description", nptr, false)
			c.app.Settings[s.Category+"."+s.Name] = s
		}
	}
}

// CheckSettingValue returns why v does not fit the setting's type, or "".
func CheckSettingValue(s *Setting, v any) string {
	switch s.Type {
	case "number":
		if _, ok := v.(json.Number); !ok {
			return "must be a number, not " + typeName(v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "must be a boolean, not " + typeName(v)
		}
	case "string", "secret":
		if _, ok := v.(string); !ok {
			return "must be a string, not " + typeName(v)
		}
	}
	return ""
}

func (c *compiler) appSettings(obj *jsonv.Object, ptr string) []SettingRef {
	v, ok := obj.Get("appSettings")
	if !ok {
		return nil
	}
	ptr = Pointer(ptr, "appSettings")
	m, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "appSettings must be an object such as {\"authToken\": {\"key\": \"%s.default.authToken\"}}, not %s", c.app.BareID, typeName(v))
		return nil
	}
	var refs []SettingRef
	for _, mm := range m.Members {
		ref, ok := c.settingRef(mm.Value, Pointer(ptr, mm.Key))
		if ok {
			ref.Var = mm.Key
			refs = append(refs, ref)
		}
	}
	return refs
}

// settingRef reads {"key": "<app>.<category>.<name>"} and namespaces the key
// in place. The app must be this app: a definition never reads another
// app's settings.
func (c *compiler) settingRef(v any, ptr string) (SettingRef, bool) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "must be an object with a key, such as {\"key\": \"%s.default.authToken\"}, not %s", c.app.BareID, typeName(v))
		return SettingRef{}, false
	}
	key, ok := c.str(obj, "key", ptr, true)
	if !ok {
		return SettingRef{}, false
	}
	parts := strings.Split(key, ".")
	if len(parts) != 3 || parts[0] == "" || !settingNamePattern.MatchString(parts[1]) || !settingNamePattern.MatchString(parts[2]) {
		c.fail(Pointer(ptr, "key"), "key must have the form <app>.<category>.<name>, such as %s.default.authToken; got %q", c.app.BareID, key)
		return SettingRef{}, false
	}
	if parts[0] != c.app.BareID && parts[0] != c.app.ID {
		c.fail(Pointer(ptr, "key"), "key %q names the settings of app %q; an app may only use its own settings (%s.<category>.<name>)", key, parts[0], c.app.BareID)
		return SettingRef{}, false
	}
	obj.Set("key", c.app.ID+"."+parts[1]+"."+parts[2])
	return SettingRef{Category: parts[1], Name: parts[2]}, true
}
