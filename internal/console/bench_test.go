package console_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// BenchmarkPage serves console pages in process (no network) to a
// signed-in admin: the session's read from the store, the key lookup, the
// services' calls and the template.
func BenchmarkPage(b *testing.B) {
	env := apitest.New(b, apitest.Options{})
	org, err := env.Operator.CreateOrg(b.Context(), "acme", "")
	if err != nil {
		b.Fatal(err)
	}
	admin := env.Operator.WithKey(org.AdminKey)
	apitest.Register(b, admin, `{"app":"shop","version":"1.0.0","title":"Shop","settings":{"default":{"token":{"type":"secret"}}},
		"commands":[{"name":"c","url":"http://127.0.0.1:1/{{id}}","httpMethod":"get","permittedArgs":["id"]}]}`)

	// Sign in through the handler and keep the cookie.
	get := httptest.NewRecorder()
	env.Handler.ServeHTTP(get, httptest.NewRequest("GET", "/console/sign-in", nil))
	var signInCookie *http.Cookie
	for _, c := range get.Result().Cookies() {
		signInCookie = c
	}
	csrf := csrfField.FindStringSubmatch(get.Body.String())[1]
	req := httptest.NewRequest("POST", "/console/sign-in", stringsReader("csrf="+csrf+"&key="+org.AdminKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(signInCookie)
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, req)
	var session *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == "sb_console" {
			session = c
		}
	}
	if session == nil {
		b.Fatalf("sign in: %d", rec.Code)
	}
	for _, path := range []string{"/console/apps", "/console/apps/shop_acme", "/console/playground", "/console/audit"} {
		b.Run(path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest("GET", path, nil)
				r.AddCookie(session)
				w := httptest.NewRecorder()
				env.Handler.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, w.Code)
				}
			}
		})
	}
}
