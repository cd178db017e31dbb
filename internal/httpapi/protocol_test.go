package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// rawProblem is a problem document as it comes over the wire.
type rawProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// mustProblem sends req without following redirects and checks that the
// answer is a problem document of status and code.
func mustProblem(t *testing.T, req *http.Request, status int, code string) (*http.Response, rawProblem) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var p rawProblem
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != status || ct != "application/problem+json" {
		t.Fatalf("%s %s = %d (%s) %s; want a %d problem document", req.Method, req.URL.Path, resp.StatusCode, ct, body, status)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if p.Status != status || p.Code != code || p.Type != httpapi.ProblemTypeBase+code {
		t.Fatalf("problem %+v, want status %d code %s", p, status, code)
	}
	return resp, p
}

// Request headers over the API's limit answer 431 as a problem document
// (invalid_input: the codes are a closed set), not net/http's text/plain;
// headers under it are served.
func TestRequestHeaderTooLarge(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{})
	t.Run("over the limit", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.URL+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", httpapi.MaxHeaderBytes))
		_, p := mustProblem(t, req, http.StatusRequestHeaderFieldsTooLarge, "invalid_input")
		if p.Title != "Request Header Fields Too Large" {
			t.Errorf("title %q", p.Title)
		}
		if want := "exceed the limit of 64 KiB"; !strings.Contains(p.Detail, want) {
			t.Errorf("detail %q lacks %q", p.Detail, want)
		}
	})
	t.Run("many fields over the limit", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.URL+"/v1/keys", nil)
		for i := range 100 {
			req.Header.Add("X-Many", strings.Repeat(string(rune('a'+i%26)), 1000))
		}
		mustProblem(t, req, http.StatusRequestHeaderFieldsTooLarge, "invalid_input")
	})
	t.Run("under the limit", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.URL+"/healthz", nil)
		req.Header.Set("X-Big", strings.Repeat("a", httpapi.MaxHeaderBytes-1024))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /healthz with a header under the limit = %d", resp.StatusCode)
		}
	})
	t.Run("logged with its code", func(t *testing.T) {
		if !strings.Contains(env.Logs.String(), `"status":431,`) || !strings.Contains(env.Logs.String(), `"error":"invalid_input"`) {
			t.Errorf("no request line for the 431:\n%s", env.Logs.String())
		}
	})
}

// A path that is not in canonical form (an empty segment, "." or "..") is
// refused with a 404 problem naming the canonical path, instead of the
// mux's redirect with an HTML body.
func TestNonCanonicalPath(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{})
	for _, tc := range []struct{ method, path, clean string }{
		{"GET", "/v1//keys", "/v1/keys"},
		{"GET", "/v1/keys/../orgs", "/v1/orgs"},
		{"GET", "/v1/./keys", "/v1/keys"},
		{"GET", "//healthz", "/healthz"},
		{"POST", "/v1/commands//shop.refund/run", "/v1/commands/shop.refund/run"},
		{"DELETE", "/v1/keys/key_1/.", "/v1/keys/key_1"},
		{"GET", "/v1/keys/..", "/v1"},
	} {
		t.Run(tc.method+" "+strings.ReplaceAll(tc.path, "/", "∕"), func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, env.URL+tc.path, strings.NewReader("{}"))
			req.Header.Set("Authorization", "Bearer "+apitest.OperatorKey)
			if req.URL.Path != tc.path {
				t.Fatalf("the client would send %q", req.URL.Path)
			}
			resp, p := mustProblem(t, req, http.StatusNotFound, "not_found")
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("Location %q", loc)
			}
			if want := "send " + tc.clean + " "; !strings.Contains(p.Detail, want) {
				t.Errorf("detail %q lacks %q", p.Detail, want)
			}
		})
	}
	t.Run("canonical paths are served", func(t *testing.T) {
		req, _ := http.NewRequest("GET", env.URL+"/v1/keys/", nil)
		req.Header.Set("Authorization", "Bearer "+apitest.OperatorKey)
		mustProblem(t, req, http.StatusNotFound, "not_found") // a trailing slash is canonical: no such route
		req, _ = http.NewRequest("GET", env.URL+"/healthz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /healthz = %d", resp.StatusCode)
		}
	})
}

// A run whose upstream answers with headers over the outbound limit fails
// as the upstream's error, naming the limit.
func TestRunUpstreamHeadersTooLarge(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			w.Header().Add("X-Huge", strings.Repeat(string(rune('a'+i)), 512<<10))
		}
	}))
	t.Cleanup(up.Close)
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"huge","httpMethod":"get","url":"`+up.URL+`/x"}]}`)
	_, err := admin.RunCommand(context.Background(), "shop.huge", client.RunRequest{})
	ce := wantProblem(t, err, 502, "upstream_error")
	if want := "the response headers from 127.0.0.1 exceed 1 MiB"; !strings.Contains(ce.Detail, want) {
		t.Errorf("detail %q lacks %q", ce.Detail, want)
	}
}
