package appdef

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRefreshOn(t *testing.T) {
	def := func(refreshOn string) []byte {
		auth := `"type":"oauth2","grantType":"client_credentials","tokenUrl":"https://auth.test/token","clientId":{"key":"a.default.id"},"clientSecret":{"key":"a.default.secret"}`
		if refreshOn != "" {
			auth += `,"refreshOn":` + refreshOn
		}
		return []byte(`{"app":"a","version":"1.0.0","title":"A","auth":{` + auth + `}}`)
	}
	tests := []struct {
		refreshOn string
		want      []int
		problem   string // the location of the one problem expected, "" for none
	}{
		{"", []int{401}, ""},
		{"[403]", []int{403}, ""},
		{"[401, 403]", []int{401, 403}, ""},
		{"[]", nil, "/auth/refreshOn"},
		{"401", nil, "/auth/refreshOn"},
		{`["401"]`, nil, "/auth/refreshOn/0"},
		{"[200]", nil, "/auth/refreshOn/0"},
		{"[401.5]", nil, "/auth/refreshOn/0"},
		{"[401, 401]", nil, "/auth/refreshOn/1"},
	}
	for _, tt := range tests {
		t.Run(tt.refreshOn, func(t *testing.T) {
			app, problems, err := Parse(def(tt.refreshOn), Options{})
			if tt.problem == "" {
				if err != nil || len(problems) > 0 {
					t.Fatalf("Parse: %v %v", err, problems)
				}
				if diff := cmp.Diff(tt.want, app.Auth.RefreshOn); diff != "" {
					t.Errorf("RefreshOn (-want +got):\n%s", diff)
				}
				for _, s := range tt.want {
					if !app.Auth.Refreshes(s) {
						t.Errorf("Refreshes(%d) = false", s)
					}
				}
				if app.Auth.Refreshes(500) {
					t.Error("Refreshes(500) = true")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.problem) {
				t.Fatalf("Parse = %v, want a problem at %s", err, tt.problem)
			}
		})
	}
	var none *Auth
	if none.Refreshes(401) {
		t.Error("a nil Auth refreshes")
	}
}
