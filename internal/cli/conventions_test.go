package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
)

// runCLIInput runs a command with stdin and returns its output and exit
// status.
func runCLIInput(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), append([]string{"switchboard"}, args...), func(k string) string { return env[k] },
		strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), ExitCode(err)
}

// cliCase is one command line and what it must print and exit with.
type cliCase struct {
	args   []string
	env    map[string]string // added to the case's environment ("" unsets)
	stdin  string
	code   int
	stdout []string // each must appear in stdout
	stderr []string // each must appear in stderr
	not    []string // none may appear in stdout or stderr
}

func (c cliCase) run(t *testing.T, base map[string]string) (string, string) {
	t.Helper()
	env := map[string]string{}
	for k, v := range base {
		env[k] = v
	}
	for k, v := range c.env {
		env[k] = v
	}
	out, errOut, code := runCLIInput(t, env, c.stdin, c.args...)
	if code != c.code {
		t.Errorf("switchboard %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), code, c.code, out, errOut)
	}
	for _, w := range c.stdout {
		if !strings.Contains(out, w) {
			t.Errorf("switchboard %s: stdout lacks %q:\n%s\nstderr:\n%s", strings.Join(c.args, " "), w, out, errOut)
		}
	}
	for _, w := range c.stderr {
		if !strings.Contains(errOut, w) {
			t.Errorf("switchboard %s: stderr lacks %q:\n%s", strings.Join(c.args, " "), w, errOut)
		}
	}
	for _, w := range c.not {
		if strings.Contains(out, w) || strings.Contains(errOut, w) {
			t.Errorf("switchboard %s: the output shows %q:\nstdout:\n%s\nstderr:\n%s", strings.Join(c.args, " "), w, out, errOut)
		}
	}
	return out, errOut
}

// conventionsServer starts a server with an org "acme", an app "shop" of
// commands and actions against a local upstream, and returns the
// environment of its admin key.
func conventionsServer(t *testing.T) (*served, map[string]string, string) {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/missing"):
			w.WriteHeader(404)
			fmt.Fprint(w, `{"error":"no such order"}`)
		case r.URL.Path == "/fail":
			w.WriteHeader(500)
			fmt.Fprint(w, `{"error":"the store is down"}`)
		default:
			fmt.Fprintf(w, `{"ok":true,"auth":%q}`, r.Header.Get("Authorization"))
		}
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	k, err := admin.CreateKey(context.Background(), "cli", "admin")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	def := `{
  "app": "shop",
  "version": "1.0.0",
  "title": "Shop",
  "settings": {"default": {"token": {"type": "secret"}}},
  "commands": [
    {"name": "ok", "url": "` + up.URL + `/ok", "httpMethod": "get", "auditLogging": true},
    {"name": "missing", "permittedArgs": ["id"], "url": "` + up.URL + `/missing/{{id}}", "httpMethod": "get"}
  ],
  "actions": [
    {"name": "find", "type": "rest_api", "description": "Find orders", "inputTemplate": {"uri": "` + up.URL + `/ok", "method": "get", "json": true}},
    {"name": "broken", "type": "rest_api", "inputTemplate": {"uri": "` + up.URL + `/fail", "method": "get", "json": true}}
  ]
}
`
	if err := os.WriteFile(filepath.Join(dir, "shop.json"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := "{\n  \"app\": \"shop\",\n  \"version\": \"one\",\n  \"title\": \"Shop\",\n  \"comands\": []\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key, "HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "config")}
	return s, env, dir
}

// Every client command, with the output and exit status a user and a
// script rely on: the API's JSON in a pipe, tables with -o table, and the
// exit statuses of the README.
func TestCommandConventions(t *testing.T) {
	// Not parallel: each starts a server, and the package's parallel tests
	// start enough of them at once on a busy machine.
	s, env, dir := conventionsServer(t)
	shop, bad := filepath.Join(dir, "shop.json"), filepath.Join(dir, "bad.json")
	cases := []cliCase{
		// apps
		{args: []string{"apps", "register", shop}, stdout: []string{`{"app":"shop_acme","version":"1.0.0","visibility":"private","definition":`}, stderr: []string{"registered shop_acme version 1.0.0 (private)"}},
		{args: []string{"apps", "register", bad}, code: 1,
			stdout: []string{bad + ":3:3 /version: ", bad + ":5:3 /comands: "}, stderr: []string{"error: 400 invalid_definition", bad + " is invalid: 2 problem(s)"}},
		{args: []string{"apps", "list"}, stdout: []string{`{"items":[{"app":"shop_acme","version":"1.0.0"`}},
		{args: []string{"apps", "list", "-o", "table"}, stdout: []string{"APP        VERSION  VISIBILITY  TITLE\nshop_acme  1.0.0    private     Shop\n"}},
		{args: []string{"apps", "list", "--json"}, stdout: []string{`{"items":[{"app":"shop_acme"`}},
		{args: []string{"apps", "list", "-o", "json"}, stdout: []string{`{"items":[{"app":"shop_acme"`}},
		{args: []string{"apps", "list", "-o", "yaml"}, code: 2, stderr: []string{`-o "yaml": the output formats are table and json`}},
		{args: []string{"apps", "installed", "-o", "table"}, stdout: []string{"APP", "INSTALLED", "shop_acme  1.0.0"}},
		{args: []string{"apps", "installed"}, stdout: []string{`{"items":[{"app":"shop_acme"`}},
		{args: []string{"apps", "get", "shop"}, stdout: []string{`"app":"shop_acme"`, `"versions":[{"version":"1.0.0"`}},
		{args: []string{"apps", "get", "shop", "--version", "1.0.0"}, stdout: []string{`"app":"shop_acme","version":"1.0.0"`}},
		{args: []string{"apps", "get", "nope"}, code: 4, stderr: []string{"error: 404 not_found"}},
		{args: []string{"apps", "get"}, code: 2, stderr: []string{"error: missing argument APP\nUsage: switchboard apps get APP [flags]\nRun 'switchboard apps get --help' for more."}},
		{args: []string{"apps", "get", "a", "b"}, code: 2, stderr: []string{"accepts 1 arg(s), received 2", "Usage: switchboard apps get APP"}},
		{args: []string{"apps", "bogus"}, code: 2, stderr: []string{`error: unknown command "bogus" for "switchboard apps"`, "Available Commands:"}},
		{args: []string{"apps", "regster"}, code: 2, stderr: []string{"did you mean register?"}},
		{args: []string{"apps"}, stdout: []string{"Available Commands:", "installed"}},
		{args: []string{"bogus"}, code: 2, stderr: []string{`unknown command "bogus" for "switchboard"`}},
		{args: []string{"apps", "list", "--nope"}, code: 2, stderr: []string{"error: unknown flag: --nope", "Usage: switchboard apps list [flags]"}},
		{args: []string{"apps", "install", "nope"}, code: 4, stderr: []string{"404 not_found"}},

		// settings: a secret read from stdin, never echoed
		{args: []string{"settings", "set", "shop", "default.token=-"}, stdin: "tkn-from-stdin\n", stdout: []string{`{"default":{"token":{"secret":true,"set":true}}}`}, not: []string{"tkn-from-stdin"}},
		{args: []string{"settings", "set", "shop", "default.token=plain-tkn"}, stdout: []string{`"set":true`},
			stderr: []string{"note: default.token is a secret; give it as default.token=- "}, not: []string{"plain-tkn"}},
		{args: []string{"settings", "set", "shop", "default.region=eu"}, stdout: []string{`"region":"eu"`}, not: []string{"note:"}},
		{args: []string{"settings", "set", "shop", "token"}, code: 2, stderr: []string{"write CATEGORY.NAME=VALUE"}},
		{args: []string{"settings", "set", "shop"}, code: 2, stderr: []string{"requires at least 2 arg(s)", "Usage: switchboard settings set APP CATEGORY.NAME=VALUE..."}},
		{args: []string{"settings", "get", "shop"}, stdout: []string{`"token":{"secret":true,"set":true}`}, not: []string{"tkn"}},

		// commands
		{args: []string{"commands", "list", "-o", "table"}, stdout: []string{"NAME", "METHOD", "kustomer.app.shop_acme.ok", "GET"}},
		{args: []string{"commands", "list"}, stdout: []string{`{"items":[{"name":"kustomer.app.shop_acme.`}},
		{args: []string{"commands", "get", "shop.ok"}, stdout: []string{`{"name":"kustomer.app.shop_acme.ok","app":"shop_acme"`}},
		{args: []string{"commands", "get", "shop.nope"}, code: 4, stderr: []string{"404 not_found"}},
		{args: []string{"commands", "run", "shop.ok"}, stdout: []string{`{"status":200,`, `"body":{"ok":true`}},
		{args: []string{"commands", "run", "shop.missing", "--arg", "id=7"}, code: 5,
			stdout: []string{`{"status":404,`, `"body":{"error":"no such order"}`}, stderr: []string{`the upstream answered 404: {"error":"no such order"}`}},
		{args: []string{"commands", "run", "shop.missing", "--arg", "id=7", "--allow-upstream-errors"},
			stdout: []string{`{"status":404,`}, stderr: []string{"the upstream answered 404"}},
		{args: []string{"commands", "run", "shop.missing", "--arg", "id=a/b"}, code: 1, stderr: []string{"error: 400 invalid_input", "/args/id"}},
		{args: []string{"commands", "run"}, code: 2, stderr: []string{"missing argument NAME", "Usage: switchboard commands run NAME"}},

		// actions
		{args: []string{"actions", "list", "-o", "table"}, stdout: []string{"NAME", "DESCRIPTION", "kustomer.app.shop_acme.find", "Find orders"}},
		{args: []string{"actions", "list"}, stdout: []string{`{"items":[`, `"name":"kustomer.app.shop_acme.find"`}},
		{args: []string{"actions", "get", "shop.find"}, stdout: []string{`"name":"kustomer.app.shop_acme.find"`, `"definition":`}},
		{args: []string{"actions", "run", "shop.find", "--input", `{}`}, stdout: []string{`{"output":{"body":{"ok":true`}},
		{args: []string{"actions", "run", "shop.broken"}, code: 5,
			stdout: []string{`"code":"upstream_error"`, `"upstreamStatus":500`}, stderr: []string{`the upstream answered 500: {"error":"the store is down"}`}},
		{args: []string{"actions", "run", "shop.broken", "--allow-upstream-errors"}, stdout: []string{`"upstreamStatus":500`}},
		{args: []string{"actions", "run", "shop.nope"}, code: 4},

		// audit
		{args: []string{"audit", "list", "--since", "1h"}, stdout: []string{`{"items":[`, `"command":"kustomer.app.shop_acme.ok"`, `"nextCursor":""`}},
		{args: []string{"audit", "list", "-o", "table"}, stdout: []string{"TIME", "EVENT", "kustomer.app.shop_acme.ok"}},
		{args: []string{"audit", "list", "--since", "yesterday"}, code: 1, stderr: []string{"give an RFC 3339 time"}},

		// accounts (the app has no OAuth client)
		{args: []string{"accounts", "list", "nope"}, code: 4},
		{args: []string{"accounts", "disconnect", "shop"}, code: 2, stderr: []string{"missing argument NAME"}},

		// sessions
		{args: []string{"sessions", "create"}, code: 2, stderr: []string{"missing --command"}},
		{args: []string{"sessions", "list"}, stdout: []string{`{"items":[`}},
		{args: []string{"sessions", "delete", "ses_nope"}, code: 4},

		// who is asking
		{args: []string{"apps", "list"}, env: map[string]string{"SWITCHBOARD_KEY": ""}, code: 3,
			stderr: []string{"error: not signed in to " + s.URL + ": run 'switchboard login --server " + s.URL + "', or set --key or SWITCHBOARD_KEY"}},
		{args: []string{"apps", "list"}, env: map[string]string{"SWITCHBOARD_KEY": "sbk_wrong"}, code: 3,
			stderr: []string{"error: the server refused the key from SWITCHBOARD_KEY (401 unauthorized"}, not: []string{"not signed in"}},
		{args: []string{"apps", "list", "--key", "sbk_wrong"}, code: 3, stderr: []string{"refused the key from --key"}},
		{args: []string{"orgs", "create", "--id", "beta"}, code: 1, stderr: []string{"403 forbidden"}},
		{args: []string{"orgs", "create", "--id", "beta", "--key", testOperatorKey}, stdout: []string{`"id":"beta"`, `"adminKey":"sbk_`}, stderr: []string{"created org beta"}},
		{args: []string{"--server", strings.TrimPrefix(s.URL, "http://"), "apps", "list"}, stdout: []string{`"app":"shop_acme"`}},
		{args: []string{"--server", "switchboard.example.com", "apps", "list"}, code: 2,
			stderr: []string{`the server URL "switchboard.example.com" has no scheme: write https://switchboard.example.com`}},
		{args: []string{"--server", "ftp://example.com", "apps", "list"}, code: 2, stderr: []string{"is not http or https"}},

		// api: any route; status: health, readiness, version
		{args: []string{"api", "/v1/apps/installed"}, stdout: []string{`{"items":[{"app":"shop_acme"`}},
		{args: []string{"api", "v1/apps/shop/settings", "-X", "PUT", "--input", `{"default":{"region":"us"}}`}, stdout: []string{`"region":"us"`}},
		{args: []string{"api", "/v1/nope"}, code: 4, stderr: []string{"404 not_found", "GET /openapi.json lists every route"}},
		{args: []string{"api", "/metrics"}, stdout: []string{"# TYPE "}},
		{args: []string{"api", "/v1/keys", "--input", "{"}, code: 2, stderr: []string{"--input is not JSON"}},
		{args: []string{"status"}, stdout: []string{s.URL + " (unversioned): ready\n"}},
		{args: []string{"status", "--json"}, stdout: []string{`{"live":true,"ready":true,"version":"unversioned","server":"` + s.URL + `"}`}},

		// the commands that need no server
		{args: []string{"apps", "validate", shop}, stdout: []string{shop + " is valid: app shop version 1.0.0, 2 command(s), 2 action(s)"}},
		{args: []string{"apps", "validate", bad}, code: 1, stdout: []string{bad + ":3:3 /version: "}, stderr: []string{"is invalid: 2 problem(s)"}},
		{args: []string{"apps", "validate"}, code: 2, stderr: []string{"missing argument FILE"}},
		{args: []string{"mock", filepath.Join(dir, "nope.json")}, code: 1, stderr: []string{"no such file"}},
		{args: []string{"mock"}, code: 2, stderr: []string{"missing argument FILE", "Usage: switchboard mock FILE"}},
		{args: []string{"serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, env: map[string]string{"SWITCHBOARD_OPERATOR_KEY": "short"}, code: 1, stderr: []string{"shorter than 32"}},
		{args: []string{"serve", "--adr", "127.0.0.1:0"}, code: 2, stderr: []string{"unknown flag: --adr", "Usage: switchboard serve [flags]"}},
		{args: []string{"secrets", "rotate", "extra"}, code: 2, stderr: []string{`unknown command "extra" for "switchboard secrets rotate"`}},
		{args: []string{"audit", "export", "--since", "1h"}, stdout: []string{`"command":"kustomer.app.shop_acme.ok"`}, stderr: []string{"exported "}},
		{args: []string{"accounts", "connect", "shop"}, code: 1, stderr: []string{"error: 400 "}},
	}
	for _, c := range cases {
		c.run(t, env)
	}

	// keys: created, listed, revoked
	out, _ := cliCase{args: []string{"keys", "create", "ci", "--role", "agent"}, stdout: []string{`"role":"agent"`, `"key":"sbk_`}, stderr: []string{"the key is shown only now"}}.run(t, env)
	var k struct{ ID, Key string }
	if err := json.Unmarshal([]byte(out), &k); err != nil {
		t.Fatalf("keys create printed %q: %v", out, err)
	}
	cliCase{args: []string{"keys", "list", "-o", "table"}, stdout: []string{"ID", "ROLE", k.ID, "agent"}, not: []string{k.Key}}.run(t, env)
	cliCase{args: []string{"keys", "list"}, stdout: []string{`{"items":[`, `"id":"` + k.ID + `"`}, not: []string{k.Key}}.run(t, env)
	cliCase{args: []string{"keys", "delete", k.ID}, stderr: []string{"revoked " + k.ID}}.run(t, env)
	cliCase{args: []string{"apps", "list"}, env: map[string]string{"SWITCHBOARD_KEY": k.Key}, code: 3, stderr: []string{"refused the key"}}.run(t, env)
	cliCase{args: []string{"keys", "delete", k.ID}, code: 4}.run(t, env)

	// sessions: minted, listed, revoked
	out, _ = cliCase{args: []string{"sessions", "create", "--command", "shop.ok", "--subject", "agent-42", "--ttl", "10m"},
		stdout: []string{`"token":"sbs_`, `"commands":["kustomer.app.shop_acme.ok"]`}, stderr: []string{"shown only now"}}.run(t, env)
	var ses struct{ ID, Token string }
	if err := json.Unmarshal([]byte(out), &ses); err != nil {
		t.Fatalf("sessions create printed %q: %v", out, err)
	}
	cliCase{args: []string{"sessions", "list", "-o", "table"}, stdout: []string{"SUBJECT", ses.ID, "agent-42", "kustomer.app.shop_acme.ok"}, not: []string{ses.Token}}.run(t, env)
	cliCase{args: []string{"sessions", "delete", ses.ID}, stderr: []string{"revoked " + ses.ID}}.run(t, env)

	// apps uninstall, then its commands are gone
	cliCase{args: []string{"apps", "uninstall", "shop"}, stderr: []string{"uninstalled shop"}}.run(t, env)
	cliCase{args: []string{"commands", "run", "shop.ok"}, code: 4}.run(t, env)
	cliCase{args: []string{"apps", "install", "shop", "--version", "1.0.0"}, stderr: []string{"installed shop"}}.run(t, env)
}

// A server that is not there says so, and how to point at another.
func TestNoServerMessage(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	cliCase{args: []string{"apps", "list"}, code: 1,
		stderr: []string{"error: no Switchboard server at " + addr + ": is it running? (set --server or SWITCHBOARD_SERVER)\n"}}.
		run(t, map[string]string{"SWITCHBOARD_SERVER": addr, "SWITCHBOARD_KEY": "k", "HOME": t.TempDir()})
}

// login keeps a checked key in a 0600 profile that later commands use;
// --profile and SWITCHBOARD_PROFILE choose one, flags and the environment
// still win, a profile's key never goes to another server, and logout
// forgets it.
func TestLoginProfiles(t *testing.T) {
	// Not parallel: each starts a server, and the package's parallel tests
	// start enough of them at once on a busy machine.
	s, env, dir := conventionsServer(t)
	key := env["SWITCHBOARD_KEY"]
	cliCase{args: []string{"apps", "register", filepath.Join(dir, "shop.json")}}.run(t, env)
	// What a user has before login: nothing but a home directory.
	home := map[string]string{"HOME": env["HOME"], "XDG_CONFIG_HOME": env["XDG_CONFIG_HOME"]}
	configFile := filepath.Join(env["XDG_CONFIG_HOME"], "switchboard", "config.json")

	cliCase{args: []string{"login"}, code: 2, stderr: []string{"missing --server URL"}}.run(t, home)
	cliCase{args: []string{"login", "--server", s.URL}, code: 2, stderr: []string{"standard input is not a terminal: pipe the key with --key-stdin"}}.run(t, home)
	cliCase{args: []string{"login", "--server", s.URL, "--key", key}, code: 2, stderr: []string{"never from --key"}}.run(t, home)
	cliCase{args: []string{"login", "--server", s.URL, "--key-stdin"}, stdin: "sbk_wrong\n", code: 3, stderr: []string{"refused the key from standard input"}}.run(t, home)
	cliCase{args: []string{"login", "--server", s.URL, "--key-stdin"}, stdin: "", code: 2, stderr: []string{"no key was given"}}.run(t, home)
	if _, err := os.Stat(configFile); !os.IsNotExist(err) {
		t.Fatalf("a failed login wrote %s (%v)", configFile, err)
	}
	cliCase{args: []string{"login", "--server", s.URL + "/", "--key-stdin"}, stdin: key + "\n",
		stderr: []string{"Signed in to " + s.URL + "; saved as profile \"default\" in " + configFile}, not: []string{key}}.run(t, home)
	fi, err := os.Stat(configFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: mode %v, %v; want 0600", configFile, fi.Mode().Perm(), err)
	}

	// The profile serves every command.
	cliCase{args: []string{"apps", "list"}, stdout: []string{`"app":"shop_acme"`}}.run(t, home)
	cliCase{args: []string{"profiles", "list", "-o", "table"}, stdout: []string{"CURRENT  NAME     SERVER", "*        default  " + s.URL + "  stored"}, not: []string{key}}.run(t, home)
	cliCase{args: []string{"profiles", "list"}, stdout: []string{`{"items":[{"name":"default","server":"` + s.URL + `","hasKey":true,"current":true}]}`}, not: []string{key}}.run(t, home)

	// A second profile; the environment and flags choose, and win.
	op := map[string]string{"HOME": home["HOME"], "XDG_CONFIG_HOME": home["XDG_CONFIG_HOME"], "SWITCHBOARD_PROFILE": "ops"}
	cliCase{args: []string{"login", "--server", s.URL, "--key-stdin"}, env: map[string]string{}, stdin: testOperatorKey, stderr: []string{`saved as profile "ops"`}}.run(t, op)
	cliCase{args: []string{"orgs", "create", "--id", "gamma"}, stdout: []string{`"id":"gamma"`}}.run(t, op)
	cliCase{args: []string{"orgs", "create", "--id", "delta", "--profile", "default"}, code: 1, stderr: []string{"403 forbidden"}}.run(t, op)
	cliCase{args: []string{"orgs", "create", "--id", "delta"}, env: map[string]string{"SWITCHBOARD_KEY": key}, code: 1, stderr: []string{"403 forbidden"}}.run(t, op)
	cliCase{args: []string{"apps", "list", "--profile", "nope"}, code: 1, stderr: []string{`no profile "nope" in ` + configFile + ": sign in with 'switchboard login --profile nope --server URL'"}}.run(t, home)
	cliCase{args: []string{"apps", "list"}, env: map[string]string{"SWITCHBOARD_PROFILE": "nope"}, code: 1, stderr: []string{`no profile "nope"`}}.run(t, home)
	// login made "ops" current; use switches back.
	cliCase{args: []string{"profiles", "use", "default"}, stderr: []string{`Profile "default"`}}.run(t, home)
	cliCase{args: []string{"profiles", "use", "nope"}, code: 1, stderr: []string{"the profiles: default, ops"}}.run(t, home)
	cliCase{args: []string{"apps", "list"}, stdout: []string{`"app":"shop_acme"`}}.run(t, home)

	// A profile's key goes to its own server only.
	var mu sync.Mutex
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"status":401,"code":"unauthorized","title":"Unauthorized","detail":"no key"}`)
	}))
	t.Cleanup(other.Close)
	cliCase{args: []string{"apps", "list", "--server", other.URL}, code: 3, stderr: []string{"not signed in to " + other.URL}}.run(t, home)
	mu.Lock()
	if len(seen) != 1 || seen[0] != "" {
		t.Errorf("another server got Authorization %q", seen)
	}
	mu.Unlock()

	// A broken profiles file is named, with what to do.
	broken := map[string]string{"HOME": t.TempDir(), "SWITCHBOARD_CONFIG": filepath.Join(t.TempDir(), "config.json")}
	os.WriteFile(broken["SWITCHBOARD_CONFIG"], []byte("{nope"), 0o600)
	cliCase{args: []string{"apps", "list"}, code: 1, stderr: []string{broken["SWITCHBOARD_CONFIG"] + " is not a profiles file", "remove it and sign in again"}}.run(t, broken)

	cliCase{args: []string{"logout"}, stderr: []string{"Signed out of " + s.URL + `: removed profile "default"`}}.run(t, home)
	cliCase{args: []string{"logout"}, code: 1, stderr: []string{`no profile "default"`}}.run(t, home)
	cliCase{args: []string{"apps", "list", "--server", s.URL}, code: 3, stderr: []string{"not signed in"}}.run(t, home)
	b, _ := os.ReadFile(configFile)
	if strings.Contains(string(b), key) {
		t.Errorf("logout left the key in %s:\n%s", configFile, b)
	}
}

// version and --version print the CLI's build and the server's; the
// server's start-up line no longer says "dev".
func TestVersion(t *testing.T) {
	// Not parallel: each starts a server, and the package's parallel tests
	// start enough of them at once on a busy machine.
	s, env, _ := conventionsServer(t)
	versionLine := regexp.MustCompile(`(?m)^switchboard \S+ \(.*go1\.\d+.*\)$`)
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, _ := cliCase{args: args, stdout: []string{"server " + s.URL + ": "}}.run(t, env)
		if !versionLine.MatchString(out) {
			t.Errorf("%s printed %q", args, out)
		}
	}
	out, _ := cliCase{args: []string{"version", "--json"}, stdout: []string{`{"client":{"version":"`, `"server":{"version":"`, `"serverUrl":"` + s.URL + `"`}}.run(t, env)
	var doc versionDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Server == nil || doc.Server.Version != doc.Client.Version || doc.Server.GoVersion == "" {
		t.Errorf("version --json = %s (%v)", out, err)
	}
	// No server configured: the CLI's own version, and no request.
	out, _ = cliCase{args: []string{"version"}, not: []string{"server"}}.run(t, map[string]string{"HOME": t.TempDir()})
	if !versionLine.MatchString(out) {
		t.Errorf("version without a server printed %q", out)
	}
	// A server that is down: a warning, the CLI's version still printed.
	cliCase{args: []string{"version"}, env: map[string]string{"SWITCHBOARD_SERVER": "http://127.0.0.1:1"}, stdout: []string{"switchboard "},
		stderr: []string{"no Switchboard server at http://127.0.0.1:1"}}.run(t, env)
	if strings.Contains(s.stdout.String(), " dev ") || !strings.Contains(s.stdout.String(), "Switchboard unversioned (") {
		t.Errorf("the start-up line:\n%s", s.stdout.String())
	}
}

// The shell completion is there, and completes names from the server.
func TestCompletion(t *testing.T) {
	// Not parallel: each starts a server, and the package's parallel tests
	// start enough of them at once on a busy machine.
	_, env, dir := conventionsServer(t)
	cliCase{args: []string{"apps", "register", filepath.Join(dir, "shop.json")}}.run(t, env)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		cliCase{args: []string{"completion", shell}, stdout: []string{"switchboard"}}.run(t, env)
	}
	cliCase{args: []string{"__complete", "commands", "run", "kustomer.app.shop_acme."},
		stdout: []string{"kustomer.app.shop_acme.ok\tshop_acme 1.0.0", "kustomer.app.shop_acme.missing", ":4\n"}, not: []string{"find"}}.run(t, env)
	cliCase{args: []string{"__complete", "actions", "get", ""}, stdout: []string{"kustomer.app.shop_acme.find\tFind orders", "kustomer.app.shop_acme.broken"}}.run(t, env)
	cliCase{args: []string{"__complete", "settings", "get", "sh"}, stdout: []string{"shop_acme\tShop"}}.run(t, env)
	cliCase{args: []string{"__complete", "apps", "get", "shop_acme", ""}, not: []string{"shop_acme\t"}}.run(t, env)
	// Without a key the completion fails quietly: no names, no error text.
	cliCase{args: []string{"__complete", "apps", "get", ""}, env: map[string]string{"SWITCHBOARD_KEY": ""}, stdout: []string{":5\n"}}.run(t, env)
}

func TestNormalizeServer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want, err string }{
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080", ""},
		{"https://sb.example.com", "https://sb.example.com", ""},
		{"127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"localhost:8080", "http://localhost:8080", ""},
		{"[::1]:8080", "http://[::1]:8080", ""},
		{"sb.example.com", "", "has no scheme: write https://sb.example.com"},
		{"ftp://sb.example.com", "", "is not http or https"},
		{"https://", "", "only a scheme, a host and a port"},
		{"https://sb.example.com/?x=1", "", "only a scheme, a host and a port"},
		{"https://user:pw@sb.example.com", "", "only a scheme, a host and a port"},
	} {
		got, err := normalizeServer(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || ExitCode(err) != ExitUsage {
				t.Errorf("normalizeServer(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeServer(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// Whatever the input, normalizeServer returns an http(s) URL with a host
// and no trailing slash that it returns unchanged a second time, or a
// usage error.
func FuzzNormalizeServer(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/", "127.0.0.1", "sb.example.com", "https://a/b/", "http://[::1]:1", "://", "localhost/x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := normalizeServer(s)
		if err != nil {
			if ExitCode(err) != ExitUsage {
				t.Fatalf("normalizeServer(%q): %v is not a usage error", s, err)
			}
			return
		}
		if !strings.HasPrefix(got, "http://") && !strings.HasPrefix(got, "https://") || strings.HasSuffix(got, "/") {
			t.Fatalf("normalizeServer(%q) = %q", s, got)
		}
		again, err := normalizeServer(got)
		if err != nil || again != got {
			t.Fatalf("normalizeServer(%q) = %q, then %q, %v", s, got, again, err)
		}
	})
}

func TestArgsProblem(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		use  string
		args []string
		want string
	}{
		{"get APP", nil, "missing argument APP"},
		{"disconnect APP NAME", nil, "missing arguments APP NAME"},
		{"disconnect APP NAME", []string{"shop"}, "missing argument NAME"},
		{"connect APP [NAME]", nil, "missing argument APP"},
		{"set APP CATEGORY.NAME=VALUE...", nil, "missing argument APP"},
		{"get APP", []string{"a", "b"}, "accepts 1 arg(s), received 2"},
	} {
		cmd := &cobra.Command{Use: tt.use}
		if got := argsProblem(cmd, tt.args, errors.New("accepts 1 arg(s), received 2")); got != tt.want {
			t.Errorf("argsProblem(%q, %q) = %q, want %q", tt.use, tt.args, got, tt.want)
		}
	}
}
