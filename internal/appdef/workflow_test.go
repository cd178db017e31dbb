package appdef

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func mustReadApp(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The documented chain and the editor's export register without warnings
// for hooks, triggers or workflows, with names namespaced.
func TestParseWorkflows(t *testing.T) {
	app, warnings, err := Parse(mustReadApp(t, "orderflows.json"), Options{OrgID: "acme"})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	for _, w := range warnings {
		if strings.HasPrefix(w.Location, "/hooks") || strings.HasPrefix(w.Location, "/triggers") || strings.HasPrefix(w.Location, "/workflows") {
			t.Errorf("warning %v", w)
		}
	}
	if got, want := app.Hooks[0].EventName, "kustomer.app.orderflows_acme.order.update"; got != want {
		t.Errorf("hook event %q, want %q", got, want)
	}
	if app.Hooks[1].Type != HookWeb {
		t.Errorf("webhook type read as %q", app.Hooks[1].Type)
	}
	w := app.Workflow("refundCancelled")
	if w == nil || w.EventName != "kustomer.app.orderflows_acme.order.update" {
		t.Fatalf("workflow %+v", w)
	}
	if s := w.Step("refund"); s.Action != "kustomer.app.orderflows_acme.store.refundOrder" || s.Command {
		t.Errorf("refund step %+v", s)
	}
	if s := w.Step("notifyReview"); s.Action != "kustomer.app.orderflows_acme.notifyCustomer" || !s.Command {
		t.Errorf("notifyReview step %+v", s)
	}
	if s := w.Step("review"); s.Action != "" {
		t.Errorf("review step runs %q", s.Action)
	}
	tr := app.Trigger(w.EventName)
	ev, _ := jsonv.Decode([]byte(`{"data": {"id": "ord_1", "status": "cancelled", "amount": "12.50", "extra": 1}, "headers": {}}`))
	out, _ := jsonv.Marshal(tr.Render(ev))
	if diff := cmp.Diff(`{"orderId":"ord_1","status":"cancelled","amount":12.5}`, string(out)); diff != "" {
		t.Errorf("trigger output (-want +got):\n%s", diff)
	}
	ctx, _ := jsonv.Decode([]byte(`{"steps": {"1": {"orderId": "ord_1", "status": "cancelled"}}}`))
	if got := Next(w.Start, ctx); got != "refund" {
		t.Errorf("a cancelled order goes to %q", got)
	}
	ctx, _ = jsonv.Decode([]byte(`{"steps": {"1": {"orderId": "ord_1", "status": "shipped"}}}`))
	if got := Next(w.Start, ctx); got != "review" {
		t.Errorf("a shipped order goes to %q", got)
	}
	if got := Next(w.Step("review").Transitions, ctx); got != "" {
		t.Errorf("a small shipped order goes on to %q", got)
	}

	app, warnings, err = Parse(mustReadApp(t, "editorflows.json"), Options{})
	if err != nil {
		t.Fatalf("Parse editor export: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("editor export warnings: %v", warnings)
	}
	ew := app.Workflow("tagNewOrders")
	if ew == nil || !ew.Enabled || ew.Step("SkXq2kPnz") == nil {
		t.Fatalf("editor workflow %+v", ew)
	}
	// The export's own keys are kept as given.
	def := string(app.JSON)
	for _, s := range []string{`"builderVersion":3`, `"appVersion":"editorflows-^1.0.0"`, `"meta":{"name":"always"}`} {
		if !strings.Contains(def, s) {
			t.Errorf("stored definition lost %s", s)
		}
	}
}

func TestWorkflowProblems(t *testing.T) {
	base := func(workflow string) string {
		return `{"app": "wf", "version": "1.0.0", "title": "t",
			"commands": [{"name": "ping", "url": "https://api.example.com/ping", "httpMethod": "get"}],
			"workflows": [` + workflow + `]}`
	}
	tests := []struct {
		name, workflow string
		want           []string // locations
	}{
		{"unknown target", `{"name": "w", "trigger": {"eventName": "e", "transitions": [{"target": "nope"}]}, "steps": []}`,
			[]string{"/workflows/0/trigger/transitions/0/target"}},
		{"unknown action", `{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [{"id": "a", "action": "wf.refund"}]}`,
			[]string{"/workflows/0/steps/0/action"}},
		{"other app not a dependency", `{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [{"id": "a", "action": "kustomer.app.other.x"}]}`,
			[]string{"/workflows/0/steps/0/action"}},
		{"unreachable", `{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [{"id": "a", "action": "ping"}, {"id": "b"}]}`,
			[]string{"/workflows/0/steps/1"}},
		{"cycle without exit", `{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [
			{"id": "a", "action": "ping", "transitions": [{"target": "b", "condition": {"op": "true"}}]},
			{"id": "b", "transitions": [{"target": "a"}]}]}`,
			[]string{"/workflows/0/steps/0", "/workflows/0/steps/1"}},
		{"duplicate and reserved ids", `{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [{"id": "a"}, {"id": "a"}, {"id": "1"}]}`,
			[]string{"/workflows/0/steps/1/id", "/workflows/0/steps/2/id"}},
		{"bad condition and template", `{"name": "w", "trigger": {"transitions": [{"target": "a", "condition": {"op": "equals", "values": [1, 1]}}]}, "steps": [{"id": "a", "params": {"x": "{{#if}}"}}]}`,
			[]string{"/workflows/0/trigger/transitions/0/condition/op", "/workflows/0/steps/0/params/x"}},
		{"missing trigger", `{"name": "w", "steps": []}`, []string{"/workflows/0/trigger"}},
		{"foreign event", `{"name": "w", "trigger": {"eventName": "kustomer.app.other.e"}, "steps": []}`, []string{"/workflows/0/trigger/eventName"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse([]byte(base(tt.workflow)), Options{})
			se, ok := err.(*switchboard.Error)
			if !ok {
				t.Fatalf("Parse = %v, want invalid_definition", err)
			}
			var got []string
			for _, p := range se.Problems {
				got = append(got, p.Location)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problem locations (-want +got):\n%s\n%v", diff, se.Problems)
			}
		})
	}
}

// A cycle with a conditional way out registers; so does a dependency's
// action.
func TestWorkflowAllowed(t *testing.T) {
	def := `{"app": "wf", "version": "1.0.0", "title": "t", "dependencies": ["other-^1.0.0"],
		"commands": [{"name": "ping", "url": "https://api.example.com/ping", "httpMethod": "get"}],
		"workflows": [{"name": "w", "trigger": {"transitions": [{"target": "a"}]}, "steps": [
			{"id": "a", "action": "ping", "transitions": [{"target": "b"}]},
			{"id": "b", "action": "kustomer.app.other.doThing", "transitions": [{"target": "a", "condition": {"op": "lt", "values": ["/#steps.a.status", 300]}}]}]}]}`
	app, _, err := Parse([]byte(def), Options{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s := app.Workflows[0].Step("b"); !s.Foreign {
		t.Errorf("dependency step %+v", s)
	}
}
