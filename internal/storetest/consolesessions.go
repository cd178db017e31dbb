package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
)

func testConsoleSessions(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	one := switchboard.ConsoleSession{Hash: "ch1", OrgID: "a", KeyID: "k-a", Role: switchboard.RoleAdmin,
		CreatedAt: t0, SeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour)}
	op := switchboard.ConsoleSession{Hash: "ch2", KeyID: "operator", Role: switchboard.RoleOperator,
		CreatedAt: t0, SeenAt: t0.Add(time.Minute), ExpiresAt: t0.Add(time.Hour)}
	mustOK(t, s.CreateConsoleSession(ctx, one))
	mustOK(t, s.CreateConsoleSession(ctx, op))
	wantCode(t, s.CreateConsoleSession(ctx, one), switchboard.CodeConflict)

	got, err := s.ConsoleSession(ctx, "ch1")
	mustOK(t, err)
	if diff := cmp.Diff(one, got); diff != "" {
		t.Errorf("ConsoleSession (-want +got):\n%s", diff)
	}
	_, err = s.ConsoleSession(ctx, "nope")
	wantCode(t, err, switchboard.CodeNotFound)

	mustOK(t, s.TouchConsoleSession(ctx, "ch1", t0.Add(30*time.Minute)))
	got, _ = s.ConsoleSession(ctx, "ch1")
	if !got.SeenAt.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("SeenAt after touch = %v, want %v", got.SeenAt, t0.Add(30*time.Minute))
	}
	wantCode(t, s.TouchConsoleSession(ctx, "nope", t0), switchboard.CodeNotFound)

	// Pruning drops the operator's session (idle since t0+1m) and keeps a
	// session seen since.
	mustOK(t, s.PruneConsoleSessions(ctx, t0, t0.Add(10*time.Minute)))
	if _, err := s.ConsoleSession(ctx, "ch2"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		t.Errorf("idle session after prune: %v, want not found", err)
	}
	mustOK(t, s.PruneConsoleSessions(ctx, t0.Add(time.Hour), t0))
	if _, err := s.ConsoleSession(ctx, "ch1"); err != nil {
		t.Errorf("live session after prune: %v", err)
	}
	mustOK(t, s.PruneConsoleSessions(ctx, t0.Add(13*time.Hour), t0))
	if _, err := s.ConsoleSession(ctx, "ch1"); switchboard.ErrorCode(err) != switchboard.CodeNotFound {
		t.Errorf("expired session after prune: %v, want not found", err)
	}

	mustOK(t, s.CreateConsoleSession(ctx, one))
	mustOK(t, s.DeleteConsoleSession(ctx, "ch1"))
	wantCode(t, s.DeleteConsoleSession(ctx, "ch1"), switchboard.CodeNotFound)
	_, err = s.ConsoleSession(ctx, "ch1")
	wantCode(t, err, switchboard.CodeNotFound)
}

func testOrgDirectory(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	for i, id := range []string{"a", "b", "c"} {
		mustOK(t, s.CreateOrg(ctx, switchboard.Org{ID: id, Name: "Org " + id, CreatedAt: t0.Add(time.Duration(i) * time.Minute)},
			switchboard.Key{ID: "k-" + id, OrgID: id, Name: "admin", Role: switchboard.RoleAdmin, Hash: "h-" + id, CreatedAt: t0}))
	}
	got, err := s.Orgs(ctx, 2)
	mustOK(t, err)
	want := []switchboard.Org{{ID: "c", Name: "Org c", CreatedAt: t0.Add(2 * time.Minute)}, {ID: "b", Name: "Org b", CreatedAt: t0.Add(time.Minute)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Orgs(2) (-want +got):\n%s", diff)
	}
}
