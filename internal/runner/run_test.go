package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

const (
	secret      = "s3cr3t-T0ken-for-shop"
	operatorKey = "runner-test-operator-key-0123456789abcdef"
)

// shopDef is the app every test installs. Its host is {{store}}.shop.test,
// which the outbound client sends to the fake upstream for store "acme".
const shopDef = `{"app":"shop","version":"1.0.0","title":"Shop",
"commands":[
	{"name":"refund","permittedArgs":["store","order"],"url":"http://{{store}}.shop.test/orders/{{order}}/refund",
		"httpMethod":"post","auditLogging":true,
		"appSettings":{"authToken":{"key":"shop.default.authToken"}},
		"inputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":false,"required":["foo"]},
		"outputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":true}},
	{"name":"quote","permittedArgs":["store","order"],"url":"http://{{store}}.shop.test/orders/{{order}}/quote",
		"httpMethod":"post",
		"appSettings":{"authToken":{"key":"shop.default.authToken"}},
		"inputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":false,"required":["foo"]},
		"outputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"additionalProperties":true}},
	{"name":"lookup","permittedArgs":["store","order"],"url":"http://{{store}}.shop.test/orders/{{order}}",
		"httpMethod":"get","cacheSeconds":60,
		"appSettings":{"authToken":{"key":"shop.default.authToken"}}}
],
"actions":[
	{"name":"refundOrder","type":"rest_api",
		"appSettings":{"authToken":{"key":"shop.default.authToken"}},
		"inputTemplate":{"uri":"http://{{store}}.shop.test/orders/{{order.id}}","method":"post",
			"headers":{"authorization":"Bearer {{authToken}}"},
			"qs":{"reason":"/#reason"},
			"data":{"refund":true,"amount":"/#order.amount"},
			"json":true},
		"inputSchema":{"type":"object","properties":{"store":{"type":"string"},"order":{"type":"object"},"reason":{"type":"string"}},
			"required":["store","order"],"additionalProperties":false},
		"outputTemplate":{"refunded":"/#body.refunded","status":"/#response.statusCode","summary":"refund {{body.id}}"}}
]}`

// sent is a request as the fake upstream received it, without the headers
// the transport adds.
type sent struct {
	Method, Host, Path, Query string
	Header                    map[string]string
	Body                      string
}

// fakeUpstream records every request. It answers 422 for order "fail" and
// otherwise echoes what it received, the Authorization header in X-Echo and
// in the body, so that redaction can be seen.
type fakeUpstream struct {
	mu  sync.Mutex
	got []sent
}

func (u *fakeUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s := sent{Method: r.Method, Host: r.Host, Path: r.URL.Path, Query: r.URL.RawQuery, Header: map[string]string{}, Body: string(b)}
	for k, v := range r.Header {
		switch k {
		case "User-Agent", "Accept-Encoding", "Content-Length":
			continue
		}
		s.Header[k] = strings.Join(v, ", ")
	}
	u.mu.Lock()
	u.got = append(u.got, s)
	u.mu.Unlock()

	w.Header().Set("Content-Type", "application/json")
	if strings.HasPrefix(r.URL.Path, "/orders/fail") {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"error":"bad order"}`)
		return
	}
	w.Header().Set("X-Echo", s.Header["Authorization"])
	body := map[string]any{"id": "r_1", "foo": 12, "refunded": true, "auth": s.Header["Authorization"], "sent": s.Body}
	if k := s.Header["X-Key"]; k != "" {
		body["keys"] = map[string]any{k: "v"}
	}
	json.NewEncoder(w).Encode(body)
}

func (u *fakeUpstream) requests() []sent {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.got)
}

// env is a Runner on its own SQLite store with shopDef installed for org
// acme, and the principal of an agent key of that org.
type env struct {
	store switchboard.Store
	run   *runner.Runner
	agent *switchboard.Principal
	up    *fakeUpstream
}

func mustEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	up := &fakeUpstream{}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)

	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: store, Box: box, OperatorKey: operatorKey})
	if err := reg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	_, adminKey, err := reg.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := mustPrincipal(t, reg, adminKey)
	if _, err := reg.Register(ctx, admin, []byte(shopDef), false); err != nil {
		t.Fatalf("register: %v", err)
	}
	if err := reg.PutSettings(ctx, admin, "shop", mustJSON(t, `{"default":{"authToken":"`+secret+`"}}`)); err != nil {
		t.Fatalf("settings: %v", err)
	}
	_, agentKey, err := reg.CreateKey(ctx, admin, "test agent", switchboard.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	out := outbound.New(outbound.Config{AllowPrivateNetworks: true,
		Remap: map[string]string{"acme.shop.test:80": srv.Listener.Addr().String()}})
	run := runner.New(runner.Config{Registry: reg, Store: store, Outbound: out, Cache: cache.New(1<<20, nil)})
	t.Cleanup(run.Close)
	return &env{store: store, run: run, agent: mustPrincipal(t, reg, agentKey), up: up}
}

func mustPrincipal(t testing.TB, reg *registry.Registry, key string) *switchboard.Principal {
	t.Helper()
	p, err := reg.Authenticate(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustJSON decodes JSON as the HTTP API does for the runner.
func mustJSON(t testing.TB, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// plain turns a JSON value of the runner into plain Go values that cmp
// can compare.
func plain(t testing.TB, v any) any {
	t.Helper()
	b, err := jsonv.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out
}

// problem is the part of a *switchboard.Error that callers see.
type problem struct {
	Code     switchboard.Code
	Detail   string
	Problems []switchboard.Problem
	Extra    any
}

func asProblem(t testing.TB, err error) *problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a *switchboard.Error", err)
	}
	p := &problem{Code: se.Code, Detail: se.Detail, Problems: se.Problems}
	if se.Extra != nil {
		p.Extra = plain(t, se.Extra)
	}
	return p
}

// doc is a command run's answer, with only the upstream's X- headers.
type doc struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    any               `json:"body"`
	Cache   string            `json:"cache"`
}

func decodeAnswer(t testing.TB, a runner.Answer) *doc {
	t.Helper()
	var d doc
	if err := json.Unmarshal(a.Bytes(), &d); err != nil {
		t.Fatalf("answer %s: %v", a.Bytes(), err)
	}
	for k := range d.Headers {
		if !strings.HasPrefix(k, "x-") {
			delete(d.Headers, k)
		}
	}
	return &d
}

func commandRequest(t testing.TB, args map[string]string, body string, headers ...runner.Header) *runner.CommandRequest {
	t.Helper()
	req := &runner.CommandRequest{Args: args, Headers: headers}
	if body != "" {
		req.Body, req.HasBody = mustJSON(t, body), true
	}
	return req
}

func TestRunCommand(t *testing.T) {
	t.Parallel()
	const hostMessage = `the arg store goes into the URL's host, so it must be one DNS label (1 to 63 of lowercase letters, digits and '-'); got "evil.com#"`
	tests := []struct {
		name       string
		req        *runner.CommandRequest
		wantSent   []sent
		wantAnswer *doc
		wantErr    *problem
	}{{
		name: "renders URL, headers and body",
		req: commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"foo":12}`,
			runner.Header{Name: "Authorization", Value: "Bearer {{authToken}}"}, runner.Header{Name: "x-order", Value: "{{order}}"}),
		wantSent: []sent{{Method: "POST", Host: "acme.shop.test", Path: "/orders/o-1/refund", Body: `{"foo":"12"}`,
			Header: map[string]string{"Authorization": "Bearer " + secret, "X-Order": "o-1", "Content-Type": "application/json"}}},
		wantAnswer: &doc{Status: 200, Headers: map[string]string{"x-echo": "Bearer [redacted]"}, Cache: "none",
			Body: map[string]any{"id": "r_1", "foo": "12", "refunded": true, "auth": "Bearer [redacted]", "sent": `{"foo":"12"}`}},
	}, {
		name: "an echoed secret is redacted",
		req: commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"foo":"{{authToken}}"}`,
			runner.Header{Name: "Authorization", Value: "Bearer {{authToken}}"}, runner.Header{Name: "X-Key", Value: "{{authToken}}"}),
		wantSent: []sent{{Method: "POST", Host: "acme.shop.test", Path: "/orders/o-1/refund", Body: `{"foo":"` + secret + `"}`,
			Header: map[string]string{"Authorization": "Bearer " + secret, "X-Key": secret, "Content-Type": "application/json"}}},
		wantAnswer: &doc{Status: 200, Headers: map[string]string{"x-echo": "Bearer [redacted]"}, Cache: "none",
			Body: map[string]any{"id": "r_1", "foo": "12", "refunded": true, "auth": "Bearer [redacted]", "sent": `{"foo":"[redacted]"}`,
				"keys": map[string]any{"[redacted]": "v"}}},
	}, {
		name: "an arg outside permittedArgs is refused",
		req:  commandRequest(t, map[string]string{"store": "acme", "order": "o-1", "coupon": "x"}, `{"foo":"x"}`),
		wantErr: &problem{Code: switchboard.CodeInvalidInput, Detail: "the run has args the command does not permit; each problem names the arg and the ones permitted",
			Problems: []switchboard.Problem{{Location: "/args/coupon", Message: `"coupon" is not a permitted arg of this command (permitted: store, order)`}}},
	}, {
		name: "an arg that would move the host is refused",
		req:  commandRequest(t, map[string]string{"store": "evil.com#", "order": "o-1"}, `{"foo":"x"}`),
		wantErr: &problem{Code: switchboard.CodeInvalidInput,
			Detail:   "the args would send the request somewhere the command's URL does not aim: " + hostMessage,
			Problems: []switchboard.Problem{{Location: "/args", Message: hostMessage}}},
	}, {
		name: "a body outside the input schema is refused",
		req:  commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"bar":1}`),
		wantErr: &problem{Code: switchboard.CodeInvalidInput, Detail: "the body does not match the command's input schema (2 problem(s))",
			Problems: []switchboard.Problem{
				{Location: "/body/foo", Message: "must have required property 'foo'"},
				{Location: "/body/bar", Message: "must NOT have additional properties"},
			}},
	}, {
		name: "an invalid header template is refused",
		req: commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"foo":"x"}`,
			runner.Header{Name: "X-Bad", Value: "{{#if}}"}),
		wantErr: &problem{Code: switchboard.CodeInvalidInput, Detail: "a template in the run is not valid; each problem has its location and line:column",
			Problems: []switchboard.Problem{{Location: "/headers/X-Bad", Message: "template: unclosed block {{#if}}", Line: 1, Column: 1}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t)
			a, err := e.run.RunCommand(t.Context(), e.agent, "shop.refund", tt.req)
			if diff := cmp.Diff(tt.wantErr, asProblem(t, err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSent, e.up.requests()); diff != "" {
				t.Errorf("upstream requests (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.wantAnswer, decodeAnswer(t, a)); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if bytes.Contains(a.Bytes(), []byte(secret)) {
				t.Errorf("the answer holds the secret: %s", a.Bytes())
			}
		})
	}
}

func TestRunAction(t *testing.T) {
	t.Parallel()
	const hostMessage = `the input would send the request somewhere the action's uri does not aim: the arg store goes into the URL's host, so it must be one DNS label (1 to 63 of lowercase letters, digits and '-'); got "evil.com#"`
	tests := []struct {
		name     string
		input    string
		wantSent []sent
		wantOut  any
		wantErr  *problem
	}{{
		name:  "renders the input and output templates",
		input: `{"store":"acme","order":{"id":"o-1","amount":12.5},"reason":"late delivery"}`,
		wantSent: []sent{{Method: "POST", Host: "acme.shop.test", Path: "/orders/o-1", Query: "reason=late%20delivery",
			Body:   `{"refund":true,"amount":12.5}`,
			Header: map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json", "Accept": "application/json"}}},
		wantOut: map[string]any{"refunded": true, "status": float64(200), "summary": "refund r_1"},
	}, {
		name:  "input outside the input schema is refused",
		input: `{"store":"acme","order":{"id":"o-1"},"extra":1}`,
		wantErr: &problem{Code: switchboard.CodeInvalidInput, Detail: "the input does not match the action's input schema (1 problem(s))",
			Problems: []switchboard.Problem{{Location: "/input/extra", Message: "must NOT have additional properties"}}},
	}, {
		name:  "input that would move the host is refused",
		input: `{"store":"evil.com#","order":{"id":"o-1"}}`,
		wantErr: &problem{Code: switchboard.CodeInvalidInput, Detail: hostMessage,
			Problems: []switchboard.Problem{{Location: "/input", Message: hostMessage}}},
	}, {
		name:  "an upstream error carries its status and body",
		input: `{"store":"acme","order":{"id":"fail","amount":1}}`,
		wantSent: []sent{{Method: "POST", Host: "acme.shop.test", Path: "/orders/fail", Body: `{"refund":true,"amount":1}`,
			Header: map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json", "Accept": "application/json"}}},
		wantErr: &problem{Code: switchboard.CodeUpstreamError, Detail: "the upstream answered 422",
			Extra: map[string]any{"upstreamStatus": float64(422), "upstreamBody": map[string]any{"error": "bad order"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t)
			out, err := e.run.RunAction(t.Context(), e.agent, "shop.refundOrder", mustJSON(t, tt.input), "")
			if diff := cmp.Diff(tt.wantErr, asProblem(t, err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSent, e.up.requests()); diff != "" {
				t.Errorf("upstream requests (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.wantOut, plain(t, out)); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

// Every run of an audited command and every action run is in the store's
// audit log; a command without auditLogging is not.
func TestRunAudit(t *testing.T) {
	t.Parallel()
	const refund, refundOrder = "kustomer.app.shop_acme.refund", "kustomer.app.shop_acme.refundOrder"
	tests := []struct {
		name string
		run  func(t *testing.T, e *env) error
		want []switchboard.AuditEntry
	}{{
		name: "command",
		run: func(t *testing.T, e *env) error {
			_, err := e.run.RunCommand(t.Context(), e.agent, "shop.refund",
				commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"foo":"x"}`,
					runner.Header{Name: "Authorization", Value: "Bearer {{authToken}}"}))
			return err
		},
		want: []switchboard.AuditEntry{{OrgID: "acme", ActorName: "test agent", Kind: "command", Name: refund,
			Args: map[string]string{"store": "acme", "order": "o-1"}, Method: "POST", URL: "http://acme.shop.test/orders/o-1/refund",
			Status: 200, Cache: "none"}},
	}, {
		name: "command without auditLogging",
		run: func(t *testing.T, e *env) error {
			_, err := e.run.RunCommand(t.Context(), e.agent, "shop.quote",
				commandRequest(t, map[string]string{"store": "acme", "order": "o-1"}, `{"foo":"x"}`))
			return err
		},
	}, {
		name: "action",
		run: func(t *testing.T, e *env) error {
			_, err := e.run.RunAction(t.Context(), e.agent, "shop.refundOrder", mustJSON(t, `{"store":"acme","order":{"id":"o-1"},"reason":"late"}`), "")
			return err
		},
		want: []switchboard.AuditEntry{{OrgID: "acme", ActorName: "test agent", Kind: "action", Name: refundOrder,
			Args: map[string]string{}, Method: "POST", URL: "http://acme.shop.test/orders/o-1?reason=late", Status: 200, Cache: "none"}},
	}, {
		name: "action the upstream refused",
		run: func(t *testing.T, e *env) error {
			_, err := e.run.RunAction(t.Context(), e.agent, "shop.refundOrder", mustJSON(t, `{"store":"acme","order":{"id":"fail"}}`), "")
			if switchboard.ErrorCode(err) != switchboard.CodeUpstreamError {
				t.Errorf("error = %v, want an upstream_error", err)
			}
			return nil
		},
		want: []switchboard.AuditEntry{{OrgID: "acme", ActorName: "test agent", Kind: "action", Name: refundOrder,
			Args: map[string]string{}, Method: "POST", URL: "http://acme.shop.test/orders/fail", Status: 422, Cache: "none",
			Error: "upstream_error"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnv(t)
			if err := tt.run(t, e); err != nil {
				t.Fatal(err)
			}
			got, _, err := e.store.AuditEntries(t.Context(), "acme", switchboard.AuditFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				tt.want[i].ActorID = e.agent.KeyID
				tt.want[i].Event = switchboard.AuditRun
			}
			opts := cmp.Options{cmpopts.IgnoreFields(switchboard.AuditEntry{}, "ID", "Time", "DurationMs"), cmpopts.EquateEmpty()}
			if diff := cmp.Diff(tt.want, got, opts); diff != "" {
				t.Errorf("audit entries (-want +got):\n%s", diff)
			}
			for _, entry := range got {
				if entry.ID == "" || entry.Time.IsZero() {
					t.Errorf("entry %+v has no id or time", entry)
				}
			}
		})
	}
}

// A command with cacheSeconds calls the upstream once per distinct
// request; a repeat is answered from the cache.
func TestRunCached(t *testing.T) {
	t.Parallel()
	e := mustEnv(t)
	auth := runner.Header{Name: "Authorization", Value: "Bearer {{authToken}}"}
	steps := []struct {
		name      string
		args      map[string]string
		wantCache string
		wantSent  int // upstream requests so far
	}{
		{"first run", map[string]string{"store": "acme", "order": "o-1"}, runner.CacheMiss, 1},
		{"same run", map[string]string{"store": "acme", "order": "o-1"}, runner.CacheHit, 1},
		{"other order", map[string]string{"store": "acme", "order": "o-2"}, runner.CacheMiss, 2},
		{"first run again", map[string]string{"store": "acme", "order": "o-1"}, runner.CacheHit, 2},
	}
	var first []byte
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			a, err := e.run.RunCommand(t.Context(), e.agent, "shop.lookup", commandRequest(t, st.args, "", auth))
			if err != nil {
				t.Fatal(err)
			}
			if a.Cache != st.wantCache {
				t.Errorf("cache = %q, want %q", a.Cache, st.wantCache)
			}
			if got := decodeAnswer(t, a).Cache; got != st.wantCache {
				t.Errorf("the document's cache = %q, want %q", got, st.wantCache)
			}
			if got := len(e.up.requests()); got != st.wantSent {
				t.Errorf("upstream requests = %d, want %d", got, st.wantSent)
			}
			if st.args["order"] == "o-1" {
				if first == nil {
					first = a.Doc
				} else if diff := cmp.Diff(string(first), string(a.Doc)); diff != "" {
					t.Errorf("the hit's document differs from the miss's (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// BenchmarkRunCommand is a run through the Runner alone, without HTTP: the
// allocations of preparing, sending and encoding.
func BenchmarkRunCommand(b *testing.B) {
	for _, name := range []string{"quote", "refund", "lookup"} {
		b.Run(name, func(b *testing.B) {
			e := mustEnv(b)
			ctx := context.Background()
			body := `{"foo":12}`
			if name == "lookup" {
				body = ""
			}
			b.ReportAllocs()
			for b.Loop() {
				// The runner renders the body in place: decode it each time,
				// as the HTTP API does.
				req := commandRequest(b, map[string]string{"store": "acme", "order": "o-1"}, body,
					runner.Header{Name: "Authorization", Value: "Bearer {{authToken}}"})
				if _, err := e.run.RunCommand(ctx, e.agent, "shop."+name, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
