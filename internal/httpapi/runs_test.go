package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// upstream records what reaches it.
type upstream struct {
	mu       sync.Mutex
	requests []recorded
	count    atomic.Int64
}

type recorded struct {
	Method, Host, Path, Query string
	Header                    http.Header
	Body                      string
}

func (u *upstream) record(r *http.Request) recorded {
	b, _ := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)}
	u.mu.Lock()
	u.requests = append(u.requests, rec)
	u.mu.Unlock()
	u.count.Add(1)
	return rec
}

func (u *upstream) last(t *testing.T) recorded {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("the upstream received no request")
	}
	return u.requests[len(u.requests)-1]
}

func wantProblem(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a %d %s problem", err, status, code)
	}
	if ce.Status != status || ce.Code != code {
		t.Fatalf("error = %d %s (%s %+v), want %d %s", ce.Status, ce.Code, ce.Detail, ce.Errors, status, code)
	}
	return ce
}

func seedDefinition(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", "ecommstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const seedSecret = "s3cr3t-T0ken-for-ecommstore"

// seedEnv serves the commands seed's upstream host from a local TLS server.
func seedEnv(t *testing.T, h http.HandlerFunc) (*apitest.Env, *client.Client, *client.Client) {
	t.Helper()
	up, pool := apitest.TLSUpstream(t, h, "*.example-ecommstore.com")
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{
		AllowPrivateNetworks: true,
		RootCAs:              pool,
		Remap:                map[string]string{"dunder-mifflin.example-ecommstore.com:443": up.Listener.Addr().String()},
	}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, seedDefinition(t))
	if _, err := admin.PutSettings(context.Background(), "ecommstore", client.Settings{"default": {"authToken": seedSecret}}); err != nil {
		t.Fatal(err)
	}
	return env, admin, apitest.Key(t, admin, "agent")
}

// The commands seed end to end: its definition verbatim, its example run
// refused by the definition's own input schema, and a valid run whose
// upstream receives the converted body, the secret and the interpolated
// host, by the name spelled as in the seed's API example.
func TestCommandsSeed(t *testing.T) {
	t.Parallel()
	var up upstream
	env, admin, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) {
		up.record(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", "yes")
		io.WriteString(w, `{"foo": 12, "refunded": true, "id": "r_1"}`)
	})
	ctx := context.Background()

	t.Run("the seed's example run is refused by its input schema, both violations named, nothing sent", func(t *testing.T) {
		seedRun := `{"body": {"refundOption": true}, "headers": {"Authorization": "Bearer {{authToken}}"}, "args": {"store": "dunder-mifflin"}}`
		_, err := agent.Raw(ctx, "POST", "/v1/commands/ecommstore.store.refundOrder/run", json.RawMessage(seedRun))
		ce := wantProblem(t, err, 400, "invalid_input")
		var locs []string
		for _, p := range ce.Errors {
			locs = append(locs, p.Location+": "+p.Message)
		}
		want := []string{"/body/foo: must have required property 'foo'", "/body/refundOption: must NOT have additional properties"}
		if diff := cmp.Diff(want, locs); diff != "" {
			t.Errorf("violations (-want +got):\n%s", diff)
		}
		if up.count.Load() != 0 {
			t.Fatalf("the upstream received %d requests for a refused run", up.count.Load())
		}
	})

	var raw []byte
	answered := false // the valid run got an answer: the steps reading it and counting runs need one
	t.Run("a valid run with urlArgs sends the converted body, the secret and the interpolated host", func(t *testing.T) {
		// urlArgs as the Cards SDK sends them.
		validRun := `{"body": {"foo": 12}, "headers": {"Authorization": "Bearer {{authToken}}"}, "urlArgs": {"store": "dunder-mifflin"}}`
		var err error
		raw, err = agent.Raw(ctx, "POST", "/v1/commands/ecommstore.store.refundOrder/run", json.RawMessage(validRun))
		if err != nil {
			t.Fatal(err)
		}
		answered = true
		got := up.last(t)
		if got.Method != "POST" || got.Host != "dunder-mifflin.example-ecommstore.com" || got.Path != "/orders" {
			t.Errorf("upstream got %s %s%s", got.Method, got.Host, got.Path)
		}
		if got.Body != `{"foo":"12"}` {
			t.Errorf("upstream body = %s, want {\"foo\":\"12\"}", got.Body)
		}
		if a := got.Header.Get("Authorization"); a != "Bearer "+seedSecret {
			t.Errorf("upstream Authorization = %q", a)
		}
		if ct := got.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("upstream Content-Type = %q", ct)
		}
	})

	t.Run("the valid run's answer is converted by the output schema and keeps the rest", func(t *testing.T) {
		if !answered {
			t.Skip("the valid run gave no answer")
		}
		var res map[string]any
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		// The output schema converts foo to a string and keeps the rest.
		wantBody := map[string]any{"foo": "12", "refunded": true, "id": "r_1"}
		if diff := cmp.Diff(wantBody, res["body"]); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
		if res["status"] != float64(200) || res["headers"].(map[string]any)["x-upstream"] != "yes" {
			t.Errorf("response = %s", raw)
		}
		if _, ok := res["cache"].(string); !ok {
			t.Errorf("response has no cache member: %s", raw)
		}
	})

	t.Run("every spelling of the command's name reaches the same command", func(t *testing.T) {
		for _, name := range []string{"kustomer.app.ecommstore.store.refundOrder", "ecommstore.app.store.refundOrder",
			"ecommstore_acme.store.refundOrder", "kustomer.app.ecommstore_acme.store.refundOrder", "ecommstore_acme.app.store.refundOrder"} {
			if _, err := agent.RunCommand(ctx, name, client.RunRequest{Body: map[string]any{"foo": "x"}, Args: map[string]string{"store": "dunder-mifflin"}}); err != nil {
				t.Errorf("run %s: %v", name, err)
			}
			c, err := agent.Command(ctx, name)
			if err != nil || c.Name != "kustomer.app.ecommstore_acme.store.refundOrder" {
				t.Errorf("get %s = %+v, %v", name, c, err)
			}
		}
	})

	t.Run("the command list shows the one namespaced command", func(t *testing.T) {
		cmds, err := agent.Commands(ctx)
		if err != nil || len(cmds) != 1 || cmds[0].App != "ecommstore_acme" {
			t.Fatalf("commands = %+v, %v", cmds, err)
		}
	})

	t.Run("auditLogging puts every run in the audit log, never headers or bodies", func(t *testing.T) {
		if !answered {
			t.Skip("the valid run failed, so the audit log's count would mislead")
		}
		auditor := apitest.Key(t, admin, "auditor")
		entries, _, err := auditor.AuditLogs(ctx, client.AuditQuery{Command: "ecommstore.store.refundOrder"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 6 {
			t.Fatalf("audit entries = %d, want 6 (the refused run sent nothing and is not one)", len(entries))
		}
		e := entries[len(entries)-1]
		if e.Command != "kustomer.app.ecommstore_acme.store.refundOrder" || e.Args["store"] != "dunder-mifflin" || e.Method != "POST" ||
			e.URL != "https://dunder-mifflin.example-ecommstore.com/orders" || e.Status != 200 || e.Actor.Name != "test agent" || e.Org != "acme" {
			t.Errorf("audit entry = %+v", e)
		}
		page, _ := json.Marshal(entries)
		if strings.Contains(string(page), seedSecret) || strings.Contains(string(page), "foo") {
			t.Errorf("the audit log holds a secret or a body: %s", page)
		}
	})

	t.Run("an agent key cannot read the audit log", func(t *testing.T) {
		_, _, err := agent.AuditLogs(ctx, client.AuditQuery{})
		wantProblem(t, err, 403, "forbidden")
	})

	t.Run("the secret is in no server log line", func(t *testing.T) {
		if strings.Contains(env.Logs.String(), seedSecret) {
			t.Error("the secret is in the server log")
		}
	})
}

// An upstream that echoes the secret back: it is redacted everywhere.
func TestSecretEchoRedacted(t *testing.T) {
	t.Parallel()
	env, _, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"auth": r.Header.Get("Authorization"), "nested": []any{map[string]string{r.Header.Get("X-Key"): "v"}}})
	})
	raw, err := agent.Raw(context.Background(), "POST", "/v1/commands/ecommstore.store.refundOrder/run",
		json.RawMessage(`{"body": {"foo": "x"}, "headers": {"Authorization": "Bearer {{authToken}}", "X-Key": "{{authToken}}"}, "args": {"store": "dunder-mifflin"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), seedSecret) || !strings.Contains(string(raw), "Bearer [redacted]") {
		t.Fatalf("response = %s", raw)
	}
	if strings.Contains(env.Logs.String(), seedSecret) {
		t.Error("the secret is in the server log")
	}
}

// Args can never move a request to another origin, nor be outside
// permittedArgs; nothing is sent in either case.
func TestOriginInjection(t *testing.T) {
	t.Parallel()
	var up upstream
	_, admin, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) { up.record(r) })
	ctx := context.Background()
	for _, store := range []string{"evil.com#", "evil.com/", "x@evil.com", "evil.com?", "evil.com:443", "evil.com%2F", "evil.com%2f",
		"a.b", "", "Dunder", "dunder mifflin", "dunder-mifflin.example-ecommstore.com/x#", "\\evil.com", "evil.com\\"} {
		_, err := agent.RunCommand(ctx, "ecommstore.store.refundOrder", client.RunRequest{Body: map[string]any{"foo": "x"}, Args: map[string]string{"store": store}})
		if err == nil {
			t.Errorf("store %q: the run was sent", store)
			continue
		}
		ce := wantProblem(t, err, 400, "invalid_input")
		if len(ce.Errors) == 0 || ce.Errors[0].Location != "/args" {
			t.Errorf("store %q: problems %+v, want one at /args", store, ce.Errors)
		}
	}
	_, err := agent.RunCommand(ctx, "ecommstore.store.refundOrder", client.RunRequest{Body: map[string]any{"foo": "x"},
		Args: map[string]string{"store": "dunder-mifflin", "path": "/admin"}})
	ce := wantProblem(t, err, 400, "invalid_input")
	if len(ce.Errors) != 1 || ce.Errors[0].Location != "/args/path" {
		t.Errorf("unpermitted arg: problems %+v", ce.Errors)
	}
	if n := up.count.Load(); n != 0 {
		t.Fatalf("the upstream received %d requests", n)
	}
	// Another org cannot run, see or learn of this org's command.
	env2 := admin // same server: create another org through the operator
	_ = env2
}

func TestOtherOrgsCommand(t *testing.T) {
	t.Parallel()
	var up upstream
	env, _, _ := seedEnv(t, func(w http.ResponseWriter, r *http.Request) { up.record(r) })
	other := env.Org(t, "other")
	for _, name := range []string{"ecommstore.store.refundOrder", "ecommstore_acme.store.refundOrder", "kustomer.app.ecommstore_acme.store.refundOrder"} {
		_, err := other.RunCommand(context.Background(), name, client.RunRequest{Body: map[string]any{"foo": "x"}, Args: map[string]string{"store": "dunder-mifflin"}})
		ce := wantProblem(t, err, 404, "not_found")
		if strings.Contains(ce.Detail, "acme") && !strings.Contains(name, "acme") {
			t.Errorf("404 detail leaks the other org: %s", ce.Detail)
		}
		_, err = other.Command(context.Background(), name)
		wantProblem(t, err, 404, "not_found")
	}
	if cmds, _ := other.Commands(context.Background()); len(cmds) != 0 {
		t.Errorf("other org lists %+v", cmds)
	}
	if up.count.Load() != 0 {
		t.Fatal("the upstream was called")
	}
}

// Without --allow-private-networks, requests to loopback, private,
// link-local, metadata and unspecified addresses are refused and never sent.
func TestPrivateNetworksRefused(t *testing.T) {
	t.Parallel()
	var up upstream
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { up.record(r) }))
	t.Cleanup(local.Close)
	_, port, _ := net.SplitHostPort(local.Listener.Addr().String())
	env := apitest.New(t, apitest.Options{})
	admin := env.Org(t, "acme")
	hosts := []string{"127.0.0.1", "[::1]", "169.254.169.254", "0.0.0.0", "10.0.0.1", "localhost", "[::ffff:127.0.0.1]", "100.64.0.1"}
	var cmds []string
	for i, h := range hosts {
		cmds = append(cmds, `{"name":"c`+string(rune('a'+i))+`","url":"http://`+h+`:`+port+`/x","httpMethod":"get"}`)
	}
	apitest.Register(t, admin, `{"app":"ssrf","version":"1.0.0","title":"SSRF","commands":[`+strings.Join(cmds, ",")+`]}`)
	for i, h := range hosts {
		_, err := admin.RunCommand(context.Background(), "ssrf.c"+string(rune('a'+i)), client.RunRequest{})
		ce := wantProblem(t, err, 403, "upstream_forbidden")
		if !strings.Contains(ce.Detail, "allow-private-networks") {
			t.Errorf("%s: detail %q does not say how to allow it", h, ce.Detail)
		}
	}
	if n := up.count.Load(); n != 0 {
		t.Fatalf("the local server received %d requests", n)
	}
}

// Faults: each gives its clear error, and the server keeps serving.
func TestUpstreamFaults(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/cut", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.WriteHeader(200)
		io.WriteString(w, `{"partial":`)
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for i := 0; i < 50; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fine") })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	// The timeout leaves room to read an answer up to the size limit on a
	// loaded machine under -race (a 300 ms one was too short), and keeps
	// the hanging case well inside the 5 s bound below.
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 2 * time.Second}})
	admin := env.Org(t, "acme")
	var cmds []string
	for _, p := range []string{"hang", "cut", "huge", "loop", "ok", "500"} {
		cmds = append(cmds, `{"name":"`+p+`","url":"`+srv.URL+`/`+p+`","httpMethod":"get","auditLogging":true}`)
	}
	apitest.Register(t, admin, `{"app":"faults","version":"1.0.0","title":"Faults","commands":[`+strings.Join(cmds, ",")+`]}`)
	ctx := context.Background()
	tests := []struct {
		name   string
		cmd    string
		status int
		code   string
		detail string
	}{
		{"an upstream that never answers is a 504 upstream_timeout", "hang", 504, "upstream_timeout", "did not answer"},
		{"a connection cut mid-answer is a 502 upstream_unreachable", "cut", 502, "upstream_unreachable", "127.0.0.1"},
		{"an answer over the size limit is a 502 upstream_error", "huge", 502, "upstream_error", "exceeds"},
		{"a redirect loop is a 502 upstream_error", "loop", 502, "upstream_error", "redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := admin.RunCommand(ctx, "faults."+tt.cmd, client.RunRequest{})
			ce := wantProblem(t, err, tt.status, tt.code)
			if !strings.Contains(ce.Detail, tt.detail) {
				t.Errorf("%s: detail %q lacks %q", tt.cmd, ce.Detail, tt.detail)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("%s took %v", tt.cmd, d)
			}
			// The server keeps serving.
			res, err := admin.RunCommand(ctx, "faults.ok", client.RunRequest{})
			if err != nil || string(res.Body) != `"fine"` || res.Status != 200 {
				t.Fatalf("after %s: %+v, %v", tt.cmd, res, err)
			}
		})
	}
	t.Run("an upstream error status is an answer: 200 with its status", func(t *testing.T) {
		res, err := admin.RunCommand(ctx, "faults.500", client.RunRequest{})
		if err != nil || res.Status != 500 || !strings.Contains(string(res.Body), "boom") {
			t.Fatalf("500 upstream: %+v, %v", res, err)
		}
	})
	t.Run("a failed run is audited with its error code", func(t *testing.T) {
		entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{Command: "faults.hang"})
		if err != nil || len(entries) != 1 || entries[0].Error != "upstream_timeout" || entries[0].Status != 0 {
			t.Fatalf("audit of the timeout = %+v, %v", entries, err)
		}
	})
}

func TestRunRequestErrors(t *testing.T) {
	t.Parallel()
	_, _, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) {})
	ctx := context.Background()
	tests := []struct {
		body string
		loc  string
	}{
		{`{"body": {"foo": "x"}, "args": {"store": "dunder-mifflin"}, "urlargs": {}}`, "/urlargs"},
		{`{"headers": {"X": 1}, "args": {"store": "dunder-mifflin"}}`, "/headers/X"},
		{`{"headers": {"X": "{{#if}}"}, "args": {"store": "dunder-mifflin"}}`, "/headers/X"},
		{`{"body": {"foo": "{{> partial}}"}, "args": {"store": "dunder-mifflin"}}`, "/body/foo"},
		{`{"args": {"store": {"a": 1}}}`, "/args/store"},
		{`[1]`, ""},
	}
	for _, tt := range tests {
		_, err := agent.Raw(ctx, "POST", "/v1/commands/ecommstore.store.refundOrder/run", json.RawMessage(tt.body))
		ce := wantProblem(t, err, 400, "invalid_input")
		if tt.loc != "" && (len(ce.Errors) == 0 || ce.Errors[0].Location != tt.loc) {
			t.Errorf("%s: problems %+v, want at %s", tt.body, ce.Errors, tt.loc)
		}
	}
	_, err := agent.Raw(ctx, "POST", "/v1/commands/nope.nothing/run", json.RawMessage(`{}`))
	wantProblem(t, err, 404, "not_found")
	_, err = agent.Raw(ctx, "POST", "/v1/commands/ecommstore.store.refundOrder/run", json.RawMessage(`{"body": `))
	wantProblem(t, err, 400, "invalid_input")
}

// Audit entries page newest first with a cursor and filter by time.
func TestAuditPagination(t *testing.T) {
	t.Parallel()
	env, admin, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	ctx := context.Background()
	_ = env
	for i := 0; i < 7; i++ {
		if _, err := agent.RunCommand(ctx, "ecommstore.store.refundOrder", client.RunRequest{Body: map[string]any{"foo": "x"},
			Args: map[string]string{"store": "dunder-mifflin"}}); err != nil {
			t.Fatal(err)
		}
	}
	var all []client.AuditEntry
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := admin.AuditLogs(ctx, client.AuditQuery{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pages never end")
		}
		cursor = next
	}
	if len(all) != 7 {
		t.Fatalf("entries = %d, want 7", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.After(all[i-1].Time) {
			t.Fatal("entries are not newest first")
		}
	}
	page, _, err := admin.AuditLogs(ctx, client.AuditQuery{Since: time.Now().Add(time.Hour)})
	if err != nil || len(page) != 0 {
		t.Fatalf("since the future = %d, %v", len(page), err)
	}
	_, err = admin.Raw(ctx, "GET", "/v1/audit-logs?since=yesterday&limit=0", nil)
	ce := wantProblem(t, err, 400, "invalid_input")
	if len(ce.Errors) != 2 {
		t.Errorf("problems = %+v, want since and limit", ce.Errors)
	}
	// Another org sees none of them.
	other := env.Org(t, "other")
	if page, _, err := other.AuditLogs(ctx, client.AuditQuery{}); err != nil || len(page) != 0 {
		t.Fatalf("other org's audit log = %d, %v", len(page), err)
	}
}

// A caller's templates can send a secret whole, but not take it apart to
// have an echoing upstream return it piece by piece.
func TestSecretCannotBeTakenApart(t *testing.T) {
	t.Parallel()
	_, _, agent := seedEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"a": r.Header.Get("X-A"), "b": r.Header.Get("X-B"), "c": r.Header.Get("X-C")})
	})
	raw, err := agent.Raw(context.Background(), "POST", "/v1/commands/ecommstore.store.refundOrder/run", json.RawMessage(`{
		"body": {"foo": "{{authToken.length}}"},
		"headers": {"X-A": "{{lookup authToken 0}}", "X-B": "{{authToken.[1]}}", "X-C": "{{#each authToken}}{{this}}{{/each}}"},
		"args": {"store": "dunder-mifflin"}}`))
	if err != nil {
		t.Fatal(err)
	}
	var res struct{ Body map[string]string }
	json.Unmarshal(raw, &res)
	if diff := cmp.Diff(map[string]string{"a": "", "b": "", "c": ""}, res.Body); diff != "" {
		t.Errorf("pieces of the secret reached the upstream (-want +got):\n%s", diff)
	}
}
