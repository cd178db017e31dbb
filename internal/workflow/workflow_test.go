package workflow_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/server"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// fastFlows retries within milliseconds, so that a test sees five attempts
// and the error case at once.
var fastFlows = server.WorkflowConfig{RetryBase: 5 * time.Millisecond, FetchPollInterval: workflow.DefaultFetchPollInterval}

// upstream is the store's API of the documented chain: refunds, and the
// notifications the command sends. It records every request.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	// hold, when set, blocks requests to that path until it is closed.
	hold     map[string]chan struct{}
	failWith map[string]int
}

type recorded struct {
	Method, Path, Key, Auth string
	Body                    string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{hold: map[string]chan struct{}{}, failWith: map[string]int{}}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, recorded{Method: r.Method, Path: r.URL.Path, Key: r.Header.Get("Idempotency-Key"),
			Auth: r.Header.Get("Authorization"), Body: string(body)})
		hold, status := u.hold[r.URL.Path], u.failWith[r.URL.Path]
		u.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			w.WriteHeader(status)
			fmt.Fprint(w, `{"message": "the store is down"}`)
			return
		}
		switch {
		case strings.HasPrefix(r.URL.Path, "/orders/"):
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id": %q, "status": "REFUNDED"}`, strings.TrimPrefix(r.URL.Path, "/orders/"))
		case strings.HasPrefix(r.URL.Path, "/tag/"):
			fmt.Fprint(w, "tagged")
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok": true}`)
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) to(path string) []recorded {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []recorded
	for _, r := range u.requests {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (u *upstream) set(path string, status int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.failWith[path] = status
}

func mustDefinition(t testing.TB, name, upstreamURL string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(data), "http://127.0.0.1:8089", upstreamURL)
}

// deliver posts a body to a hook URL and returns the status and answer.
func deliver(t testing.TB, url, contentType, body string, header map[string]string) (int, client.Delivered) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d client.Delivered
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &d)
	if resp.StatusCode != http.StatusAccepted {
		t.Logf("delivery answered %d: %s", resp.StatusCode, data)
	}
	return resp.StatusCode, d
}

// orderflows starts an instance on store (nil: SQLite) with the
// orderflows test app registered for org acme against a fresh upstream,
// and lists the app's hooks.
func orderflows(t *testing.T, store switchboard.Store) (*upstream, *apitest.Env, *client.Client, []client.Hook) {
	t.Helper()
	up := newUpstream(t)
	env := apitest.New(t, apitest.Options{Store: store, Outbound: outbound.Config{AllowPrivateNetworks: true}, Workflows: fastFlows})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, mustDefinition(t, "orderflows.json", up.URL))
	hooks, err := admin.Hooks(context.Background(), "orderflows")
	if err != nil {
		t.Fatal(err)
	}
	return up, env, admin, hooks
}

// mustFinish waits for a run to end and returns it with its steps.
func mustFinish(t testing.TB, c *client.Client, id string) *client.WorkflowRun {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		run, err := c.WorkflowRun(context.Background(), id)
		if err != nil {
			t.Fatalf("get run %s: %v", id, err)
		}
		if run.Finished() {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s after 30s: %+v", id, run.Status, run.Steps)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stepIDs(r *client.WorkflowRun) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.ID+":"+s.Status)
	}
	return out
}

func hookURL(t testing.TB, hooks []client.Hook, local string) client.Hook {
	t.Helper()
	for _, h := range hooks {
		if strings.HasSuffix(h.EventName, "."+local) {
			return h
		}
	}
	t.Fatalf("no hook %s in %+v", local, hooks)
	return client.Hook{}
}

func jsonEq(t testing.TB, want string, got json.RawMessage) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func pgStore(t *testing.T) switchboard.Store {
	u := pgtest.Schema(t)
	s, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestDocumentedChain runs the documented example end to end, in the seed
// platform's syntax, on both stores.
func TestDocumentedChain(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testChain(t, nil)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testChain(t, pgStore(t))
	})
}

func testChain(t *testing.T, store switchboard.Store) {
	up, env, admin, hooks := orderflows(t, store)
	ctx := context.Background()
	update, note := hookURL(t, hooks, "order.update"), hookURL(t, hooks, "order.note")
	if update.Type != "form" || update.Secret != "" || note.Type != "web" || !strings.HasPrefix(note.Secret, "whsec_") {
		t.Fatalf("hooks %+v", hooks)
	}
	again, _ := admin.Hooks(ctx, "orderflows")
	if hookURL(t, again, "order.note").Secret != "" || hookURL(t, again, "order.update").URL != update.URL {
		t.Errorf("listing again changed the hooks or showed the secret again: %+v", again)
	}

	t.Run("a cancelled order is refunded and the customer told", func(t *testing.T) {
		status, d := deliver(t, update.URL, "application/x-www-form-urlencoded", "id=ord_1&status=cancelled&amount=12.50", nil)
		if status != http.StatusAccepted || len(d.Runs) != 1 || !strings.HasPrefix(d.ID, "evt_") {
			t.Fatalf("delivery: %d %+v", status, d)
		}
		run := mustFinish(t, admin, d.Runs[0])
		if diff := cmp.Diff([]string{"refund:succeeded", "notify:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
			t.Fatalf("run %s (-want +got):\n%s", run.Status, diff)
		}
		jsonEq(t, `{"orderId": "ord_1", "status": "cancelled", "amount": 12.5}`, run.Input)
		jsonEq(t, `{"orderId": "ord_1"}`, run.Steps[0].Params)
		jsonEq(t, `{"args": {"orderId": "ord_1"}, "body": {"status": "REFUNDED", "text": "Order ord_1 is refunded"}}`, run.Steps[1].Params)
		refunds := up.to("/orders/ord_1")
		if len(refunds) != 1 || refunds[0].Key != run.ID+".refund" || refunds[0].Auth != "Bearer test-token" || refunds[0].Method != "POST" {
			t.Errorf("refund requests %+v", refunds)
		}
		notes := up.to("/notify/ord_1")
		if len(notes) != 1 || notes[0].Key != run.ID+".notify" {
			t.Errorf("notify requests %+v", notes)
		}
		jsonEq(t, `{"status": "REFUNDED", "text": "Order ord_1 is refunded"}`, json.RawMessage(notes[0].Body))
	})

	t.Run("a condition routes a shipped order through a branch-only step", func(t *testing.T) {
		_, d := deliver(t, update.URL, "application/json", `{"id": "ord_2", "status": "shipped", "amount": "250"}`, nil)
		run := mustFinish(t, admin, d.Runs[0])
		if diff := cmp.Diff([]string{"review:succeeded", "notifyReview:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
			t.Fatalf("run %s (-want +got):\n%s", run.Status, diff)
		}
		if run.Steps[0].Output != nil {
			t.Errorf("the branch-only step has output %s", run.Steps[0].Output)
		}
		jsonEq(t, `{"status": "shipped", "review": true}`, json.RawMessage(up.to("/notify/ord_2")[0].Body))

		_, d = deliver(t, update.URL, "application/json", `{"id": "ord_3", "status": "shipped", "amount": 5}`, nil)
		run = mustFinish(t, admin, d.Runs[0])
		if diff := cmp.Diff([]string{"review:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
			t.Errorf("a small order: run %s (-want +got):\n%s", run.Status, diff)
		}
	})

	t.Run("an upstream 500 is retried, then goes to the error case", func(t *testing.T) {
		up.set("/orders/ord_fail", 500)
		_, d := deliver(t, update.URL, "application/json", `{"id": "ord_fail", "status": "cancelled"}`, nil)
		run := mustFinish(t, admin, d.Runs[0])
		if diff := cmp.Diff([]string{"refund:failed", "alert:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
			t.Fatalf("run %s (-want +got):\n%s", run.Status, diff)
		}
		if run.Steps[0].Attempts != 5 {
			t.Errorf("refund attempts %d, want 5", run.Steps[0].Attempts)
		}
		var e struct {
			Code   string
			Status int
			Body   map[string]any
		}
		_ = json.Unmarshal(run.Steps[0].Error, &e)
		if e.Code != "upstream_error" || e.Status != 500 || e.Body["message"] != "the store is down" {
			t.Errorf("the step's error %s", run.Steps[0].Error)
		}
		tries := up.to("/orders/ord_fail")
		if len(tries) != 5 {
			t.Errorf("%d attempts reached the upstream, want 5", len(tries))
		}
		for _, r := range tries {
			if r.Key != run.ID+".refund" {
				t.Errorf("an attempt sent Idempotency-Key %q, want %s.refund", r.Key, run.ID)
			}
		}
		if len(up.to("/notify/alert-ord_fail")) != 1 {
			t.Errorf("the error case's step did not run")
		}
	})

	t.Run("a client error fails the run; retry runs it from the failed step", func(t *testing.T) {
		up.set("/orders/ord_bad", 400)
		run, err := admin.StartRun(ctx, "orderflows.refundCancelled", map[string]any{"orderId": "ord_bad", "status": "cancelled"})
		if err != nil {
			t.Fatal(err)
		}
		run = mustFinish(t, admin, run.ID)
		if run.Status != "failed" || run.Steps[0].Attempts != 1 {
			t.Fatalf("run %s, steps %+v", run.Status, run.Steps)
		}
		up.set("/orders/ord_bad", 0)
		if _, err := admin.RetryRun(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		run = mustFinish(t, admin, run.ID)
		if diff := cmp.Diff([]string{"refund:failed", "refund:succeeded", "notify:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
			t.Errorf("retried run %s (-want +got):\n%s", run.Status, diff)
		}
		if _, err := admin.RetryRun(ctx, run.ID); apiCode(err) != "conflict" {
			t.Errorf("retrying a succeeded run: %v, want conflict", err)
		}
	})

	t.Run("cancel stops a run after its step in flight", func(t *testing.T) {
		hold := make(chan struct{})
		up.mu.Lock()
		up.hold["/orders/ord_slow"] = hold
		up.mu.Unlock()
		run, err := admin.StartRun(ctx, "kustomer.app.orderflows.refundCancelled", map[string]any{"orderId": "ord_slow", "status": "cancelled"})
		if err != nil {
			t.Fatal(err)
		}
		for len(up.to("/orders/ord_slow")) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		if _, err := admin.CancelRun(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
		close(hold)
		run = mustFinish(t, admin, run.ID)
		time.Sleep(100 * time.Millisecond)
		run, _ = admin.WorkflowRun(ctx, run.ID)
		if run.Status != "canceled" || len(up.to("/notify/ord_slow")) != 0 {
			t.Errorf("cancelled run %s, steps %v", run.Status, stepIDs(run))
		}
		if _, err := admin.CancelRun(ctx, run.ID); apiCode(err) != "conflict" {
			t.Errorf("cancelling again: %v, want conflict", err)
		}
	})

	t.Run("a web hook needs its secret; an event with no trigger is steps.1", func(t *testing.T) {
		body := `{"orderId": "ord_7", "note": "call me"}`
		if status, _ := deliver(t, note.URL, "application/json", body, nil); status != http.StatusUnauthorized {
			t.Errorf("no secret: %d, want 401", status)
		}
		if status, _ := deliver(t, note.URL, "application/json", body, map[string]string{"Authorization": "Bearer wrong"}); status != http.StatusUnauthorized {
			t.Errorf("a wrong secret: %d, want 401", status)
		}
		mac := hmac.New(sha256.New, []byte(note.Secret))
		mac.Write([]byte(body))
		status, d := deliver(t, note.URL, "application/json", body, map[string]string{"X-Switchboard-Signature": "sha256=" + hex.EncodeToString(mac.Sum(nil))})
		if status != http.StatusAccepted {
			t.Fatalf("signed: %d", status)
		}
		run := mustFinish(t, admin, d.Runs[0])
		if run.Status != "succeeded" {
			t.Fatalf("run %s %v", run.Status, stepIDs(run))
		}
		var ev struct {
			ID         string
			Type       string
			Attributes struct {
				Data    map[string]any
				Headers map[string]string
				Hook    string
			}
		}
		_ = json.Unmarshal(run.Input, &ev)
		if ev.Type != "hook_event" || ev.Attributes.Data["note"] != "call me" || ev.Attributes.Hook != note.ID || ev.ID != d.ID {
			t.Errorf("the event as steps.1: %s", run.Input)
		}
		if _, leaked := ev.Attributes.Headers["x-switchboard-signature"]; leaked {
			t.Errorf("the event keeps the signature header")
		}
		jsonEq(t, `{"note": "call me", "hook": "`+note.ID+`"}`, json.RawMessage(up.to("/notify/ord_7")[0].Body))
		status, _ = deliver(t, note.URL, "application/json", body, map[string]string{"Authorization": "Bearer " + note.Secret})
		if status != http.StatusAccepted {
			t.Errorf("bearer: %d", status)
		}
	})

	t.Run("a repeated Idempotency-Key is the same event", func(t *testing.T) {
		h := map[string]string{"Idempotency-Key": "delivery-42"}
		_, first := deliver(t, update.URL, "application/json", `{"id": "ord_4", "status": "shipped"}`, h)
		_, second := deliver(t, update.URL, "application/json", `{"id": "ord_4", "status": "shipped"}`, h)
		if first.ID == "" || second.ID != first.ID || !second.Duplicate || len(second.Runs) != 0 || len(first.Runs) != 1 {
			t.Errorf("first %+v, second %+v", first, second)
		}
	})

	t.Run("a body over 400 KB is refused", func(t *testing.T) {
		big := `{"id": "` + strings.Repeat("x", 401<<10) + `"}`
		if status, _ := deliver(t, update.URL, "application/json", big, nil); status != http.StatusRequestEntityTooLarge {
			t.Errorf("big body: %d, want 413", status)
		}
	})

	t.Run("regenerate replaces the URL and the secret", func(t *testing.T) {
		h, err := admin.RegenerateHook(ctx, "orderflows", "order.note")
		if err != nil {
			t.Fatal(err)
		}
		if h.URL == note.URL || h.Secret == "" || h.Secret == note.Secret {
			t.Fatalf("regenerated %+v", h)
		}
		if status, _ := deliver(t, note.URL, "application/json", `{}`, map[string]string{"Authorization": "Bearer " + note.Secret}); status != http.StatusNotFound {
			t.Errorf("the old URL: %d, want 404", status)
		}
		if status, _ := deliver(t, h.URL, "application/json", `{}`, map[string]string{"Authorization": "Bearer " + h.Secret}); status != http.StatusAccepted {
			t.Errorf("the new URL: %d", status)
		}
	})

	t.Run("history, audit and metrics", func(t *testing.T) {
		runs, _, err := admin.WorkflowRuns(ctx, client.RunQuery{Workflow: "orderflows.refundCancelled", Status: "succeeded"})
		if err != nil || len(runs) < 4 {
			t.Fatalf("runs %d, %v", len(runs), err)
		}
		page, next, err := admin.WorkflowRuns(ctx, client.RunQuery{Limit: 2})
		if err != nil || len(page) != 2 || next == "" {
			t.Fatalf("page %d next %q %v", len(page), next, err)
		}
		more, _, _ := admin.WorkflowRuns(ctx, client.RunQuery{Limit: 2, Cursor: next})
		if len(more) == 0 || more[0].ID == page[1].ID {
			t.Errorf("the second page repeats the first")
		}
		entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, e := range entries {
			kinds[e.Event]++
		}
		if kinds["workflow_run"] == 0 || kinds["workflow_step"] == 0 {
			t.Errorf("audit events %v", kinds)
		}
		resp, err := http.Get(env.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, s := range []string{`switchboard_workflow_runs_total{status="succeeded",workflow="kustomer.app.orderflows_acme.refundCancelled"}`,
			"switchboard_workflow_step_duration_seconds_bucket", "switchboard_workflow_queue_depth", `switchboard_hook_deliveries_total{outcome="duplicate"} 1`} {
			if !bytes.Contains(m, []byte(s)) {
				t.Errorf("metrics lack %s", s)
			}
		}
	})

	t.Run("tenancy", func(t *testing.T) {
		other := env.Org(t, "globex")
		runs, _, _ := admin.WorkflowRuns(ctx, client.RunQuery{Limit: 1})
		if _, err := other.WorkflowRun(ctx, runs[0].ID); apiCode(err) != "not_found" {
			t.Errorf("another org's run: %v, want not_found", err)
		}
		if list, _, err := other.WorkflowRuns(ctx, client.RunQuery{}); err != nil || len(list) != 0 {
			t.Errorf("another org lists %d runs, %v", len(list), err)
		}
		if _, err := other.Hooks(ctx, "orderflows_acme"); apiCode(err) != "not_found" {
			t.Errorf("another org's hooks: %v, want not_found", err)
		}
		if _, err := other.StartRun(ctx, "kustomer.app.orderflows_acme.refundCancelled", nil); apiCode(err) != "not_found" {
			t.Errorf("another org starts a run: %v, want not_found", err)
		}
		if _, err := other.CancelRun(ctx, runs[0].ID); apiCode(err) != "not_found" {
			t.Errorf("another org cancels a run: %v, want not_found", err)
		}
		if err := admin.Uninstall(ctx, "orderflows"); err != nil {
			t.Fatal(err)
		}
		if status, _ := deliver(t, update.URL, "application/json", `{"id": "x"}`, nil); status != http.StatusNotFound {
			t.Errorf("the hook of an uninstalled app: %d, want 404", status)
		}
		if status, _ := deliver(t, env.URL+"/v1/hooks/hk_nope", "application/json", `{}`, nil); status != http.StatusNotFound {
			t.Errorf("an unknown hook: %d, want 404", status)
		}
	})
}

func apiCode(err error) string {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

// A workflow exported from the seed platform's editor registers and runs,
// its meta, appVersion and builder-made ids kept.
func TestEditorExport(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}, Workflows: fastFlows})
	ctx := context.Background()
	if _, err := env.Operator.RegisterApp(ctx, []byte(mustDefinition(t, "editorflows.json", up.URL)), true); err != nil {
		t.Fatal(err)
	}
	admin := env.Org(t, "initech")
	if err := admin.Install(ctx, "editorflows", ""); err != nil {
		t.Fatal(err)
	}
	flows, err := admin.Workflows(ctx)
	if err != nil || len(flows) != 1 || !strings.Contains(string(flows[0].Definition), `"builderVersion":3`) {
		t.Fatalf("workflows %+v %v", flows, err)
	}
	hooks, err := admin.Hooks(ctx, "editorflows")
	if err != nil {
		t.Fatal(err)
	}
	_, d := deliver(t, hooks[0].URL, "application/json", `{"id": "o9", "total": "42.9"}`, nil)
	run := mustFinish(t, admin, d.Runs[0])
	if diff := cmp.Diff([]string{"SkXq2kPnz:succeeded", "HyZ-3kDhf:succeeded"}, stepIDs(run)); diff != "" || run.Status != "succeeded" {
		t.Fatalf("run %s (-want +got):\n%s", run.Status, diff)
	}
	tags := up.to("/tag/o9")
	if len(tags) != 1 || tags[0].Method != "PUT" {
		t.Fatalf("tag requests %+v", tags)
	}
	jsonEq(t, `{"tag": "new", "total": 42}`, json.RawMessage(tags[0].Body))
}

// A hook's URL is its credential: no log line holds its id, nor a web
// hook's secret.
func TestHookCredentialsNotLogged(t *testing.T) {
	t.Parallel()
	_, env, _, hooks := orderflows(t, nil)
	note := hookURL(t, hooks, "order.note")
	body := `{"orderId": "ord_1", "note": "x"}`
	if status, _ := deliver(t, note.URL, "application/json", body, map[string]string{"Authorization": "Bearer " + note.Secret}); status != http.StatusAccepted {
		t.Fatalf("delivery %d", status)
	}
	deliver(t, note.URL, "application/json", body, map[string]string{"Authorization": "Bearer wrong"})
	logs := env.Logs.String()
	if !strings.Contains(logs, `"route":"POST /v1/hooks/{hookId}"`) {
		t.Fatalf("no log line of the delivery:\n%s", logs)
	}
	for _, secret := range []string{note.ID, note.Secret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %s", secret)
		}
	}
}
