// Package appdef parses and validates app definitions: every problem at once,
// each located by a JSON pointer; namespacing of private apps and canonical
// component names; and compilation of templates and schemas, so that a run
// never parses anything of its definition.
package appdef

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
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
	// Hooks, Triggers and Workflows are SPEC 12's chain: inbound events,
	// their shapes, and the steps that run on them.
	Hooks     []*Hook
	Triggers  []*Trigger
	Workflows []*Workflow

	commands map[string]*Command // by local name
	actions  map[string]*Action
}

// Command finds a command by its local name.
func (a *App) Command(local string) *Command { return a.commands[local] }

// Action finds an action by its local name.
func (a *App) Action(local string) *Action { return a.actions[local] }

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

var knownTop = []string{"app", "version", "title", "settings", "commands", "actions", "auth", "hooks", "triggers", "workflows"}

// keptTop are the seed platform's other top-level properties: stored, not
// interpreted, each with a warning.
var keptTop = []string{"dependencies", "iconUrl", "description", "appDetails", "tags", "screenshots", "changelog",
	"dataSubscriptions", "i18n", "klasses", "kviews", "meta", "outboundWebhooks", "shortcuts",
	"settingsPageConfig", "widgets", "instructions", "installUrl", "postInstallMessage",
	"visibility", "identifier", "redirectUris", "roles"}

// Parse decodes, validates and compiles a definition. It returns the app and
// its warnings, or an invalid_definition *switchboard.Error listing every
// problem. Every
// problem carries the line and column of its location in data.
func Parse(data []byte, opts Options) (*App, []switchboard.Problem, error) {
	v, err := jsonv.DecodeStrict(data)
	if err != nil {
		var se *jsonv.SyntaxError
		if errors.As(err, &se) {
			return nil, nil, invalid([]switchboard.Problem{{Message: "the definition is not valid JSON: " + se.Msg, Location: se.Pointer, Line: se.Line, Column: se.Column}})
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
		} else if reservedAppIDs[bare] {
			c.fail("/app", "app %q is reserved: /v1/apps/%s is a route of its own, so an app of that id could not be reached; choose another id", bare, bare)
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
	c.list(root, "hooks", c.hook)
	c.list(root, "triggers", c.trigger)
	c.list(root, "workflows", c.workflow)
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

// list compiles each element of the array root[key] with fn.
func (c *compiler) list(root *jsonv.Object, key string, fn func(v any, ptr string)) {
	v, ok := root.Get(key)
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		c.fail(Pointer("", key), "%s must be an array, not %s", key, typeName(v))
		return
	}
	for i, e := range arr {
		fn(e, Pointer(Pointer("", key), i))
	}
}
