package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
)

func testSessions(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	agent := switchboard.Key{ID: "k2", OrgID: "a", Name: "bot", Role: switchboard.RoleAgent, Hash: "h2", CreatedAt: t0}
	mustOK(t, s.CreateKey(ctx, agent))
	one := switchboard.Session{ID: "s1", OrgID: "a", KeyID: "k2", Hash: "sh1", Commands: []string{"kustomer.app.x.c", "kustomer.app.y.*"},
		Args: map[string]string{"store": "acme"}, Origins: []string{"https://desk.example.com"}, Subject: "ann",
		CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute)}
	two := switchboard.Session{ID: "s2", OrgID: "a", KeyID: "k-a", Hash: "sh2", Commands: []string{"kustomer.app.x.c"},
		Args: map[string]string{}, Origins: []string{}, CreatedAt: t0.Add(time.Second), ExpiresAt: t0.Add(time.Hour)}
	mustOK(t, s.CreateSession(ctx, one))
	mustOK(t, s.CreateSession(ctx, two))
	wantCode(t, s.CreateSession(ctx, switchboard.Session{ID: "s3", OrgID: "a", KeyID: "k2", Hash: "sh1", CreatedAt: t0, ExpiresAt: t0}), switchboard.CodeConflict)

	got, err := s.Sessions(ctx, "a")
	mustOK(t, err)
	if diff := cmp.Diff([]switchboard.Session{two, one}, got); diff != "" {
		t.Errorf("Sessions(a) (-want +got):\n%s", diff)
	}
	if got, _ := s.Sessions(ctx, "b"); len(got) != 0 {
		t.Errorf("Sessions(b) = %v, want none of a's", got)
	}
	live, err := s.AllSessions(ctx, t0.Add(30*time.Minute))
	mustOK(t, err)
	if len(live) != 1 || live[0].ID != "s2" {
		t.Errorf("AllSessions(after 30m) = %v, want s2", live)
	}

	// Another org cannot revoke a's session.
	wantCode(t, s.DeleteSession(ctx, "b", "s2"), switchboard.CodeNotFound)
	mustOK(t, s.DeleteSession(ctx, "a", "s2"))
	wantCode(t, s.DeleteSession(ctx, "a", "s2"), switchboard.CodeNotFound)

	// Revoking a key ends its sessions, in the same write.
	mustOK(t, s.DeleteKey(ctx, "a", "k2"))
	if got, _ := s.Sessions(ctx, "a"); len(got) != 0 {
		t.Errorf("after the key's deletion: %v", got)
	}

	// Pruning drops the expired ones only.
	mustOK(t, s.CreateSession(ctx, two))
	mustOK(t, s.CreateSession(ctx, switchboard.Session{ID: "old", OrgID: "a", KeyID: "k-a", Hash: "old", CreatedAt: t0, ExpiresAt: t0}))
	mustOK(t, s.PruneSessions(ctx, t0.Add(time.Minute)))
	if got, _ := s.Sessions(ctx, "a"); len(got) != 1 || got[0].ID != "s2" {
		t.Errorf("after pruning: %v, want s2", got)
	}
}
