package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/cache/cachetest"
)

const limitedCommand = "kustomer.app.shop_acme.get"

// The app page's rate-limit forms set and remove a command's or action's
// limit through the same service as PUT /v1/apps/{app}/limits, and the
// limit holds for runs at once; a bad value is shown again beside its
// field and changes nothing; an agent sees no form and may not post one;
// a post without the CSRF token, or to another org's app, is refused.
func TestAppLimitsForm(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) }))
	t.Cleanup(up.Close)
	clock := cachetest.NewClock() // the limit's clock stands still
	env := newEnv(t, apitest.Options{Now: clock.Now})
	adminKey, admin := mustOrg(t, env, "acme")
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop",
		"commands":[{"name":"get","url":"`+up.URL+`/get","httpMethod":"get"}],
		"actions":[{"name":"act","type":"rest_api","inputTemplate":{"uri":"`+up.URL+`/act","method":"get"}}]}`)
	ctx := context.Background()
	limits := func() map[string]client.Rate {
		t.Helper()
		got, err := admin.AppLimits(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return got.Limits
	}
	u := mustSignIn(t, env.URL, adminKey)
	const path = "/console/apps/shop_acme/limits"

	status, body := u.get("/console/apps/shop_acme")
	for _, want := range []string{`id="limits"`, `data-limit="` + limitedCommand + `"`, `data-limit="kustomer.app.shop_acme.act"`, `action="` + path + `"`} {
		if status != 200 || !strings.Contains(body, want) {
			t.Fatalf("the app page (%d) lacks %s", status, want)
		}
	}

	t.Run("set", func(t *testing.T) {
		status, _, h := u.post(path, url.Values{"name": {limitedCommand}, "runsPerSecond": {"0.001"}, "burst": {"1"}, "op": {"set"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/console/apps/shop_acme?done=limits#limits" {
			t.Fatalf("set: %d, Location %q", status, h.Get("Location"))
		}
		if got := limits(); got[limitedCommand] != (client.Rate{RunsPerSecond: 0.001, Burst: 1}) || len(got) != 1 {
			t.Fatalf("limits after setting = %v", got)
		}
		_, body := u.get(h.Get("Location"))
		if !strings.Contains(body, "The rate limit is saved.") || !strings.Contains(body, "0.001 a second, burst 1") {
			t.Errorf("the page after setting does not show the limit:\n%s", body)
		}
		// The limit holds at once: one run passes, the next is refused
		// without calling the upstream.
		if _, err := admin.RunCommand(ctx, "shop.get", client.RunRequest{}); err != nil {
			t.Fatalf("the first run: %v", err)
		}
		var ce *client.Error
		if _, err := admin.RunCommand(ctx, "shop.get", client.RunRequest{}); !errors.As(err, &ce) || ce.Code != client.CodeRateLimited {
			t.Fatalf("the second run: %v, want rate_limited", err)
		}
	})

	t.Run("an empty burst is a second's worth", func(t *testing.T) {
		u.get("/console/apps/shop_acme")
		if status, _, _ := u.post(path, url.Values{"name": {"act"}, "runsPerSecond": {"2.5"}}); status != http.StatusSeeOther {
			t.Fatalf("set the action's limit by its local name: %d", status)
		}
		if got := limits()["kustomer.app.shop_acme.act"]; got != (client.Rate{RunsPerSecond: 2.5, Burst: 3}) {
			t.Errorf("the action's limit = %v, want 2.5 a second, burst 3", got)
		}
	})

	t.Run("invalid values", func(t *testing.T) {
		before := limits()
		for _, tc := range []struct {
			rps, burst, field, want string
		}{
			{"abc", "1", "runsPerSecond", "runsPerSecond must be a number"},
			{"", "1", "runsPerSecond", "runsPerSecond is required"},
			{"-1", "1", "runsPerSecond", "runsPerSecond must be a number above 0"},
			{"NaN", "1", "runsPerSecond", "runsPerSecond must be a number"},
			{"2", "0", "burst", "burst must be an integer from 1 to"},
			{"2", "1.5", "burst", "burst must be a whole number"},
		} {
			u.get("/console/apps/shop_acme")
			status, body, _ := u.post(path, url.Values{"name": {limitedCommand}, "runsPerSecond": {tc.rps}, "burst": {tc.burst}, "op": {"set"}})
			if status != http.StatusOK {
				t.Errorf("rps %q burst %q: %d, want the page again (200) with the problem", tc.rps, tc.burst, status)
				continue
			}
			// The problem is beside its field, in the command's row, and
			// the field keeps what was typed.
			row := between(body, `data-limit="`+limitedCommand+`"`, "</tr>")
			if !strings.Contains(row, `data-problem="`+tc.field+`">`+tc.want) {
				t.Errorf("rps %q burst %q: the row does not show %q beside %s:\n%s", tc.rps, tc.burst, tc.want, tc.field, row)
			}
			if !strings.Contains(row, `name="runsPerSecond" value="`+tc.rps+`"`) {
				t.Errorf("rps %q: the field lost what was typed:\n%s", tc.rps, row)
			}
			if !strings.Contains(body, `class="problem"`) || !strings.Contains(body, "not saved") {
				t.Errorf("rps %q burst %q: no error box", tc.rps, tc.burst)
			}
		}
		if got := limits(); len(got) != len(before) || got[limitedCommand] != before[limitedCommand] {
			t.Errorf("an invalid form changed the limits: %v, was %v", got, before)
		}
	})

	t.Run("a name the app does not have", func(t *testing.T) {
		u.get("/console/apps/shop_acme")
		status, body, _ := u.post(path, url.Values{"name": {"nope"}, "runsPerSecond": {"1"}})
		if status != http.StatusOK || !strings.Contains(body, `no command or action`) {
			t.Errorf("a form for no such command: %d\n%.2000s", status, body)
		}
	})

	t.Run("wrong role", func(t *testing.T) {
		k, err := admin.CreateKey(ctx, "agent", "agent")
		if err != nil {
			t.Fatal(err)
		}
		a := mustSignIn(t, env.URL, k.Key)
		status, body := a.get("/console/apps/shop_acme")
		if status != 200 || strings.Contains(body, `id="limits"`) || strings.Contains(body, path) || strings.Contains(body, "0.001 a second") {
			t.Errorf("the agent's app page (%d) shows the limits or their form", status)
		}
		status, body, _ = a.post(path, url.Values{"name": {limitedCommand}, "op": {"remove"}})
		if status != http.StatusForbidden || !strings.Contains(body, "may not use this page") {
			t.Errorf("an agent's post: %d, want 403", status)
		}
		if got := limits(); got[limitedCommand].RunsPerSecond != 0.001 {
			t.Errorf("the agent's post changed the limit: %v", got)
		}
	})

	t.Run("a post without the CSRF token", func(t *testing.T) {
		status, body, _ := u.post(path, url.Values{"csrf": {""}, "name": {limitedCommand}, "op": {"remove"}})
		if status != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("a post without the token: %d, want 403", status)
		}
		if got := limits(); got[limitedCommand].RunsPerSecond != 0.001 {
			t.Errorf("a refused post changed the limit: %v", got)
		}
	})

	t.Run("another org's app", func(t *testing.T) {
		otherKey, _ := mustOrg(t, env, "globex")
		o := mustSignIn(t, env.URL, otherKey)
		status, body, _ := o.post(path, url.Values{"name": {limitedCommand}, "op": {"remove"}})
		if status != http.StatusNotFound || strings.Contains(body, "Shop") {
			t.Errorf("globex's post to acme's app: %d, want 404 as for an app that does not exist", status)
		}
		if got := limits(); got[limitedCommand].RunsPerSecond != 0.001 {
			t.Errorf("another org's post changed the limit: %v", got)
		}
	})

	t.Run("remove", func(t *testing.T) {
		u.get("/console/apps/shop_acme")
		status, _, h := u.post(path, url.Values{"name": {limitedCommand}, "runsPerSecond": {"junk ignored"}, "op": {"remove"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/console/apps/shop_acme?done=unlimited#limits" {
			t.Fatalf("remove: %d, Location %q", status, h.Get("Location"))
		}
		if got := limits(); len(got) != 1 || got[limitedCommand] != (client.Rate{}) {
			t.Fatalf("limits after removing = %v, want the action's only", got)
		}
		_, body := u.get(h.Get("Location"))
		row := between(body, `data-limit="`+limitedCommand+`"`, "</tr>")
		if !strings.Contains(body, "The rate limit is removed.") || !strings.Contains(row, `data-set="false">none`) || strings.Contains(row, "Remove") {
			t.Errorf("the row after removing:\n%s", row)
		}
		if _, err := admin.RunCommand(ctx, "shop.get", client.RunRequest{}); err != nil {
			t.Errorf("a run after removing the limit: %v", err)
		}
		// A runsPerSecond of 0 removes too, as in the API.
		u.get("/console/apps/shop_acme")
		if status, _, _ := u.post(path, url.Values{"name": {"kustomer.app.shop_acme.act"}, "runsPerSecond": {"0"}, "op": {"set"}}); status != http.StatusSeeOther {
			t.Fatalf("set 0: %d", status)
		}
		if got := limits(); len(got) != 0 {
			t.Errorf("limits after setting 0 = %v, want none", got)
		}
	})
}

// The operator's orgs page sets and removes each org's own limit through
// the same service as PUT /v1/orgs/{org}/limits; an admin may not post it.
func TestOrgLimitsForm(t *testing.T) {
	t.Parallel()
	env := newEnv(t, apitest.Options{})
	adminKey, _ := mustOrg(t, env, "acme")
	_, globex := mustOrg(t, env, "globex")
	ctx := context.Background()
	// A command's limit is not the org's own.
	apitest.Register(t, globex, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"c","url":"http://127.0.0.1:1/","httpMethod":"get"}]}`)
	if _, err := globex.PutAppLimits(ctx, "shop", map[string]*client.Rate{"c": {RunsPerSecond: 7, Burst: 7}}); err != nil {
		t.Fatal(err)
	}
	orgLimit := func(org string) *client.Rate {
		t.Helper()
		got, err := env.Operator.OrgLimit(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return got.Rate
	}
	u := mustSignIn(t, env.URL, apitest.OperatorKey)
	status, body := u.get("/console/orgs")
	if status != 200 || !strings.Contains(between(body, `data-org="acme"`, "</tr>"), `action="/console/orgs/acme/limits"`) {
		t.Fatalf("the orgs page (%d) has no limit form for acme:\n%s", status, body)
	}

	t.Run("set", func(t *testing.T) {
		status, _, h := u.post("/console/orgs/acme/limits", url.Values{"runsPerSecond": {"1"}, "burst": {"3"}, "op": {"set"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/console/orgs?done=limits#org-acme" {
			t.Fatalf("set: %d, Location %q", status, h.Get("Location"))
		}
		if got := orgLimit("acme"); got == nil || *got != (client.Rate{RunsPerSecond: 1, Burst: 3}) {
			t.Fatalf("acme's limit = %v", got)
		}
		if got := orgLimit("globex"); got != nil {
			t.Errorf("globex's limit = %v, want none", got)
		}
		_, body := u.get(h.Get("Location"))
		if !strings.Contains(body, "The rate limit is saved.") || !strings.Contains(between(body, `data-org="acme"`, "</tr>"), "1 a second, burst 3") ||
			!strings.Contains(between(body, `data-org="globex"`, "</tr>"), `data-set="false">none`) {
			t.Errorf("the orgs page after setting:\n%s", body)
		}
	})

	t.Run("invalid values", func(t *testing.T) {
		for _, tc := range []struct{ rps, burst, field, want string }{
			{"fast", "", "runsPerSecond", "runsPerSecond must be a number"},
			{"-1", "", "runsPerSecond", "runsPerSecond must be a number above 0"},
			{"1", "1000001", "burst", "burst must be an integer from 1 to"},
		} {
			u.get("/console/orgs")
			status, body, _ := u.post("/console/orgs/acme/limits", url.Values{"runsPerSecond": {tc.rps}, "burst": {tc.burst}})
			row := between(body, `data-org="acme"`, "</tr>")
			if status != http.StatusOK || !strings.Contains(row, `data-problem="`+tc.field+`">`+tc.want) {
				t.Errorf("rps %q burst %q: %d, want the problem %q beside %s\n%s", tc.rps, tc.burst, status, tc.want, tc.field, row)
			}
		}
		if got := orgLimit("acme"); got == nil || *got != (client.Rate{RunsPerSecond: 1, Burst: 3}) {
			t.Errorf("an invalid form changed acme's limit: %v", got)
		}
	})

	t.Run("no such org", func(t *testing.T) {
		u.get("/console/orgs")
		if status, _, _ := u.post("/console/orgs/nope/limits", url.Values{"runsPerSecond": {"1"}}); status != http.StatusNotFound {
			t.Errorf("no such org: %d, want 404", status)
		}
	})

	t.Run("wrong role", func(t *testing.T) {
		a := mustSignIn(t, env.URL, adminKey)
		status, body, _ := a.post("/console/orgs/acme/limits", url.Values{"op": {"remove"}})
		if status != http.StatusForbidden || !strings.Contains(body, "may not use this page") {
			t.Errorf("an admin's post: %d, want 403", status)
		}
		if got := orgLimit("acme"); got == nil {
			t.Errorf("an admin's post removed acme's limit")
		}
	})

	t.Run("a post without the CSRF token", func(t *testing.T) {
		status, body, _ := u.post("/console/orgs/acme/limits", url.Values{"csrf": {"wrong"}, "op": {"remove"}})
		if status != http.StatusForbidden || !strings.Contains(body, "security token") {
			t.Errorf("a post without the token: %d, want 403", status)
		}
		if got := orgLimit("acme"); got == nil {
			t.Errorf("a refused post removed acme's limit")
		}
	})

	t.Run("remove", func(t *testing.T) {
		u.get("/console/orgs")
		status, _, h := u.post("/console/orgs/acme/limits", url.Values{"op": {"remove"}})
		if status != http.StatusSeeOther || h.Get("Location") != "/console/orgs?done=unlimited#org-acme" {
			t.Fatalf("remove: %d, Location %q", status, h.Get("Location"))
		}
		if got := orgLimit("acme"); got != nil {
			t.Errorf("acme's limit after removing = %v", got)
		}
		if _, body := u.get(h.Get("Location")); !strings.Contains(body, "The rate limit is removed.") {
			t.Errorf("no confirmation after removing")
		}
	})
}

// between is the part of s from the first from to the next to after it.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	in, _, _ := strings.Cut(rest, to)
	return in
}
