package workflow

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// Runs lists the org's runs newest first (GET /v1/workflow-runs).
func (e *Engine) Runs(ctx context.Context, p *switchboard.Principal, f switchboard.RunFilter) ([]switchboard.WorkflowRun, string, error) {
	if f.Workflow != "" {
		if _, w, err := e.findWorkflow(ctx, p.OrgID, f.Workflow); err == nil {
			f.Workflow = w.Name
		}
	}
	return e.store.WorkflowRuns(ctx, p.OrgID, f)
}

// GetRun returns one of the org's runs with its steps.
func (e *Engine) GetRun(ctx context.Context, p *switchboard.Principal, id string) (switchboard.WorkflowRun, []switchboard.WorkflowStep, error) {
	return e.store.WorkflowRun(ctx, p.OrgID, id)
}

// Cancel ends a running run: its queued step's job finds it cancelled and
// does nothing; a step in flight finishes, and nothing follows it.
func (e *Engine) Cancel(ctx context.Context, p *switchboard.Principal, id string) (switchboard.WorkflowRun, error) {
	run, _, err := e.store.WorkflowRun(ctx, p.OrgID, id)
	if err != nil {
		return run, err
	}
	var done bool
	err = e.store.InTx(ctx, func(tx sqlstore.Tx) error {
		if done, err = sqlstore.FinishRun(ctx, tx, p.OrgID, id, switchboard.RunCanceled, nil, e.now()); err != nil || !done {
			return err
		}
		if err := sqlstore.CancelSteps(ctx, tx, id, e.now()); err != nil {
			return err
		}
		return sqlstore.AppendAuditTx(ctx, tx, []switchboard.AuditEntry{e.actorEntry(p, e.runEntry(run, switchboard.RunCanceled, ""))})
	})
	if err != nil {
		return run, err
	}
	if !done {
		return run, &switchboard.Error{Code: switchboard.CodeConflict,
			Detail: fmt.Sprintf("run %s is %s, not running: only a running run can be cancelled", id, run.Status)}
	}
	e.m.run(run.Workflow, switchboard.RunCanceled)
	run, _, err = e.store.WorkflowRun(ctx, p.OrgID, id)
	return run, err
}

// Retry runs a failed or cancelled run again from the step where it
// stopped, with the outputs of the steps that finished before it, fresh
// attempts and its clock restarted.
func (e *Engine) Retry(ctx context.Context, p *switchboard.Principal, id string) (switchboard.WorkflowRun, error) {
	run, _, err := e.store.WorkflowRun(ctx, p.OrgID, id)
	if err != nil {
		return run, err
	}
	_, w, err := e.findWorkflow(ctx, p.OrgID, run.Workflow)
	if err != nil {
		return run, err
	}
	var done bool
	err = e.store.InTx(ctx, func(tx sqlstore.Tx) error {
		if done, err = sqlstore.RestartRun(ctx, tx, p.OrgID, id, e.now()); err != nil || !done {
			return err
		}
		last, status, seq, err := sqlstore.LastStep(ctx, tx, id)
		if err != nil {
			// No step ran: start again from the trigger's transitions.
			input, _ := jsonv.Decode(run.Input)
			if last = appdef.Next(w.Start, stepContext(input, nil)); last == "" {
				_, err := sqlstore.FinishRun(ctx, tx, p.OrgID, id, switchboard.RunSucceeded, nil, e.now())
				return err
			}
		} else if status == switchboard.StepSucceeded {
			return &switchboard.Error{Code: switchboard.CodeConflict, Detail: "the run's last step succeeded: there is nothing to retry"}
		}
		return e.queueStep(ctx, tx, p.OrgID, id, seq+1, last)
	})
	if err != nil {
		return run, err
	}
	if !done {
		return run, &switchboard.Error{Code: switchboard.CodeConflict,
			Detail: fmt.Sprintf("run %s is %s: only a failed or cancelled run can be retried", id, run.Status)}
	}
	e.m.run(run.Workflow, switchboard.RunRunning)
	run, _, err = e.store.WorkflowRun(ctx, p.OrgID, id)
	return run, err
}

// actorEntry records who asked for a change to a run.
func (e *Engine) actorEntry(p *switchboard.Principal, entry switchboard.AuditEntry) switchboard.AuditEntry {
	entry.ActorID, entry.ActorName, entry.Via = p.KeyID, p.KeyName, ""
	return entry
}
