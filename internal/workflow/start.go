package workflow

import (
	"context"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// StartRun starts a workflow by hand (POST /v1/workflows/{name}/runs), with
// input standing in for the trigger's output at steps.1. The run is durable
// when it returns.
func (e *Engine) StartRun(ctx context.Context, p *switchboard.Principal, name string, input any) (switchboard.WorkflowRun, error) {
	inst, w, err := e.findWorkflow(ctx, p.OrgID, name)
	if err != nil {
		return switchboard.WorkflowRun{}, err
	}
	if input == nil {
		input = jsonv.NewObject(0)
	}
	start, err := e.newRun(inst, w, input, "")
	if err != nil {
		return switchboard.WorkflowRun{}, err
	}
	err = e.store.InTx(ctx, func(tx sqlstore.Tx) error { return e.begin(ctx, tx, nil, []sqlstore.RunStart{start}) })
	if err != nil {
		return switchboard.WorkflowRun{}, err
	}
	run := start.Run
	e.started(run)
	return run, nil
}

// started counts a run that began (and, with no first step, ended).
func (e *Engine) started(r switchboard.WorkflowRun) {
	e.m.run(r.Workflow, switchboard.RunRunning)
	if r.Status != switchboard.RunRunning {
		e.m.run(r.Workflow, r.Status)
	}
}

// newRun is a new run of w with its first step queued: the target of the
// trigger's first transition that holds, or none (the run ends at once,
// with its audit entry).
func (e *Engine) newRun(inst *registry.Installed, w *appdef.Workflow, input any, eventID string) (sqlstore.RunStart, error) {
	now := e.now()
	enc, err := jsonv.Marshal(input)
	if err != nil {
		return sqlstore.RunStart{}, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the input cannot be encoded as JSON", Err: err}
	}
	run := switchboard.WorkflowRun{ID: registry.NewID("run"), OrgID: inst.OrgID, Workflow: w.Name, AppID: inst.App.ID, AppVersion: inst.App.Version,
		EventID: eventID, Status: switchboard.RunRunning, Input: enc, StartedAt: now}
	first := appdef.Next(w.Start, stepContext(input, nil))
	if first == "" {
		run.Status, run.FinishedAt = switchboard.RunSucceeded, now
		entry := e.runEntry(run, run.Status, "")
		return sqlstore.RunStart{Run: run, Entry: &entry}, nil
	}
	return sqlstore.RunStart{Run: run, First: &switchboard.WorkflowStep{RunID: run.ID, Seq: 1, OrgID: run.OrgID, StepID: first,
		Status: switchboard.StepQueued, QueuedAt: now}}, nil
}

// begin stores in tx the event ev (unless nil) and new runs with their
// first steps (sqlstore.Store.StartRuns), and inserts the first steps'
// jobs.
func (e *Engine) begin(ctx context.Context, tx sqlstore.Tx, ev *switchboard.HookEvent, starts []sqlstore.RunStart) error {
	if err := e.store.StartRuns(ctx, tx, ev, starts); err != nil {
		return err
	}
	for _, st := range starts {
		if st.First != nil {
			if err := e.q.insert(ctx, tx, stepArgs{Org: st.Run.OrgID, Run: st.Run.ID, Seq: st.First.Seq}); err != nil {
				return err
			}
		}
	}
	return nil
}

// queueStep stores step id as the seq-th execution of the run and inserts
// its job, in tx.
func (e *Engine) queueStep(ctx context.Context, tx sqlstore.Tx, orgID, runID string, seq int, id string) error {
	if err := sqlstore.InsertStep(ctx, tx, switchboard.WorkflowStep{RunID: runID, Seq: seq, OrgID: orgID, StepID: id,
		Status: switchboard.StepQueued, QueuedAt: e.now()}); err != nil {
		return err
	}
	return e.q.insert(ctx, tx, stepArgs{Org: orgID, Run: runID, Seq: seq})
}

// stepContext is what a step's values read: {"steps": {"1": input, "<id>":
// output, ...}}, plus "error" in error cases.
func stepContext(input any, outputs *jsonv.Object) *jsonv.Object {
	steps := jsonv.NewObject(1)
	steps.Set(appdef.TriggerStep, input)
	if outputs != nil {
		for _, m := range outputs.Members {
			if m.Key != appdef.TriggerStep {
				steps.Set(m.Key, m.Value)
			}
		}
	}
	ctx := jsonv.NewObject(2)
	ctx.Set("steps", steps)
	return ctx
}
