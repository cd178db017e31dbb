package apptest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

const liveToken = "live-secret-0123456789"

// liveUpstream is the "real" API of the round trip: it wants the live
// token, echoes it back, and sets a cookie.
func liveUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+liveToken {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Set-Cookie", "session=s3ss10n-c00k1e")
		w.Header().Set("X-Request-Id", "live-1")
		w.Header().Set("Content-Type", "application/json")
		switch r.Method + " " + r.URL.Path {
		case "GET /me":
			json.NewEncoder(w).Encode(map[string]any{"user": "ada", "echo": r.Header.Get("Authorization"), "token": liveToken})
		case "POST /notes":
			var in map[string]any
			json.NewDecoder(r.Body).Decode(&in)
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]any{"id": "note_9", "text": in["text"]})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func roundTripFiles(base string) (def, fixtures []byte) {
	def = []byte(`{
  "app": "live", "version": "1.0.0", "title": "Live",
  "settings": {"default": {"apiToken": {"type": "secret", "required": true}}},
  "commands": [{"name": "whoami", "httpMethod": "get", "url": "` + base + `/me",
    "appSettings": {"apiToken": {"key": "live.default.apiToken"}}}],
  "actions": [{"name": "note", "type": "rest_api",
    "appSettings": {"apiToken": {"key": "live.default.apiToken"}},
    "inputTemplate": {"uri": "` + base + `/notes", "method": "post", "json": true,
      "headers": {"Authorization": "Bearer {{apiToken}}"}, "data": {"text": "/#text"}},
    "outputTemplate": {"id": "/#body.id", "text": "/#body.text"}}]
}`)
	fixtures = []byte(`{
  "settings": {"default": {"apiToken": "test-token"}},
  "cases": [
    {"name": "who am I", "command": "whoami", "headers": {"Authorization": "Bearer {{apiToken}}"},
     "expect": {
       "request": {"method": "GET", "url": "` + base + `/me", "headers": {"authorization": "Bearer [secret:default.apiToken]"}},
       "answer": {"status": 200, "headers": {"x-request-id": "live-1"},
                  "body": {"user": "ada", "echo": "Bearer [redacted]", "token": "[redacted]"}}}},
    {"name": "add a note", "action": "note", "input": {"text": "hi"},
     "expect": {"answer": {"output": {"id": "note_9", "text": "hi"}}}}
  ]
}`)
	return def, fixtures
}

// Record against a live upstream, then replay with the upstream gone: the
// same cases pass both ways, and the file keeps no secret, credential or
// cookie.
func TestRecordThenReplay(t *testing.T) {
	t.Parallel()
	live := liveUpstream(t)
	def, fx := roundTripFiles(live.URL)
	path := filepath.Join(t.TempDir(), "live.fixtures.json")

	t.Run("record", func(t *testing.T) {
		f := mustParse(t, fx)
		res, out := mustRun(t, def, f, Options{Record: true, AllowPrivateNetworks: true,
			LiveSettings: mustJSON(t, `{"default": {"apiToken": "`+liveToken+`"}}`).(*jsonv.Object)})
		if res.Passed != 2 || res.Failed != 0 || res.Recorded != 2 {
			t.Fatalf("result %+v, want 2 passed and recorded\n%s", res, out)
		}
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
	})
	saved := string(mustRead(t, path))
	t.Run("scrubbed", func(t *testing.T) {
		for _, leak := range []string{liveToken, "s3ss10n-c00k1e"} {
			if strings.Contains(saved, leak) {
				t.Errorf("the recorded file holds %q:\n%s", leak, saved)
			}
		}
		for _, want := range []string{`"echo": "Bearer [secret:default.apiToken]"`, `"token": "[secret:default.apiToken]"`,
			`"Set-Cookie": "[scrubbed]"`, `"status": 201`} {
			if !strings.Contains(saved, want) {
				t.Errorf("the recorded file lacks %s:\n%s", want, saved)
			}
		}
		if strings.Contains(saved, `"Date"`) {
			t.Errorf("the recorded file keeps the Date header:\n%s", saved)
		}
	})
	live.Close()
	t.Run("replay", func(t *testing.T) {
		res, out := mustRun(t, def, mustParse(t, []byte(saved)), Options{})
		if res.Passed != 2 || res.Failed != 0 {
			t.Fatalf("result %+v, want 2 passed with the upstream gone\n%s", res, out)
		}
	})
	t.Run("replay checks", func(t *testing.T) {
		changed := strings.Replace(saved, `"user": "ada"`, `"user": "bob"`, 1)
		res, out := mustRun(t, def, mustParse(t, []byte(changed)), Options{})
		if res.Failed != 1 || !strings.Contains(out, `answer /body/user:`) {
			t.Fatalf("result %+v, want the changed recording to fail\n%s", res, out)
		}
	})
}

// A recording that cannot reach the live upstream says so, and keeps
// nothing.
func TestRecordUnreachable(t *testing.T) {
	t.Parallel()
	live := liveUpstream(t)
	base := live.URL
	live.Close()
	def, fx := roundTripFiles(base)
	f := mustParse(t, fx)
	res, out := mustRun(t, def, f, Options{Record: true, AllowPrivateNetworks: true})
	if res.Failed != 2 || res.Recorded != 0 || !strings.Contains(out, "the live upstream: ") {
		t.Fatalf("result %+v, want 2 failures naming the live upstream\n%s", res, out)
	}
}

// Without AllowPrivateNetworks a recording refuses loopback, as the server
// does.
func TestRecordGuarded(t *testing.T) {
	t.Parallel()
	live := liveUpstream(t)
	def, fx := roundTripFiles(live.URL)
	res, out := mustRun(t, def, mustParse(t, fx), Options{Record: true})
	if res.Recorded != 0 || !strings.Contains(out, "loopback") {
		t.Fatalf("result %+v, want a refusal of loopback\n%s", res, out)
	}
}

func TestSaveKeepsMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.json")
	if err := os.WriteFile(path, []byte(`{"cases":[{"name":"a","command":"x"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.SetResponse(f.Cases[0], &Response{Status: 200, Header: http.Header{"X-A": {"1"}}, Body: "ok"})
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	g, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Cases[0].Response; r == nil || r.Status != 200 || r.Body != "ok" || r.Header.Get("X-A") != "1" {
		t.Errorf("read back %+v", r)
	}
}
