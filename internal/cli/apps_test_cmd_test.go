package cli

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func wantExit1(t *testing.T, err error) {
	t.Helper()
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 1 {
		t.Fatalf("err = %v, want exit status 1", err)
	}
}

func TestAppsTestFails(t *testing.T) {
	t.Parallel()
	def, fixtures := mustInit(t, "hello")
	b := readFile(t, fixtures)
	b = []byte(strings.Replace(string(b), `"vip": true}`, `"vip": false}`, 1))
	if err := os.WriteFile(fixtures, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, nil, "apps", "test", def, "--fixtures", fixtures)
	wantExit1(t, err)
	for _, want := range []string{"FAIL get a contact (" + fixtures + ":", "answer /body/vip:\n      - want false\n      + got  true\n",
		"ok   add a note\n", "3 passed, 1 failed\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	out, _, err = runCLI(t, nil, "apps", "test", def, "--run", "note")
	if err != nil || !strings.HasSuffix(out, "1 passed, 0 failed\n") {
		t.Errorf("--run note: %v\n%s", err, out)
	}
	_, errOut, err := runCLI(t, nil, "apps", "test", def, "--run", "nothing like it")
	wantExit1(t, err)
	if !strings.Contains(errOut, `no case's name contains "nothing like it"`) {
		t.Errorf("stderr: %s", errOut)
	}
}

// Problems in either file are printed at their line and column.
func TestAppsTestInvalidFiles(t *testing.T) {
	t.Parallel()
	def, fixtures := mustInit(t, "hello")
	good := readFile(t, def)
	os.WriteFile(def, []byte(strings.Replace(string(good), `"cacheSeconds": 30`, `"cacheSeconds": 5`, 1)), 0o644)
	out, errOut, err := runCLI(t, nil, "apps", "test", def)
	wantExit1(t, err)
	if !strings.Contains(out, def+":22:7 /commands/0/cacheSeconds: cacheSeconds must be a whole number of seconds from 15 to 600; got 5\n") || !strings.Contains(errOut, def+" is invalid: 1 problem(s)") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	os.WriteFile(def, good, 0o644)
	fx := readFile(t, fixtures)
	os.WriteFile(fixtures, []byte(strings.Replace(string(fx), `"expect": {`, `"expekt": {`, 1)), 0o644)
	out, errOut, err = runCLI(t, nil, "apps", "test", def)
	wantExit1(t, err)
	if !strings.Contains(out, `/cases/0/expekt: "expekt" is not a member of a case`) || !strings.Contains(errOut, fixtures+" is invalid") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	os.WriteFile(fixtures, fx, 0o644)
	_, errOut, err = runCLI(t, nil, "apps", "test", def, "--settings", "x.json")
	if err == nil || !strings.Contains(errOut, "--settings is for --record") {
		t.Errorf("--settings without --record: %v %s", err, errOut)
	}
}

// --record through the command: the live settings come from the
// environment, the responses land in the file without the live token, and
// the cases then pass with the upstream gone.
func TestAppsTestRecordThenReplay(t *testing.T) {
	t.Parallel()
	const token = "live-token-from-env-42"
	live := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "POST" {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":"note_1","text":"Call back on Monday","by":"` + r.Header.Get("Authorization") + `"}`))
			return
		}
		w.Write([]byte(`{"id":"c_1","name":"Ada Lovelace","email":"ada@example.com","vip":1,"token":"` + token + `"}`))
	}))
	defer live.Close()
	def, fixtures := mustInit(t, "hello", "--upstream", live.URL)
	// No routes: only the recording can answer the replay.
	fx := readFile(t, fixtures)
	os.WriteFile(fixtures, []byte("{"+string(fx[strings.Index(string(fx), `"settings"`):])), 0o644)

	env := map[string]string{"SWITCHBOARD_SETTING_DEFAULT_APITOKEN": token}
	out, errOut, err := runCLI(t, env, "apps", "test", def, "--record", "--allow-private-networks")
	if err != nil || !strings.Contains(out, "recorded 2 response(s) into "+fixtures) || !strings.HasSuffix(out, "4 passed, 0 failed\n") {
		t.Fatalf("--record: %v\n%s%s", err, out, errOut)
	}
	saved := string(readFile(t, fixtures))
	if strings.Contains(saved, token) || !strings.Contains(saved, `"by": "Bearer [secret:default.apiToken]"`) {
		t.Fatalf("the recorded file:\n%s", saved)
	}
	live.Close()
	out, errOut, err = runCLI(t, nil, "apps", "test", def)
	if err != nil || !strings.HasSuffix(out, "4 passed, 0 failed\n") {
		t.Fatalf("replay: %v\n%s%s", err, out, errOut)
	}
	out, _, err = runCLI(t, nil, "apps", "test", def, "--record")
	wantExit1(t, err)
	if !strings.Contains(out, "loopback") {
		t.Errorf("--record without --allow-private-networks:\n%s", out)
	}
}
