package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// The access line written without slog has the members, and the JSON form,
// of the slog line it replaces.
func TestAccessLogLine(t *testing.T) {
	t.Parallel()
	var fast, slow bytes.Buffer
	s := &Server{access: &fast, log: slog.New(slog.NewJSONHandler(&slow, nil))}
	r := httptest.NewRequest("POST", "/v1/commands/a%22b/run", nil)
	info := &reqInfo{id: "abc", principal: &switchboard.Principal{OrgID: "acme", KeyID: "key_1"}, err: "not_found"}
	start := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	s.logAccess(start, r, "POST /v1/commands/{name}/run", 404, 1234567*time.Nanosecond, info)
	var got map[string]any
	if err := json.Unmarshal(fast.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %s", fast.Bytes())
	}
	want := map[string]any{"time": "2026-11-23T10:00:00.123456789Z", "level": "INFO", "msg": "request", "request_id": "abc",
		"method": "POST", "route": "POST /v1/commands/{name}/run", "path": `/v1/commands/a"b/run`, "status": float64(404),
		"ms": 1.234, "org": "acme", "key_id": "key_1", "error": "not_found"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("members = %v", got)
	}
}
