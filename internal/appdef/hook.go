package appdef

import (
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Hook is an inbound webhook of an app (SPEC 12): installing the app gives
// it a URL, and each POST to it is an event named EventName.
type Hook struct {
	// EventName is canonical: kustomer.app.<appId>.<local>, namespaced as
	// component names are.
	EventName        string
	Local            string
	DisplayEventName string
	Description      string
	// Type is "form" (no authentication) or "web" (a per-hook secret);
	// "webhook" is read as "web".
	Type string
}

// Hook types.
const (
	HookForm = "form"
	HookWeb  = "web"
)

var hookProps = []string{"eventName", "displayEventName", "description", "type"}

func (c *compiler) hook(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "a hook must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, hookProps, "a hook")
	h := &Hook{}
	h.EventName, h.Local = c.eventName(obj, ptr)
	h.DisplayEventName, _ = c.str(obj, "displayEventName", ptr, false)
	h.Description, _ = c.str(obj, "description", ptr, false)
	if t, ok := c.str(obj, "type", ptr, true); ok {
		switch t {
		case "form":
			h.Type = HookForm
		case "web", "webhook":
			h.Type = HookWeb
		default:
			c.fail(Pointer(ptr, "type"), "type must be form or web (webhook is read as web); got %q", t)
		}
	}
	if h.EventName == "" {
		return
	}
	for _, other := range c.app.Hooks {
		if other.EventName == h.EventName {
			c.fail(Pointer(ptr, "eventName"), "another hook also posts %s", h.EventName)
			return
		}
	}
	c.app.Hooks = append(c.app.Hooks, h)
}

// eventName validates and canonicalizes obj.eventName in place, as
// component names are.
func (c *compiler) eventName(obj *jsonv.Object, ptr string) (canonical, local string) {
	n, ok := c.str(obj, "eventName", ptr, true)
	if !ok {
		return "", ""
	}
	canonical, local, err := CanonicalName(n, c.app.BareID, c.app.ID)
	if err != nil {
		c.fail(Pointer(ptr, "eventName"), "%s", err.Error())
		return "", ""
	}
	obj.Set("eventName", canonical)
	return canonical, local
}

// Hook finds a hook by its canonical event name.
func (a *App) Hook(event string) *Hook {
	for _, h := range a.Hooks {
		if h.EventName == event {
			return h
		}
	}
	return nil
}
