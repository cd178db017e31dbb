package mock

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"

	"github.com/google/go-cmp/cmp"
)

func mustLoad(t testing.TB, src string) *Mock {
	t.Helper()
	m, err := Load([]byte(src))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

// req is a request to send to a mock in a test.
type req struct {
	method, target, host, body string
	header                     map[string]string
}

// answer is what a mock answered.
type answer struct {
	Status int
	Type   string // Content-Type
	Body   string
}

func do(t testing.TB, m *Mock, q req) (answer, http.Header) {
	t.Helper()
	method := q.method
	if method == "" {
		method = "GET"
	}
	r := httptest.NewRequest(method, q.target, strings.NewReader(q.body))
	if q.host != "" {
		r.Host = q.host
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	m.ServeHTTP(w, r)
	res := w.Result()
	return answer{Status: res.StatusCode, Type: res.Header.Get("Content-Type"), Body: w.Body.String()}, res.Header
}

func TestRouting(t *testing.T) {
	t.Parallel()
	// Each route answers its own name, so that a case says which one won.
	m := mustLoad(t, `{"routes": [
		{"method": "GET", "path": "/orders/special", "body": "special"},
		{"method": "GET", "path": "/orders/{id}", "body": "get {{path.id}}"},
		{"method": "post", "path": "/orders/{id}", "body": "post {{path.id}}"},
		{"path": "/any", "body": "any {{method}}"},
		{"host": "{store}.example-ecommstore.com", "path": "/orders", "body": "store {{path.store}}"},
		{"host": "api.example.com", "path": "/orders", "body": "api"},
		{"path": "/orders", "body": "orders"},
		{"path": "/files/{dir}/{rest...}", "body": "dir={{path.dir}} rest={{path.rest}}"},
		{"path": "/", "body": "root"},
		{"path": "/a%20b/{x}", "body": "space {{path.x}}"}
	]}`)
	tests := []struct {
		name string
		req  req
		want string // the body, or "404"
	}{
		{"the first matching route wins", req{target: "/orders/special"}, "special"},
		{"a capture", req{target: "/orders/o-1"}, "get o-1"},
		{"a capture is unescaped, after splitting", req{target: "/orders/a%2Fb%20c"}, "get a/b c"},
		{"the method decides, whatever its case in the file", req{method: "POST", target: "/orders/o-1"}, "post o-1"},
		{"HEAD matches a GET route", req{method: "HEAD", target: "/orders/o-1"}, "get o-1"}, // net/http drops the body
		{"another method matches no route", req{method: "DELETE", target: "/orders/o-1"}, "404"},
		{"no method matches every method", req{method: "PATCH", target: "/any"}, "any PATCH"},
		{"a capture never matches an empty segment", req{target: "/orders/"}, "404"},
		{"a segment more matches no route", req{target: "/orders/o-1/items"}, "404"},
		{"a trailing slash is a segment", req{target: "/any/"}, "404"},
		{"a host capture", req{target: "/orders", host: "dunder-mifflin.example-ecommstore.com"}, "store dunder-mifflin"},
		{"a host matches without case or port", req{target: "/orders", host: "Scranton.Example-Ecommstore.com:8443"}, "store scranton"},
		{"a literal host", req{target: "/orders", host: "api.example.com"}, "api"},
		{"a host capture is one label", req{target: "/orders", host: "a.b.example-ecommstore.com"}, "orders"},
		{"a route without host matches every host", req{target: "/orders", host: "127.0.0.1:8089"}, "orders"},
		{"a rest capture takes the rest", req{target: "/files/d/a/b%2Fc"}, "dir=d rest=a/b/c"},
		{"a rest capture may be empty", req{target: "/files/d/"}, "dir=d rest="},
		{"a rest capture needs the segments before it", req{target: "/files"}, "404"},
		{"the root", req{target: "/"}, "root"},
		{"a literal is compared unescaped", req{target: "/a%20b/1"}, "space 1"},
		{"the query does not take part", req{target: "/orders/o-1?x=1"}, "get o-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := do(t, m, tc.req)
			if tc.want == "404" {
				if got.Status != 404 || !strings.Contains(got.Body, `"routes":[`) {
					t.Errorf("got %+v, want the 404 listing the routes", got)
				}
				return
			}
			if got.Status != 200 || got.Body != tc.want {
				t.Errorf("got %d %q, want 200 %q", got.Status, got.Body, tc.want)
			}
		})
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, `{"routes": [
		{"path": "/echo/{id}", "status": 201,
		 "headers": {"X-Id": "{{path.id}}", "X-Key": "{{header.x-api-key}}", "Content-Type": "application/vnd.shop+json"},
		 "body": {"id": "{{path.id}}", "q": "{{query.q}}", "key": "{{header.X-API-KEY}}", "key2": "{{header.[X-Api-Key]}}",
		          "lower": "{{header.x-api-key}}", "host": "{{header.Host}}",
		          "method": "{{method}}", "hostname": "{{host}}", "foo": "{{body.foo}}", "deep": "{{body.a.b}}",
		          "typed": "/#body.n", "gone": "/#body.missing", "list": ["{{query.q}}", 1, true, null],
		          "escaped": "{{body.html}}", "raw": "{{{body.html}}}"}},
		{"path": "/text", "body": "{{method}} {{body}}{{#if query.x}} x={{query.x}}{{/if}}"},
		{"path": "/whole", "body": "/#body"},
		{"path": "/empty", "status": 204},
		{"path": "/bodyless"}
	]}`)
	tests := []struct {
		name   string
		req    req
		want   answer
		header map[string]string // headers the answer must carry
	}{
		{
			name: "every part of the request",
			req: req{method: "PUT", target: "/echo/o%201?q=a&q=b", host: "shop.test:9",
				header: map[string]string{"X-Api-Key": "k=1"},
				body:   `{"foo": "bar", "a": {"b": 2}, "n": 1.50, "html": "<&>"}`},
			want: answer{201, "application/vnd.shop+json",
				`{"id":"o 1","q":"a","key":"k&#x3D;1","key2":"k&#x3D;1","lower":"k&#x3D;1","host":"shop.test:9","method":"PUT","hostname":"shop.test:9",` +
					`"foo":"bar","deep":"2","typed":1.50,"list":["a",1,true,null],"escaped":"&lt;&amp;&gt;","raw":"<&>"}`},
			header: map[string]string{"X-Id": "o 1", "X-Key": "k&#x3D;1"},
		},
		{
			name: "no body, no header: templates render empty",
			req:  req{target: "/echo/1"},
			want: answer{201, "application/vnd.shop+json",
				`{"id":"1","q":"","key":"","key2":"","lower":"","host":"example.com","method":"GET","hostname":"example.com","foo":"","deep":"","list":["",1,true,null],"escaped":"","raw":""}`},
		},
		{
			name: "a string body is sent as text; a body that is not JSON echoes as text",
			req:  req{method: "POST", target: "/text?x=1", body: "hello"},
			want: answer{200, "text/plain; charset=utf-8", "POST hello x=1"},
		},
		{
			name: "a JSON body echoes whole, members in order",
			req:  req{method: "POST", target: "/whole", body: `{"z": 1, "a": [true, {"k": "v"}]}`},
			want: answer{200, "application/json", `{"z":1,"a":[true,{"k":"v"}]}`},
		},
		{
			name: "no status and no body: an empty 200",
			req:  req{target: "/bodyless"},
			want: answer{200, "", ""},
		},
		{
			name: "a 204",
			req:  req{target: "/empty"},
			want: answer{204, "", ""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, h := do(t, m, tc.req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			for k, v := range tc.header {
				if h.Get(k) != v {
					t.Errorf("header %s = %q, want %q", k, h.Get(k), v)
				}
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, `{"routes": [
		{"method": "GET", "path": "/orders/{id}"},
		{"host": "{store}.example.com", "path": "/orders"}
	]}`)
	got, _ := do(t, m, req{method: "POST", target: "/nope?x=1", host: "127.0.0.1:8089"})
	want := answer{404, "application/json",
		`{"error":"no route matches POST 127.0.0.1:8089/nope","routes":["GET /orders/{id}","ANY {store}.example.com/orders"]}` + "\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("404 (-want +got):\n%s", diff)
	}
}

func TestRequestBodyLimit(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, `{"routes": [{"path": "/", "body": "{{body}}"}]}`)
	got, _ := do(t, m, req{method: "POST", target: "/", body: strings.Repeat("x", maxRequestBody+1)})
	if got.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("status = %d, want 413", got.Status)
	}
	got, _ = do(t, m, req{method: "POST", target: "/", body: strings.Repeat("x", maxRequestBody)})
	if got.Status != 200 || len(got.Body) != maxRequestBody {
		t.Errorf("a body of exactly the limit: status %d, %d bytes", got.Status, len(got.Body))
	}
}

// TestEcommstore proves that the shipped fixtures answer what the seed's
// ecommstore command and action send, as the platform sends it.
func TestEcommstore(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "mocks", "ecommstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := mustLoad(t, string(data))
	auth := map[string]string{"Authorization": "Bearer s3cr3t-token", "Content-Type": "application/json"}
	tests := []struct {
		name string
		req  req
		want answer
	}{
		{
			name: "the seed's command at its own host",
			req:  req{method: "POST", target: "/orders", host: "dunder-mifflin.example-ecommstore.com", header: auth, body: `{"foo":"12"}`},
			want: answer{200, "application/json", `{"id":"ord_1001","store":"dunder-mifflin","status":"REFUNDED","foo":"12",` +
				`"received":{"authorization":"Bearer s3cr3t-token","body":{"foo":"12"}}}`},
		},
		{
			name: "the quickstart's command on loopback",
			req:  req{method: "POST", target: "/orders?store=dunder-mifflin", host: "127.0.0.1:8089", header: auth, body: `{"foo":"12"}`},
			want: answer{200, "application/json", `{"id":"ord_1001","store":"dunder-mifflin","status":"REFUNDED","foo":"12",` +
				`"received":{"authorization":"Bearer s3cr3t-token","body":{"foo":"12"}}}`},
		},
		{
			name: "the action refunds an order",
			req:  req{method: "POST", target: "/orders/ord_1001?refund=full", host: "api.ecommstore.com", header: auth, body: `{"refund":true}`},
			want: answer{200, "application/json", `{"id":"ord_1001","status":"REFUNDED","refund":true,"query":{"refund":"full"}}`},
		},
		{
			name: "an order",
			req:  req{target: "/orders/ord_1001", host: "api.ecommstore.com"},
			want: answer{200, "application/json", `{"id":"ord_1001","status":"PAID","currency":"USD","total":37.5,` +
				`"customer":{"name":"Pam Beesly","email":"pam@example.com"},"items":[` +
				`{"sku":"MUG-01","name":"World's Best Boss mug","quantity":2,"price":12.5},` +
				`{"sku":"PAPER-A4","name":"Copy paper, 500 sheets","quantity":1,"price":12.5}]}`},
		},
		{
			name: "an order that does not exist",
			req:  req{target: "/orders/ord_missing"},
			want: answer{404, "application/json", `{"error":"not_found","message":"no order ord_missing"}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := do(t, m, tc.req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServe(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, `{"routes": [{"method": "GET", "path": "/orders/{id}", "status": 202, "body": "ok"}]}`)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &apitest.Buffer{}
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, l, logs) }()

	base := "http://" + l.Addr().String()
	for _, path := range []string{"/orders/1?x=y", "/nope"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after ctx ended = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	// Shutdown waited for the handlers, so every line is written.
	for _, want := range []string{" GET /orders/1?x=y 202 (/routes/0 GET /orders/{id})\n", " GET /nope 404 (no route)\n"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs.String())
		}
	}
	if _, err := http.Get(base + "/orders/1"); err == nil {
		t.Error("the mock still answers after Serve returned")
	}
}
