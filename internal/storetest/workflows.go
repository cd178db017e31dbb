package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// WorkflowTxStore is a store of workflow state with its transactions.
type WorkflowTxStore interface {
	TxStore
	switchboard.WorkflowStore
}

// RunWorkflows checks the workflow state of a store: hook URLs are made
// once per (org, app, event), found by id and regenerated; runs and steps
// written in a transaction are read back in order; and another org finds
// none of them (tenancy).
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
	t.Run("events", func(t *testing.T) {
		var ids [3]string
		var dups [3]bool
		for i, at := range []time.Time{now, now.Add(time.Hour), now.Add(25 * time.Hour)} {
			err := s.InTx(ctx, func(tx sqlstore.Tx) error {
				var err error
				ids[i], dups[i], err = sqlstore.InsertEvent(ctx, tx, switchboard.HookEvent{ID: "evt_" + string(rune('a'+i)), OrgID: "wfa", HookID: "hk_3",
					IdempotencyKey: "k", ReceivedAt: at, Event: []byte(`{}`)})
				return err
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
