// Package appdef parses and validates app definitions: every problem at once,
// each located by a JSON pointer; namespacing of private apps and canonical
// component names; and compilation of templates and schemas, so that a run
// never parses anything of its definition.
package appdef

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"golang.org/x/mod/semver"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/schema"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// App is a compiled app definition.
type App struct {
	ID         string // the stored id: namespaced for private apps
	BareID     string
	OrgID      string // "" for public apps
	Visibility switchboard.Visibility
	Version    string
	Title      string
	// Definition is the canonical definition: names and setting keys
	// namespaced, member order as submitted.
	Definition *jsonv.Object
	// JSON is Definition encoded; Hash identifies its content whatever the
	// member order.
	JSON []byte
	Hash string

	Settings map[string]*Setting // by "<category>.<name>"
	Commands []*Command
	Actions  []*Action
	Auth     *Auth

	commands map[string]*Command // by local name
	actions  map[string]*Action
}

// Command finds a command by its local name.
func (a *App) Command(local string) *Command { return a.commands[local] }

// Action finds an action by its local name.
func (a *App) Action(local string) *Action { return a.actions[local] }

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

// Command is a compiled command.
type Command struct {
	Name  string // canonical
	Local string
	// Args are the permitted args (permittedArgs and permittedUrlArgs).
	Args           []string
	URL            *tmpl.Template
	Origin         Origin
	Method         string // upper case
	AuditLogging   bool
	CacheSeconds   int
	AppSettings    []SettingRef
	AppAccountName string
	InputSchema    *schema.Schema
	OutputSchema   *schema.Schema
	// Definition is the command's canonical definition.
	Definition *jsonv.Object
	argSet     map[string]bool
}

// Permits reports whether name is a permitted arg.
func (c *Command) Permits(name string) bool { return c.argSet[name] }

// Action is a compiled rest_api workflow action.
type Action struct {
	Name           string // canonical
	Local          string
	Description    string
	AppSettings    []SettingRef
	AppAccountName string
	// Input is the whole inputTemplate; URI is its uri, compiled apart so
	// that its origin is known.
	Input        *tmpl.JSONTemplate
	URI          *tmpl.Template
	Origin       Origin
	Output       *tmpl.JSONTemplate // nil without an outputTemplate
	InputSchema  *schema.Schema
	OutputSchema *schema.Schema
	SampleOutput any
	Definition   *jsonv.Object
}

// Auth is a declared OAuth 2.0 client.
type Auth struct {
	Type                 string
	GrantType            string
	AuthorizationURL     string
	TokenURL             string
	RevocationURL        string
	Scopes               []string
	ClientID             SettingRef
	ClientSecret         SettingRef
	ExtraAuthorizeParams map[string]string
}

// Options says who registers a definition.
type Options struct {
	// OrgID is the registering org for a private app, "" for a public one.
	OrgID string
}

// invalid returns the invalid_definition error of problems.
func invalid(p []switchboard.Problem) *switchboard.Error {
	detail := fmt.Sprintf("the definition has %d problems; each is listed with its location", len(p))
	if len(p) == 1 {
		detail = "the definition has a problem: " + p[0].Message
	}
	return &switchboard.Error{Code: switchboard.CodeInvalidDefinition, Detail: detail, Problems: p}
}

var knownTop = []string{"app", "version", "title", "settings", "commands", "actions", "auth"}

// keptTop are the seed platform's other top-level properties: stored, not
// interpreted, each with a warning.
var keptTop = []string{"dependencies", "iconUrl", "description", "appDetails", "tags", "screenshots", "changelog",
	"dataSubscriptions", "hooks", "i18n", "klasses", "kviews", "meta", "outboundWebhooks", "shortcuts",
	"settingsPageConfig", "triggers", "widgets", "workflows", "instructions", "installUrl", "postInstallMessage",
	"visibility", "identifier", "redirectUris", "roles"}

var commandProps = []string{"name", "displayName", "description", "permittedArgs", "permittedUrlArgs", "url", "httpMethod",
	"auditLogging", "cacheSeconds", "appSettings", "appAccountName", "inputSchema", "outputSchema"}

var actionProps = []string{"name", "displayName", "description", "type", "appSettings", "appAccountName", "inputTemplate",
	"outputTemplate", "sampleOutputContext", "inputSchema", "outputSchema"}

var inputTemplateProps = []string{"uri", "method", "headers", "qs", "data", "json"}

var settingProps = []string{"type", "defaultValue", "required", "description", "hidden", "displayName"}

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

// MaxDescription bounds an action's description, in UTF-16 code units as
// JavaScript counts a string's length.
const MaxDescription = 4096

// Parse decodes, validates and compiles a definition. It returns the app and
// its warnings, or an invalid_definition *switchboard.Error listing every
// problem. Every
// problem carries the line and column of its location in data.
func Parse(data []byte, opts Options) (*App, []switchboard.Problem, error) {
	v, err := jsonv.Decode(data)
	if err != nil {
		var se *jsonv.SyntaxError
		if errors.As(err, &se) {
			return nil, nil, invalid([]switchboard.Problem{{Message: "the definition is not valid JSON: " + se.Msg, Location: "", Line: se.Line, Column: se.Column}})
		}
		return nil, nil, invalid([]switchboard.Problem{{Message: "the definition is not valid JSON: " + err.Error()}})
	}
	app, warnings, err := Compile(v, opts)
	var probs []switchboard.Problem
	if se, ok := err.(*switchboard.Error); ok {
		probs = se.Problems
	}
	if len(probs) > 0 || len(warnings) > 0 {
		pos := jsonv.Locate(data)
		place := func(ps []switchboard.Problem) {
			for i := range ps {
				if at, ok := pos[ps[i].Location]; ok && ps[i].Line == 0 {
					ps[i].Line, ps[i].Column = at[0], at[1]
				}
			}
		}
		place(probs)
		place(warnings)
	}
	return app, warnings, err
}

// Compile validates and compiles a decoded definition; see Parse. It does not
// modify v.
func Compile(v any, opts Options) (*App, []switchboard.Problem, error) {
	root, ok := v.(*jsonv.Object)
	if !ok {
		return nil, nil, invalid([]switchboard.Problem{{Message: "the definition must be a JSON object", Location: ""}})
	}
	c := &compiler{opts: opts, app: &App{OrgID: opts.OrgID, Visibility: switchboard.Private,
		Settings: map[string]*Setting{}, commands: map[string]*Command{}, actions: map[string]*Action{}}}
	if opts.OrgID == "" {
		c.app.Visibility = switchboard.Public
	}
	c.app.Definition = jsonv.Clone(root).(*jsonv.Object)
	c.top(c.app.Definition)
	if len(c.problems) > 0 {
		return nil, c.warnings, invalid(c.problems)
	}
	app := c.app
	var err error
	if app.JSON, err = jsonv.Marshal(app.Definition); err != nil {
		return nil, nil, invalid([]switchboard.Problem{{Message: "the definition cannot be encoded: " + err.Error()}})
	}
	app.Hash = Hash(app.Definition)
	return app, c.warnings, nil
}

type compiler struct {
	opts     Options
	app      *App
	problems []switchboard.Problem
	warnings []switchboard.Problem
}

func (c *compiler) fail(ptr, format string, args ...any) {
	c.problems = append(c.problems, switchboard.Problem{Message: fmt.Sprintf(format, args...), Location: ptr})
}

func (c *compiler) warn(ptr, format string, args ...any) {
	c.warnings = append(c.warnings, switchboard.Problem{Message: fmt.Sprintf(format, args...), Location: ptr})
}

// Pointer joins a JSON pointer and a member name or index (RFC 6901 escaped).
func Pointer(base string, tok any) string {
	switch t := tok.(type) {
	case int:
		return base + "/" + strconv.Itoa(t)
	case string:
		return base + "/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return base
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case []any:
		return "an array"
	case *jsonv.Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func (c *compiler) str(obj *jsonv.Object, key, ptr string, required bool) (string, bool) {
	v, ok := obj.Get(key)
	if !ok {
		if required {
			c.fail(Pointer(ptr, key), "%s is required", key)
		}
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.fail(Pointer(ptr, key), "%s must be a string, not %s", key, typeName(v))
		return "", false
	}
	if required && strings.TrimSpace(s) == "" {
		c.fail(Pointer(ptr, key), "%s must not be empty", key)
		return "", false
	}
	return s, true
}

func (c *compiler) unknown(obj *jsonv.Object, ptr string, known []string, what string) {
	for _, m := range obj.Members {
		if contains(known, m.Key) {
			continue
		}
		if near := nearest(m.Key, known); near != "" {
			c.fail(Pointer(ptr, m.Key), "%s is not a property of %s; did you mean %q?", m.Key, what, near)
		} else {
			c.warn(Pointer(ptr, m.Key), "%s is not a property this platform interprets for %s; it is stored as given", m.Key, what)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// ValidVersion reports whether v is a semantic version (2.0.0), pre-release
// and build metadata allowed.
func ValidVersion(v string) bool { return semverPattern.MatchString(v) }

// CompareVersions compares two valid versions in semantic-version order.
func CompareVersions(a, b string) int { return semver.Compare("v"+a, "v"+b) }

func (c *compiler) top(root *jsonv.Object) {
	app := c.app
	for _, m := range root.Members {
		switch {
		case contains(knownTop, m.Key):
		case contains(keptTop, m.Key):
			c.warn(Pointer("", m.Key), "%s is stored as given but not interpreted by this platform", m.Key)
		default:
			all := append(append([]string{}, knownTop...), keptTop...)
			if near := nearest(m.Key, all); near != "" {
				c.fail(Pointer("", m.Key), "%s is not a property of an app definition; did you mean %q?", m.Key, near)
			} else {
				c.fail(Pointer("", m.Key), "%s is not a property of an app definition (the definition's properties are %s)", m.Key, strings.Join(knownTop, ", "))
			}
		}
	}
	if id, ok := c.str(root, "app", "", true); ok {
		bare := Bare(id, c.opts.OrgID)
		if !ValidAppID(bare) {
			c.fail("/app", "app must be 1 to 64 of a-z, 0-9, '_' and '-', starting with a letter; got %q", id)
		} else {
			app.BareID = bare
			app.ID = Namespace(bare, c.opts.OrgID)
			root.Set("app", app.ID)
		}
	}
	if v, ok := c.str(root, "version", "", true); ok {
		if !ValidVersion(v) {
			c.fail("/version", "version must be a semantic version such as 1.0.0 or 1.2.0-beta.1; got %q", v)
		} else {
			app.Version = v
		}
	}
	if t, ok := c.str(root, "title", "", true); ok {
		app.Title = t
	}
	if app.ID == "" {
		return // names cannot be namespaced without the app id; the rest is checked once it is fixed
	}
	if v, ok := root.Get("auth"); ok {
		c.auth(v, "/auth")
	}
	if v, ok := root.Get("settings"); ok {
		c.settings(v, "/settings")
	}
	if v, ok := root.Get("commands"); ok {
		arr, ok := v.([]any)
		if !ok {
			c.fail("/commands", "commands must be an array, not %s", typeName(v))
		}
		for i, e := range arr {
			c.command(e, Pointer("/commands", i))
		}
	}
	if v, ok := root.Get("actions"); ok {
		arr, ok := v.([]any)
		if !ok {
			c.fail("/actions", "actions must be an array, not %s", typeName(v))
		}
		for i, e := range arr {
			c.action(e, Pointer("/actions", i))
		}
	}
	// A setting referenced through appSettings is a secret.
	mark := func(refs []SettingRef) {
		for _, r := range refs {
			s := app.Settings[r.Key()]
			if s == nil {
				s = &Setting{Category: r.Category, Name: r.Name, Type: "string"}
				app.Settings[r.Key()] = s
			}
			s.Secret = true
		}
	}
	for _, cmd := range app.Commands {
		mark(cmd.AppSettings)
	}
	for _, a := range app.Actions {
		mark(a.AppSettings)
	}
	if app.Auth != nil {
		mark([]SettingRef{app.Auth.ClientSecret})
	}
}

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

func (c *compiler) boolean(obj *jsonv.Object, key, ptr string) bool {
	v, ok := obj.Get(key)
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		c.fail(Pointer(ptr, key), "%s must be true or false, not %s", key, typeName(v))
	}
	return b
}

// name validates and canonicalizes obj.name in place.
func (c *compiler) name(obj *jsonv.Object, ptr string) (canonical, local string) {
	n, ok := c.str(obj, "name", ptr, true)
	if !ok {
		return "", ""
	}
	canonical, local, err := CanonicalName(n, c.app.BareID, c.app.ID)
	if err != nil {
		c.fail(Pointer(ptr, "name"), "%s", err.Error())
		return "", ""
	}
	obj.Set("name", canonical)
	return canonical, local
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

func (c *compiler) accountName(obj *jsonv.Object, ptr string) string {
	name, ok := c.str(obj, "appAccountName", ptr, false)
	if !ok {
		return ""
	}
	if c.app.Auth == nil {
		c.fail(Pointer(ptr, "appAccountName"), "appAccountName names an OAuth 2.0 app account, but the definition declares no auth client; add a top-level auth property")
		return ""
	}
	if !settingNamePattern.MatchString(name) {
		c.fail(Pointer(ptr, "appAccountName"), "appAccountName must be 1 to 128 of letters, digits, '_' and '-'; got %q", name)
		return ""
	}
	return name
}

func (c *compiler) schemaAt(obj *jsonv.Object, key, ptr string) *schema.Schema {
	v, ok := obj.Get(key)
	if !ok {
		return nil
	}
	s, problems := schema.Compile(v, Pointer(ptr, key))
	c.problems = append(c.problems, problems...)
	return s
}

func (c *compiler) template(src, ptr string) *tmpl.Template {
	t, err := tmpl.Parse(src)
	if err != nil {
		var te *tmpl.Error
		if errors.As(err, &te) {
			c.problems = append(c.problems, switchboard.Problem{Message: "template: " + te.Message, Location: ptr, Line: te.Line, Column: te.Column})
		} else {
			c.fail(ptr, "template: %s", err.Error())
		}
		return nil
	}
	return t
}

// checkURL verifies that a URL template yields an absolute http(s) URL when
// every value is empty, and reads its origin.
func (c *compiler) checkURL(t *tmpl.Template, ptr string) (Origin, bool) {
	rendered, err := t.Render(nil)
	if err != nil {
		c.fail(ptr, "the URL template cannot be rendered: %s", err.Error())
		return Origin{}, false
	}
	u, err := url.Parse(rendered)
	if err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.fail(ptr, "the URL must be an absolute http or https URL; with every value empty it is %q", rendered)
		return Origin{}, false
	}
	o, err := ParseOrigin(t)
	if err != nil {
		c.fail(ptr, "%s", err.Error())
		return Origin{}, false
	}
	return o, true
}

func (c *compiler) method(obj *jsonv.Object, key, ptr string) string {
	m, ok := c.str(obj, key, ptr, true)
	if !ok {
		return ""
	}
	up := strings.ToUpper(m)
	if !methods[up] {
		c.fail(Pointer(ptr, key), "%s must be get, post, put, patch or delete; got %q", key, m)
		return ""
	}
	return up
}

func (c *compiler) stringList(obj *jsonv.Object, key, ptr string) []string {
	v, ok := obj.Get(key)
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		c.fail(Pointer(ptr, key), "%s must be an array of names, not %s", key, typeName(v))
		return nil
	}
	var out []string
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || s == "" {
			c.fail(Pointer(Pointer(ptr, key), i), "each of %s must be a non-empty string", key)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (c *compiler) command(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "a command must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, commandProps, "a command")
	cmd := &Command{Definition: obj, argSet: map[string]bool{}}
	cmd.Name, cmd.Local = c.name(obj, ptr)
	for _, a := range append(c.stringList(obj, "permittedArgs", ptr), c.stringList(obj, "permittedUrlArgs", ptr)...) {
		if !cmd.argSet[a] {
			cmd.argSet[a] = true
			cmd.Args = append(cmd.Args, a)
		}
	}
	if u, ok := c.str(obj, "url", ptr, true); ok {
		uptr := Pointer(ptr, "url")
		if t := c.template(u, uptr); t != nil {
			cmd.URL = t
			if t.ReadsRoot() {
				c.fail(uptr, "the url reads the args as a whole (such as {{lookup this name}}); name each arg it uses, so that only permitted args reach the URL")
			}
			for _, n := range t.Names() {
				if !cmd.argSet[n] {
					c.fail(uptr, "the url uses {{%s}}, which is not a permitted arg; add it to permittedArgs (settings and secrets never go into a URL)", n)
				}
			}
			cmd.Origin, _ = c.checkURL(t, uptr)
		}
	}
	cmd.Method = c.method(obj, "httpMethod", ptr)
	cmd.AuditLogging = c.boolean(obj, "auditLogging", ptr)
	if cs, ok := obj.Get("cacheSeconds"); ok {
		n, isNum := cs.(json.Number)
		i, err := strconv.ParseFloat(string(n), 64)
		if !isNum || err != nil || i != float64(int(i)) || i < 15 || i > 600 {
			c.fail(Pointer(ptr, "cacheSeconds"), "cacheSeconds must be a whole number of seconds from 15 to 600; got %s", display(cs))
		} else {
			cmd.CacheSeconds = int(i)
		}
	}
	cmd.AppSettings = c.appSettings(obj, ptr)
	cmd.AppAccountName = c.accountName(obj, ptr)
	cmd.InputSchema = c.schemaAt(obj, "inputSchema", ptr)
	cmd.OutputSchema = c.schemaAt(obj, "outputSchema", ptr)
	if cmd.Local != "" {
		if _, dup := c.app.commands[cmd.Local]; dup {
			c.fail(Pointer(ptr, "name"), "another command is also named %s", cmd.Name)
			return
		}
		c.app.commands[cmd.Local] = cmd
	}
	c.app.Commands = append(c.app.Commands, cmd)
}

func display(v any) string {
	b, err := jsonv.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func (c *compiler) action(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "an action must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, actionProps, "an action")
	a := &Action{Definition: obj}
	a.Name, a.Local = c.name(obj, ptr)
	if d, ok := c.str(obj, "description", ptr, false); ok {
		if n := len(utf16.Encode([]rune(d))); n > MaxDescription {
			c.fail(Pointer(ptr, "description"), "description is %d characters, more than %d", n, MaxDescription)
		}
		a.Description = d
	}
	if t, ok := c.str(obj, "type", ptr, true); ok && t != "rest_api" {
		c.fail(Pointer(ptr, "type"), "type must be rest_api; got %q", t)
	}
	a.AppSettings = c.appSettings(obj, ptr)
	a.AppAccountName = c.accountName(obj, ptr)
	a.InputSchema = c.schemaAt(obj, "inputSchema", ptr)
	a.OutputSchema = c.schemaAt(obj, "outputSchema", ptr)
	a.SampleOutput, _ = obj.Get("sampleOutputContext")

	itPtr := Pointer(ptr, "inputTemplate")
	it, ok := obj.Get("inputTemplate")
	if !ok {
		c.fail(itPtr, "inputTemplate is required: an object with at least uri and method")
	} else if itObj, isObj := it.(*jsonv.Object); !isObj {
		c.fail(itPtr, "inputTemplate must be an object with at least uri and method, not %s", typeName(it))
	} else {
		c.unknown(itObj, itPtr, inputTemplateProps, "an inputTemplate")
		if u, ok := c.str(itObj, "uri", itPtr, true); ok {
			if t := c.template(u, Pointer(itPtr, "uri")); t != nil {
				a.URI = t
				a.Origin, _ = c.checkURL(t, Pointer(itPtr, "uri"))
			}
		}
		c.method(itObj, "method", itPtr)
		if h, ok := itObj.Get("headers"); ok {
			if _, isObj := h.(*jsonv.Object); !isObj {
				c.fail(Pointer(itPtr, "headers"), "headers must be an object of header names and values, not %s", typeName(h))
			}
		}
		if qs, ok := itObj.Get("qs"); ok {
			switch qs.(type) {
			case string, *jsonv.Object:
			default:
				c.fail(Pointer(itPtr, "qs"), "qs must be an object of query parameters or a query string, not %s", typeName(qs))
			}
		}
		if j, ok := itObj.Get("json"); ok {
			if _, isBool := j.(bool); !isBool {
				c.fail(Pointer(itPtr, "json"), "json must be true or false, not %s", typeName(j))
			}
		}
		a.Input = c.jsonTemplate(itObj, itPtr)
	}
	if ot, ok := obj.Get("outputTemplate"); ok {
		a.Output = c.jsonTemplate(ot, Pointer(ptr, "outputTemplate"))
	}
	if a.Input != nil {
		c.warnUnsupplied(a, ptr)
	}
	if a.Local != "" {
		if _, dup := c.app.actions[a.Local]; dup {
			c.fail(Pointer(ptr, "name"), "another action is also named %s", a.Name)
			return
		}
		c.app.actions[a.Local] = a
	}
	c.app.Actions = append(c.app.Actions, a)
}

func (c *compiler) jsonTemplate(v any, ptr string) *tmpl.JSONTemplate {
	t, err := tmpl.CompileJSON(v)
	if err != nil {
		var je *tmpl.JSONError
		var jes tmpl.JSONErrors
		switch {
		case errors.As(err, &jes):
			for _, e := range jes {
				c.jsonTemplateProblem(e, ptr)
			}
		case errors.As(err, &je):
			c.jsonTemplateProblem(je, ptr)
		default:
			c.fail(ptr, "template: %s", err.Error())
		}
		return nil
	}
	return t
}

func (c *compiler) jsonTemplateProblem(e *tmpl.JSONError, ptr string) {
	p := switchboard.Problem{Message: "template: " + e.Err.Message, Location: ptr + e.Pointer, Line: e.Err.Line, Column: e.Err.Column}
	c.problems = append(c.problems, p)
}

// warnUnsupplied warns about template names that neither the input (as its
// schema allows it) nor the app settings can supply, as in the workflow
// actions seed, whose uri uses {{orderId}} while its inputSchema allows only
// querystring. The action still works; the name renders empty.
func (c *compiler) warnUnsupplied(a *Action, ptr string) {
	props, open := a.InputSchema.Properties()
	if a.InputSchema == nil || open {
		return
	}
	supplied := map[string]bool{}
	for _, p := range props {
		supplied[p] = true
	}
	for _, r := range a.AppSettings {
		supplied[r.Var] = true
	}
	if a.AppAccountName != "" {
		supplied["authToken"] = true
	}
	var missing []string
	for _, n := range a.Input.Names() {
		if !supplied[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	for _, n := range missing {
		c.warn(Pointer(ptr, "inputTemplate"), "the inputTemplate uses %s, which neither the inputSchema nor appSettings supplies; it will render empty", n)
	}
}

func (c *compiler) auth(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "auth must be an object declaring an OAuth 2.0 client, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, []string{"type", "grantType", "authorizationUrl", "tokenUrl", "revocationUrl", "scopes",
		"clientId", "clientSecret", "extraAuthorizeParams"}, "auth")
	a := &Auth{ExtraAuthorizeParams: map[string]string{}}
	if t, ok := c.str(obj, "type", ptr, true); ok {
		if t != "oauth2" {
			c.fail(Pointer(ptr, "type"), "type must be oauth2; got %q", t)
		}
		a.Type = t
	}
	if g, ok := c.str(obj, "grantType", ptr, true); ok {
		if g != "authorization_code" && g != "client_credentials" {
			c.fail(Pointer(ptr, "grantType"), "grantType must be authorization_code or client_credentials; got %q", g)
		}
		a.GrantType = g
	}
	absURL := func(key string, required bool) string {
		s, ok := c.str(obj, key, ptr, required)
		if !ok {
			return ""
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			c.fail(Pointer(ptr, key), "%s must be an absolute http or https URL; got %q", key, s)
			return ""
		}
		return s
	}
	a.AuthorizationURL = absURL("authorizationUrl", a.GrantType == "authorization_code")
	a.TokenURL = absURL("tokenUrl", true)
	a.RevocationURL = absURL("revocationUrl", false)
	a.Scopes = c.stringList(obj, "scopes", ptr)
	if v, ok := obj.Get("clientId"); ok {
		a.ClientID, _ = c.settingRef(v, Pointer(ptr, "clientId"))
	} else {
		c.fail(Pointer(ptr, "clientId"), "clientId is required: a setting reference such as {\"key\": \"%s.default.clientId\"}", c.app.BareID)
	}
	if v, ok := obj.Get("clientSecret"); ok {
		a.ClientSecret, _ = c.settingRef(v, Pointer(ptr, "clientSecret"))
	} else {
		c.fail(Pointer(ptr, "clientSecret"), "clientSecret is required: a setting reference such as {\"key\": \"%s.default.clientSecret\"}", c.app.BareID)
	}
	if v, ok := obj.Get("extraAuthorizeParams"); ok {
		m, isObj := v.(*jsonv.Object)
		if !isObj {
			c.fail(Pointer(ptr, "extraAuthorizeParams"), "extraAuthorizeParams must be an object of strings, not %s", typeName(v))
		} else {
			for _, mm := range m.Members {
				s, isStr := mm.Value.(string)
				if !isStr {
					c.fail(Pointer(Pointer(ptr, "extraAuthorizeParams"), mm.Key), "must be a string, not %s", typeName(mm.Value))
					continue
				}
				a.ExtraAuthorizeParams[mm.Key] = s
			}
		}
	}
	c.app.Auth = a
}

// Hash returns a digest of a JSON value that ignores member order, so that
// the same definition submitted with its members in another order is the
// same registration.
func Hash(v any) string {
	h := sha256.New()
	var write func(v any)
	write = func(v any) {
		switch x := v.(type) {
		case *jsonv.Object:
			keys := make([]string, 0, len(x.Members))
			for _, m := range x.Members {
				keys = append(keys, m.Key)
			}
			sort.Strings(keys)
			h.Write([]byte{'{'})
			for _, k := range keys {
				b, _ := jsonv.Marshal(k)
				h.Write(b)
				h.Write([]byte{':'})
				val, _ := x.Get(k)
				write(val)
				h.Write([]byte{','})
			}
			h.Write([]byte{'}'})
		case []any:
			h.Write([]byte{'['})
			for _, e := range x {
				write(e)
				h.Write([]byte{','})
			}
			h.Write([]byte{']'})
		default:
			b, _ := jsonv.Marshal(x)
			h.Write(b)
		}
	}
	write(v)
	return hex.EncodeToString(h.Sum(nil))
}

// nearest returns the name in known closest to s, when it is close enough to
// be a likely typo (at most a third of its letters differ).
func nearest(s string, known []string) string {
	best, bestD := "", 1<<30
	for _, k := range known {
		d := levenshtein(strings.ToLower(s), strings.ToLower(k))
		if d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= max(1, len(best)/3) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
