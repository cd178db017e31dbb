package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/server"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// measureEnv switches TestMeasure on: it prints the numbers of
// docs/performance.md ("Workflows against River's floor"). Timing belongs
// in measurements, not in pass/fail tests, so it asserts nothing about
// speed.
const measureEnv = "SWITCHBOARD_WORKFLOW_MEASURE"

const threeStepApp = `{
  "app": "bench", "version": "1.0.0", "title": "Three steps",
  "commands": [
    {"name": "one", "url": "UPSTREAM/one/{{id}}", "httpMethod": "post", "permittedArgs": ["id"]},
    {"name": "two", "url": "UPSTREAM/two/{{id}}", "httpMethod": "post", "permittedArgs": ["id"]},
    {"name": "three", "url": "UPSTREAM/three/{{id}}", "httpMethod": "post", "permittedArgs": ["id"]}
  ],
  "hooks": [{"eventName": "bench.event", "type": "form"}],
  "triggers": [{"eventName": "bench.event", "outputTemplate": {"id": "/#data.id"}}],
  "workflows": [{
    "name": "threeSteps",
    "trigger": {"eventName": "bench.event", "transitions": [{"target": "a"}]},
    "steps": [
      {"id": "a", "action": "one", "params": {"args": {"id": "/#steps.1.id"}}, "transitions": [{"target": "b"}]},
      {"id": "b", "action": "two", "params": {"args": {"id": "/#steps.a.body.id"}}, "transitions": [{"target": "c"}]},
      {"id": "c", "action": "three", "params": {"args": {"id": "/#steps.b.body.id"}}}
    ]
  }]
}`

func TestMeasure(t *testing.T) {
	if os.Getenv(measureEnv) == "" {
		t.Skip("set " + measureEnv + "=1 to measure hooks and workflow runs (docs/performance.md)")
	}
	stores := map[string]func(*testing.T) switchboard.Store{"sqlite": func(*testing.T) switchboard.Store { return nil }}
	if os.Getenv("SWITCHBOARD_TEST_POSTGRES_URL") != "" {
		stores["postgres"] = func(t *testing.T) switchboard.Store { return pgStore(t) }
	}
	for _, name := range []string{"sqlite", "postgres"} {
		open, ok := stores[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) { measure(t, name, open(t)) })
	}
}

func measure(t *testing.T, name string, store switchboard.Store) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": %q}`, r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
	}))
	defer up.Close()
	// committed holds when each step's transaction committed ("run/seq"),
	// for the hand-off gap measured as River's floor measures its own.
	var committed sync.Map
	env := apitest.New(t, apitest.Options{Store: store, Outbound: outbound.Config{AllowPrivateNetworks: true},
		Workflows: server.WorkflowConfig{RunTimeout: 10 * time.Minute, FetchPollInterval: workflow.DefaultFetchPollInterval,
			Committed: func(run string, seq int) { committed.Store(fmt.Sprintf("%s/%d", run, seq), time.Now()) }}})
	ctx := context.Background()
	admin := env.Org(t, "bench")
	apitest.Register(t, admin, strings.ReplaceAll(threeStepApp, "UPSTREAM", up.URL))
	hooks, err := admin.Hooks(ctx, "bench")
	if err != nil {
		t.Fatal(err)
	}
	url := hooks[0].URL
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	post := func(id string) (string, error) {
		resp, err := hc.Post(url, "application/x-www-form-urlencoded", strings.NewReader("id="+id))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var d client.Delivered
		if err := jsonDecode(resp, &d); err != nil || resp.StatusCode != http.StatusAccepted || len(d.Runs) != 1 {
			return "", fmt.Errorf("delivery %d: %v", resp.StatusCode, err)
		}
		return d.Runs[0], nil
	}
	// deliverAll posts n events from c clients and returns the run ids and
	// the time it took.
	deliverAll := func(prefix string, n, c int) ([]string, time.Duration) {
		ids := make([]string, n)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					id, err := post(fmt.Sprintf("%s%d", prefix, i))
					if err != nil {
						t.Error(err)
						return
					}
					ids[i] = id
				}
			}()
		}
		wg.Wait()
		return ids, time.Since(start)
	}
	// waitAll waits until no run is running, as the floor waits for its
	// chains' last links: one light query every 10 ms rather than a read
	// of each run, so that the waiting does not load the store it times;
	// then (outside the timed part) checks that every run succeeded.
	waitAll := func(ids []string) time.Time {
		deadline := time.Now().Add(10 * time.Minute)
		for {
			running, _, err := admin.WorkflowRuns(ctx, client.RunQuery{Status: "running", Limit: 1})
			if err == nil && len(running) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("runs not finished: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		end := time.Now()
		for _, id := range ids {
			if r, err := admin.WorkflowRun(ctx, id); err != nil || r.Status != "succeeded" {
				t.Fatalf("run %s: %v %v", id, r.Status, err)
			}
		}
		return end
	}
	// gaps returns, over the runs' consecutive steps, the time from one
	// step's end (its result taken, before its transaction) to the next
	// one's start, and from its transaction's commit to the next one's
	// start (River's floor's "gap").
	gaps := func(ids []string) (fromEnd, fromCommit []float64) {
		for _, id := range ids {
			r, err := admin.WorkflowRun(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i < len(r.Steps); i++ {
				next := r.Steps[i].StartedAt
				fromEnd = append(fromEnd, float64(next.Sub(*r.Steps[i-1].FinishedAt).Microseconds())/1000)
				if c, ok := committed.Load(fmt.Sprintf("%s/%d", id, r.Steps[i-1].Seq)); ok {
					fromCommit = append(fromCommit, float64(next.Sub(c.(time.Time)).Microseconds())/1000)
				}
			}
		}
		slices.Sort(fromEnd)
		slices.Sort(fromCommit)
		return fromEnd, fromCommit
	}

	// Warm up (connections, compiled definition, River's leadership).
	ids, _ := deliverAll("warm", 20, 4)
	waitAll(ids)

	// 1. Step overhead at light load: 20 runs, as the floor's 20 chains.
	ids, _ = deliverAll("light", 20, 20)
	waitAll(ids)
	light, lightCommit := gaps(ids)

	// 2. Three-step runs per second: 500 runs, as the floor's 500 chains,
	// from the first delivery to the last run's end.
	start := time.Now()
	ids, accept := deliverAll("load", 500, 32)
	runsPerSec := 500 / waitAll(ids).Sub(start).Seconds()
	loaded, loadedCommit := gaps(ids)

	fmt.Printf("\n### %s: hooks and three-step workflow runs (River FetchCooldown %v, FetchPollInterval %v)\n", name,
		env.Instance.Workflows.FetchCooldown(), env.Instance.Workflows.FetchPollInterval())
	fmt.Println("| metric | value |")
	fmt.Println("|---|---|")
	fmt.Printf("| hook deliveries accepted/s (500, 32 clients, runs working meanwhile) | %.0f |\n", 500/accept.Seconds())
	fmt.Printf("| three-step runs/s (500 runs, first delivery to last run's end) | %.1f |\n", runsPerSec)
	fmt.Printf("| step overhead p50 / p99 ms, 20 runs (one step's end to the next one's start) | %.1f / %.1f |\n", pct(light, 0.5), pct(light, 0.99))
	fmt.Printf("| hand-off gap p50 / p99 ms, 20 runs (a step's commit to the next one's start, as the floor's gap) | %.1f / %.1f |\n", pct(lightCommit, 0.5), pct(lightCommit, 0.99))
	fmt.Printf("| step overhead p50 / p99 ms, under the 500-run load | %.1f / %.1f |\n", pct(loaded, 0.5), pct(loaded, 0.99))
	fmt.Printf("| hand-off gap p50 / p99 ms, under the 500-run load | %.1f / %.1f |\n", pct(loadedCommit, 0.5), pct(loadedCommit, 0.99))
}

func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
