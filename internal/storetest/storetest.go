// Package storetest is the conformance suite of switchboard.Store: every
// implementation runs it, so that SQLite and PostgreSQL behave alike,
// including the tenancy rule that one org never reads another's rows.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
)

// Run runs the suite. newStore returns an empty store for one subtest; it
// registers its own cleanup.
func Run(t *testing.T, newStore func(t *testing.T) switchboard.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s switchboard.Store)
	}{
		{"Orgs", testOrgs},
		{"Keys", testKeys},
		{"AppVersions", testAppVersions},
		{"AppOwnership", testAppOwnership},
		{"Installs", testInstalls},
		{"Settings", testSettings},
		{"Audit", testAudit},
		{"AuditEvents", testAuditEvents},
		{"PruneAudit", testPruneAudit},
		{"Changes", testChanges},
		{"Accounts", testAccounts},
		{"OAuthStates", testOAuthStates},
		{"KeyCheck", testKeyCheck},
		{"Reseal", testReseal},
		{"Sessions", testSessions},
		{"ConsoleSessions", testConsoleSessions},
		{"OrgDirectory", testOrgDirectory},

		{"Limits", testLimits},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func wantCode(t *testing.T, err error, code switchboard.Code) {
	t.Helper()
	if got := switchboard.ErrorCode(err); got != code {
		t.Fatalf("error = %v (code %q), want code %q", err, got, code)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustOrg creates an org with an admin key whose hash is "h-<id>".
func mustOrg(t *testing.T, s switchboard.Store, id string) {
	t.Helper()
	mustOK(t, s.CreateOrg(context.Background(), switchboard.Org{ID: id, Name: "Org " + id, CreatedAt: t0},
		switchboard.Key{ID: "k-" + id, OrgID: id, Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-" + id, CreatedAt: t0}))
}

func testOrgs(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "acme")
	got, err := s.Org(ctx, "acme")
	mustOK(t, err)
	if diff := cmp.Diff(switchboard.Org{ID: "acme", Name: "Org acme", CreatedAt: t0}, got); diff != "" {
		t.Errorf("Org (-want +got):\n%s", diff)
	}
	err = s.CreateOrg(ctx, switchboard.Org{ID: "acme", Name: "again", CreatedAt: t0},
		switchboard.Key{ID: "k-other", OrgID: "acme", Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-other", CreatedAt: t0})
	wantCode(t, err, switchboard.CodeConflict)
	_, err = s.Org(ctx, "nope")
	wantCode(t, err, switchboard.CodeNotFound)
	// The failed creation left no key behind.
	keys, err := s.AllKeys(ctx)
	mustOK(t, err)
	if len(keys) != 1 {
		t.Errorf("AllKeys after a conflicting CreateOrg = %d keys, want 1", len(keys))
	}
}

func testKeys(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	agent := switchboard.Key{ID: "k2", OrgID: "a", Name: "bot", Role: switchboard.RoleAgent, Hash: "h2", CreatedAt: t0.Add(time.Second)}
	mustOK(t, s.CreateKey(ctx, agent))
	wantCode(t, s.CreateKey(ctx, switchboard.Key{ID: "k3", OrgID: "a", Name: "dup", Role: switchboard.RoleAgent, Hash: "h2", CreatedAt: t0}), switchboard.CodeConflict)

	keys, err := s.Keys(ctx, "a")
	mustOK(t, err)
	want := []switchboard.Key{
		{ID: "k-a", OrgID: "a", Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-a", CreatedAt: t0},
		agent,
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("Keys(a) (-want +got):\n%s", diff)
	}
	all, err := s.AllKeys(ctx)
	mustOK(t, err)
	if len(all) != 3 {
		t.Errorf("AllKeys = %d keys, want 3", len(all))
	}
	// Another org's key is not found, and stays.
	wantCode(t, s.DeleteKey(ctx, "b", "k2"), switchboard.CodeNotFound)
	mustOK(t, s.DeleteKey(ctx, "a", "k2"))
	wantCode(t, s.DeleteKey(ctx, "a", "k2"), switchboard.CodeNotFound)
	keys, err = s.Keys(ctx, "b")
	mustOK(t, err)
	if len(keys) != 1 || keys[0].ID != "k-b" {
		t.Errorf("Keys(b) = %v, want only k-b", keys)
	}
}

func version(app, org, v string, at time.Time) switchboard.AppVersion {
	vis := switchboard.Private
	if org == "" {
		vis = switchboard.Public
	}
	return switchboard.AppVersion{AppID: app, OrgID: org, Version: v, Visibility: vis, Title: "T " + v,
		Definition: []byte(fmt.Sprintf(`{"app":%q,"version":%q}`, app, v)), Hash: "hash-" + v, CreatedAt: at}
}

func testAppVersions(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	v1 := version("shop_a", "a", "1.0.0", t0)
	v2 := version("shop_a", "a", "1.1.0", t0.Add(time.Minute))
	mustOK(t, s.CreateAppVersion(ctx, v1, true))
	mustOK(t, s.CreateAppVersion(ctx, v2, true))
	wantCode(t, s.CreateAppVersion(ctx, v2, true), switchboard.CodeConflict)

	got, err := s.AppVersion(ctx, "shop_a", "1.0.0")
	mustOK(t, err)
	if diff := cmp.Diff(v1, got); diff != "" {
		t.Errorf("AppVersion (-want +got):\n%s", diff)
	}
	latest, err := s.LatestAppVersion(ctx, "shop_a")
	mustOK(t, err)
	if latest.Version != "1.1.0" || string(latest.Definition) != string(v2.Definition) {
		t.Errorf("LatestAppVersion = %s %s, want 1.1.0", latest.Version, latest.Definition)
	}
	vs, err := s.AppVersions(ctx, "shop_a")
	mustOK(t, err)
	if len(vs) != 2 || vs[0].Version != "1.0.0" || vs[1].Version != "1.1.0" || vs[0].Definition != nil {
		t.Errorf("AppVersions = %+v, want 1.0.0 then 1.1.0 without definitions", vs)
	}
	_, err = s.AppVersion(ctx, "shop_a", "9.9.9")
	wantCode(t, err, switchboard.CodeNotFound)
	_, err = s.LatestAppVersion(ctx, "nope")
	wantCode(t, err, switchboard.CodeNotFound)

	// Registering a private app installs its latest version.
	ins, err := s.Installs(ctx, "a")
	mustOK(t, err)
	if len(ins) != 1 || ins[0].AppID != "shop_a" || ins[0].Version != "1.1.0" {
		t.Errorf("Installs = %+v, want shop_a at 1.1.0", ins)
	}
}

func testAppOwnership(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	mustOK(t, s.CreateAppVersion(ctx, version("priv_a", "a", "1.0.0", t0), true))
	mustOK(t, s.CreateAppVersion(ctx, version("priv_b", "b", "1.0.0", t0), true))
	mustOK(t, s.CreateAppVersion(ctx, version("pub", "", "1.0.0", t0), false))
	mustOK(t, s.CreateAppVersion(ctx, version("pub", "", "2.0.0", t0.Add(time.Hour)), false))
	// The same id under another owner is a conflict.
	wantCode(t, s.CreateAppVersion(ctx, version("priv_a", "b", "2.0.0", t0), true), switchboard.CodeConflict)
	wantCode(t, s.CreateAppVersion(ctx, version("pub", "a", "3.0.0", t0), true), switchboard.CodeConflict)

	apps, err := s.Apps(ctx, "a")
	mustOK(t, err)
	var ids []string
	for _, a := range apps {
		ids = append(ids, a.AppID+"@"+a.Version+":"+string(a.Visibility))
	}
	if diff := cmp.Diff([]string{"priv_a@1.0.0:private", "pub@2.0.0:public"}, ids); diff != "" {
		t.Errorf("Apps(a) (-want +got):\n%s", diff)
	}
	apps, err = s.Apps(ctx, "")
	mustOK(t, err)
	if len(apps) != 1 || apps[0].AppID != "pub" {
		t.Errorf("Apps(\"\") = %+v, want only the public app", apps)
	}
}

func testInstalls(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	mustOK(t, s.CreateAppVersion(ctx, version("pub", "", "1.0.0", t0), false))
	mustOK(t, s.PutInstall(ctx, switchboard.Install{OrgID: "a", AppID: "pub", Version: "1.0.0", InstalledAt: t0}))
	mustOK(t, s.PutInstall(ctx, switchboard.Install{OrgID: "a", AppID: "pub", Version: "1.0.0", InstalledAt: t0.Add(time.Second)}))
	ins, err := s.Installs(ctx, "a")
	mustOK(t, err)
	if diff := cmp.Diff([]switchboard.Install{{OrgID: "a", AppID: "pub", Version: "1.0.0", InstalledAt: t0.Add(time.Second)}}, ins); diff != "" {
		t.Errorf("Installs(a) (-want +got):\n%s", diff)
	}
	ins, err = s.Installs(ctx, "b")
	mustOK(t, err)
	if len(ins) != 0 {
		t.Errorf("Installs(b) = %+v, want none", ins)
	}
	wantCode(t, s.DeleteInstall(ctx, "b", "pub"), switchboard.CodeNotFound)
	mustOK(t, s.DeleteInstall(ctx, "a", "pub"))
	wantCode(t, s.DeleteInstall(ctx, "a", "pub"), switchboard.CodeNotFound)
}

func testSettings(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	vals := []switchboard.SettingValue{
		{Category: "default", Name: "region", Value: []byte(`"eu"`), UpdatedAt: t0},
		{Category: "default", Name: "token", Secret: true, Ciphertext: []byte{0, 1, 2, 255}, UpdatedAt: t0},
	}
	mustOK(t, s.PutSettings(ctx, "a", "shop", vals))
	mustOK(t, s.PutSettings(ctx, "a", "shop", []switchboard.SettingValue{{Category: "default", Name: "region", Value: []byte(`"us"`), UpdatedAt: t0.Add(time.Second)}}))
	got, err := s.Settings(ctx, "a", "shop")
	mustOK(t, err)
	want := []switchboard.SettingValue{
		{OrgID: "a", AppID: "shop", Category: "default", Name: "region", Value: []byte(`"us"`), UpdatedAt: t0.Add(time.Second)},
		{OrgID: "a", AppID: "shop", Category: "default", Name: "token", Secret: true, Ciphertext: []byte{0, 1, 2, 255}, UpdatedAt: t0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Settings(a) (-want +got):\n%s", diff)
	}
	got, err = s.Settings(ctx, "b", "shop")
	mustOK(t, err)
	if len(got) != 0 {
		t.Errorf("Settings(b) = %+v, want none", got)
	}
}

func testAudit(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	var entries []switchboard.AuditEntry
	for i := 0; i < 7; i++ {
		name := "kustomer.app.shop.refund"
		if i%2 == 1 {
			name = "kustomer.app.shop.lookup"
		}
		entries = append(entries, switchboard.AuditEntry{
			ID: fmt.Sprintf("e%d", i), Time: t0.Add(time.Duration(i) * time.Minute), OrgID: "a",
			ActorID: "k1", ActorName: "bot", Kind: "command", Name: name, Args: map[string]string{"store": "x"},
			Method: "POST", URL: "https://x.example.com/", Status: 200, DurationMs: int64(i), Cache: "none",
		})
	}
	// Same time, ordered by id.
	entries = append(entries, switchboard.AuditEntry{ID: "e7", Time: t0.Add(6 * time.Minute), OrgID: "a", Kind: "command",
		Name: "kustomer.app.shop.refund", Method: "GET", URL: "u", Status: 502, Cache: "none", Error: "upstream_unreachable"})
	entries = append(entries, switchboard.AuditEntry{ID: "other", Time: t0, OrgID: "b", Kind: "command", Name: "x", Method: "GET", URL: "u"})
	mustOK(t, s.AppendAudit(ctx, entries))

	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		got, next, err := s.AuditEntries(ctx, "a", switchboard.AuditFilter{Limit: 3, Cursor: cursor})
		mustOK(t, err)
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if next == "" {
			break
		}
		if page > 5 {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	if diff := cmp.Diff([]string{"e7", "e6", "e5", "e4", "e3", "e2", "e1", "e0"}, ids); diff != "" {
		t.Errorf("audit pages (-want +got):\n%s", diff)
	}

	got, _, err := s.AuditEntries(ctx, "a", switchboard.AuditFilter{Name: "kustomer.app.shop.lookup",
		Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)})
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != "e3" {
		t.Errorf("filtered = %+v, want e3 only", got)
	}
	if diff := cmp.Diff(entries[3], got[0]); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	got, _, err = s.AuditEntries(ctx, "b", switchboard.AuditFilter{})
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != "other" {
		t.Errorf("AuditEntries(b) = %+v, want only its own", got)
	}
	_, _, err = s.AuditEntries(ctx, "a", switchboard.AuditFilter{Cursor: "!!"})
	wantCode(t, err, switchboard.CodeInvalidInput)
}

// An entry's event, upstream status and via are kept, and the event filters:
// an outage's stale answer, fallback mode turning on and off.
func testAuditEvents(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	entries := []switchboard.AuditEntry{
		{ID: "r1", Time: t0, OrgID: "a", ActorID: "k1", ActorName: "bot", Event: switchboard.AuditRun, Kind: "command",
			Name: "quotes.get", Args: map[string]string{"q": "a"}, Method: "POST", URL: "https://q.example.com/?q=a",
			Status: 200, DurationMs: 3, Cache: "stale", Error: "upstream_error", UpstreamStatus: 503},
		{ID: "f1", Time: t0.Add(time.Second), OrgID: "a", ActorID: "k1", ActorName: "bot", Event: switchboard.AuditFallbackOn,
			Kind: "command", Name: "quotes.get", Args: map[string]string{}, Method: "POST", URL: "https://q.example.com/?q=a",
			Status: 503, DurationMs: 3, Error: "upstream_error"},
		{ID: "r2", Time: t0.Add(2 * time.Second), OrgID: "a", ActorID: "k1", ActorName: "bot", Event: switchboard.AuditRun,
			Kind: "command", Name: "quotes.get", Args: map[string]string{}, Method: "POST", URL: "https://q.example.com/?q=a",
			Cache: "stale", Error: "upstream_timeout", Via: "mcp"},
		{ID: "f2", Time: t0.Add(3 * time.Second), OrgID: "a", ActorID: "k2", ActorName: "agent", Event: switchboard.AuditFallbackOff,
			Kind: "command", Name: "quotes.get", Args: map[string]string{}, Method: "POST", URL: "https://q.example.com/?q=a",
			Status: 200, DurationMs: 1},
		{ID: "fb", Time: t0, OrgID: "b", Event: switchboard.AuditFallbackOn, Kind: "command", Name: "quotes.get",
			Args: map[string]string{}, Method: "POST", URL: "u", Error: "upstream_unreachable"},
	}
	mustOK(t, s.AppendAudit(ctx, entries))
	got, _, err := s.AuditEntries(ctx, "a", switchboard.AuditFilter{})
	mustOK(t, err)
	want := []switchboard.AuditEntry{entries[3], entries[2], entries[1], entries[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		event string
		want  []string
	}{
		{switchboard.AuditRun, []string{"r2", "r1"}},
		{switchboard.AuditFallbackOn, []string{"f1"}},
		{switchboard.AuditFallbackOff, []string{"f2"}},
		{"other", nil},
	} {
		got, _, err := s.AuditEntries(ctx, "a", switchboard.AuditFilter{Event: tt.event, Name: "quotes.get"})
		mustOK(t, err)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("event %q (-want +got):\n%s", tt.event, diff)
		}
	}
	got, _, err = s.AuditEntries(ctx, "b", switchboard.AuditFilter{Event: switchboard.AuditFallbackOn})
	mustOK(t, err)
	if len(got) != 1 || got[0].ID != "fb" {
		t.Errorf("AuditEntries(b) = %+v, want only its own", got)
	}
}

// Pruning the audit log deletes the entries of every org recorded before
// the cutoff, at most a batch per call, oldest first within an org (ties
// by id), and keeps the entry at the cutoff and everything after it.
func testPruneAudit(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	cutoff := t0.Add(time.Hour)
	entry := func(org, id string, at time.Time) switchboard.AuditEntry {
		return switchboard.AuditEntry{ID: id, Time: at, OrgID: org, Event: switchboard.AuditRun, Kind: "command", Name: "x",
			Args: map[string]string{}, Method: "GET", URL: "u"}
	}
	mustOK(t, s.AppendAudit(ctx, []switchboard.AuditEntry{
		entry("a", "a0", t0),
		entry("a", "a1", t0.Add(time.Minute)),
		entry("a", "a2", t0.Add(2*time.Minute)),
		entry("a", "a3", t0.Add(2*time.Minute)), // the same time as a2: ordered by id
		entry("a", "a4", cutoff.Add(-time.Microsecond)),
		entry("a", "a5", cutoff), // at the cutoff: kept
		entry("a", "a6", cutoff.Add(time.Minute)),
		entry("b", "b0", t0.Add(-24*time.Hour)),
		entry("b", "b1", t0.Add(30*time.Minute)),
		entry("b", "b2", cutoff.Add(time.Hour)),
		entry("c", "c0", cutoff.Add(time.Second)), // nothing old
		entry("d", "d0", t0.Add(10*time.Minute)),  // nothing new
	}))
	ids := func(org string) []string {
		t.Helper()
		got, _, err := s.AuditEntries(ctx, org, switchboard.AuditFilter{Limit: 100})
		mustOK(t, err)
		var out []string
		for _, e := range got {
			out = append(out, e.ID)
		}
		return out
	}
	left := func() map[string][]string {
		return map[string][]string{"a": ids("a"), "b": ids("b"), "c": ids("c"), "d": ids("d")}
	}
	prune := func(batch, want int) {
		t.Helper()
		n, err := s.PruneAudit(ctx, cutoff, batch)
		mustOK(t, err)
		if n != want {
			t.Fatalf("PruneAudit(batch %d) = %d, want %d", batch, n, want)
		}
	}

	prune(3, 3)
	if diff := cmp.Diff(map[string][]string{
		"a": {"a6", "a5", "a4", "a3"}, "b": {"b2", "b1", "b0"}, "c": {"c0"}, "d": {"d0"},
	}, left()); diff != "" {
		t.Errorf("after one batch of 3 (-want +got):\n%s", diff)
	}
	prune(3, 3) // a3, a4, then b0: a batch spans orgs
	if diff := cmp.Diff(map[string][]string{
		"a": {"a6", "a5"}, "b": {"b2", "b1"}, "c": {"c0"}, "d": {"d0"},
	}, left()); diff != "" {
		t.Errorf("after two batches of 3 (-want +got):\n%s", diff)
	}
	prune(3, 2) // b1, d0: fewer than the batch, so none are left
	prune(3, 0)
	if diff := cmp.Diff(map[string][]string{
		"a": {"a6", "a5"}, "b": {"b2"}, "c": {"c0"}, "d": nil,
	}, left()); diff != "" {
		t.Errorf("after pruning (-want +got):\n%s", diff)
	}

	// A later cutoff and a batch larger than what is left.
	n, err := s.PruneAudit(ctx, cutoff.Add(2*time.Hour), 500)
	mustOK(t, err)
	if n != 4 {
		t.Errorf("PruneAudit(+2h) = %d, want 4", n)
	}
	if diff := cmp.Diff(map[string][]string{"a": nil, "b": nil, "c": nil, "d": nil}, left()); diff != "" {
		t.Errorf("after the later cutoff (-want +got):\n%s", diff)
	}
	for _, batch := range []int{0, -1} {
		_, err := s.PruneAudit(ctx, cutoff, batch)
		wantCode(t, err, switchboard.CodeInvalidInput)
	}
}

func testChanges(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	start, err := s.LastChange(ctx)
	mustOK(t, err)
	mustOrg(t, s, "a")
	mustOK(t, s.CreateAppVersion(ctx, version("shop_a", "a", "1.0.0", t0), true))
	mustOK(t, s.PutSettings(ctx, "a", "shop_a", []switchboard.SettingValue{{Category: "c", Name: "n", Value: []byte("1"), UpdatedAt: t0}}))
	changes, err := s.Changes(ctx, start, 100)
	mustOK(t, err)
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, string(c.Kind)+":"+c.OrgID+":"+c.Ref)
	}
	want := []string{"keys:a:k-a", "apps:a:shop_a", "installs:a:shop_a", "settings:a:shop_a"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	last, err := s.LastChange(ctx)
	mustOK(t, err)
	if last != changes[len(changes)-1].Seq {
		t.Errorf("LastChange = %d, want %d", last, changes[len(changes)-1].Seq)
	}
	rest, err := s.Changes(ctx, changes[1].Seq, 100)
	mustOK(t, err)
	if len(rest) != 2 {
		t.Errorf("Changes after the second = %d, want 2", len(rest))
	}
}

func testAccounts(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	acct := switchboard.Account{OrgID: "a", AppID: "shop_a", Name: "default", Status: switchboard.AccountConnected,
		Scopes: []string{"orders.read"}, AccessToken: []byte{1, 2, 3}, RefreshToken: []byte{4, 5}, TokenType: "Bearer",
		ExpiresAt: t0.Add(time.Hour), LastRefreshedAt: t0, ConnectedAt: t0, UpdatedAt: t0}
	mustOK(t, s.PutAccount(ctx, acct))
	got, err := s.Account(ctx, "a", "shop_a", "default")
	mustOK(t, err)
	if diff := cmp.Diff(acct, got); diff != "" {
		t.Errorf("Account (-want +got):\n%s", diff)
	}
	_, err = s.Account(ctx, "b", "shop_a", "default")
	wantCode(t, err, switchboard.CodeNotFound)
	second := acct
	second.Name, second.RefreshToken, second.ExpiresAt, second.Scopes = "backup", nil, time.Time{}, nil
	mustOK(t, s.PutAccount(ctx, second))
	list, err := s.Accounts(ctx, "a", "shop_a")
	mustOK(t, err)
	if len(list) != 2 || list[0].Name != "backup" || list[1].Name != "default" || list[0].RefreshToken != nil || !list[0].ExpiresAt.IsZero() {
		t.Errorf("Accounts = %+v", list)
	}
	if list, _ := s.Accounts(ctx, "b", "shop_a"); len(list) != 0 {
		t.Errorf("another org lists %+v", list)
	}
	// UpdateAccount writes only what fn changed.
	updated, err := s.UpdateAccount(ctx, "a", "shop_a", "default", func(a *switchboard.Account) (bool, error) {
		a.AccessToken = []byte{9}
		a.LastRefreshedAt = t0.Add(time.Minute)
		return true, nil
	})
	mustOK(t, err)
	if updated.AccessToken[0] != 9 {
		t.Errorf("UpdateAccount returned %+v", updated)
	}
	got, _ = s.Account(ctx, "a", "shop_a", "default")
	if got.AccessToken[0] != 9 || !got.LastRefreshedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after UpdateAccount: %+v", got)
	}
	_, err = s.UpdateAccount(ctx, "a", "shop_a", "default", func(a *switchboard.Account) (bool, error) {
		a.AccessToken = []byte{7}
		return false, nil
	})
	mustOK(t, err)
	if got, _ := s.Account(ctx, "a", "shop_a", "default"); got.AccessToken[0] != 9 {
		t.Error("UpdateAccount wrote an unchanged account")
	}
	_, err = s.UpdateAccount(ctx, "b", "shop_a", "default", func(*switchboard.Account) (bool, error) { return true, nil })
	wantCode(t, err, switchboard.CodeNotFound)
	wantCode(t, s.DeleteAccount(ctx, "b", "shop_a", "default"), switchboard.CodeNotFound)
	mustOK(t, s.DeleteAccount(ctx, "a", "shop_a", "default"))
	wantCode(t, s.DeleteAccount(ctx, "a", "shop_a", "default"), switchboard.CodeNotFound)
}

func testOAuthStates(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	st := switchboard.OAuthState{Hash: "h1", OrgID: "a", AppID: "shop_a", Account: "default", Verifier: []byte{1, 2},
		ReturnURL: "https://app.example.com/done", ExpiresAt: t0.Add(10 * time.Minute)}
	mustOK(t, s.CreateOAuthState(ctx, st))
	got, err := s.TakeOAuthState(ctx, "h1")
	mustOK(t, err)
	if diff := cmp.Diff(st, got); diff != "" {
		t.Errorf("TakeOAuthState (-want +got):\n%s", diff)
	}
	_, err = s.TakeOAuthState(ctx, "h1")
	wantCode(t, err, switchboard.CodeNotFound) // used once
	_, err = s.TakeOAuthState(ctx, "nope")
	wantCode(t, err, switchboard.CodeNotFound)
}

// The key check value: absent at first, the first writer wins, and replace
// overwrites it.
// Reseal passes every secret setting and account token (a refresh token
// only where there is one) with its additional data, and writes back what
// fn changed.
func testReseal(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOK(t, s.PutSettings(ctx, "a", "shop", []switchboard.SettingValue{
		{Category: "default", Name: "region", Value: []byte(`"eu"`), UpdatedAt: t0},
		{Category: "default", Name: "token", Secret: true, Ciphertext: []byte("s"), UpdatedAt: t0}}))
	acct := switchboard.Account{OrgID: "a", AppID: "shop", Name: "default", Status: switchboard.AccountConnected,
		AccessToken: []byte("at"), RefreshToken: []byte("rt"), TokenType: "Bearer", ConnectedAt: t0, UpdatedAt: t0}
	mustOK(t, s.PutAccount(ctx, acct))
	acct.Name, acct.AccessToken, acct.RefreshToken = "backup", []byte("at2"), nil
	mustOK(t, s.PutAccount(ctx, acct))
	seen := map[string]string{}
	n, err := s.Reseal(ctx, func(ct, aad []byte) ([]byte, bool, error) {
		seen[string(aad)] = string(ct)
		return append(ct, '!'), true, nil
	})
	mustOK(t, err)
	want := map[string]string{
		string(switchboard.SettingAAD("a", "shop", "default.token")):    "s",
		string(switchboard.TokenAAD("a", "shop", "default", "access")):  "at",
		string(switchboard.TokenAAD("a", "shop", "default", "refresh")): "rt",
		string(switchboard.TokenAAD("a", "shop", "backup", "access")):   "at2",
	}
	if n != len(want) || !cmp.Equal(want, seen) {
		t.Errorf("Reseal rewrote %d and saw %q, want %d and %q", n, seen, len(want), want)
	}
	vals, err := s.Settings(ctx, "a", "shop")
	mustOK(t, err)
	for _, v := range vals {
		if v.Secret && string(v.Ciphertext) != "s!" {
			t.Errorf("the secret setting holds %q after Reseal, want %q", v.Ciphertext, "s!")
		}
	}
	got, err := s.Account(ctx, "a", "shop", "default")
	mustOK(t, err)
	if string(got.AccessToken) != "at!" || string(got.RefreshToken) != "rt!" {
		t.Errorf("the account holds %q and %q after Reseal, want at! and rt!", got.AccessToken, got.RefreshToken)
	}
	if n, err := s.Reseal(ctx, func(ct, _ []byte) ([]byte, bool, error) { return ct, false, nil }); err != nil || n != 0 {
		t.Errorf("Reseal with nothing to change rewrote %d, %v", n, err)
	}
}

func testKeyCheck(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	_, err := s.KeyCheck(ctx)
	wantCode(t, err, switchboard.CodeNotFound)
	first := []byte{1, 0, 255, 'a'}
	mustOK(t, s.PutKeyCheck(ctx, first, false))
	mustOK(t, s.PutKeyCheck(ctx, []byte("second"), false))
	got, err := s.KeyCheck(ctx)
	mustOK(t, err)
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("KeyCheck after a second PutKeyCheck without replace (-want +got):\n%s", diff)
	}
	mustOK(t, s.PutKeyCheck(ctx, []byte("rotated"), true))
	got, err = s.KeyCheck(ctx)
	mustOK(t, err)
	if diff := cmp.Diff([]byte("rotated"), got); diff != "" {
		t.Errorf("KeyCheck after PutKeyCheck with replace (-want +got):\n%s", diff)
	}
}
