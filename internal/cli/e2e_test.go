package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"

	"github.com/switchboardhq/switchboard/client"
)

const testOperatorKey = "op-test-key-0123456789abcdef0123456789"

// served is a switchboard serve started through Run on port 0.
type served struct {
	URL  string
	Data string
	logs *apitest.Buffer
	// stdout is what serve printed: the start-up lines.
	stdout *apitest.Buffer
	op     *client.Client
	stop   func()
}

// mustServe starts a server and waits until /healthz answers. env adds to
// the environment; args add to "serve".
func mustServe(t *testing.T, env map[string]string, args ...string) *served {
	t.Helper()
	return mustServeData(t, filepath.Join(t.TempDir(), "data"), env, args...)
}

// mustServeData is mustServe on a given data directory.
func mustServeData(t *testing.T, data string, env map[string]string, args ...string) *served {
	t.Helper()
	vars := map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &apitest.Buffer{}
	done := make(chan error, 1)
	argv := append([]string{"switchboard", "serve", "--addr", "127.0.0.1:0", "--data", data}, args...)
	go func() {
		err := Run(ctx, argv, getenv, strings.NewReader(""), pw, logs)
		pw.CloseWithError(errors.New("server stopped"))
		done <- err
	}()
	urls := make(chan string, 1)
	var out apitest.Buffer
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if i := strings.Index(line, "listening on "); i >= 0 {
				urls <- strings.TrimSpace(line[i+len("listening on "):])
			}
		}
	}()
	var base string
	select {
	case base = <-urls:
	case err := <-done:
		cancel()
		t.Fatalf("server exited: %v\nstdout:\n%s\nlogs:\n%s", err, out.String(), logs.String())
	case <-time.After(60 * time.Second): // a fresh database migrates first (goose's and River's), slow under -race on a busy machine
		cancel()
		t.Fatalf("server did not start\nlogs:\n%s", logs.String())
	}
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := &served{URL: base, Data: data, logs: logs, stdout: &out, op: client.New(base, testOperatorKey, nil)}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("server did not stop")
			}
		})
	}
	t.Cleanup(s.stop)
	return s
}

// logsAfter returns the server's log once it contains want: logs are
// written in batches.
func (s *served) logsAfter(t *testing.T, want string) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		if l := s.logs.String(); strings.Contains(l, want) {
			return l
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the log never shows %q:\n%s", want, s.logs.String())
	return ""
}

// mustOrg creates an org and returns a client with its admin key.
func (s *served) mustOrg(t *testing.T, id string) *client.Client {
	t.Helper()
	org, err := s.op.CreateOrg(context.Background(), id, "")
	if err != nil {
		t.Fatalf("create org %q: %v", id, err)
	}
	return client.New(s.URL, org.AdminKey, nil)
}

func mustKey(t *testing.T, admin *client.Client, role string) *client.Client {
	t.Helper()
	k, err := admin.CreateKey(context.Background(), "test "+role, role)
	if err != nil {
		t.Fatalf("create %s key: %v", role, err)
	}
	return admin.WithKey(k.Key)
}

func mustRegister(t *testing.T, c *client.Client, def string) *client.AppVersion {
	t.Helper()
	v, err := c.RegisterApp(context.Background(), []byte(def), false)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return v
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantError asserts err is a problem with the status and code.
func wantError(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a %d %s problem", err, status, code)
	}
	if ce.Status != status || ce.Code != code {
		t.Fatalf("error = %d %s (%s), want %d %s", ce.Status, ce.Code, ce.Detail, status, code)
	}
	return ce
}

// definition decodes a definition answer for inspection.
func definition(t *testing.T, v *client.AppVersion) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(v.Definition, &m); err != nil {
		t.Fatalf("definition: %v", err)
	}
	return m
}

// A created key says when it was created, and no listing shows year 1.
func TestKeyCreatedAt(t *testing.T) {
	t.Parallel()
	s := mustServe(t, nil)
	org, err := s.op.CreateOrg(context.Background(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(s.URL, org.AdminKey, nil)
	k, err := admin.CreateKey(context.Background(), "ci", "agent")
	if err != nil {
		t.Fatal(err)
	}
	if age := time.Since(k.CreatedAt); k.CreatedAt.IsZero() || age < 0 || age > time.Minute {
		t.Fatalf("createdAt = %v", k.CreatedAt)
	}
	env := map[string]string{"SWITCHBOARD_SERVER": s.URL, "SWITCHBOARD_KEY": org.AdminKey}
	out, _, err := runCLI(t, env, "keys", "create", "build", "--role", "agent")
	if err != nil || strings.Contains(out, "0001-01-01") || !strings.Contains(out, `"createdAt"`) {
		t.Fatalf("keys create = %v\n%s", err, out)
	}
	out, _, err = runCLI(t, env, "keys", "list")
	if err != nil || strings.Contains(out, "0001-01-01") || !strings.Contains(out, time.Now().Format("2006-")) {
		t.Fatalf("keys list = %v\n%s", err, out)
	}
}
