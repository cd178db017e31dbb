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
	var run switchboard.WorkflowRun
	err = e.store.InTx(ctx, func(tx sqlstore.Tx) error {
		var err error
		run, err = e.begin(ctx, tx, inst, w, input, "")
		return err
	})
	if err != nil {
		return switchboard.WorkflowRun{}, err
	}
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

// begin stores a new run in tx with its first step queued: the target of
// the trigger's first transition that holds, or none (the run ends at
// once).
func (e *Engine) begin(ctx context.Context, tx sqlstore.Tx, inst *registry.Installed, w *appdef.Workflow, input any, eventID string) (switchboard.WorkflowRun, error) {
	now := e.now()
	enc, err := jsonv.Marshal(input)
	if err != nil {
		return switchboard.WorkflowRun{}, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the input cannot be encoded as JSON", Err: err}
	}
	run := switchboard.WorkflowRun{ID: registry.NewID("run"), OrgID: inst.OrgID, Workflow: w.Name, AppID: inst.App.ID, AppVersion: inst.App.Version,
		EventID: eventID, Status: switchboard.RunRunning, Input: enc, StartedAt: now}
	first := appdef.Next(w.Start, stepContext(input, nil))
	if first == "" {
		run.Status, run.FinishedAt = switchboard.RunSucceeded, now
	}
	if err := sqlstore.InsertRun(ctx, tx, run); err != nil {
		return run, err
	}
	if first == "" {
		return run, sqlstore.AppendAuditTx(ctx, tx, []switchboard.AuditEntry{e.runEntry(run, run.Status, "")})
	}
	return run, e.queueStep(ctx, tx, run.OrgID, run.ID, 1, first)
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
