package appdef

import (
	"errors"
	"sort"
	"unicode/utf16"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/schema"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Action is a compiled rest_api workflow action.
type Action struct {
	Name           string // canonical
	Local          string
	Description    string
	AppSettings    []SettingRef
	AppAccountName string
	// Input is the whole inputTemplate; URI is its uri, compiled apart so
	// that its origin is known.
	Input  *tmpl.JSONTemplate
	URI    *tmpl.Template
	Origin Origin
	// Shape is the uri's structure, which a run's input may not change.
	Shape        *URLShape
	Output       *tmpl.JSONTemplate // nil without an outputTemplate
	InputSchema  *schema.Schema
	OutputSchema *schema.Schema
	SampleOutput any
	Definition   *jsonv.Object
}

var actionProps = []string{"name", "displayName", "description", "type", "appSettings", "appAccountName", "inputTemplate",
	"outputTemplate", "sampleOutputContext", "inputSchema", "outputSchema"}

var inputTemplateProps = []string{"uri", "method", "headers", "qs", "data", "json"}

// MaxDescription bounds an action's description, in UTF-16 code units as
// JavaScript counts a string's length.
const MaxDescription = 4096

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
				a.Origin, a.Shape, _ = c.checkURL(t, Pointer(itPtr, "uri"))
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
