package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// section returns the README with one section renamed "Quickstart" and
// everything before it blanked (its lines kept, so that line numbers stay
// true), so that the quickstart's parser reads that section's blocks.
func section(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("the README has no %q section", heading)
	}
	before := strings.Count(readme[:i+1], "\n")
	return strings.Repeat("\n", before-1) + "\n## Quickstart\n" + readme[i+1+len(heading)+1:]
}

// failing marks an expectation of a command that must exit non-zero.
const failing = "(exits 1) "

// TestREADMEWritingAnApp runs the README's "Writing an app" as a reader
// would, in an empty directory: apps init, apps test (passing, then
// failing on an edit), the mock and serve --dev --watch in the background,
// an edit the watcher registers, --record against the mock, and a replay
// with the mock stopped. As in TestREADME, the test binary stands for the
// built CLI, the server listens on a free port (the export line it prints
// is used), and the mock's address is a free port (SWITCHBOARD_MOCK_ADDR,
// which apps init also reads). An expectation starting with "(exits 1)"
// is of a command that must fail.
func TestREADMEWritingAnApp(t *testing.T) {
	for _, tool := range []string{"bash", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the section needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := quickstart(t, section(t, string(readme), "## Writing an app"))
	if len(blocks) < 8 {
		t.Fatalf("the section has %d sh blocks", len(blocks))
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mockAddr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	env := append(os.Environ(), asCLI+"=1", "SB="+self, "SWITCHBOARD_ADDR=127.0.0.1:0", "SWITCHBOARD_MOCK_ADDR="+mockAddr,
		"SWITCHBOARD_SERVER=", "SWITCHBOARD_KEY=", "SWITCHBOARD_OPERATOR_KEY=", "SWITCHBOARD_SECRET_KEY=", "SWITCHBOARD_DATABASE_URL=",
		"SWITCHBOARD_REDIS_URL=", "SWITCHBOARD_WATCH=", "SWITCHBOARD_SETTING_DEFAULT_APITOKEN=")
	rewrite := func(cmd string) string {
		return strings.ReplaceAll(cmd, "go build -o switchboard ./cmd/switchboard", `cp "$SB" switchboard`)
	}
	var transcript strings.Builder
	defer func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", transcript.String())
		}
	}()
	background := map[string]*exec.Cmd{}
	outputs := map[string]*apitest.Buffer{}
	t.Cleanup(func() {
		for _, p := range background {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
	})
	for _, b := range blocks {
		switch {
		case b.stop != "":
			p := background[b.stop]
			if p == nil {
				t.Fatalf("README.md:%d: terminal %s is not running", b.line, b.stop)
			}
			p.Process.Signal(os.Interrupt)
			p.Wait()
			delete(background, b.stop)
			fmt.Fprintf(&transcript, "# terminal %s stopped\n", b.stop)
			continue
		case b.terminal != "":
			if len(b.commands) != 1 {
				t.Fatalf("README.md:%d: a terminal block must hold one command", b.line)
			}
			out := &apitest.Buffer{}
			p := exec.Command("bash", "-c", "exec "+rewrite(b.commands[0].text))
			p.Dir, p.Env, p.Stdout, p.Stderr = dir, env, out, out
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			background[b.terminal], outputs[b.terminal] = p, out
			for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("README.md:%d: terminal %s did not start:\n%s", b.line, b.terminal, out.String())
				}
			}
			fmt.Fprintf(&transcript, "# terminal %s\n$ %s\n%s", b.terminal, b.commands[0].text, out.String())
			continue
		}
		for _, c := range b.commands {
			if strings.HasPrefix(c.text, "export SWITCHBOARD_SERVER=") {
				line := ""
				for _, out := range outputs {
					sc := bufio.NewScanner(strings.NewReader(out.String()))
					for sc.Scan() {
						if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "export SWITCHBOARD_SERVER=") {
							line = l
						}
					}
				}
				if line == "" {
					t.Fatalf("README.md:%d: no terminal printed an export line", c.line)
				}
				env = append(env, strings.Fields(strings.TrimPrefix(line, "export "))...)
				fmt.Fprintf(&transcript, "$ %s\n", line)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			p := exec.CommandContext(ctx, "bash", "-c", rewrite(c.text))
			p.Dir, p.Env = dir, env
			out, err := p.CombinedOutput()
			cancel()
			fmt.Fprintf(&transcript, "$ %s\n%s", c.text, out)
			wantsFailure := len(c.expect) > 0 && strings.HasPrefix(c.expect[0], failing)
			if (err != nil) != wantsFailure {
				t.Fatalf("README.md:%d: %q: %v (an expectation starting with %q is what allows a failure)\n%s", c.line, c.text, err, failing, out)
			}
			for _, want := range c.expect {
				if !matches(string(out), strings.TrimPrefix(want, failing)) {
					t.Errorf("README.md:%d: %q printed\n%s\nwhich does not match\n# -> %s", c.line, c.text, out, want)
				}
			}
		}
	}
	for _, n := range []string{"1", "2"} {
		fmt.Fprintf(&transcript, "# terminal %s printed\n%s", n, outputs[n].String())
	}
	if s := outputs["2"].String(); !strings.Contains(s, "watch: registered hello_dev 0.1.0 from hello/hello.json") ||
		!strings.Contains(s, "watch: registered hello_dev 0.1.1-dev.1 from hello/hello.json") {
		t.Errorf("the dev server did not print its registrations:\n%s", s)
	}
	if testing.Verbose() {
		t.Logf("transcript:\n%s", transcript.String())
	}
}
