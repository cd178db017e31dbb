package httpapi_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/httpapi"
)

var allRoles = []switchboard.Role{switchboard.RoleOperator, switchboard.RoleAdmin, switchboard.RoleAgent, switchboard.RoleAuditor}

// The routes that need no key. A route whose op forgets its roles is open
// to anyone, so opening one is a decision recorded here.
var openRoutes = []string{
	"GET /healthz",
	"GET /readyz",
	"GET /metrics",
	"GET /openapi.json",
	"GET /v1/version", // which server a client talks to, before it signs in
	"GET /sdk/v1/switchboard.js",
	"GET /sdk/v1/switchboard.mjs",
	"GET /sdk/v1/switchboard.d.ts",
	"OPTIONS /v1/commands/{name}/run", // CORS preflights (SPEC 10)
	"OPTIONS /v1/commands/{name}",
	"POST /v1/hooks/{hookId}", // the hook's unguessable id (and a web hook's secret) authenticates it (SPEC 12)
	"GET /v1/apps/{app}/authorize/oauth2/redirect",
}

var pathParam = regexp.MustCompile(`\{[a-z]+\}`)

// Every route of the table, asked with no key and with a key of each role:
// no key is a 401, a role the route does not name is a 403, and a role it
// names gets past auth (to whatever a request with placeholder path values
// and no body earns). The roles come from the same op that the OpenAPI
// document is written from, so this proves the document tells the truth.
func TestRouteRoles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := apitest.New(t, apitest.Options{})
	admin := env.Org(t, "acme")
	as := map[switchboard.Role]*client.Client{
		switchboard.RoleOperator: env.Operator,
		switchboard.RoleAdmin:    admin,
		switchboard.RoleAgent:    apitest.Key(t, admin, "agent"),
		switchboard.RoleAuditor:  apitest.Key(t, admin, "auditor"),
	}
	anonymous := admin.WithKey("")

	table := httpapi.RouteTable(env.Handler.(*httpapi.Server))
	if len(table) == 0 {
		t.Fatal("the route table is empty")
	}
	var open []string
	for _, rt := range table {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = pathParam.ReplaceAllString(path, "placeholder")
		if rt.Roles == nil {
			open = append(open, rt.Pattern)
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			_, err := anonymous.Raw(ctx, method, path, nil)
			if rt.Roles == nil {
				if ce := problemOf(err); ce != nil && ce.Status == 401 {
					t.Errorf("no key: %v, want a route open to anyone", err)
				}
				return
			}
			if ce := problemOf(err); ce == nil || ce.Status != 401 || ce.Code != "unauthorized" {
				t.Errorf("no key: %v, want 401 unauthorized", err)
			}
			for _, role := range allRoles {
				_, err := as[role].Raw(ctx, method, path, nil)
				ce := problemOf(err)
				switch {
				case !slices.Contains(rt.Roles, role):
					if ce == nil || ce.Status != 403 || ce.Code != "forbidden" {
						t.Errorf("%s key: %v, want 403 forbidden (the route is for %v)", role, err, rt.Roles)
					}
				case ce != nil && (ce.Status == 403 || ce.Status == 401):
					t.Errorf("%s key: %v, want it past auth (the route is for %v)", role, err, rt.Roles)
				case ce != nil && (ce.Status == 405 || strings.HasPrefix(ce.Detail, "no route ")):
					t.Errorf("%s key: %v: %s %s does not reach the route", role, err, method, path)
				}
			}
		})
	}
	if diff := cmp.Diff(openRoutes, open); diff != "" {
		t.Errorf("routes that need no key (-want +got):\n%s", diff)
	}
}

// problemOf returns err's problem document, or nil when err is nil; any
// other error (the server did not answer) is nil too, and fails the
// assertions that want a problem.
func problemOf(err error) *client.Error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}
