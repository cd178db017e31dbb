package appdef

import (
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/schema"
	"github.com/switchboardhq/switchboard/internal/workflow/expr"
)

// Trigger gives the events of one name a shape (SPEC 12): its output is
// OutputTemplate rendered against the event's attributes, then converted by
// OutputSchema. An event with no trigger has the whole event as its output.
type Trigger struct {
	EventName    string // canonical
	Description  string
	Output       *expr.Value // nil: the event's attributes as they are
	OutputSchema *schema.Schema
	SampleOutput any
}

var triggerProps = []string{"eventName", "description", "outputTemplate", "outputSchema", "sampleOutputContext", "displayName", "meta"}

func (c *compiler) trigger(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "a trigger must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, triggerProps, "a trigger")
	t := &Trigger{}
	t.EventName, _ = c.eventName(obj, ptr)
	t.Description, _ = c.str(obj, "description", ptr, false)
	if ot, ok := obj.Get("outputTemplate"); ok {
		t.Output = c.expr(ot, Pointer(ptr, "outputTemplate"), expr.Scope{})
	}
	t.OutputSchema = c.schemaAt(obj, "outputSchema", ptr)
	t.SampleOutput, _ = obj.Get("sampleOutputContext")
	if t.EventName == "" {
		return
	}
	if c.app.Trigger(t.EventName) != nil {
		c.fail(Pointer(ptr, "eventName"), "another trigger also shapes %s", t.EventName)
		return
	}
	c.app.Triggers = append(c.app.Triggers, t)
}

// Render is the trigger's output for an event's attributes.
func (t *Trigger) Render(attributes any) any {
	out := attributes
	if t.Output != nil {
		var ok bool
		if out, ok = t.Output.Eval(attributes); !ok {
			out = nil
		}
	}
	if t.OutputSchema != nil {
		out = t.OutputSchema.Output(out)
	}
	return out
}

// Trigger finds the trigger of a canonical event name.
func (a *App) Trigger(event string) *Trigger {
	for _, t := range a.Triggers {
		if t.EventName == event {
			return t
		}
	}
	return nil
}

// expr compiles a workflow value, collecting its problems and warnings.
func (c *compiler) expr(v any, ptr string, sc expr.Scope) *expr.Value {
	var d expr.Diagnostics
	out := expr.Compile(v, ptr, sc, &d)
	c.problems = append(c.problems, d.Problems...)
	c.warnings = append(c.warnings, d.Warnings...)
	return out
}
