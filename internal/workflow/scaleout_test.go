package workflow_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// Two instances on one PostgreSQL share the steps, and each step runs to
// completion once when nothing fails.
func TestTwoInstancesShareWork(t *testing.T) {
	t.Parallel()
	u := pgtest.Schema(t)
	open := func() *postgres.Store {
		s, err := postgres.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	s1, s2 := open(), open()
	up := newUpstream(t)
	opts := apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}, Workflows: fastFlows}
	opts.Store = s1
	a := apitest.New(t, opts)
	opts.Store = s2
	b := apitest.New(t, opts)
	ctx := context.Background()
	admin := a.Org(t, "acme")
	apitest.Register(t, admin, mustDefinition(t, "orderflows.json", up.URL))
	hooks, err := admin.Hooks(ctx, "orderflows")
	if err != nil {
		t.Fatal(err)
	}
	update := hookURL(t, hooks, "order.update")

	const n = 60
	var mu sync.Mutex
	var runs []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half the deliveries go to each instance's URL: the hook's id
			// is the same on both.
			url := update.URL
			if i%2 == 1 {
				url = b.URL + "/v1/hooks/" + update.ID
			}
			status, d := deliver(t, url, "application/json", fmt.Sprintf(`{"id": "ord_%d", "status": "cancelled"}`, i), nil)
			if status != http.StatusAccepted || len(d.Runs) != 1 {
				t.Errorf("delivery %d: %d %+v", i, status, d)
				return
			}
			mu.Lock()
			runs = append(runs, d.Runs[0])
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, id := range runs {
		if run := mustFinishWithin(t, admin, id, 60*time.Second); run.Status != "succeeded" || len(run.Steps) != 2 {
			t.Errorf("run %s %s: %v", id, run.Status, stepIDs(run))
		}
	}
	for i := range n {
		if got := len(up.to(fmt.Sprintf("/orders/ord_%d", i))); got != 1 {
			t.Errorf("order %d was refunded %d times, want once", i, got)
		}
		if got := len(up.to(fmt.Sprintf("/notify/ord_%d", i))); got != 1 {
			t.Errorf("order %d was notified %d times, want once", i, got)
		}
	}
	// River records which client worked each job: both instances did.
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var workers int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'switchboard_workflow_step'`).Scan(&workers); err != nil {
		t.Fatal(err)
	}
	if workers != 2 {
		t.Errorf("%d instances worked the steps, want 2", workers)
	}
	var dup int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM (SELECT run_id, step_id FROM workflow_steps GROUP BY run_id, step_id HAVING count(*) > 1) d`).Scan(&dup); err != nil {
		t.Fatal(err)
	}
	if dup != 0 {
		t.Errorf("%d steps ran more than once", dup)
	}
	// The steps' jobs were completed in their transactions by
	// completeJobSQL, not River's JobCompleteTx: River reads every one back
	// as completed, finalized, on its first attempt.
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := rc.JobList(ctx, river.NewJobListParams().Kinds("switchboard_workflow_step").
		States(rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
			rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled).First(10000))
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Jobs) != 2*n {
		t.Errorf("River lists %d step jobs, want %d", len(jobs.Jobs), 2*n)
	}
	for _, j := range jobs.Jobs {
		if j.State != rivertype.JobStateCompleted || j.FinalizedAt == nil || j.Attempt != 1 {
			t.Errorf("step job %d: state %s, finalized %v, attempt %d; want completed, finalized, attempt 1", j.ID, j.State, j.FinalizedAt, j.Attempt)
		}
	}
}

// On SQLite, River and the store share the one writer connection: under
// many concurrent deliveries, steps and other writes (settings), every run
// completes and nothing meets SQLITE_BUSY.
func TestSQLiteSharedWriterUnderLoad(t *testing.T) {
	t.Parallel()
	_, env, admin, hooks := orderflows(t, nil)
	ctx := context.Background()
	update := hookURL(t, hooks, "order.update")
	const n, senders = 200, 16
	runs := make(chan string, n)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := s; i < n; i += senders {
				status, d := deliver(t, update.URL, "application/json", fmt.Sprintf(`{"id": "ord_%d", "status": "cancelled"}`, i), nil)
				if status != http.StatusAccepted || len(d.Runs) != 1 {
					t.Errorf("delivery %d: %d", i, status)
					continue
				}
				runs <- d.Runs[0]
				if i%10 == 0 {
					if _, err := admin.PutSettings(ctx, "orderflows", map[string]map[string]any{"default": {"authToken": "test-token"}}); err != nil {
						t.Errorf("a settings write beside the steps: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	close(runs)
	for id := range runs {
		if run := mustFinishWithin(t, admin, id, 120*time.Second); run.Status != "succeeded" {
			t.Errorf("run %s %s: %v", id, run.Status, stepIDs(run))
		}
	}
	for _, bad := range []string{"SQLITE_BUSY", "database is locked"} {
		if logs := env.Logs.String(); strings.Contains(logs, bad) {
			t.Errorf("the logs mention %s", bad)
		}
	}
}
