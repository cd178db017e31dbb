package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

// decodeLines decodes every line with jsontext, which refuses an object
// that repeats a name.
func decodeLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		v, err := jsontext.NewDecoder(strings.NewReader(line)).ReadValue()
		if err != nil {
			t.Errorf("%v in the line %s", err, line)
			continue
		}
		m := map[string]any{}
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// Attributes bound to the server's logger with With (as a per-request
// logger would be) and given again by a line, attributes named like slog's
// own keys, and keys repeated in one call never make a line repeat a key:
// the line's own value wins. The run that fails here panics (no registry),
// so it writes the panic, the internal error and the request lines.
func TestBoundKeysAreNotRepeated(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	s, err := NewServer(Config{Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.log = s.log.With("request_id", "bound", "route", "bound", "msg", "bound", "error", "bound")
	r := httptest.NewRequest("POST", "/v1/commands/shop.refund/run", strings.NewReader("{}"))
	r.Header.Set("Authorization", "Bearer sk_whatever")
	r.Header.Set("X-Request-Id", "req-1")
	s.ServeHTTP(httptest.NewRecorder(), r)
	s.log.Info("twice", "k", 1, "k", 2, slog.Group("g", "a", 1, "a", 2), slog.Group("", "k", 3))

	lines := decodeLines(t, logs.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines, want panic, internal error, request and twice:\n%s", len(lines), logs.String())
	}
	for _, m := range lines[:3] {
		if m["request_id"] != "req-1" || m["attr.msg"] != "bound" {
			t.Errorf("request_id %v, attr.msg %v, want req-1 and bound: %v", m["request_id"], m["attr.msg"], m)
		}
	}
	if req := lines[2]; req["msg"] != "request" || req["route"] != "POST /v1/commands/{name}/run" || req["error"] != "internal" || req["status"] != float64(500) {
		t.Errorf("request line %v", req)
	}
	if tw := lines[3]; tw["k"] != float64(3) || tw["g"].(map[string]any)["a"] != float64(2) {
		t.Errorf("twice line %v", tw)
	}
}
