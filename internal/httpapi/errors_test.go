package httpapi_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// Every code's type URL points at an anchor of docs/errors.md, and the page
// documents every code with its status.
func TestEveryCodeDocumented(t *testing.T) {
	t.Parallel()
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "errors.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(httpapi.ProblemTypeBase, "/docs/errors.md#") {
		t.Errorf("ProblemTypeBase = %q, not the project's errors page", httpapi.ProblemTypeBase)
	}
	for _, c := range switchboard.Codes() {
		row := `<a id="` + string(c) + `"></a>` + "`" + string(c) + "` | " + strconvItoa(c.Status())
		if !strings.Contains(string(page), row) {
			t.Errorf("docs/errors.md has no row %q", row)
		}
	}
}

func strconvItoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// A method a path is not served for answers 405 with Allow, as a problem.
func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{})
	admin := env.Org(t, "acme")
	for _, tt := range []struct{ method, path, allow string }{
		{"GET", "/v1/commands/shop.refund/run", "POST, OPTIONS"},
		{"PUT", "/v1/actions/x/run", "POST"},
		{"PATCH", "/v1/keys", "POST, GET"},
		{"POST", "/v1/apps/shop/settings", "PUT, GET"},
	} {
		t.Run(tt.method+" "+strings.ReplaceAll(tt.path, "/", "∕"), func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, env.URL+tt.path, nil)
			req.Header.Set("Authorization", "Bearer "+apitest.OperatorKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
				Detail string `json:"detail"`
			}
			json.NewDecoder(resp.Body).Decode(&p)
			if resp.StatusCode != 405 || p.Status != 405 || resp.Header.Get("Allow") != tt.allow {
				t.Fatalf("%d (%+v), Allow %q; want 405, Allow %q", resp.StatusCode, p, resp.Header.Get("Allow"), tt.allow)
			}
			if resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, tt.allow[:3]) {
				t.Errorf("problem %+v (%s)", p, resp.Header.Get("Content-Type"))
			}
		})
	}
	t.Run("an unknown path is still a 404", func(t *testing.T) {
		_, err := admin.Raw(context.Background(), "GET", "/v1/nothing", nil)
		wantProblem(t, err, 404, "not_found")
		_, err = admin.Raw(context.Background(), "GET", "/v1/apps/shop/nothing", nil)
		wantProblem(t, err, 404, "not_found")
	})
}

// An upstream failure's detail says which command failed, where it went and
// what to change.
func TestUpstreamFailureDetails(t *testing.T) {
	t.Parallel()
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(hang.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true, Timeout: 200 * time.Millisecond}})
	admin := env.Org(t, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
		{"name":"down","httpMethod":"get","url":"http://`+closed+`/x"},
		{"name":"slow","httpMethod":"get","url":"`+hang.URL+`/x"}],
		"actions":[{"name":"gone","type":"rest_api","inputTemplate":{"uri":"http://`+closed+`/y","method":"get"}}]}`)
	ctx := context.Background()

	_, err = admin.RunCommand(ctx, "shop.down", client.RunRequest{})
	ce := wantProblem(t, err, 502, "upstream_unreachable")
	if want := "command kustomer.app.shop_acme.down: could not reach " + closed + ": connection refused"; ce.Detail != want {
		t.Errorf("detail %q, want %q", ce.Detail, want)
	}
	_, err = admin.RunAction(ctx, "shop.gone", nil)
	ce = wantProblem(t, err, 502, "upstream_unreachable")
	if !strings.HasPrefix(ce.Detail, "action kustomer.app.shop_acme.gone: could not reach "+closed) {
		t.Errorf("detail %q", ce.Detail)
	}
	_, err = admin.RunCommand(ctx, "shop.slow", client.RunRequest{})
	ce = wantProblem(t, err, 504, "upstream_timeout")
	for _, want := range []string{"kustomer.app.shop_acme.slow", "200ms", "--upstream-timeout"} {
		if !strings.Contains(ce.Detail, want) {
			t.Errorf("detail %q lacks %q", ce.Detail, want)
		}
	}
}
