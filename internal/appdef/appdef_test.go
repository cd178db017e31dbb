package appdef

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct {
		name, bare, ns string
		want           string
		wantErr        bool
	}{
		{"refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"my_app.refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"my_app_123456789abcdefg.refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"my_app.app.refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"kustomer.app.my_app.refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"kustomer.app.my_app_123456789abcdefg.refundOrder", "my_app", "my_app_123456789abcdefg", "kustomer.app.my_app_123456789abcdefg.refundOrder", false},
		{"ecommstore.app.store.refundOrder", "ecommstore", "ecommstore", "kustomer.app.ecommstore.store.refundOrder", false},
		{"kustomer.app.ecommstore.store.refundOrder", "ecommstore", "ecommstore", "kustomer.app.ecommstore.store.refundOrder", false},
		{"store.refundOrder", "ecommstore", "ecommstore", "kustomer.app.ecommstore.store.refundOrder", false},
		{"kustomer.app.other.refundOrder", "ecommstore", "ecommstore", "", true},
		{"other.app.refundOrder", "ecommstore", "ecommstore", "", true},
		{"ecommstore.", "ecommstore", "ecommstore", "", true},
		{"bad name", "ecommstore", "ecommstore", "", true},
		{"x/y", "ecommstore", "ecommstore", "", true},
		{strings.Repeat("a", 110), "ecommstore", "ecommstore", "", true},
	}
	for _, tt := range tests {
		got, _, err := CanonicalName(tt.name, tt.bare, tt.ns)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseRunName(t *testing.T) {
	tests := []struct {
		name string
		want []RunName
	}{
		{"ecommstore.store.refundOrder", []RunName{{"ecommstore", "store.refundOrder"}}},
		{"ecommstore.app.store.refundOrder", []RunName{{"ecommstore", "store.refundOrder"}, {"ecommstore", "app.store.refundOrder"}}},
		{"kustomer.app.ecommstore.store.refundOrder", []RunName{{"ecommstore", "store.refundOrder"}, {"kustomer", "ecommstore.store.refundOrder"}, {"kustomer", "app.ecommstore.store.refundOrder"}}},
		{"refundOrder", nil},
		{".x", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ParseRunName(tt.name)); diff != "" {
			t.Errorf("ParseRunName(%q) (-want +got):\n%s", tt.name, diff)
		}
	}
}

func mustTemplate(t *testing.T, src string) *tmpl.Template {
	t.Helper()
	tp, err := tmpl.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestOrigin(t *testing.T) {
	for _, bad := range []string{"{{scheme}}://x.com", "https://{{#if a}}x{{/if}}.com", "https://{{a.b}}.com", "ftp://x.com/", "x.com/{{a}}"} {
		if _, err := ParseOrigin(mustTemplate(t, bad)); err == nil {
			t.Errorf("ParseOrigin(%q) accepted", bad)
		}
	}
	o, err := ParseOrigin(mustTemplate(t, "https://{{{store}}}.example.com:8443/orders/{{id}}?q={{q}}"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Origin{Scheme: "https", Parts: []string{"", ".example.com:8443"}, Slots: []string{"store"}}, o); diff != "" {
		t.Fatalf("origin (-want +got):\n%s", diff)
	}
	check := func(rendered string, args map[string]string) error {
		u, err := url.Parse(rendered)
		if err != nil {
			return err
		}
		return o.Check(u, func(k string) string { return args[k] })
	}
	if err := check("https://acme.example.com:8443/orders/1", map[string]string{"store": "acme"}); err != nil {
		t.Errorf("a valid URL was refused: %v", err)
	}
	for _, store := range []string{"evil.com#", "a.b", "", "UP", "x/y", strings.Repeat("a", 64)} {
		if err := check("https://"+store+".example.com:8443/orders/1", map[string]string{"store": store}); err == nil {
			t.Errorf("store %q accepted", store)
		}
	}
	// A literal host must stay the host.
	lit, _ := ParseOrigin(mustTemplate(t, "https://api.example.com/{{path}}"))
	u, _ := url.Parse("https://api.example.com/x")
	none := func(string) string { return "" }
	if err := lit.Check(u, none); err != nil {
		t.Error(err)
	}
	u, _ = url.Parse("https://evil.com/x")
	if err := lit.Check(u, none); err == nil {
		t.Error("another host accepted")
	}
}

func readSeed(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "apps", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSeed(t *testing.T) {
	app, warnings, err := Parse(readSeed(t, "ecommstore.json"), Options{OrgID: "123456789abcdefg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %+v", warnings)
	}
	if app.ID != "ecommstore_123456789abcdefg" || len(app.Commands) != 1 {
		t.Fatalf("app = %s with %d commands", app.ID, len(app.Commands))
	}
	c := app.Commands[0]
	if c.Name != "kustomer.app.ecommstore_123456789abcdefg.store.refundOrder" || c.Method != "POST" || c.CacheSeconds != 15 ||
		!c.AuditLogging || !c.Permits("store") || len(c.AppSettings) != 1 || c.AppSettings[0].Key() != "default.authToken" {
		t.Errorf("command = %+v", c)
	}
	if s := app.Settings["default.authToken"]; s == nil || !s.Secret {
		t.Error("authToken is not a secret")
	}
	// Compiling the canonical definition again gives the same hash.
	again, _, err := Parse(app.JSON, Options{OrgID: "123456789abcdefg"})
	if err != nil || again.Hash != app.Hash {
		t.Fatalf("re-parse of the canonical definition: %v, hash %s vs %s", err, again.Hash, app.Hash)
	}
}

func TestAppSettingsOfAnotherApp(t *testing.T) {
	def := `{"app":"shop","version":"1.0.0","title":"S","commands":[{"name":"x","url":"https://a.com","httpMethod":"get",
		"appSettings":{"t":{"key":"otherapp.default.token"}}}]}`
	_, _, err := Parse([]byte(def), Options{OrgID: "o1"})
	se, ok := err.(*switchboard.Error)
	if !ok || len(se.Problems) != 1 || se.Problems[0].Location != "/commands/0/appSettings/t/key" {
		t.Fatalf("error = %v", err)
	}
}

// A definition with bytes that are not UTF-8 is refused, located, never
// registered with U+FFFD in their place.
func TestParseInvalidUTF8(t *testing.T) {
	def := "{\"app\":\"shop\",\"version\":\"1.0.0\",\n \"title\":\"S\xe2\x82\"}"
	_, _, err := Parse([]byte(def), Options{OrgID: "o1"})
	se, ok := err.(*switchboard.Error)
	if !ok || se.Code != switchboard.CodeInvalidDefinition {
		t.Fatalf("error = %v, want invalid_definition", err)
	}
	want := []switchboard.Problem{{Message: "the definition is not valid JSON: invalid UTF-8 in a string", Location: "/title", Line: 2, Column: 12}}
	if diff := cmp.Diff(want, se.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// FuzzParse: parsing and validating any input never panics, a definition
// that is not UTF-8 is refused, and a valid definition's canonical form
// parses to the same definition.
func FuzzParse(f *testing.F) {
	f.Add(readSeed(f, "ecommstore.json"), "")
	f.Add(readSeed(f, "ecommstore.json"), "123456789abcdefg")
	f.Add([]byte(`{"app":"a","version":"1.0.0","title":"t","settings":{"c":{"n":{"type":"secret"}}},"actions":[{"name":"x","type":"rest_api","inputTemplate":{"uri":"https://x.com/{{a}}","method":"get","qs":"/#q"},"outputTemplate":{"b":"/#body"}}]}`), "org")
	f.Add([]byte(`{"app":"a","version":"1.0.0-rc.1","title":"t","comands":[],"auth":{"type":"oauth2"}}`), "")
	f.Add([]byte(`[`), "")
	f.Fuzz(func(t *testing.T, data []byte, org string) {
		if org != "" && !switchboard.ValidOrgID(org) {
			return
		}
		app, _, err := Parse(data, Options{OrgID: org})
		if err != nil {
			if _, ok := err.(*switchboard.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if !utf8.Valid(data) {
			t.Fatalf("a definition that is not UTF-8 parsed: %q", data)
		}
		again, _, err := Parse(app.JSON, Options{OrgID: org})
		if err != nil {
			t.Fatalf("the canonical definition %s does not parse: %v", app.JSON, err)
		}
		if again.Hash != app.Hash || again.ID != app.ID {
			t.Fatalf("canonical form is not stable: %s", app.JSON)
		}
	})
}

func BenchmarkParseThousandCommands(b *testing.B) {
	var cmds []string
	for i := 0; i < 1000; i++ {
		cmds = append(cmds, `{"name":"c_`+strconv.Itoa(i)+`","url":"https://{{{store}}}.example.com/orders/{{id}}","httpMethod":"post","permittedArgs":["store","id"],"cacheSeconds":60,"appSettings":{"authToken":{"key":"big.default.token"}},"inputSchema":{"type":"object","properties":{"foo":{"type":"string"}},"required":["foo"]}}`)
	}
	def := []byte(`{"app":"big","version":"1.0.0","title":"Big","commands":[` + strings.Join(cmds, ",") + `]}`)
	b.SetBytes(int64(len(def)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := Parse(def, Options{OrgID: "org"}); err != nil {
			b.Fatal(err)
		}
	}
}

// The app ids that are segments of the API's paths are refused, for a
// private app and a public one: /v1/apps/available/settings must not mean
// two things.
func TestReservedAppIDs(t *testing.T) {
	for _, id := range []string{"available", "installed"} {
		for _, org := range []string{"o1", ""} {
			def := `{"app":"` + id + `","version":"1.0.0","title":"S","commands":[{"name":"x","url":"https://a.com","httpMethod":"get"}]}`
			_, _, err := Parse([]byte(def), Options{OrgID: org})
			se, ok := err.(*switchboard.Error)
			if !ok || len(se.Problems) != 1 || se.Problems[0].Location != "/app" || !strings.Contains(se.Problems[0].Message, "reserved") {
				t.Errorf("app %q (org %q): error = %v", id, org, err)
			}
		}
	}
	if _, _, err := Parse([]byte(`{"app":"availability","version":"1.0.0","title":"S","commands":[{"name":"x","url":"https://a.com","httpMethod":"get"}]}`), Options{OrgID: "o1"}); err != nil {
		t.Errorf("an id that only starts like a reserved one: %v", err)
	}
}
