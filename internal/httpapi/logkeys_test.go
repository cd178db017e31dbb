package httpapi_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/server"
)

// wantUniqueKeys decodes every line of logs with jsontext, which refuses
// an object that repeats a name, and returns the request lines.
func wantUniqueKeys(t *testing.T, logs string) (requests []string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if _, err := jsontext.NewDecoder(strings.NewReader(line)).ReadValue(); err != nil {
			t.Errorf("%v in the line %s", err, line)
		}
		if strings.Contains(line, `"msg":"request"`) {
			requests = append(requests, line)
		}
	}
	return requests
}

// failingRequests makes requests that fail in every way a line notes: an
// upstream that cannot be reached, a command that does not exist, a
// forbidden role, no key, a method not served, a head too large, a path
// not canonical.
func failingRequests(t *testing.T, baseURL string, operator *client.Client) {
	t.Helper()
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	org, err := operator.CreateOrg(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(baseURL, org.AdminKey, nil)
	apitest.Register(t, admin, `{"app":"shop","version":"1.0.0","title":"Shop","commands":[{"name":"down","httpMethod":"get","url":"http://`+closed+`/x"}]}`)
	agent := apitest.Key(t, admin, "agent")
	admin.RunCommand(ctx, "shop.down", client.RunRequest{})
	admin.RunCommand(ctx, "shop.nothing", client.RunRequest{})
	agent.Raw(ctx, "GET", "/v1/keys", nil)
	for _, req := range []struct{ method, path, header string }{
		{"GET", "/v1/keys", ""},
		{"PATCH", "/v1/keys", ""},
		{"GET", "/v1/keys", strings.Repeat("h", 70<<10)},
		{"GET", "/v1//keys", ""},
	} {
		r, _ := http.NewRequest(req.method, baseURL+req.path, nil)
		if req.header != "" {
			r.Header.Set("X-Big", req.header)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// One log line never has a key twice, whichever writes the request lines:
// slog (a logger given to the server) or the access log (the server's own
// JSON lines, written without slog).
func TestLogLinesHaveUniqueKeys(t *testing.T) {
	t.Parallel()
	t.Run("slog", func(t *testing.T) {
		t.Parallel()
		env := apitest.New(t, apitest.Options{Outbound: outbound.Config{AllowPrivateNetworks: true}})
		failingRequests(t, env.URL, env.Operator)
		if n := len(wantUniqueKeys(t, env.Logs.String())); n < 8 {
			t.Errorf("%d request lines:\n%s", n, env.Logs.String())
		}
	})
	t.Run("access log", func(t *testing.T) {
		t.Parallel()
		var logs apitest.Buffer
		in, err := server.New(context.Background(), server.Config{
			Addr: "127.0.0.1:0", Data: t.TempDir(), CacheBytes: 1 << 20, ShutdownTimeout: time.Second,
			LogLevel: "info", LogOutput: &logs, OperatorKey: apitest.OperatorKey,
			SecretKeys: [][]byte{bytes.Repeat([]byte{7}, secretbox.KeySize)},
			Outbound:   &outbound.Config{AllowPrivateNetworks: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		failingRequests(t, in.URL, client.New(in.URL, apitest.OperatorKey, nil))
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		in.Close() // flushes the log
		if n := len(wantUniqueKeys(t, logs.String())); n < 8 {
			t.Errorf("%d request lines:\n%s", n, logs.String())
		}
	})
}
