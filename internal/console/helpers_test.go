package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// user is a person in a browser without JavaScript: a cookie jar, the
// CSRF token of the last page, no automatic redirects.
type user struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newUser(t *testing.T, base string) *user {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &user{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// mustSignIn signs in with key and fails the test unless it lands on a page.
func mustSignIn(t *testing.T, base, key string) *user {
	t.Helper()
	u := newUser(t, base)
	u.get("/console/sign-in")
	status, _, h := u.post("/console/sign-in", url.Values{"key": {key}})
	if status != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/") {
		t.Fatalf("sign in: %d, Location %q", status, h.Get("Location"))
	}
	u.get(h.Get("Location"))
	return u
}

func (u *user) do(req *http.Request) (int, string, http.Header) {
	u.t.Helper()
	resp, err := u.c.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		u.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), resp.Header
}

func (u *user) get(path string) (int, string) {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	status, body, _ := u.do(req)
	return status, body
}

// post submits a form with the last page's CSRF token, unless form sets
// csrf itself.
func (u *user) post(path string, form url.Values) (int, string, http.Header) {
	u.t.Helper()
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", u.csrf)
	}
	req, _ := http.NewRequest("POST", u.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return u.do(req)
}

func newEnv(t *testing.T, opts apitest.Options) *apitest.Env {
	t.Helper()
	opts.Outbound = outbound.Config{AllowPrivateNetworks: true}
	return apitest.New(t, opts)
}

// mustOrg creates an org and returns its admin key and a client with it.
func mustOrg(t *testing.T, env *apitest.Env, id string) (string, *client.Client) {
	t.Helper()
	org, err := env.Operator.CreateOrg(context.Background(), id, "")
	if err != nil {
		t.Fatalf("create org %q: %v", id, err)
	}
	return org.AdminKey, client.New(env.URL, org.AdminKey, nil)
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
