package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
)

// audit export writes every matching entry, oldest first, one JSON object
// a line exactly as the API answers it, across pages, with the filters of
// audit list.
func TestAuditExport(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
		{"name":"order","permittedArgs":["id"],"url":"`+up.URL+`/orders/{{id}}","httpMethod":"get","auditLogging":true},
		{"name":"refund","permittedArgs":["id"],"url":"`+up.URL+`/refunds/{{id}}","httpMethod":"post","auditLogging":true}]}`)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		name := "shop.order"
		if i%3 == 2 {
			name = "shop.refund"
		}
		if _, err := admin.RunCommand(ctx, name, client.RunRequest{Args: map[string]string{"id": fmt.Sprint(i)}}); err != nil {
			t.Fatalf("run %s: %v", name, err)
		}
	}
	// Another org's entries are not exported.
	other := s.mustOrg(t, "globex")
	mustRegister(t, other, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[
		{"name":"order","url":"`+up.URL+`/o","httpMethod":"get","auditLogging":true}]}`)
	if _, err := other.RunCommand(ctx, "shop.order", client.RunRequest{}); err != nil {
		t.Fatal(err)
	}

	// What the API answers, newest first, reversed.
	raw, next, err := admin.AuditLogsRaw(ctx, client.AuditQuery{Limit: 1000})
	if err != nil || next != "" || len(raw) != 7 {
		t.Fatalf("AuditLogsRaw = %d entries, next %q, %v", len(raw), next, err)
	}
	slices.Reverse(raw)
	var all []client.AuditEntry
	var lines []string
	for _, r := range raw {
		var e client.AuditEntry
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
		var b bytes.Buffer
		if err := json.Compact(&b, r); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, b.String())
	}
	// where picks the lines of the entries that keep says to keep.
	where := func(keep func(client.AuditEntry) bool) []string {
		var out []string
		for i, e := range all {
			if keep(e) {
				out = append(out, lines[i])
			}
		}
		return out
	}
	key := func(role string) string {
		t.Helper()
		k, err := admin.CreateKey(ctx, "export "+role, role)
		if err != nil {
			t.Fatal(err)
		}
		return k.Key
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": key("auditor")}
	since, until := all[2].Time, all[5].Time
	refunds := where(func(e client.AuditEntry) bool { return e.Command == "kustomer.app.shop_acme.refund" })
	between := where(func(e client.AuditEntry) bool { return !e.Time.Before(since) && e.Time.Before(until) })
	if len(refunds) != 2 || len(between) == 0 {
		t.Fatalf("the filters' cases select %d refunds and %d entries between since and until", len(refunds), len(between))
	}

	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"everything, two a page", []string{"--limit", "2"}, lines},
		{"everything, one page", nil, lines},
		{"a command, any spelling", []string{"--command", "shop.refund", "--limit", "1"}, refunds},
		{"since and until", []string{"--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano), "--limit", "2"}, between},
		{"since a duration ago", []string{"--since", "1h", "--event", "run"}, lines},
		{"an event with no entries", []string{"--event", "fallback_on"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runCLI(t, env, append([]string{"audit", "export"}, tt.args...)...)
			if err != nil {
				t.Fatalf("audit export: %v %s", err, errOut)
			}
			var got []string
			if out != "" {
				if !strings.HasSuffix(out, "\n") {
					t.Errorf("the output does not end with a newline: %q", out)
				}
				got = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if want := fmt.Sprintf("exported %d entries\n", len(tt.want)); !strings.HasSuffix(errOut, want) {
				t.Errorf("stderr = %q, want it to end with %q", errOut, want)
			}
		})
	}

	t.Run("refuses what list refuses", func(t *testing.T) {
		out, errOut, err := runCLI(t, map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": key("agent")}, "audit", "export")
		if err == nil || out != "" || !strings.Contains(errOut, "403") {
			t.Errorf("export with an agent key = %v, stdout %q, stderr %q", err, out, errOut)
		}
		_, errOut, err = runCLI(t, env, "audit", "export", "--since", "yesterday")
		if err == nil || !strings.Contains(errOut, `--since "yesterday"`) {
			t.Errorf("export --since yesterday = %v %s", err, errOut)
		}
		_, errOut, err = runCLI(t, env, "audit", "export", "--limit", "5000")
		if err == nil || !strings.Contains(errOut, "/limit") {
			t.Errorf("export --limit 5000 = %v %s", err, errOut)
		}
	})
}

// The reversal works across pages of any size, and on an empty spool.
func TestWriteReversed(t *testing.T) {
	t.Parallel()
	spool := "e\nd\nc\nb\na\n"
	for _, tt := range []struct {
		ends []int64
		want string
	}{
		{nil, ""},
		{[]int64{10}, "a\nb\nc\nd\ne\n"},
		{[]int64{4, 8, 10}, "a\nb\nc\nd\ne\n"},
		{[]int64{2, 2, 10}, "a\nb\nc\nd\ne\n"}, // an empty page
	} {
		var out bytes.Buffer
		if err := writeReversed(&out, strings.NewReader(spool), tt.ends); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.want {
			t.Errorf("writeReversed(%v) = %q, want %q", tt.ends, out.String(), tt.want)
		}
	}
}

// serve --audit-retention (SWITCHBOARD_AUDIT_RETENTION) is 0 or at least an
// hour.
func TestServeAuditRetention(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey}
	for _, args := range [][]string{{"--audit-retention", "90"}, {"--audit-retention", "10m"}, {"--audit-retention=-1h"}} {
		_, errOut, err := runCLI(t, env, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, args...)...)
		if err == nil || !strings.Contains(errOut, "audit-retention") {
			t.Errorf("serve %s = %v, %s", args, err, errOut)
		}
	}
	env["SWITCHBOARD_AUDIT_RETENTION"] = "30s"
	_, errOut, err := runCLI(t, env, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(errOut, "--audit-retention must be 0 (keep the audit log forever) or at least 1h") {
		t.Errorf("serve with SWITCHBOARD_AUDIT_RETENTION=30s = %v, %s", err, errOut)
	}
	s := mustServe(t, map[string]string{"SWITCHBOARD_AUDIT_RETENTION": "720h"}, "--log-format", "json")
	if l := s.logsAfter(t, `"msg":"listening"`); !strings.Contains(l, `"audit_retention":"720h0m0s"`) {
		t.Errorf("the start-up line does not show the retention:\n%s", l)
	}
}
