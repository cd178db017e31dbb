package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
)

// serve --dev --watch registers the directory's definition at start and
// again, as the next pre-release, when its file is edited; a broken edit is
// reported at its line and column and leaves the last good version.
func TestServeWatch(t *testing.T) {
	t.Parallel()
	def, _ := mustInit(t, "hello")
	dir := filepath.Dir(def)
	s := mustServe(t, nil, "--dev", "--watch", dir)
	key, err := os.ReadFile(filepath.Join(s.Data, "dev-admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(s.URL, strings.TrimSpace(string(key)), nil)
	ctx := context.Background()
	latest := func() *client.AppVersion {
		v, err := admin.App(ctx, "hello")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("never: %s\nserver stderr:\n%s", what, s.logs.String())
			}
		}
	}
	if v := latest(); v.Version != "0.1.0" {
		t.Fatalf("at start: version %s", v.Version)
	}
	s.logsAfter(t, "watch: registered hello_dev 0.1.0 from "+def)

	good := readFile(t, def)
	edited := strings.Replace(string(good), `"cacheSeconds": 30`, `"cacheSeconds": 60`, 1)
	if err := os.WriteFile(def, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the edit is registered as 0.1.1-dev.1", func() bool { return latest().Version == "0.1.1-dev.1" })
	if d := string(latest().Definition); !strings.Contains(d, `"cacheSeconds":60`) {
		t.Errorf("the new version is not the edit: %s", d)
	}
	broken := strings.Replace(edited, `"cacheSeconds": 60`, `"cacheSeconds": 6`, 1)
	if err := os.WriteFile(def, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	s.logsAfter(t, def+":22:7 /commands/0/cacheSeconds: ")
	s.logsAfter(t, "watch: "+def+" is not registered: 1 problem(s); fix it and save again")
	if v := latest(); v.Version != "0.1.1-dev.1" {
		t.Errorf("after a broken edit: version %s", v.Version)
	}
}

func TestServeWatchNeedsDev(t *testing.T) {
	t.Parallel()
	_, errOut, err := runCLI(t, map[string]string{"SWITCHBOARD_OPERATOR_KEY": testOperatorKey}, "serve", "--watch", t.TempDir(),
		"--addr", "127.0.0.1:0", "--data", t.TempDir())
	if err == nil || !strings.Contains(errOut, "--watch registers definitions as the dev org's admin: it needs --dev") {
		t.Errorf("serve --watch without --dev = %v, %s", err, errOut)
	}
}
