package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// Console sessions are shared by instances: signed in on one, a person is
// signed in on every other; signed out on one, they are out on all.
func TestSessionsAcrossInstances(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.Schema(t)
	instance := func() *apitest.Env {
		store, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		return newEnv(t, apitest.Options{Store: store})
	}
	one, two := instance(), instance()
	adminKey, _ := mustOrg(t, one, "acme")

	u := mustSignIn(t, one.URL, adminKey)
	cookies := u.c.Jar.Cookies(mustURL(t, one.URL+"/console/"))
	// The same browser reaching the other instance (behind one load
	// balancer, the cookie goes to both).
	v := newUser(t, two.URL)
	v.c.Jar.SetCookies(mustURL(t, two.URL+"/console/"), cookies)
	if status, _ := v.get("/console/keys"); status != http.StatusOK {
		t.Fatalf("the second instance: %d, want the keys page", status)
	}
	if status, _, _ := v.post("/console/sign-out", url.Values{}); status != http.StatusSeeOther {
		t.Fatalf("sign out on the second instance: %d", status)
	}
	if status, _ := u.get("/console/keys"); status != http.StatusSeeOther {
		t.Errorf("the first instance after signing out on the second: %d, want 303 to the sign-in page", status)
	}
}
