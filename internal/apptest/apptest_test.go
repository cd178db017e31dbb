package apptest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// mustRun runs the cases of fixtures against def and returns the result
// and the report.
func mustRun(t *testing.T, def []byte, f *File, o Options) (*Result, string) {
	t.Helper()
	var out bytes.Buffer
	o.Definition, o.File, o.Out = def, f, &out
	if o.FixturesPath == "" {
		o.FixturesPath = "fixtures.json"
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return res, out.String()
}

func TestStarterPasses(t *testing.T) {
	t.Parallel()
	def := mustRead(t, filepath.Join("testdata", "contacts.json"))
	f := mustParse(t, mustRead(t, filepath.Join("testdata", "contacts.fixtures.json")))
	res, out := mustRun(t, def, f, Options{})
	if res.Failed != 0 || res.Passed != 4 {
		t.Fatalf("result %+v, want 4 passed\n%s", res, out)
	}
	t.Log(out)
}

// A case that does not hold fails with a diff that names each difference
// by its JSON pointer, and what the run did.
func TestFailureShowsADiff(t *testing.T) {
	t.Parallel()
	def := mustRead(t, filepath.Join("testdata", "contacts.json"))
	fx := mustRead(t, filepath.Join("testdata", "contacts.fixtures.json"))
	fx = bytes.Replace(fx, []byte(`"name": "Ada Lovelace", "email"`), []byte(`"name": "Grace Hopper", "email"`), 1)
	fx = bytes.Replace(fx, []byte(`"url": "https://api.contacts.example/contacts/c_1/notes"`), []byte(`"url": "https://api.contacts.example/notes"`), 1)
	fx = bytes.Replace(fx, []byte(`"problem": {"code": "setting_missing", "status": 424}`), []byte(`"answer": {"output": {}}`), 1)
	res, out := mustRun(t, def, mustParse(t, fx), Options{FixturesPath: "contacts.fixtures.json"})
	t.Log(out)
	if res.Passed != 1 || res.Failed != 3 {
		t.Fatalf("result %+v, want 1 passed and 3 failed\n%s", res, out)
	}
	for _, want := range []string{
		"FAIL get a contact (contacts.fixtures.json:",
		"/cases/0)",
		"answer /body/name:\n      - want \"Grace Hopper\"\n      + got  \"Ada Lovelace\"",
		"request /url:\n      - want \"https://api.contacts.example/notes\"\n      + got  \"https://api.contacts.example/contacts/c_1/notes\"",
		"FAIL a missing token is an error, not an empty header",
		"- want an answer\n      + got  a 424 refusal (\"setting_missing\")",
		"ok   an id stays in its path segment",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// Headers are checked by the names given, in any case; null means absent;
// an extra member of a body is a difference.
func TestMatchDocument(t *testing.T) {
	got := mustJSON(t, `{"status":200,"headers":{"content-type":"application/json","x-a":"1"},"body":{"a":1,"b":[1,2]},"cache":"miss"}`)
	for _, tt := range []struct {
		name, want string
		diffs      []string
	}{
		{"members given only", `{"status":200}`, nil},
		{"numbers by value", `{"status":200.0,"body":{"a":1e0,"b":[1,2]}}`, nil},
		{"header any case", `{"headers":{"Content-Type":"application/json"}}`, nil},
		{"header absent", `{"headers":{"x-b":null}}`, nil},
		{"header present", `{"headers":{"X-A":null}}`, []string{"answer /headers/x-a: want absent, got \"1\""}},
		{"header missing", `{"headers":{"x-b":"2"}}`, []string{"answer /headers/x-b: want \"2\", got nothing"}},
		{"extra member", `{"body":{"a":1}}`, []string{"answer /body/b: want nothing, got [1,2]"}},
		{"array", `{"body":{"a":1,"b":[1,3]}}`, []string{"answer /body/b/1: want 3, got 2"}},
		{"array length", `{"body":{"a":1,"b":[1]}}`, []string{"answer /body/b: want [1], got [1,2]"}},
		{"type", `{"status":"200"}`, []string{"answer /status: want \"200\", got 200"}},
		{"missing", `{"cacheFallback":true}`, []string{"answer /cacheFallback: want true, got nothing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var diffs []string
			for _, m := range matchDocument("answer", mustJSON(t, tt.want), got) {
				diffs = append(diffs, m.Part+" "+m.Pointer+": want "+m.Want+", got "+m.Got)
			}
			if diff := cmp.Diff(tt.diffs, diffs); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func TestMatchProblem(t *testing.T) {
	got := mustJSON(t, `{"code":"invalid_input","status":400,"detail":"the args would change the URL","errors":[{"location":"/args/id","message":"no /"}]}`)
	for _, tt := range []struct {
		want string
		ok   bool
	}{
		{`{"code":"invalid_input"}`, true},
		{`{"detail":"change the URL","errors":[{"location":"/args/id"}]}`, true},
		{`{"code":"not_found"}`, false},
		{`{"detail":"something else"}`, false},
		{`{"errors":[{"location":"/args/x"}]}`, false},
		{`{"errors":[]}`, false},
	} {
		if got := len(matchProblem(mustJSON(t, tt.want), got)) == 0; got != tt.ok {
			t.Errorf("%s: matched %v, want %v", tt.want, got, tt.ok)
		}
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Whatever host a URL renders to, the request reaches the local stand-in
// and nothing else: here a host built from an arg, over https, for a name
// that does not resolve anywhere.
func TestNoRequestLeavesTheMachine(t *testing.T) {
	t.Parallel()
	def := []byte(`{"app": "shop", "version": "1.0.0", "title": "Shop",
  "commands": [{"name": "order", "httpMethod": "get", "permittedArgs": ["store"],
    "url": "https://{{{store}}}.shops.invalid/orders"}]}`)
	fx := []byte(`{
  "routes": [{"host": "{store}.shops.invalid", "path": "/orders", "body": {"store": "{{path.store}}"}}],
  "cases": [
    {"name": "any store", "command": "order", "args": {"store": "scranton"},
     "expect": {"request": {"url": "https://scranton.shops.invalid/orders"}, "answer": {"body": {"store": "scranton"}}}},
    {"name": "no other origin", "command": "order", "args": {"store": "evil.com#"},
     "expect": {"request": null, "problem": {"code": "invalid_input"}}}
  ]}`)
	res, out := mustRun(t, def, mustParse(t, fx), Options{})
	if res.Passed != 2 {
		t.Fatalf("result %+v\n%s", res, out)
	}
}

// Settings the instance refuses fail their case, not the run.
func TestRefusedSettingsFailOneCase(t *testing.T) {
	t.Parallel()
	def := []byte(`{"app": "flags", "version": "1.0.0", "title": "Flags",
  "settings": {"default": {"on": {"type": "boolean"}}},
  "commands": [{"name": "ping", "httpMethod": "get", "url": "https://api.flags.invalid/ping"}]}`)
	fx := []byte(`{
  "routes": [{"path": "/ping", "body": "pong"}],
  "cases": [
    {"name": "bad", "command": "ping", "settings": {"default": {"on": "maybe"}}},
    {"name": "good", "command": "ping", "expect": {"answer": {"body": "pong"}}}
  ]}`)
	res, out := mustRun(t, def, mustParse(t, fx), Options{})
	if res.Passed != 1 || res.Failed != 1 || !strings.Contains(out, "FAIL bad (") || !strings.Contains(out, "set the case's settings: 400") {
		t.Fatalf("result %+v\n%s", res, out)
	}
}

// A definition that does not register stops the run with the server's
// problems.
func TestDefinitionThatDoesNotRegister(t *testing.T) {
	t.Parallel()
	f := mustParse(t, []byte(`{"cases": [{"name": "a", "command": "x"}]}`))
	_, err := Run(context.Background(), Options{Definition: []byte(`{"app": "x", "version": "1.0.0", "title": "X", "comands": []}`), File: f})
	if err == nil || !strings.Contains(err.Error(), "register the definition: 400") || !strings.Contains(err.Error(), "/comands") {
		t.Fatalf("Run = %v", err)
	}
}

// A redirect is followed as the server follows it, back to the stand-in.
func TestRedirectIsFollowed(t *testing.T) {
	t.Parallel()
	def := []byte(`{"app": "moved", "version": "1.0.0", "title": "Moved",
  "commands": [{"name": "old", "httpMethod": "get", "url": "https://api.moved.invalid/old"}]}`)
	fx := []byte(`{
  "routes": [
    {"path": "/old", "status": 302, "headers": {"Location": "https://api.moved.invalid/new"}},
    {"path": "/new", "body": {"here": true}}
  ],
  "cases": [{"name": "moved", "command": "old",
    "expect": {"request": {"url": "https://api.moved.invalid/new"}, "answer": {"status": 200, "body": {"here": true}}}}]}`)
	res, out := mustRun(t, def, mustParse(t, fx), Options{})
	if res.Passed != 1 {
		t.Fatalf("result %+v\n%s", res, out)
	}
}
