package appdef

import (
	"fmt"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/workflow/expr"
)

// TriggerStep is the id of a workflow's trigger: its output is at steps.1.
const TriggerStep = "1"

// Workflow is a compiled workflow (SPEC 12): the trigger is step "1", and
// each step runs an action or a command (or nothing, and only branches)
// with params drawn from the steps before it.
type Workflow struct {
	Name        string // canonical kustomer.app.<appId>.<local>
	Local       string
	Description string
	// Enabled is false when the definition says "enabled": false: events
	// do not start it (a run by hand still does).
	Enabled bool
	// EventName is the canonical event its trigger names ("" for none:
	// the workflow starts only by hand).
	EventName string
	// Start holds the trigger's transitions.
	Start []Transition
	Steps []*Step
	steps map[string]*Step
}

// Step is one step of a workflow.
type Step struct {
	ID string
	// Action is the action or command the step runs, canonical when it is
	// this app's ("" for a step that only branches). Command tells which
	// of the two it is; for another app's (a dependency's) component it is
	// resolved when the step runs.
	Action      string
	Command     bool
	Foreign     bool
	Params      *expr.Value // nil: no params
	Transitions []Transition
	ErrorCases  []Transition
}

// Transition leads to Target when Condition holds (nil holds always).
type Transition struct {
	Target    string
	Condition *expr.Condition
}

// Step finds a step by id.
func (w *Workflow) Step(id string) *Step { return w.steps[id] }

// StepIDs lists the step ids, the trigger's first.
func (w *Workflow) StepIDs() []string {
	ids := []string{TriggerStep}
	for _, s := range w.Steps {
		ids = append(ids, s.ID)
	}
	return ids
}

// Next returns the target of the first transition whose condition holds
// against ctx, or "" when none does and the run ends.
func Next(ts []Transition, ctx any) string {
	for _, t := range ts {
		if t.Condition.Holds(ctx) {
			return t.Target
		}
	}
	return ""
}

var workflowProps = []string{"name", "displayName", "description", "enabled", "meta", "trigger", "steps", "appVersion", "id", "version"}
var workflowTriggerProps = []string{"id", "eventName", "transitions", "meta", "displayName", "description"}
var stepProps = []string{"id", "action", "params", "transitions", "errorCases", "meta", "appVersion", "displayName", "description"}
var transitionProps = []string{"target", "condition", "meta", "displayName", "description"}

func (c *compiler) workflow(v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		c.fail(ptr, "a workflow must be an object, not %s", typeName(v))
		return
	}
	c.unknown(obj, ptr, workflowProps, "a workflow")
	w := &Workflow{Enabled: true, steps: map[string]*Step{}}
	w.Name, w.Local = c.name(obj, ptr)
	w.Description, _ = c.str(obj, "description", ptr, false)
	if _, ok := obj.Get("enabled"); ok {
		w.Enabled = c.boolean(obj, "enabled", ptr)
	}

	// The step ids first: values read steps by id, and an id may hold dots.
	stepsPtr := Pointer(ptr, "steps")
	var stepObjs []*jsonv.Object
	ids := []string{TriggerStep}
	if sv, ok := obj.Get("steps"); ok {
		arr, isArr := sv.([]any)
		if !isArr {
			c.fail(stepsPtr, "steps must be an array, not %s", typeName(sv))
		}
		seen := map[string]bool{}
		for i, e := range arr {
			sp := Pointer(stepsPtr, i)
			so, isObj := e.(*jsonv.Object)
			if !isObj {
				c.fail(sp, "a step must be an object, not %s", typeName(e))
				stepObjs = append(stepObjs, nil)
				continue
			}
			stepObjs = append(stepObjs, so)
			id := c.stepID(so, sp)
			if id == "" {
				continue
			}
			if id == TriggerStep {
				c.fail(Pointer(sp, "id"), "step id %q is the trigger's; give the step another id", id)
				continue
			}
			if seen[id] {
				c.fail(Pointer(sp, "id"), "another step also has the id %q; step ids are unique in a workflow", id)
				continue
			}
			seen[id] = true
			ids = append(ids, id)
		}
	}
	scope := expr.Scope{Steps: ids, Roots: []string{"steps"}}
	errScope := expr.Scope{Steps: ids, Roots: []string{"steps", "error"}}

	trigPtr := Pointer(ptr, "trigger")
	if tv, ok := obj.Get("trigger"); !ok {
		c.fail(trigPtr, "trigger is required: {\"eventName\", \"transitions\"} (the trigger is step 1)")
	} else if to, isObj := tv.(*jsonv.Object); !isObj {
		c.fail(trigPtr, "trigger must be an object, not %s", typeName(tv))
	} else {
		c.unknown(to, trigPtr, workflowTriggerProps, "a workflow's trigger")
		if id, ok := to.Get("id"); ok && id != TriggerStep {
			c.fail(Pointer(trigPtr, "id"), "the trigger's id is always \"1\"")
		}
		if _, ok := to.Get("eventName"); ok {
			w.EventName, _ = c.eventName(to, trigPtr)
		}
		w.Start = c.transitions(to, "transitions", trigPtr, scope)
	}

	for i, so := range stepObjs {
		if so == nil {
			continue
		}
		sp := Pointer(stepsPtr, i)
		c.unknown(so, sp, stepProps, "a step")
		s := &Step{}
		s.ID, _ = c.str(so, "id", sp, false)
		if av, ok := so.Get("action"); ok && av != nil {
			if a, ok := av.(string); !ok {
				c.fail(Pointer(sp, "action"), "action must be the name of an action or a command, not %s", typeName(av))
			} else if a != "" {
				c.stepAction(s, a, so, Pointer(sp, "action"))
			}
		}
		if pv, ok := so.Get("params"); ok && pv != nil {
			if !jsonv.IsObject(pv) {
				c.fail(Pointer(sp, "params"), "params must be an object, not %s", typeName(pv))
			} else {
				s.Params = c.expr(pv, Pointer(sp, "params"), scope)
			}
		}
		s.Transitions = c.transitions(so, "transitions", sp, scope)
		s.ErrorCases = c.transitions(so, "errorCases", sp, errScope)
		if s.ID != "" && s.ID != TriggerStep && w.steps[s.ID] == nil {
			w.steps[s.ID] = s
			w.Steps = append(w.Steps, s)
		}
	}
	c.checkGraph(w, obj, ptr)
	if w.Local != "" {
		for _, other := range c.app.Workflows {
			if other.Local == w.Local {
				c.fail(Pointer(ptr, "name"), "another workflow is also named %s", w.Name)
				return
			}
		}
	}
	c.app.Workflows = append(c.app.Workflows, w)
}

func (c *compiler) stepID(so *jsonv.Object, sp string) string {
	v, ok := so.Get("id")
	if !ok {
		c.fail(Pointer(sp, "id"), "id is required: a string unique in the workflow")
		return ""
	}
	id, ok := v.(string)
	if !ok || strings.TrimSpace(id) == "" {
		c.fail(Pointer(sp, "id"), "id must be a non-empty string")
		return ""
	}
	return id
}

// stepAction resolves a step's action: an action or command of this app,
// in any spelling of a component name, or a component of an app that the
// definition lists in its dependencies (resolved when the step runs).
func (c *compiler) stepAction(s *Step, name string, so *jsonv.Object, ptr string) {
	canonical, local, err := CanonicalName(name, c.app.BareID, c.app.ID)
	if err != nil {
		app := foreignApp(name)
		if app != "" && c.dependsOn(app) {
			s.Action, s.Foreign = name, true
			return
		}
		c.fail(ptr, "%s; a step may run this app's actions and commands, or those of an app listed in dependencies", err.Error())
		return
	}
	switch {
	case c.app.actions[local] != nil:
		s.Action = canonical
	case c.app.commands[local] != nil:
		s.Action, s.Command = canonical, true
	default:
		c.fail(ptr, "the step runs %s, which is neither an action nor a command of this app (%s)", name, c.componentList())
		return
	}
	so.Set("action", canonical)
}

func (c *compiler) componentList() string {
	var names []string
	for _, a := range c.app.Actions {
		names = append(names, a.Local)
	}
	for _, cmd := range c.app.Commands {
		names = append(names, cmd.Local)
	}
	if len(names) == 0 {
		return "it has none"
	}
	sort.Strings(names)
	return "it has " + strings.Join(names, ", ")
}

// foreignApp returns the app id a name spelled with another app's prefix
// names.
func foreignApp(name string) string {
	if rest, ok := strings.CutPrefix(name, namePrefix); ok {
		app, _, _ := strings.Cut(rest, ".")
		return app
	}
	if m := foreignAppPrefix.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	app, _, _ := strings.Cut(name, ".")
	return app
}

// dependsOn reports whether the definition's dependencies name app (as
// "app", "app-^1.0.0" or {"app": ...}).
func (c *compiler) dependsOn(app string) bool {
	deps, _ := c.app.Definition.Get("dependencies")
	found := false
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case string:
			if x == app || strings.HasPrefix(x, app+"-") || strings.HasPrefix(x, app+"@") {
				found = true
			}
		case []any:
			for _, e := range x {
				visit(e)
			}
		default:
			jsonv.Range(v, func(k string, val any) bool {
				if k == app {
					found = true
				}
				visit(val)
				return !found
			})
		}
	}
	visit(deps)
	return found
}

func (c *compiler) transitions(obj *jsonv.Object, key, ptr string, sc expr.Scope) []Transition {
	v, ok := obj.Get(key)
	if !ok || v == nil {
		return nil
	}
	tp := Pointer(ptr, key)
	arr, ok := v.([]any)
	if !ok {
		c.fail(tp, "%s must be an array of {\"target\", \"condition\"}, not %s", key, typeName(v))
		return nil
	}
	var out []Transition
	for i, e := range arr {
		ep := Pointer(tp, i)
		to, ok := e.(*jsonv.Object)
		if !ok {
			c.fail(ep, "a transition must be an object {\"target\", \"condition\"}, not %s", typeName(e))
			continue
		}
		c.unknown(to, ep, transitionProps, "a transition")
		t := Transition{}
		t.Target, _ = c.str(to, "target", ep, true)
		if cv, ok := to.Get("condition"); ok && cv != nil {
			var d expr.Diagnostics
			t.Condition = expr.CompileCondition(cv, Pointer(ep, "condition"), sc, &d)
			c.problems = append(c.problems, d.Problems...)
			c.warnings = append(c.warnings, d.Warnings...)
		}
		out = append(out, t)
	}
	return out
}

// checkGraph refuses transitions to steps that do not exist, steps that no
// path from the trigger reaches, and cycles with no exit: steps from which
// no path leads to a step where the run can end.
func (c *compiler) checkGraph(w *Workflow, obj *jsonv.Object, ptr string) {
	edges := map[string][]string{}
	bad := false
	check := func(from string, ts []Transition, tptr string) {
		for i, t := range ts {
			if t.Target == "" {
				continue
			}
			if t.Target == TriggerStep {
				c.fail(Pointer(Pointer(tptr, i), "target"), "a transition cannot lead back to the trigger (step 1)")
				bad = true
				continue
			}
			if w.steps[t.Target] == nil {
				c.fail(Pointer(Pointer(tptr, i), "target"), "the target %q is not a step of this workflow (its steps are %s)", t.Target, strings.Join(w.StepIDs()[1:], ", "))
				bad = true
				continue
			}
			edges[from] = append(edges[from], t.Target)
		}
	}
	check(TriggerStep, w.Start, Pointer(Pointer(ptr, "trigger"), "transitions"))
	index := map[string]int{}
	if arr, ok := obj.Get("steps"); ok {
		if a, ok := arr.([]any); ok {
			for i, e := range a {
				if so, ok := e.(*jsonv.Object); ok {
					if id, ok := so.Get("id"); ok {
						if s, ok := id.(string); ok {
							if _, dup := index[s]; !dup {
								index[s] = i
							}
						}
					}
				}
			}
		}
	}
	stepPtr := func(id string) string { return Pointer(Pointer(ptr, "steps"), index[id]) }
	for _, s := range w.Steps {
		check(s.ID, s.Transitions, Pointer(stepPtr(s.ID), "transitions"))
		check(s.ID, s.ErrorCases, Pointer(stepPtr(s.ID), "errorCases"))
	}
	if bad {
		return
	}
	reached := map[string]bool{TriggerStep: true}
	queue := []string{TriggerStep}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, t := range edges[n] {
			if !reached[t] {
				reached[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, s := range w.Steps {
		if !reached[s.ID] {
			c.fail(stepPtr(s.ID), "step %q is never reached: no transition from the trigger or another step leads to it", s.ID)
		}
	}
	// A run can end at a step none of whose transitions holds always.
	canEnd := map[string]bool{}
	ends := func(ts []Transition) bool {
		for _, t := range ts {
			if t.Condition.Always() {
				return false
			}
		}
		return true
	}
	canEnd[TriggerStep] = ends(w.Start)
	for _, s := range w.Steps {
		canEnd[s.ID] = ends(s.Transitions)
	}
	for changed := true; changed; {
		changed = false
		for from, ts := range edges {
			if canEnd[from] {
				continue
			}
			for _, t := range ts {
				if canEnd[t] {
					canEnd[from], changed = true, true
					break
				}
			}
		}
	}
	for _, s := range w.Steps {
		if reached[s.ID] && !canEnd[s.ID] {
			c.fail(stepPtr(s.ID), "step %q is in a cycle with no exit: every path from it comes back without reaching a step where the run can end (give one transition a condition)", s.ID)
		}
	}
}

// Workflow finds a workflow by its local name.
func (a *App) Workflow(local string) *Workflow {
	for _, w := range a.Workflows {
		if w.Local == local {
			return w
		}
	}
	return nil
}

// String names the workflow.
func (w *Workflow) String() string { return fmt.Sprintf("workflow %s", w.Name) }
