package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// WorkflowTxStore is a store of workflow state with its transactions.
type WorkflowTxStore interface {
	TxStore
	switchboard.WorkflowStore
	EndStep(ctx context.Context, tx sqlstore.Tx, e sqlstore.StepEnd) (done, ended bool, err error)
	StartRuns(ctx context.Context, tx sqlstore.Tx, ev *switchboard.HookEvent, starts []sqlstore.RunStart) error
}

// RunWorkflows checks the workflow state of a store: hook URLs are made
// once per (org, app, event), found by id and regenerated; runs and steps
// written in a transaction are read back in order; a step ended twice
// writes what follows it once; and another org finds none of them
// (tenancy).
func RunWorkflows(t *testing.T, s WorkflowTxStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, org := range []string{"wfa", "wfb"} {
		if err := s.CreateOrg(ctx, switchboard.Org{ID: org, Name: org, CreatedAt: now},
			switchboard.Key{ID: "key_" + org, OrgID: org, Name: "admin", Role: switchboard.RoleAdmin, Hash: "hash-" + org, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("hooks", func(t *testing.T) {
		h := switchboard.HookEndpoint{ID: "hk_1", OrgID: "wfa", AppID: "app", EventName: "kustomer.app.app.e", Secret: []byte{1, 2, 3}, CreatedAt: now}
		stored, created, err := s.EnsureHooks(ctx, []switchboard.HookEndpoint{h})
		if err != nil || !created[0] || stored[0].ID != "hk_1" {
			t.Fatalf("EnsureHooks = %+v %v %v", stored, created, err)
		}
		h2 := h
		h2.ID = "hk_2"
		stored, created, err = s.EnsureHooks(ctx, []switchboard.HookEndpoint{h2})
		if err != nil || created[0] || stored[0].ID != "hk_1" || string(stored[0].Secret) != "\x01\x02\x03" {
			t.Fatalf("EnsureHooks again = %+v %v %v, want the first one kept", stored, created, err)
		}
		if got, err := s.HookEndpoint(ctx, "hk_1"); err != nil || got.OrgID != "wfa" {
			t.Fatalf("HookEndpoint = %+v %v", got, err)
		}
		if _, err := s.RegenerateHook(ctx, "wfb", "app", "kustomer.app.app.e", "hk_x", nil); !switchboard.IsNotFound(err) {
			t.Errorf("another org regenerates the hook: %v, want not found", err)
		}
		if got, err := s.RegenerateHook(ctx, "wfa", "app", "kustomer.app.app.e", "hk_3", nil); err != nil || got.ID != "hk_3" || got.Secret != nil {
			t.Fatalf("RegenerateHook = %+v %v", got, err)
		}
		if _, err := s.HookEndpoint(ctx, "hk_1"); !switchboard.IsNotFound(err) {
			t.Errorf("the old id: %v, want not found", err)
		}
	})
	t.Run("runs", func(t *testing.T) {
		err := s.InTx(ctx, func(tx sqlstore.Tx) error {
			for i, id := range []string{"run_1", "run_2"} {
				r := switchboard.WorkflowRun{ID: id, OrgID: "wfa", Workflow: "w", AppID: "app", AppVersion: "1.0.0", Status: switchboard.RunRunning,
					Input: []byte(`{"a":1}`), StartedAt: now.Add(time.Duration(i) * time.Second)}
				if err := sqlstore.InsertRun(ctx, tx, r); err != nil {
					return err
				}
			}
			for seq := 1; seq <= 2; seq++ {
				if err := sqlstore.InsertStep(ctx, tx, switchboard.WorkflowStep{RunID: "run_1", Seq: seq, OrgID: "wfa", StepID: "s", Status: switchboard.StepQueued, QueuedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.InTx(ctx, func(tx sqlstore.Tx) error {
			done, err := sqlstore.FinishStep(ctx, tx, switchboard.WorkflowStep{RunID: "run_1", Seq: 1, Status: switchboard.StepSucceeded, Output: []byte(`{"ok":true}`), Attempts: 1, StartedAt: now, FinishedAt: now})
			if err != nil || !done {
				t.Errorf("FinishStep = %v %v", done, err)
			}
			again, err := sqlstore.FinishStep(ctx, tx, switchboard.WorkflowStep{RunID: "run_1", Seq: 1, Status: switchboard.StepFailed})
			if err != nil || again {
				t.Errorf("FinishStep of a finished step = %v %v, want nothing recorded", again, err)
			}
			ended, err := sqlstore.FinishRun(ctx, tx, "wfb", "run_1", switchboard.RunSucceeded, nil, now)
			if err != nil || ended {
				t.Errorf("another org ends the run: %v %v", ended, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r, steps, err := s.WorkflowRun(ctx, "wfa", "run_1")
		if err != nil || r.Status != switchboard.RunRunning || string(r.Input) != `{"a":1}` || len(steps) != 2 ||
			steps[0].Status != switchboard.StepSucceeded || string(steps[0].Output) != `{"ok":true}` || steps[1].Status != switchboard.StepQueued {
			t.Fatalf("WorkflowRun = %+v %+v %v", r, steps, err)
		}
		if r, steps, err := s.WorkflowRun(ctx, "wfa", "run_2"); err != nil || r.ID != "run_2" || !r.StartedAt.Equal(now.Add(time.Second)) || steps != nil {
			t.Fatalf("WorkflowRun of a run without steps = %+v %+v %v, want the run and no steps", r, steps, err)
		}
		if _, _, err := s.WorkflowRun(ctx, "wfa", "run_none"); !switchboard.IsNotFound(err) {
			t.Errorf("a missing run: %v, want not found", err)
		}
		if _, _, err := s.WorkflowRun(ctx, "wfb", "run_1"); !switchboard.IsNotFound(err) {
			t.Errorf("another org's run: %v, want not found", err)
		}
		list, next, err := s.WorkflowRuns(ctx, "wfa", switchboard.RunFilter{Limit: 1})
		if err != nil || len(list) != 1 || list[0].ID != "run_2" || next == "" {
			t.Fatalf("WorkflowRuns page 1 = %+v %q %v", list, next, err)
		}
		list, next, err = s.WorkflowRuns(ctx, "wfa", switchboard.RunFilter{Limit: 1, Cursor: next})
		if err != nil || len(list) != 1 || list[0].ID != "run_1" || next != "" {
			t.Fatalf("WorkflowRuns page 2 = %+v %q %v", list, next, err)
		}
		if list, _, err := s.WorkflowRuns(ctx, "wfb", switchboard.RunFilter{}); err != nil || len(list) != 0 {
			t.Errorf("another org lists %d runs, %v", len(list), err)
		}
		if _, _, err := s.WorkflowRuns(ctx, "wfa", switchboard.RunFilter{Cursor: "nope"}); switchboard.ErrorCode(err) != switchboard.CodeInvalidInput {
			t.Errorf("a bad cursor: %v, want invalid_input", err)
		}
	})
	t.Run("end step", func(t *testing.T) { runEndStep(t, s, now) })
	t.Run("start runs", func(t *testing.T) { runStartRuns(t, s, now) })
	t.Run("events", func(t *testing.T) {
		var ids [3]string
		var dups [3]bool
		for i, at := range []time.Time{now, now.Add(time.Hour), now.Add(25 * time.Hour)} {
			err := s.InTx(ctx, func(tx sqlstore.Tx) error {
				var err error
				// As a delivery does: the key's check, then the event stored.
				ev := switchboard.HookEvent{ID: "evt_" + string(rune('a'+i)), OrgID: "wfa", HookID: "hk_3",
					IdempotencyKey: "k", ReceivedAt: at, Event: []byte(`{}`)}
				if ids[i], dups[i], err = sqlstore.DuplicateEvent(ctx, tx, ev); err != nil || dups[i] {
					return err
				}
				ids[i] = ev.ID
				return s.StartRuns(ctx, tx, &ev, nil)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if ids != [3]string{"evt_a", "evt_a", "evt_c"} || dups != [3]bool{false, true, false} {
			t.Errorf("events %v, duplicates %v: want the key to name evt_a for 24 hours, then a new event", ids, dups)
		}
	})
}

// runEndStep checks EndStep's gating: what follows a step (the next step,
// the run's end, the audit entries) is written only by the call that
// records the step, so a step ended twice (a job run again after its first
// run committed) writes its rows once, and a run ends only with a step that
// this call recorded.
func runEndStep(t *testing.T, s WorkflowTxStore, now time.Time) {
	ctx := context.Background()
	const workflow = "end-step"
	err := s.InTx(ctx, func(tx sqlstore.Tx) error {
		for _, id := range []string{"run_e", "run_f", "run_g"} {
			if err := sqlstore.InsertRun(ctx, tx, switchboard.WorkflowRun{ID: id, OrgID: "wfa", Workflow: workflow, AppID: "app", AppVersion: "1.0.0",
				Status: switchboard.RunRunning, Input: []byte(`{}`), StartedAt: now}); err != nil {
				return err
			}
			if err := sqlstore.InsertStep(ctx, tx, switchboard.WorkflowStep{RunID: id, Seq: 1, OrgID: "wfa", StepID: "a",
				Status: switchboard.StepQueued, QueuedAt: now}); err != nil {
				return err
			}
		}
		if _, err := sqlstore.FinishRun(ctx, tx, "wfa", "run_f", switchboard.RunCanceled, nil, now); err != nil {
			return err
		}
		_, err := sqlstore.FinishStep(ctx, tx, switchboard.WorkflowStep{RunID: "run_g", Seq: 1, Status: switchboard.StepSucceeded, Attempts: 1,
			StartedAt: now, FinishedAt: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(id, run string) switchboard.AuditEntry {
		return switchboard.AuditEntry{ID: id, OrgID: "wfa", Time: now, ActorID: "workflow", ActorName: "workflow " + workflow, Kind: "workflow",
			Name: workflow, Event: switchboard.AuditWorkflowStep, Args: map[string]string{"run": run}, DurationMs: 7, Via: "workflow"}
	}
	step := func(run string, seq int, status string) switchboard.WorkflowStep {
		return switchboard.WorkflowStep{RunID: run, Seq: seq, OrgID: "wfa", StepID: "a", Status: status, Params: []byte(`{"p":1}`),
			Output: []byte(`{"o":1}`), Attempts: 2, StartedAt: now, FinishedAt: now.Add(time.Millisecond)}
	}
	end := func(e sqlstore.StepEnd) (done, ended bool) {
		t.Helper()
		err := s.InTx(ctx, func(tx sqlstore.Tx) error {
			var err error
			done, ended, err = s.EndStep(ctx, tx, e)
			return err
		})
		if err != nil {
			t.Fatalf("EndStep(%s %d): %v", e.Step.RunID, e.Step.Seq, err)
		}
		return done, ended
	}
	runEnd := func(run string, seq int, stepID, runID string) sqlstore.StepEnd {
		re := entry(runID, run)
		re.Event = switchboard.AuditWorkflowRun
		return sqlstore.StepEnd{Step: step(run, seq, switchboard.StepFailed), StepEntry: entry(stepID, run),
			OrgID: "wfa", RunStatus: switchboard.RunFailed, RunError: []byte(`{"code":"x"}`), RunEntry: re}
	}

	// run_e: step 1 queues step 2, then step 2 ends the run; each twice.
	next := sqlstore.StepEnd{Step: step("run_e", 1, switchboard.StepSucceeded), StepEntry: entry("aud_e1", "run_e"),
		Next: &switchboard.WorkflowStep{RunID: "run_e", Seq: 2, OrgID: "wfa", StepID: "b", Status: switchboard.StepQueued, QueuedAt: now}}
	for i, want := range []bool{true, false} {
		if done, ended := end(next); done != want || ended {
			t.Errorf("EndStep with a next step, call %d = %v %v, want %v false", i+1, done, ended, want)
		}
	}
	last := runEnd("run_e", 2, "aud_e2", "aud_e3")
	for i, want := range []bool{true, false} {
		if done, ended := end(last); done != want || ended != want {
			t.Errorf("EndStep ending the run, call %d = %v %v, want %v %v", i+1, done, ended, want, want)
		}
	}
	// run_f was canceled: its step is recorded, the run keeps its end.
	if done, ended := end(runEnd("run_f", 1, "aud_f1", "aud_f2")); !done || ended {
		t.Errorf("EndStep of a canceled run's step = %v %v, want true false", done, ended)
	}
	// run_g's step was recorded before: nothing is written, the run stays
	// running.
	if done, ended := end(runEnd("run_g", 1, "aud_g1", "aud_g2")); done || ended {
		t.Errorf("EndStep of a recorded step = %v %v, want false false", done, ended)
	}

	r, steps, err := s.WorkflowRun(ctx, "wfa", "run_e")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != switchboard.RunFailed || string(r.Error) != `{"code":"x"}` || !r.FinishedAt.Equal(now.Add(time.Millisecond)) {
		t.Errorf("run_e = %+v, want failed with the step's error at its end", r)
	}
	wantSteps := []switchboard.WorkflowStep{step("run_e", 1, switchboard.StepSucceeded), step("run_e", 2, switchboard.StepFailed)}
	wantSteps[0].QueuedAt, wantSteps[1].QueuedAt, wantSteps[1].StepID = now, now, "b"
	if diff := cmp.Diff(wantSteps, steps); diff != "" {
		t.Errorf("run_e's steps (-want +got):\n%s", diff)
	}
	for id, want := range map[string]string{"run_f": switchboard.RunCanceled, "run_g": switchboard.RunRunning} {
		if r, _, err := s.WorkflowRun(ctx, "wfa", id); err != nil || r.Status != want {
			t.Errorf("%s = %q %v, want %q", id, r.Status, err, want)
		}
	}
	entries, _, err := s.AuditEntries(ctx, "wfa", switchboard.AuditFilter{Name: workflow, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.ID)
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"aud_e1", "aud_e2", "aud_e3", "aud_f1"}, ids); diff != "" {
		t.Errorf("audit entries (-want +got):\n%s", diff)
	}
	for _, e := range entries {
		if e.ID == "aud_e3" && (e.Event != switchboard.AuditWorkflowRun || e.Args["run"] != "run_e" || e.DurationMs != 7) {
			t.Errorf("the run's entry = %+v", e)
		}
	}
}

// runStartRuns checks that StartRuns stores an event, the runs it starts
// with their first steps, and the audit entry of a run that ended at once,
// all in the caller's transaction.
func runStartRuns(t *testing.T, s WorkflowTxStore, now time.Time) {
	ctx := context.Background()
	const workflow = "start-runs"
	ev := switchboard.HookEvent{ID: "evt_s", OrgID: "wfa", HookID: "hk_s", IdempotencyKey: "ks", ReceivedAt: now, Event: []byte(`{"e":1}`)}
	run := func(id, status string) switchboard.WorkflowRun {
		r := switchboard.WorkflowRun{ID: id, OrgID: "wfa", Workflow: workflow, AppID: "app", AppVersion: "1.0.0", EventID: ev.ID,
			Status: status, Input: []byte(`{"i":1}`), StartedAt: now}
		if status != switchboard.RunRunning {
			r.FinishedAt = now
		}
		return r
	}
	first := switchboard.WorkflowStep{RunID: "run_s1", Seq: 1, OrgID: "wfa", StepID: "a", Status: switchboard.StepQueued, QueuedAt: now}
	entry := switchboard.AuditEntry{ID: "aud_s2", OrgID: "wfa", Time: now, ActorID: "workflow", ActorName: "workflow " + workflow, Kind: "workflow",
		Name: workflow, Event: switchboard.AuditWorkflowRun, Args: map[string]string{"run": "run_s2"}, Via: "workflow"}
	starts := []sqlstore.RunStart{{Run: run("run_s1", switchboard.RunRunning), First: &first}, {Run: run("run_s2", switchboard.RunSucceeded), Entry: &entry}}
	if err := s.InTx(ctx, func(tx sqlstore.Tx) error { return s.StartRuns(ctx, tx, &ev, starts) }); err != nil {
		t.Fatal(err)
	}
	for i, want := range starts {
		r, steps, err := s.WorkflowRun(ctx, "wfa", want.Run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Run, r); diff != "" {
			t.Errorf("run %d (-want +got):\n%s", i, diff)
		}
		var wantSteps []switchboard.WorkflowStep
		if want.First != nil {
			wantSteps = []switchboard.WorkflowStep{*want.First}
		}
		if diff := cmp.Diff(wantSteps, steps); diff != "" {
			t.Errorf("run %d's steps (-want +got):\n%s", i, diff)
		}
	}
	entries, _, err := s.AuditEntries(ctx, "wfa", switchboard.AuditFilter{Name: workflow})
	if err != nil || len(entries) != 1 || entries[0].ID != "aud_s2" || entries[0].Args["run"] != "run_s2" {
		t.Errorf("audit entries = %+v %v, want the ended run's", entries, err)
	}
	again := ev
	again.ID, again.ReceivedAt = "evt_s2", now.Add(time.Minute)
	err = s.InTx(ctx, func(tx sqlstore.Tx) error {
		id, dup, err := sqlstore.DuplicateEvent(ctx, tx, again)
		if err == nil && (id != ev.ID || !dup) {
			t.Errorf("DuplicateEvent = %q %v, want the stored event", id, dup)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// No runs: the event alone.
	lone := switchboard.HookEvent{ID: "evt_s3", OrgID: "wfa", HookID: "hk_s", ReceivedAt: now, Event: []byte(`{}`)}
	if err := s.InTx(ctx, func(tx sqlstore.Tx) error { return s.StartRuns(ctx, tx, &lone, nil) }); err != nil {
		t.Fatal(err)
	}
}
