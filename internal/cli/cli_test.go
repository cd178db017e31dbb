package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
)

// runCLI runs a client command and returns its output and error.
func runCLI(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = Run(context.Background(), append([]string{"switchboard"}, args...), func(k string) string { return env[k] },
		strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), err
}

func TestValidateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"app\": \"shop\",\n  \"version\": \"1.0.0\",\n  \"title\": \"Shop\",\n  \"commands\": [{\"name\": \"x\", \"url\": \"ftp://x\", \"httpMethod\": \"get\", \"cacheSeconds\": 1}]\n}\n"), 0o644)
	out, _, err := runCLI(t, nil, "apps", "validate", bad)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("validate of an invalid file = %v, want exit status 1", err)
	}
	for _, want := range []string{bad + ":5:", "/commands/0/url", "/commands/0/cacheSeconds"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, nil, "apps", "validate", filepath.Join("..", "..", "testdata", "apps", "ecommstore.json"))
	if err != nil || !strings.Contains(out, "is valid: app ecommstore version 0.0.1, 1 command(s)") {
		t.Fatalf("validate of the seed = %v:\n%s", err, out)
	}
	out, _, err = runCLI(t, nil, "apps", "validate", "--org", "123456789abcdefg", filepath.Join("..", "..", "testdata", "apps", "ecommstore.json"))
	if err != nil || !strings.Contains(out, "app ecommstore_123456789abcdefg") {
		t.Fatalf("validate as a private app = %v:\n%s", err, out)
	}
}

func TestServeRefusesShortOperatorKey(t *testing.T) {
	t.Parallel()
	_, errOut, err := runCLI(t, map[string]string{"SWITCHBOARD_OPERATOR_KEY": "short"}, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(errOut, "shorter than 32") {
		t.Fatalf("serve with a short operator key = %v, %s", err, errOut)
	}
	_, errOut, err = runCLI(t, nil, "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(errOut, "SWITCHBOARD_OPERATOR_KEY is not set") {
		t.Fatalf("serve without an operator key = %v, %s", err, errOut)
	}
}

// With --database-url a key file is never made: serve and secrets rotate
// refuse to start without SWITCHBOARD_SECRET_KEY.
func TestDatabaseURLNeedsSecretKey(t *testing.T) {
	t.Parallel()
	const want = "SWITCHBOARD_SECRET_KEY is not set: with --database-url every instance needs the same key"
	env := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey}
	dbURL := "postgres://nobody@127.0.0.1:1/none?sslmode=disable"
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--database-url", dbURL},
		{"secrets", "rotate", "--database-url", dbURL},
	} {
		data := t.TempDir()
		_, errOut, err := runCLI(t, env, append(args, "--data", data)...)
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("%s without a secret key = %v, %s", args[:2], err, errOut)
		}
		if _, err := os.Stat(filepath.Join(data, "secret.key")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s made a key file (stat: %v)", args[:2], err)
		}
	}
}

// serve --dev on an empty data directory creates an org and prints a line
// to paste; the key in it works with the CLI.
func TestDevFirstRun(t *testing.T) {
	t.Parallel()
	s := mustServe(t, map[string]string{"SWITCHBOARD_OPERATOR_KEY": ""}, "--dev")
	key := strings.TrimSpace(string(readFile(t, filepath.Join(s.Data, "dev-admin.key"))))
	if !strings.HasPrefix(key, "sbk_") {
		t.Fatalf("dev admin key = %q", key)
	}
	if fi, err := os.Stat(filepath.Join(s.Data, "dev-admin.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("dev-admin.key mode = %v, %v", fi.Mode().Perm(), err)
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": key}
	if _, errOut, err := runCLI(t, env, "apps", "register", filepath.Join("..", "..", "testdata", "apps", "ecommstore.json")); err != nil {
		t.Fatalf("register: %v %s", err, errOut)
	}
	if _, errOut, err := runCLI(t, env, "settings", "set", "ecommstore", "default.authToken=s3cr3t"); err != nil {
		t.Fatalf("settings set: %v %s", err, errOut)
	}
	out, _, err := runCLI(t, env, "settings", "get", "ecommstore")
	if err != nil || strings.Contains(out, "s3cr3t") || !strings.Contains(out, `"set":true`) {
		t.Fatalf("settings get = %v: %s", err, out)
	}
	out, _, err = runCLI(t, env, "apps", "list")
	if err != nil || !strings.Contains(out, "ecommstore_dev") {
		t.Fatalf("apps list = %v: %s", err, out)
	}
	_, errOut, err := runCLI(t, env, "apps", "get", "nope")
	if err == nil || !strings.Contains(errOut, "404 not_found") {
		t.Fatalf("apps get nope = %v: %s", err, errOut)
	}
}

func TestCommandsAndAuditCommands(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"auth":%q,"got":%s}`, r.URL.Path, r.Header.Get("Authorization"), b)
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"order","permittedArgs":["id"],
		"url":"`+up.URL+`/orders/{{id}}","httpMethod":"post","auditLogging":true,"appSettings":{"token":{"key":"shop.default.token"}}}]}`)
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"default": {"token": "tkn"}}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateKey(context.Background(), "cli", "admin")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key}
	body := filepath.Join(t.TempDir(), "body.json")
	os.WriteFile(body, []byte(`{"qty": 2}`), 0o644)
	out, errOut, err := runCLI(t, env, "commands", "run", "shop.order", "--arg", "id=42", "--header", "Authorization=Bearer {{token}}", "--body", "@"+body)
	if err != nil {
		t.Fatalf("commands run: %v %s", err, errOut)
	}
	want := `{"status":200,"headers":{`
	if !strings.HasPrefix(out, want) || !strings.Contains(out, `"body":{"path":"/orders/42","auth":"Bearer [redacted]","got":{"qty":2}},"cache":"none"}`) {
		t.Errorf("commands run printed %s", out)
	}
	// A table when asked (the default on a terminal), the API's JSON in a pipe.
	out, _, err = runCLI(t, env, "commands", "list", "-o", "table")
	if err != nil || !strings.Contains(out, "kustomer.app.shop_acme.order") || !strings.Contains(out, "POST") {
		t.Errorf("commands list = %v:\n%s", err, out)
	}
	out, _, err = runCLI(t, env, "commands", "list")
	if err != nil || !strings.HasPrefix(out, `{"items":[{"name":"kustomer.app.shop_acme.order"`) {
		t.Errorf("commands list in a pipe = %v:\n%s", err, out)
	}
	out, _, err = runCLI(t, env, "audit", "list", "--since", "1h")
	if err != nil || !strings.Contains(out, "kustomer.app.shop_acme.order") || !strings.Contains(out, "/orders/42") {
		t.Errorf("audit list = %v:\n%s", err, out)
	}
	_, errOut, err = runCLI(t, env, "commands", "run", "shop.order", "--arg", "nope")
	if err == nil || !strings.Contains(errOut, "NAME=VALUE") {
		t.Errorf("bad --arg = %v %s", err, errOut)
	}
}

func TestActionsCommands(t *testing.T) {
	t.Parallel()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"q":%q,"got":%s}`, r.URL.RawQuery, b)
	}))
	t.Cleanup(up.Close)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","actions":[{"name":"find","type":"rest_api","description":"Find orders",
		"inputTemplate":{"uri":"`+up.URL+`/orders","method":"post","qs":{"q":"{{q}}"},"data":{"n":"/#n"},"json":true},
		"outputTemplate":{"echo":"/#body"}}]}`)
	k, err := admin.CreateKey(context.Background(), "cli", "agent")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key}
	out, errOut, err := runCLI(t, env, "actions", "run", "shop.find", "--input", `{"q": "x y", "n": 2}`)
	if err != nil || strings.TrimSpace(out) != `{"output":{"echo":{"q":"q=x%20y","got":{"n":2}}}}` {
		t.Fatalf("actions run = %v %s: %s", err, errOut, out)
	}
	out, _, err = runCLI(t, env, "actions", "list")
	if err != nil || !strings.Contains(out, "kustomer.app.shop_acme.find") || !strings.Contains(out, "Find orders") {
		t.Fatalf("actions list = %v: %s", err, out)
	}
}

func TestAccountsConnectCommand(t *testing.T) {
	t.Parallel()
	pollInterval = 20 * time.Millisecond
	prov := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"at-cli","refresh_token":"rt-cli","token_type":"Bearer","expires_in":3600,"scope":"read"}`)
	}))
	t.Cleanup(prov.Close)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","auth":{"type":"oauth2","grantType":"authorization_code",
		"authorizationUrl":"`+prov.URL+`/authorize","tokenUrl":"`+prov.URL+`/token","scopes":["read"],
		"clientId":{"key":"shop.default.id"},"clientSecret":{"key":"shop.default.secret"}}}`)
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"default": {"id": "c", "secret": "s"}}); err != nil {
		t.Fatal(err)
	}
	k, _ := admin.CreateKey(context.Background(), "cli", "admin")
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": k.Key}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Run(context.Background(), []string{"switchboard", "accounts", "connect", "shop", "--wait", "20s"},
			func(k string) string { return env[k] }, strings.NewReader(""), pw, io.Discard)
		pw.Close()
		done <- err
	}()
	buf := make([]byte, 4096)
	n, _ := pr.Read(buf)
	out := string(buf[:n])
	i := strings.Index(out, prov.URL+"/authorize?")
	if i < 0 {
		t.Fatalf("connect printed %q", out)
	}
	authURL := strings.Fields(out[i:])[0]
	u, _ := url.Parse(authURL)
	resp, err := http.Get(u.Query().Get("redirect_uri") + "?code=abc&state=" + url.QueryEscape(u.Query().Get("state")))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("redirect: %v %v", resp, err)
	}
	resp.Body.Close()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatalf("connect: %v", err)
	}
	list, _, err := runCLI(t, env, "accounts", "list", "shop")
	if err != nil || !strings.Contains(list, "default") || !strings.Contains(list, "connected") || strings.Contains(list, "at-cli") {
		t.Fatalf("accounts list = %v: %s", err, list)
	}
}

// Rotating the secret key: values written under the old key still open
// with "new,old", and secrets rotate re-encrypts them so that "new" alone
// opens them.
func TestSecretsRotate(t *testing.T) {
	t.Parallel()
	oldKey := strings.Repeat("11", 32)
	newKey := strings.Repeat("22", 32)
	data := t.TempDir()
	env := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey, "SWITCHBOARD_SECRET_KEY": oldKey}
	start := func(env map[string]string) (*served, func()) {
		s := mustServeData(t, data, env)
		return s, s.stop
	}
	s, stop := start(env)
	org, err := s.op.CreateOrg(context.Background(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(s.URL, org.AdminKey, nil)
	mustRegister(t, admin, `{"app":"shop","version":"1.0.0","title":"S","settings":{"d":{"tok":{"type":"secret"}}},
		"hooks":[{"eventName":"shop.paid","type":"web"}]}`)
	if _, err := admin.PutSettings(context.Background(), "shop", client.Settings{"d": {"tok": "v1"}}); err != nil {
		t.Fatal(err)
	}
	// The web hook's secret is sealed at rest too.
	hooks, err := admin.Hooks(context.Background(), "shop")
	if err != nil || len(hooks) != 1 || hooks[0].Secret == "" {
		t.Fatalf("hooks = %+v, %v", hooks, err)
	}
	deliver := func(base string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+hooks[0].URL[strings.Index(hooks[0].URL, "/v1/hooks/"):], strings.NewReader(`{"id":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+hooks[0].Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := deliver(s.URL); code != http.StatusAccepted {
		t.Fatalf("a delivery with the hook's secret answered %d", code)
	}
	stop()

	// refused runs serve, which must fail at start with want on stderr
	// (a server that starts instead stops at the deadline).
	refused := func(env map[string]string, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var out, errOut bytes.Buffer
		err := Run(ctx, []string{"switchboard", "serve", "--addr", "127.0.0.1:0", "--data", data},
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		if err == nil || !strings.Contains(errOut.String(), want) {
			t.Fatalf("serve = %v, want a refusal with %q:\n%s", err, want, errOut.String())
		}
	}
	const wrongKey = "SWITCHBOARD_SECRET_KEY does not open the secrets in this database: every instance must be started with the same key"
	only := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey, "SWITCHBOARD_SECRET_KEY": newKey}
	// Before rotation the new key alone does not open the database's key
	// check value: the server refuses to start rather than fail on the
	// first secret.
	refused(only, wrongKey)

	both := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey, "SWITCHBOARD_SECRET_KEY": newKey + "," + oldKey}
	out, errOut, err := runCLI(t, both, "secrets", "rotate", "--data", data)
	if err != nil || !strings.Contains(out, "re-encrypted 2 value(s)") {
		t.Fatalf("rotate = %v %s %s", err, out, errOut)
	}
	// After it the old key alone is refused in turn.
	refused(env, wrongKey)
	// The new key alone now opens everything: the server starts and runs
	// with the secret.
	s2, _ := start(only)
	// Listing installed apps loads the org's settings, decrypting them.
	if apps, err := client.New(s2.URL, org.AdminKey, nil).InstalledApps(context.Background()); err != nil || len(apps) != 1 {
		t.Fatalf("after rotation, with the new key alone: %+v, %v", apps, err)
	}
	// The hook's secret opens with the new key alone: its deliveries are
	// still accepted.
	if code := deliver(s2.URL); code != http.StatusAccepted {
		t.Errorf("after rotation a delivery with the hook's secret answered %d", code)
	}
	if out, _, _ := runCLI(t, only, "secrets", "rotate", "--data", data); !strings.Contains(out, "re-encrypted 0 value(s)") {
		t.Errorf("a second rotation = %s", out)
	}
}
