package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/appdef"
)

// mustInit runs apps init NAME into a temporary directory and returns the
// paths of the definition and the fixtures.
func mustInit(t *testing.T, name string, args ...string) (def, fixtures string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	out, errOut, err := runCLI(t, nil, append([]string{"apps", "init", name, "--dir", dir}, args...)...)
	if err != nil {
		t.Fatalf("apps init: %v\n%s%s", err, out, errOut)
	}
	def, fixtures = filepath.Join(dir, name+".json"), filepath.Join(dir, name+".fixtures.json")
	if !strings.Contains(out, "wrote "+def+"\n") || !strings.Contains(out, "wrote "+fixtures+"\n") {
		t.Fatalf("apps init printed:\n%s", out)
	}
	return def, fixtures
}

// The starter validates with no warning, and its own cases pass offline.
func TestAppsInitValidatesAndPasses(t *testing.T) {
	t.Parallel()
	def, fixtures := mustInit(t, "crm_sync", "--title", `CRM "sync"`)
	app, warnings, err := appdef.Parse(readFile(t, def), appdef.Options{})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("the starter: %v, warnings %v", err, warnings)
	}
	if app.Title != `CRM "sync"` || len(app.Commands) != 1 || len(app.Actions) != 1 || app.Commands[0].CacheSeconds != 30 {
		t.Errorf("the starter is %+v", app)
	}
	out, errOut, err := runCLI(t, nil, "apps", "test", def)
	if err != nil || !strings.HasSuffix(out, "4 passed, 0 failed\n") {
		t.Fatalf("apps test of the starter: %v\n%s%s", err, out, errOut)
	}
	if _, err := os.Stat(fixtures); err != nil {
		t.Fatal(err)
	}
}

// The starter registers and runs against switchboard mock serving its own
// fixtures, with no edits but the mock's port.
func TestAppsInitRunsAgainstTheMock(t *testing.T) {
	t.Parallel()
	def, fixtures := mustInit(t, "hello")
	m := mustMock(t, fixtures)
	if !strings.Contains(m.line, "(2 routes from ") {
		t.Errorf("mock start line %q", m.line)
	}
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	ctx := context.Background()
	mustRegister(t, admin, string(bytes.ReplaceAll(readFile(t, def), []byte(defaultUpstream), []byte(m.URL))))
	if _, err := admin.PutSettings(ctx, "hello", client.Settings{"default": {"apiToken": "tok-123456"}}); err != nil {
		t.Fatal(err)
	}
	res, err := admin.RunCommand(ctx, "hello.getContact", client.RunRequest{Args: map[string]string{"contactId": "c_7"},
		Headers: map[string]string{"Authorization": "Bearer {{apiToken}}"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 200 || string(res.Body) != `{"id":"c_7","name":"Ada Lovelace","email":"ada@example.com","vip":true}` || res.Cache != "miss" {
		t.Errorf("getContact: %d %s %s", res.Status, res.Body, res.Cache)
	}
	out, err := admin.RunAction(ctx, "hello.addNote", map[string]any{"contactId": "c_7", "text": "hi", "pinned": true})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil || got["note"] != "note_1" || got["text"] != "hi" || got["statusCode"] != float64(201) {
		t.Errorf("addNote: %s (%v)", out, err)
	}
}

func TestAppsInitRefuses(t *testing.T) {
	t.Parallel()
	def, _ := mustInit(t, "hello")
	before := readFile(t, def)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"existing files", []string{"hello", "--dir", filepath.Dir(def)}, "exists: apps init writes new files only"},
		{"a bad app id", []string{"Hello World", "--dir", t.TempDir()}, `"Hello World" is not an app id`},
		{"a bad upstream", []string{"hi", "--dir", t.TempDir(), "--upstream", "127.0.0.1:8089"}, "is not a base URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, err := runCLI(t, nil, append([]string{"apps", "init"}, tt.args...)...)
			if err == nil || !strings.Contains(errOut, tt.want) {
				t.Errorf("apps init %v = %v, %q; want an error with %q", tt.args, err, errOut, tt.want)
			}
		})
	}
	if !bytes.Equal(before, readFile(t, def)) {
		t.Error("apps init changed an existing file")
	}
}
