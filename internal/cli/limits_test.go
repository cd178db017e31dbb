package cli

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLimitsCommands(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks", "--max-inflight-per-upstream", "8")
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"get","url":"`+up.URL+`/get","httpMethod":"get"}]}`)
	k, err := admin.CreateKey(context.Background(), "cli", "admin")
	if err != nil {
		t.Fatal(err)
	}
	asOperator := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": testOperatorKey}
	asAdmin := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key}

	out, errOut, err := runCLI(t, asOperator, "limits", "set", "--org", "acme", "--runs-per-second", "100", "--burst", "50")
	if err != nil || !strings.Contains(out, `"runsPerSecond":100`) || !strings.Contains(out, `"burst":50`) {
		t.Fatalf("limits set --org = %v %s:\n%s", err, errOut, out)
	}
	out, _, err = runCLI(t, asOperator, "limits", "get", "--org", "acme")
	if err != nil || !strings.Contains(out, `"org":"acme"`) || !strings.Contains(out, `"burst":50`) {
		t.Fatalf("limits get --org = %v:\n%s", err, out)
	}
	out, errOut, err = runCLI(t, asAdmin, "limits", "set", "--app", "shop", "get", "--runs-per-second", "0.5", "--burst", "1")
	if err != nil || !strings.Contains(out, `"kustomer.app.shop_acme.get":{"runsPerSecond":0.5,"burst":1}`) {
		t.Fatalf("limits set --app = %v %s:\n%s", err, errOut, out)
	}
	if _, _, err := runCLI(t, asAdmin, "commands", "run", "shop.get"); err != nil {
		t.Fatalf("first run: %v", err)
	}
	_, errOut, err = runCLI(t, asAdmin, "commands", "run", "shop.get")
	if err == nil || !strings.Contains(errOut, "rate_limited") || !strings.Contains(errOut, "retry after 2 s") {
		t.Errorf("a run over the command's limit = %v:\n%s", err, errOut)
	}
	out, _, err = runCLI(t, asAdmin, "limits", "set", "--app", "shop", "get", "--remove")
	if err != nil || !strings.Contains(out, `"limits":{}`) {
		t.Errorf("limits set --remove = %v:\n%s", err, out)
	}
	out, _, err = runCLI(t, asAdmin, "limits", "get", "--app", "shop")
	if err != nil || !strings.Contains(out, `"app":"shop_acme"`) {
		t.Errorf("limits get --app = %v:\n%s", err, out)
	}
	// The admin cannot set the org's own limit: that is the operator's.
	_, errOut, err = runCLI(t, asAdmin, "limits", "set", "--org", "acme", "--runs-per-second", "1000")
	if err == nil || !strings.Contains(errOut, "403") {
		t.Errorf("an admin setting the org's limit = %v:\n%s", err, errOut)
	}
	for _, args := range [][]string{
		{"limits", "get"},
		{"limits", "get", "--org", "acme", "--app", "shop"},
		{"limits", "set", "--org", "acme"},
		{"limits", "set", "--org", "acme", "--runs-per-second", "1", "--remove"},
		{"limits", "set", "--app", "shop", "--runs-per-second", "1"},
	} {
		if _, errOut, err := runCLI(t, asOperator, args...); err == nil || !strings.Contains(errOut, "--") {
			t.Errorf("%v = %v, want a usage error naming the flags:\n%s", args, err, errOut)
		}
	}
}

func TestServeRefusesNegativeInflight(t *testing.T) {
	t.Parallel()
	_, errOut, err := runCLI(t, map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey}, "serve", "--addr", "127.0.0.1:0",
		"--data", t.TempDir(), "--max-inflight-per-upstream", "-1")
	if err == nil || !strings.Contains(errOut, "--max-inflight-per-upstream must be at least 1") {
		t.Fatalf("serve --max-inflight-per-upstream -1 = %v, %s", err, errOut)
	}
}
