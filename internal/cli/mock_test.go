package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/client"
)

var ecommstoreFixtures = filepath.Join("..", "..", "testdata", "mocks", "ecommstore.json")

// mocked is a switchboard mock started through Run.
type mocked struct {
	URL  string
	line string // the line it printed on start
	logs *apitest.Buffer
	stop func() error // stops it and returns Run's error
}

// mustMock starts switchboard mock FILE on port 0 and waits for its
// listening line.
func mustMock(t *testing.T, file string) *mocked {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	logs := &apitest.Buffer{}
	done := make(chan error, 1)
	go func() {
		err := Run(ctx, []string{"switchboard", "mock", file, "--addr", "127.0.0.1:0"}, func(string) string { return "" },
			strings.NewReader(""), pw, logs)
		pw.CloseWithError(errors.New("mock stopped"))
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	m := &mocked{logs: logs}
	select {
	case m.line = <-lines:
	case err := <-done:
		cancel()
		t.Fatalf("mock exited: %v\nstderr:\n%s", err, logs.String())
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("mock did not start\nstderr:\n%s", logs.String())
	}
	_, rest, _ := strings.Cut(m.line, "listening on ")
	m.URL, _, _ = strings.Cut(rest, " ")
	var stopped error
	var once bool
	m.stop = func() error {
		if once {
			return stopped
		}
		once = true
		cancel()
		select {
		case stopped = <-done:
		case <-time.After(30 * time.Second):
			t.Error("mock did not stop")
		}
		return stopped
	}
	t.Cleanup(func() { m.stop() })
	return m
}

func TestMockCommand(t *testing.T) {
	t.Parallel()
	m := mustMock(t, ecommstoreFixtures)
	if !strings.HasPrefix(m.URL, "http://127.0.0.1:") || m.line != "mock upstream listening on "+m.URL+" (6 routes from "+ecommstoreFixtures+")" {
		t.Fatalf("start line %q", m.line)
	}

	t.Run("POST /orders echoes the request", func(t *testing.T) {
		req, _ := http.NewRequest("POST", m.URL+"/orders?store=scranton", strings.NewReader(`{"foo": "12"}`))
		req.Header.Set("Authorization", "Bearer s3cr3t-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d, %v", resp.StatusCode, err)
		}
		want := map[string]any{"id": "ord_1001", "store": "scranton", "status": "REFUNDED", "foo": "12",
			"received": map[string]any{"authorization": "Bearer s3cr3t-token", "body": map[string]any{"foo": "12"}}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("body (-want +got):\n%s", diff)
		}
	})

	t.Run("an unknown path answers 404 with the routes", func(t *testing.T) {
		resp, err := http.Get(m.URL + "/customers")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !bytes.Contains(b, []byte(`"GET /orders/{id}"`)) {
			t.Errorf("%d %s", resp.StatusCode, b)
		}
	})

	t.Run("it stops when the context ends, having logged each request", func(t *testing.T) {
		if err := m.stop(); err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		for _, want := range []string{" POST /orders?store=scranton 200 (/routes/1 POST /orders)\n", " GET /customers 404 (no route)\n"} {
			if !strings.Contains(m.logs.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, m.logs.String())
			}
		}
	})
}

func TestMockInvalidFile(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{\"routes\": [\n  {\"path\": \"/\", \"status\": 700},\n  {\"path\": \"orders\"}\n]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCLI(t, nil, "mock", bad, "--addr", "127.0.0.1:0")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("mock of an invalid file = %v, want exit status 1", err)
	}
	want := bad + ":2:17 /routes/0/status: must be 100..599\n" +
		bad + ":3:4 /routes/1/path: must start with /, as in /orders/{id}\n" +
		bad + " is invalid: 2 problem(s)\n"
	if diff := cmp.Diff(want, errOut); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}

	_, errOut, err = runCLI(t, nil, "mock", filepath.Join(t.TempDir(), "none.json"))
	if err == nil || !strings.Contains(errOut, "no such file") {
		t.Errorf("mock of a missing file = %v, %s", err, errOut)
	}
}

// TestMockQuickstart is docs/mock.md's walkthrough: the quickstart's apps
// (the seeds' examples pointed at the mock) answer 200, and the secret that
// the mock echoes comes back redacted.
func TestMockQuickstart(t *testing.T) {
	t.Parallel()
	m := mustMock(t, ecommstoreFixtures)
	s := mustServe(t, nil, "--allow-private-networks")
	admin := s.mustOrg(t, "acme")
	ctx := context.Background()
	const secret = "s3cr3t-token"
	for _, app := range []string{"ecommstore", "ecommflows"} {
		def := readFile(t, filepath.Join("..", "..", "testdata", "quickstart", app+".json"))
		// The definition names the mock's default address; this one is on port 0.
		def = bytes.ReplaceAll(def, []byte("http://127.0.0.1:8089"), []byte(m.URL))
		mustRegister(t, admin, string(def))
		if _, err := admin.PutSettings(ctx, app, client.Settings{"default": {"authToken": secret}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the command answers 200 with the echoed secret redacted", func(t *testing.T) {
		res, err := admin.RunCommand(ctx, "ecommstore.store.refundOrder", client.RunRequest{
			Body: map[string]any{"foo": 12}, Headers: map[string]string{"Authorization": "Bearer {{authToken}}"},
			Args: map[string]string{"store": "dunder-mifflin"}})
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(res.Body, &body); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"id": "ord_1001", "store": "dunder-mifflin", "status": "REFUNDED", "foo": "12",
			"received": map[string]any{"authorization": "Bearer [redacted]", "body": map[string]any{"foo": "12"}}}
		if diff := cmp.Diff(want, body); res.Status != 200 || diff != "" {
			t.Errorf("status %d, body (-want +got):\n%s", res.Status, diff)
		}
		if bytes.Contains(res.Body, []byte(secret)) {
			t.Errorf("the answer holds the secret: %s", res.Body)
		}
	})

	t.Run("the action refunds the order", func(t *testing.T) {
		out, err := admin.RunAction(ctx, "ecommflows.store.refundOrder", map[string]any{"orderId": "ord_1001", "querystring": "refund=full"})
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any // the action's outputTemplate: {"order", "status", "statusCode"}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"order": "ord_1001", "status": "REFUNDED", "statusCode": float64(200)}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("action output (-want +got):\n%s\n%s", diff, out)
		}
	})
}
