package workflow_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cli"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// childArgs, when set, makes the test binary `switchboard` itself: the
// kill test runs `serve` in a process of its own, to SIGKILL it.
const childArgs = "SWITCHBOARD_WORKFLOW_TEST_SERVE"

func TestMain(m *testing.M) {
	if a := os.Getenv(childArgs); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := cli.Run(context.Background(), args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const testSecretKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// serveProcess starts `switchboard serve` in a process of its own and
// waits for it to answer.
func serveProcess(t *testing.T, addr, data, dbURL string) *exec.Cmd {
	t.Helper()
	args := []string{"switchboard", "serve", "--addr", addr, "--data", data, "--allow-private-networks",
		"--upstream-timeout", "1s", "--workflow-step-timeout", "2s", "--workflow-rescue-after", "3s", "--workflow-retry-base", "10ms",
		"--log-level", "warn"}
	if dbURL != "" {
		args = append(args, "--database-url", dbURL)
	}
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(enc), "SWITCHBOARD_OPERATOR_KEY="+apitest.OperatorKey, "SWITCHBOARD_SECRET_KEY="+testSecretKey)
	log, err := os.Create(filepath.Join(data, fmt.Sprintf("serve-%d.log", time.Now().UnixNano())))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("serve did not answer within 30s: %v\n%s", err, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKillDuringStep kills the server (SIGKILL) while a step's upstream is
// holding the request, restarts it on the same store, and checks that the
// run completes, the step was sent again with the same Idempotency-Key, and
// no accepted event was lost.
func TestKillDuringStep(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testKill(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testKill(t, pgtest.Schema(t))
	})
}

func testKill(t *testing.T, dbURL string) {
	up := newUpstream(t)
	hold := make(chan struct{})
	up.mu.Lock()
	up.hold["/orders/ord_k"] = hold
	up.mu.Unlock()
	data, addr := t.TempDir(), freeAddr(t)
	first := serveProcess(t, addr, data, dbURL)
	base := "http://" + addr
	ctx := context.Background()
	op := client.New(base, apitest.OperatorKey, nil)
	org, err := op.CreateOrg(ctx, "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, org.AdminKey, nil)
	if _, err := admin.RegisterApp(ctx, []byte(mustDefinition(t, "orderflows.json", up.URL)), false); err != nil {
		t.Fatal(err)
	}
	hooks, err := admin.Hooks(ctx, "orderflows")
	if err != nil {
		t.Fatal(err)
	}
	update := hookURL(t, hooks, "order.update")

	// One run whose refund the upstream holds, and others around it.
	var runs []string
	status, d := deliver(t, update.URL, "application/json", `{"id": "ord_k", "status": "cancelled"}`, nil)
	if status != http.StatusAccepted {
		t.Fatalf("delivery %d", status)
	}
	runs = append(runs, d.Runs...)
	for i := range 10 {
		status, d := deliver(t, update.URL, "application/json", fmt.Sprintf(`{"id": "ord_%d", "status": "shipped", "amount": 500}`, i), nil)
		if status != http.StatusAccepted {
			t.Fatalf("delivery %d: %d", i, status)
		}
		runs = append(runs, d.Runs...)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(up.to("/orders/ord_k")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the held step never reached the upstream")
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	close(hold) // the upstream answers from now on

	serveProcess(t, addr, data, dbURL)
	for _, id := range runs {
		run := mustFinishWithin(t, admin, id, 90*time.Second)
		if run.Status != "succeeded" {
			t.Errorf("run %s %s: %v", id, run.Status, stepIDs(run))
		}
	}
	refunds := up.to("/orders/ord_k")
	if len(refunds) < 2 {
		t.Fatalf("the held step was sent %d times, want it sent again after the restart", len(refunds))
	}
	for _, r := range refunds {
		if r.Key != runs[0]+".refund" {
			t.Errorf("an attempt sent Idempotency-Key %q, want %s.refund", r.Key, runs[0])
		}
	}
	if n := len(up.to("/notify/ord_k")); n != 1 {
		t.Errorf("the step after the held one ran %d times, want 1", n)
	}
	list, _, err := admin.WorkflowRuns(ctx, client.RunQuery{Limit: 100})
	if err != nil || len(list) != len(runs) {
		t.Errorf("%d runs listed (%v), want %d: an accepted event was lost or doubled", len(list), err, len(runs))
	}
}

func mustFinishWithin(t *testing.T, c *client.Client, id string, d time.Duration) *client.WorkflowRun {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		run, err := c.WorkflowRun(context.Background(), id)
		if err == nil && run.Finished() {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s not finished after %s: %v %v", id, d, err, strings.Join(stepIDs(run), " "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
