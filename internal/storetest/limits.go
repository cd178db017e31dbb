package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
)

// testLimits checks rate limits: put, replace, remove, one change per app,
// and that one org never reads another's.
func testLimits(t *testing.T, s switchboard.Store) {
	ctx := context.Background()
	mustOrg(t, s, "a")
	mustOrg(t, s, "b")
	before, err := s.LastChange(ctx)
	mustOK(t, err)
	mustOK(t, s.PutLimits(ctx, "a", []switchboard.RateLimit{
		{RunsPerSecond: 10, Burst: 20},
		{AppID: "shop", Name: "kustomer.app.shop.refund", RunsPerSecond: 0.5, Burst: 1},
		{AppID: "shop", Name: "kustomer.app.shop.lookup", RunsPerSecond: 2, Burst: 4},
	}))
	mustOK(t, s.PutLimits(ctx, "b", []switchboard.RateLimit{{RunsPerSecond: 1, Burst: 1}}))
	changes, err := s.Changes(ctx, before, 100)
	mustOK(t, err)
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, string(c.Kind)+" "+c.OrgID+" "+c.Ref)
	}
	if diff := cmp.Diff([]string{"limits a ", "limits a shop", "limits b "}, sortedCopy(kinds)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}

	got, err := s.Limits(ctx, "a")
	mustOK(t, err)
	want := []switchboard.RateLimit{
		{OrgID: "a", RunsPerSecond: 10, Burst: 20},
		{OrgID: "a", AppID: "shop", Name: "kustomer.app.shop.lookup", RunsPerSecond: 2, Burst: 4},
		{OrgID: "a", AppID: "shop", Name: "kustomer.app.shop.refund", RunsPerSecond: 0.5, Burst: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Limits(a) (-want +got):\n%s", diff)
	}

	// Replace one, remove another; b is untouched.
	mustOK(t, s.PutLimits(ctx, "a", []switchboard.RateLimit{
		{RunsPerSecond: 0},
		{AppID: "shop", Name: "kustomer.app.shop.lookup", RunsPerSecond: 3, Burst: 3},
	}))
	got, err = s.Limits(ctx, "a")
	mustOK(t, err)
	want = []switchboard.RateLimit{
		{OrgID: "a", AppID: "shop", Name: "kustomer.app.shop.lookup", RunsPerSecond: 3, Burst: 3},
		{OrgID: "a", AppID: "shop", Name: "kustomer.app.shop.refund", RunsPerSecond: 0.5, Burst: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Limits(a) after the second put (-want +got):\n%s", diff)
	}
	got, err = s.Limits(ctx, "b")
	mustOK(t, err)
	if diff := cmp.Diff([]switchboard.RateLimit{{OrgID: "b", RunsPerSecond: 1, Burst: 1}}, got); diff != "" {
		t.Errorf("Limits(b) (-want +got):\n%s", diff)
	}
	none, err := s.Limits(ctx, "nobody")
	mustOK(t, err)
	if len(none) != 0 {
		t.Errorf("Limits(nobody) = %v, want none", none)
	}
	all, err := s.AllLimits(ctx)
	mustOK(t, err)
	if len(all) != 3 {
		t.Errorf("AllLimits = %v, want 3 limits", all)
	}
	// A limit of an org that does not exist is refused by the foreign key.
	if err := s.PutLimits(ctx, "ghost", []switchboard.RateLimit{{RunsPerSecond: 1, Burst: 1}}); err == nil {
		t.Error("PutLimits for an org that does not exist succeeded")
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
