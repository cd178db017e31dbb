package workflow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// work runs one execution of a step: it renders the params against the
// outputs so far, runs the action or command through the runner (with the
// run's Idempotency-Key), and then, in one transaction, records the result,
// queues the next step (or ends the run) and completes the job. A failure
// that may pass (timeout, unreachable, 429, 5xx) is returned to River,
// which retries it with backoff, until the last attempt, whose failure
// goes to the step's error cases.
func (e *Engine) work(ctx context.Context, job *river.Job[stepArgs]) error {
	a := job.Args
	start := e.now()
	run, steps, err := e.store.WorkflowRun(ctx, a.Org, a.Run)
	if switchboard.IsNotFound(err) {
		return nil // the run is gone: nothing to do
	}
	if err != nil {
		return err
	}
	var cur *switchboard.WorkflowStep
	outputs := jsonv.NewObject(len(steps))
	for i := range steps {
		st := &steps[i]
		if st.Seq == a.Seq {
			cur = st
		}
		if st.Status == switchboard.StepSucceeded && st.Output != nil {
			if v, err := jsonv.Decode(st.Output); err == nil {
				outputs.Set(st.StepID, v)
			}
		}
	}
	if cur == nil || run.Status != switchboard.RunRunning || (cur.Status != switchboard.StepQueued && cur.Status != switchboard.StepRetrying) {
		return e.completeOnly(ctx, job) // cancelled, finished, or done by an earlier run of this job
	}
	input, _ := jsonv.Decode(run.Input)
	sctx := stepContext(input, outputs)

	if start.Sub(run.StartedAt) > e.cfg.RunTimeout {
		return e.finish(ctx, job, run, cur, start, nil, nil, timeoutProblem(e.cfg.RunTimeout), "", "timeout")
	}
	inst, w, err := e.findWorkflow(ctx, run.OrgID, run.Workflow)
	var step *appdef.Step
	if err == nil {
		if step = w.Step(cur.StepID); step == nil {
			err = fmt.Errorf("step %q is no longer part of %s", cur.StepID, run.Workflow)
		}
	}
	if err != nil {
		p := problem(&switchboard.Error{Code: switchboard.CodeNotFound, Detail: "the workflow or its step is no longer installed: " + err.Error()})
		return e.finish(ctx, job, run, cur, start, nil, nil, p, "", string(switchboard.CodeNotFound))
	}
	_ = inst

	var params any = jsonv.NewObject(0)
	if step.Params != nil {
		params, _ = step.Params.Eval(sctx)
	}
	paramsJSON, _ := jsonv.Marshal(params)

	var output any
	var runErr error
	if step.Action != "" {
		rctx := outbound.WithIdempotencyKey(ctx, run.ID+"."+step.ID)
		output, runErr = e.execute(rctx, principal(run.OrgID, run.Workflow), step, params)
	}
	e.m.step(time.Since(start), runErr)
	if runErr != nil && retryable(runErr) && job.Attempt < job.MaxAttempts && ctx.Err() == nil {
		if err := e.store.RecordAttempt(ctx, run.ID, cur.Seq, job.Attempt, problem(runErr)); err != nil {
			e.log.Warn("record a workflow step's failed attempt", "run", run.ID, "step", step.ID, "err", err)
		}
		return runErr
	}
	if runErr != nil && ctx.Err() != nil {
		return ctx.Err() // stopping, or the attempt timed out: River runs it again
	}

	if runErr != nil {
		ectx := stepContext(input, outputs)
		ectx.Set("error", errorContext(runErr))
		next := appdef.Next(step.ErrorCases, ectx)
		code := string(switchboard.ErrorCode(runErr))
		if next == "" {
			return e.finish(ctx, job, run, cur, start, paramsJSON, nil, problem(runErr), "", code)
		}
		return e.finish(ctx, job, run, cur, start, paramsJSON, nil, problem(runErr), next, code)
	}
	var outJSON []byte
	if step.Action != "" {
		outJSON, _ = jsonv.Marshal(output)
		outputs.Set(step.ID, output)
		sctx = stepContext(input, outputs)
	}
	next := appdef.Next(step.Transitions, sctx)
	return e.finish(ctx, job, run, cur, start, paramsJSON, outJSON, nil, next, "")
}

// finish records a step's outcome in one transaction with what follows it
// (the next step's job, or the run's end) and the job's completion. A step
// that failed carries stepErr; next is "" when the run ends here, failed
// when stepErr is set and succeeded otherwise.
func (e *Engine) finish(ctx context.Context, job *river.Job[stepArgs], run switchboard.WorkflowRun, cur *switchboard.WorkflowStep, start time.Time,
	params, output, stepErr []byte, next, code string) error {
	now := e.now()
	st := *cur
	st.Params, st.Output, st.Error = params, output, stepErr
	st.Attempts, st.StartedAt, st.FinishedAt = job.Attempt, start, now
	st.Status = switchboard.StepSucceeded
	if stepErr != nil {
		st.Status = switchboard.StepFailed
	}
	runStatus := ""
	if next == "" {
		runStatus = switchboard.RunSucceeded
		if stepErr != nil {
			runStatus = switchboard.RunFailed
		}
	}
	stepEntry := switchboard.AuditEntry{ID: auditID(now), Time: now.UTC(), OrgID: run.OrgID, ActorID: "workflow", ActorName: "workflow " + run.Workflow,
		Event: AuditStepFinished, Kind: "workflow", Name: run.Workflow, Args: map[string]string{"run": run.ID, "step": st.StepID, "status": st.Status},
		DurationMs: now.Sub(start).Milliseconds(), Cache: runner.CacheNone, Error: code, Via: "workflow"}
	end := sqlstore.StepEnd{Step: st, StepEntry: stepEntry}
	if next != "" {
		// A run has one step in flight at a time, so the next execution is
		// this one's seq + 1.
		end.Next = &switchboard.WorkflowStep{RunID: run.ID, Seq: cur.Seq + 1, OrgID: run.OrgID, StepID: next,
			Status: switchboard.StepQueued, QueuedAt: now}
	} else {
		end.OrgID, end.RunStatus, end.RunEntry = run.OrgID, runStatus, e.runEntry(run, runStatus, code)
		if runStatus == switchboard.RunFailed {
			end.RunError = stepErr
		}
	}
	ended := false
	err := e.store.InTx(ctx, func(tx sqlstore.Tx) error {
		done, runEnded, err := e.store.EndStep(ctx, tx, end)
		if err != nil {
			return err
		}
		ended = runEnded
		if done && end.Next != nil {
			if err := e.q.insert(ctx, tx, stepArgs{Org: run.OrgID, Run: run.ID, Seq: end.Next.Seq}); err != nil {
				return err
			}
		}
		return e.q.complete(ctx, tx, job)
	})
	if err != nil {
		return err
	}
	if e.cfg.Committed != nil {
		e.cfg.Committed(run.ID, cur.Seq)
	}
	if ended {
		e.m.run(run.Workflow, runStatus)
	}
	return nil
}

// completeOnly completes a job that has nothing left to do.
func (e *Engine) completeOnly(ctx context.Context, job *river.Job[stepArgs]) error {
	return e.store.InTx(ctx, func(tx sqlstore.Tx) error { return e.q.complete(ctx, tx, job) })
}

// execute runs a step's action or command through the runner. A command
// step's params are its run request ({"body", "headers", "args"}) and its
// output its run document; an upstream status of 400 or more fails it, as
// it fails an action.
func (e *Engine) execute(ctx context.Context, p *switchboard.Principal, step *appdef.Step, params any) (any, error) {
	if !step.Command {
		out, err := e.run.RunAction(ctx, p, step.Action, params, "workflow")
		if err == nil || !step.Foreign || !switchboard.IsNotFound(err) {
			return out, err
		}
		// A dependency's component may be a command.
	}
	req := &runner.CommandRequest{Via: "workflow"}
	if body, ok := jsonv.Get(params, "body"); ok {
		req.Body, req.HasBody = body, true
	}
	if hs, ok := jsonv.Get(params, "headers"); ok {
		jsonv.Range(hs, func(k string, v any) bool {
			if s, ok := runner.ArgString(v); ok {
				req.Headers = append(req.Headers, runner.Header{Name: k, Value: s})
			}
			return true
		})
	}
	if args, ok := jsonv.Get(params, "args"); ok {
		req.Args = map[string]string{}
		jsonv.Range(args, func(k string, v any) bool {
			if s, ok := runner.ArgString(v); ok {
				req.Args[k] = s
			}
			return true
		})
	}
	ans, err := e.run.RunCommand(ctx, p, step.Action, req)
	if err != nil {
		return nil, err
	}
	doc, err := jsonv.Decode(ans.Bytes())
	if err != nil {
		return nil, switchboard.Internal(fmt.Errorf("decode a command's run document: %w", err))
	}
	status, _ := jsonv.Get(doc, "status")
	if code, ok := status.(interface{ Int64() (int64, error) }); ok {
		if n, _ := code.Int64(); n >= 400 {
			body, _ := jsonv.Get(doc, "body")
			return nil, &switchboard.Error{Code: switchboard.CodeUpstreamError, Detail: fmt.Sprintf("the upstream answered %d", n),
				Extra: map[string]any{"upstreamStatus": int(n), "upstreamBody": body}}
		}
	}
	return doc, nil
}

// retryable reports a failure that may pass: a timeout, a connection
// error, 429 or 5xx (SPEC 12), or the platform itself being unavailable
// or rate limited for a moment.
func retryable(err error) bool {
	switch switchboard.ErrorCode(err) {
	case switchboard.CodeUpstreamTimeout, switchboard.CodeUpstreamUnreachable, switchboard.CodeUnavailable, switchboard.CodeRateLimited:
		return true
	case switchboard.CodeUpstreamError:
		s := upstreamStatus(err)
		return s == http.StatusTooManyRequests || s >= 500
	}
	return false
}

func upstreamStatus(err error) int {
	var se *switchboard.Error
	if errors.As(err, &se) && se.Extra != nil {
		if s, ok := se.Extra["upstreamStatus"].(int); ok {
			return s
		}
	}
	return 0
}

// errorContext is /#error in error cases: code, status (the upstream's when
// it answered, else the problem's) and body (the upstream's, if any).
func errorContext(err error) *jsonv.Object {
	o := jsonv.NewObject(4)
	code := switchboard.ErrorCode(err)
	o.Set("code", string(code))
	status := code.Status()
	if s := upstreamStatus(err); s != 0 {
		status = s
	}
	o.Set("status", status)
	var se *switchboard.Error
	if errors.As(err, &se) {
		if se.Extra != nil {
			if b, ok := se.Extra["upstreamBody"]; ok {
				o.Set("body", b)
			}
		}
		o.Set("detail", se.Detail)
	}
	return o
}

// problem encodes a step's failure for the run history: the error context.
func problem(err error) []byte {
	if err == nil {
		return nil
	}
	b, _ := jsonv.Marshal(errorContext(err))
	return b
}
