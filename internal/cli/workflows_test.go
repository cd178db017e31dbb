package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The workflows commands list, start and follow a run, list runs, and
// show one; hooks list prints the URLs.
func TestWorkflowsCommands(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": %q, "status": "REFUNDED"}`, filepath.Base(r.URL.Path))
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks", "--workflow-retry-base", "10ms")
	admin := s.mustOrg(t, "acme")
	def, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", "orderflows.json"))
	if err != nil {
		t.Fatal(err)
	}
	mustRegister(t, admin, strings.ReplaceAll(string(def), "http://127.0.0.1:8089", up.URL))
	k, err := admin.CreateKey(context.Background(), "cli", "admin")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key}

	out, _, err := runCLI(t, env, "workflows", "list")
	if err != nil || !strings.Contains(out, "kustomer.app.orderflows_acme.refundCancelled") || !strings.Contains(out, "kustomer.app.orderflows_acme.order.update") {
		t.Errorf("workflows list = %v:\n%s", err, out)
	}
	out, errOut, err := runCLI(t, env, "workflows", "run", "orderflows.refundCancelled", "--input", `{"orderId": "ord_1", "status": "cancelled"}`, "--watch")
	if err != nil {
		t.Fatalf("workflows run --watch: %v %s", err, errOut)
	}
	for _, want := range []string{"started", "step refund: succeeded", "step notify: succeeded", " succeeded in "} {
		if !strings.Contains(out, want) {
			t.Errorf("workflows run --watch lacks %q:\n%s", want, out)
		}
	}
	id := strings.Fields(out)[1]
	out, _, err = runCLI(t, env, "workflows", "runs", "--status", "succeeded")
	if err != nil || !strings.Contains(out, id) {
		t.Errorf("workflows runs = %v:\n%s", err, out)
	}
	out, _, err = runCLI(t, env, "workflows", "run-get", id)
	if err != nil || !strings.Contains(out, `"params":{"orderId":"ord_1"}`) {
		t.Errorf("workflows run-get = %v:\n%s", err, out)
	}
	_, errOut, err = runCLI(t, env, "workflows", "cancel", id)
	if err == nil || !strings.Contains(errOut, "not running") {
		t.Errorf("cancel of a finished run = %v %s", err, errOut)
	}
	_, errOut, err = runCLI(t, env, "workflows", "run", "orderflows.nope")
	if err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("an unknown workflow = %v %s", err, errOut)
	}
	out, _, err = runCLI(t, env, "hooks", "list", "orderflows")
	if err != nil || !strings.Contains(out, s.URL+"/v1/hooks/hk_") || !strings.Contains(out, "whsec_") {
		t.Errorf("hooks list = %v:\n%s", err, out)
	}
}
