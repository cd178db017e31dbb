package devwatch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/apitest"
	"github.com/switchboardhq/switchboard/internal/appdef"
)

func TestNextDev(t *testing.T) {
	for _, tt := range []struct{ v, want string }{
		{"1.2.3", "1.2.4-dev.1"},
		{"1.2.4-dev.1", "1.2.4-dev.2"},
		{"1.2.4-dev.9", "1.2.4-dev.10"},
		{"1.0.0-beta", "1.0.0-beta.dev.1"},
		{"1.0.0-beta.dev.3", "1.0.0-beta.dev.4"},
		{"1.0.0-rc.1", "1.0.0-rc.1.dev.1"},
		{"1.0.0+build.5", "1.0.1-dev.1"},
		{"0.1.0-dev.x", "0.1.0-dev.x.dev.1"},
		{"1.0.99999999999999999999", "1.0.100000000000000000000-dev.1"},
		{"1.0.0-dev.99999999999999999999", "1.0.0-dev.100000000000000000000"},
	} {
		got := NextDev(tt.v)
		if got != tt.want {
			t.Errorf("NextDev(%q) = %q, want %q", tt.v, got, tt.want)
		}
		if !appdef.ValidVersion(got) || appdef.CompareVersions(got, tt.v) <= 0 {
			t.Errorf("NextDev(%q) = %q is not a version above it", tt.v, got)
		}
	}
}

const def = `{
  "app": "hello", "version": "1.0.0", "title": "Hello",
  "commands": [{"name": "ping", "httpMethod": "get", "url": "http://127.0.0.1:9/ping"}]
}
`

// watched is a watcher of a temporary directory registering into a test
// server's dev org.
type watched struct {
	*Watcher
	dir string
	out *apitest.Buffer
	env *apitest.Env
	p   *switchboard.Principal
}

func mustWatch(t *testing.T, files map[string]string) *watched {
	t.Helper()
	env := apitest.New(t, apitest.Options{})
	_, key, err := env.Registry.CreateOrg(context.Background(), "dev", "Development org")
	if err != nil {
		t.Fatal(err)
	}
	p, err := env.Registry.Authenticate(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range files {
		mustWrite(t, filepath.Join(dir, name), body)
	}
	w := &watched{dir: dir, out: &apitest.Buffer{}, env: env, p: p}
	w.Watcher = New(Config{Dir: dir, Registry: env.Registry, Principal: p, Out: w.out})
	return w
}

func mustWrite(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// A new modification time even on a coarse clock.
	later := time.Now().Add(time.Duration(len(body)) * time.Millisecond)
	os.Chtimes(path, later, later)
}

// saved writes a file and reads the directory twice, as the watcher does
// before it acts on a change, and returns what it printed.
func (w *watched) saved(t *testing.T, name, body string) string {
	t.Helper()
	before := len(w.out.String())
	mustWrite(t, filepath.Join(w.dir, name), body)
	w.scan(context.Background(), false)
	if got := w.out.String()[before:]; got != "" {
		t.Fatalf("the watcher acted on a change it saw once: %q", got)
	}
	w.scan(context.Background(), false)
	return w.out.String()[before:]
}

func (w *watched) latest(t *testing.T) switchboard.AppVersion {
	t.Helper()
	v, _, err := w.env.Registry.App(context.Background(), w.p, "hello")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantOutput(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(got, s) {
			t.Errorf("the watcher printed\n%s\nwithout %q", got, s)
		}
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	w := mustWatch(t, map[string]string{
		"hello.json":          def,
		"hello.fixtures.json": `{"cases": []}`,
		"bad.json":            "{\n  \"app\": \"bad\",\n  \"version\": \"1\",\n  \"title\": \"Bad\"\n}\n",
		"notes.txt":           "not json",
	})
	ctx := context.Background()
	hello, bad := filepath.Join(w.dir, "hello.json"), filepath.Join(w.dir, "bad.json")

	t.Run("start registers every definition and prints problems at file:line:col", func(t *testing.T) {
		if err := w.Start(ctx); err != nil {
			t.Fatal(err)
		}
		out := w.out.String()
		wantOutput(t, out, "watch: registered hello_dev 1.0.0 from "+hello+"\n",
			bad+":3:3 /version: ", "watch: "+bad+" is not registered: 1 problem(s); fix it and save again\n")
		if strings.Contains(out, "fixtures") || strings.Contains(out, "notes.txt") {
			t.Errorf("the watcher read a file that is no definition:\n%s", out)
		}
	})

	t.Run("an unchanged directory does nothing", func(t *testing.T) {
		before := w.out.String()
		w.scan(ctx, false)
		w.scan(ctx, false)
		if w.out.String() != before {
			t.Errorf("printed %q", w.out.String()[len(before):])
		}
	})

	changed := strings.Replace(def, "/ping", "/pong", 1)
	t.Run("a changed definition of the same version gets the next pre-release", func(t *testing.T) {
		out := w.saved(t, "hello.json", changed)
		wantOutput(t, out, "watch: registered hello_dev 1.0.1-dev.1 from "+hello+" (the file says 1.0.0; 1.0.0 is registered")
		v := w.latest(t)
		if v.Version != "1.0.1-dev.1" || !strings.Contains(string(v.Definition), "/pong") {
			t.Errorf("latest %s %s", v.Version, v.Definition)
		}
		inst, err := w.env.Registry.Installed(ctx, w.p)
		if err != nil || len(inst) != 1 || inst[0].Version != "1.0.1-dev.1" {
			t.Errorf("installed %+v, %v", inst, err)
		}
	})

	t.Run("and the next after that", func(t *testing.T) {
		out := w.saved(t, "hello.json", strings.Replace(def, "/ping", "/pang", 1))
		wantOutput(t, out, "watch: registered hello_dev 1.0.1-dev.2 from "+hello)
	})

	t.Run("a file put back as 1.0.0 was is registered again as the newest", func(t *testing.T) {
		out := w.saved(t, "hello.json", def)
		wantOutput(t, out, "watch: registered hello_dev 1.0.1-dev.3 from "+hello)
		if v := w.latest(t); !strings.Contains(string(v.Definition), "/ping") {
			t.Errorf("latest %s", v.Definition)
		}
	})

	t.Run("a version above the latest is registered as it is", func(t *testing.T) {
		out := w.saved(t, "hello.json", strings.Replace(def, `"1.0.0"`, `"2.0.0"`, 1))
		wantOutput(t, out, "watch: registered hello_dev 2.0.0 from "+hello+"\n")
	})

	t.Run("a definition that breaks is reported and the registered one stays", func(t *testing.T) {
		out := w.saved(t, "hello.json", strings.Replace(def, `"get"`, `"fetch"`, 1))
		wantOutput(t, out, hello+":3:", "/commands/0/httpMethod: ", "is not registered: 1 problem(s)")
		if v := w.latest(t); v.Version != "2.0.0" {
			t.Errorf("latest %s", v.Version)
		}
	})

	t.Run("a fixed file registers", func(t *testing.T) {
		out := w.saved(t, "bad.json", strings.Replace(def, `"hello"`, `"bad"`, 1))
		wantOutput(t, out, "watch: registered bad_dev 1.0.0 from "+bad+"\n")
	})

	t.Run("a restart with the files as they are registers nothing new", func(t *testing.T) {
		mustWrite(t, hello, strings.Replace(def, `"1.0.0"`, `"2.0.0"`, 1))
		again := New(Config{Dir: w.dir, Registry: w.env.Registry, Principal: w.p, Out: w.out})
		before := len(w.out.String())
		if err := again.Start(ctx); err != nil {
			t.Fatal(err)
		}
		out := w.out.String()[before:]
		wantOutput(t, out, "watch: "+hello+" is registered: hello_dev 2.0.0\n", "watch: "+bad+" is registered: bad_dev 1.0.0\n")
		if strings.Contains(out, "registered hello_dev") || strings.Contains(out, "registered bad_dev") {
			t.Errorf("a restart registered again:\n%s", out)
		}
	})

	t.Run("a removed file is noted", func(t *testing.T) {
		os.Remove(bad)
		before := len(w.out.String())
		w.scan(ctx, false)
		wantOutput(t, w.out.String()[before:], "watch: "+bad+" was removed; its app stays registered\n")
	})
}

// Run acts on a change by itself, and stops with its context.
func TestRun(t *testing.T) {
	t.Parallel()
	w := mustWatch(t, map[string]string{"hello.json": def})
	w.cfg.Interval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	mustWrite(t, filepath.Join(w.dir, "hello.json"), strings.Replace(def, "/ping", "/pong", 1))
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(w.out.String(), "registered hello_dev 1.0.1-dev.1") {
		if time.Now().After(deadline) {
			t.Fatalf("the change was never registered:\n%s", w.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestStartNeedsADirectory(t *testing.T) {
	w := New(Config{Dir: filepath.Join(t.TempDir(), "none")})
	if err := w.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "--watch: ") {
		t.Errorf("Start = %v", err)
	}
}

func FuzzNextDev(f *testing.F) {
	for _, v := range []string{"1.2.3", "0.0.0", "1.0.0-dev.1", "1.0.0-beta", "1.0.0-a.dev.b", "1.0.0+x", "1.0.0-0"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if !appdef.ValidVersion(v) {
			return
		}
		next := NextDev(v)
		if !appdef.ValidVersion(next) || appdef.CompareVersions(next, v) <= 0 {
			t.Fatalf("NextDev(%q) = %q, not a version above it", v, next)
		}
	})
}
