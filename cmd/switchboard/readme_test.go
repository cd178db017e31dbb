package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// The test binary doubles as the CLI that the README's blocks run: with
// this variable set it is switchboard itself.
const asCLI = "SWITCHBOARD_README_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// A block is one fenced sh block of the README's quickstart.
type block struct {
	line     int // of the fence, for messages
	commands []command
	terminal string // "1" or "2" for the server and the mock; "" otherwise
	stop     string // the terminal this block stops (Ctrl-C)
}

type command struct {
	line   int
	text   string
	expect []string // "# -> " lines
}

var terminalLine = regexp.MustCompile(`^# terminal (\d)(.*)$`)

// quickstart reads the sh blocks of the README's "## Quickstart" section.
func quickstart(t *testing.T, readme string) []block {
	t.Helper()
	start := strings.Index(readme, "\n## Quickstart\n")
	if start < 0 {
		t.Fatal("the README has no Quickstart section")
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	firstLine := strings.Count(readme[:start+1], "\n") + 1
	var blocks []block
	var cur *block
	var pending *command
	lines := strings.Split(section, "\n")
	for i := 0; i < len(lines); i++ {
		ln, no := lines[i], firstLine+i
		switch {
		case cur == nil && ln == "```sh":
			cur = &block{line: no}
		case cur == nil:
		case ln == "```":
			if pending != nil {
				cur.commands = append(cur.commands, *pending)
				pending = nil
			}
			blocks = append(blocks, *cur)
			cur = nil
		case strings.HasPrefix(ln, "# -> "):
			if pending == nil {
				t.Fatalf("README.md:%d: an expectation with no command before it", no)
			}
			pending.expect = append(pending.expect, strings.TrimPrefix(ln, "# -> "))
		case strings.HasPrefix(ln, "#"):
			if m := terminalLine.FindStringSubmatch(ln); m != nil && len(cur.commands) == 0 && pending == nil {
				if strings.Contains(m[2], "Ctrl-C") {
					cur.stop = m[1]
				} else if m[1] != "3" {
					cur.terminal = m[1]
				}
			}
		case strings.TrimSpace(ln) == "":
		default:
			if pending != nil {
				cur.commands = append(cur.commands, *pending)
			}
			c := command{line: no, text: ln}
			for strings.HasSuffix(c.text, "\\") && i+1 < len(lines) {
				i++
				c.text += "\n" + lines[i]
			}
			pending = &c
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: a block that is not closed", cur.line)
	}
	return blocks
}

// copyTree copies the repository's testdata into dir, pointing every
// definition and fixture at the mock's port of this test.
func copyTree(t *testing.T, from, to, mockAddr string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte("127.0.0.1:8089"), []byte(mockAddr))
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// squeeze drops whitespace, so that an expectation written against the
// indented JSON of a terminal matches the compact JSON of a pipe.
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), "")
}

// matches reports whether out holds every piece of want (split at "…"), in
// order.
func matches(out, want string) bool {
	out = squeeze(out)
	for _, piece := range strings.Split(want, "…") {
		piece = squeeze(piece)
		i := strings.Index(out, piece)
		if i < 0 {
			return false
		}
		out = out[i+len(piece):]
	}
	return true
}

// TestREADME runs the README's quickstart as a reader would: the server and
// the mock in the background, every other command in order, each checked
// against its "# ->" lines (a command may fail only when its expectation
// starts with "error:"). The only changes to the text: the test binary
// stands for `go run ./cmd/switchboard` and the built CLI, the server
// listens on a free port (the export line it prints is used, as a reader
// pastes it), and the mock's address in the definitions is a free port.
func TestREADME(t *testing.T) {
	if testing.Short() {
		t.Skip("the quickstart waits 15 s for a cached answer to go stale")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the quickstart needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := quickstart(t, string(readme))
	if len(blocks) < 5 {
		t.Fatalf("the quickstart has %d sh blocks", len(blocks))
	}
	mockAddr := freeAddr(t)
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "..", "testdata"), filepath.Join(dir, "testdata"), mockAddr)
	reader{dir: dir, mockAddr: mockAddr, start: 20 * time.Second, command: time.Minute, failPrefix: "error:"}.run(t, blocks)
}

// freeAddr is a loopback address with a port free at the time.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// reader runs a README section's blocks in dir as a reader would: a
// terminal block in the background until it prints "listening on" (within
// start) or a later block stops it, every other command in order (each
// within command), checked against its "# ->" lines. The test binary
// stands for the built CLI and for `go run ./cmd/switchboard`, the server
// listens on a free port (the export line a terminal prints is used, as a
// reader pastes it) and the mock on mockAddr. A command may fail only when
// its first expectation starts with failPrefix; with trimFail that prefix
// is a marker, matched without it, rather than the start of the output.
type reader struct {
	dir, mockAddr  string
	start, command time.Duration
	failPrefix     string
	trimFail       bool
}

// run runs blocks and returns what each terminal printed and the
// transcript (logged when the test fails).
func (r reader) run(t *testing.T, blocks []block) (map[string]*apitest.Buffer, *strings.Builder) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), asCLI+"=1", "SB="+self, "SWITCHBOARD_ADDR=127.0.0.1:0", "SWITCHBOARD_MOCK_ADDR="+r.mockAddr,
		"SWITCHBOARD_SERVER=", "SWITCHBOARD_KEY=", "SWITCHBOARD_OPERATOR_KEY=", "SWITCHBOARD_SECRET_KEY=", "SWITCHBOARD_DATABASE_URL=",
		"SWITCHBOARD_REDIS_URL=", "SWITCHBOARD_WATCH=", "SWITCHBOARD_SETTING_DEFAULT_APITOKEN=")
	rewrite := func(cmd string) string {
		cmd = strings.ReplaceAll(cmd, "go build -o switchboard ./cmd/switchboard", `cp "$SB" switchboard`)
		return strings.ReplaceAll(cmd, "go run ./cmd/switchboard", `"$SB"`)
	}
	transcript := &strings.Builder{}
	background := map[string]*exec.Cmd{}
	outputs := map[string]*apitest.Buffer{}
	t.Cleanup(func() {
		for _, p := range background {
			p.Process.Signal(syscall.SIGTERM)
			p.Wait()
		}
		if t.Failed() {
			t.Logf("transcript:\n%s", transcript.String())
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
			fmt.Fprintf(transcript, "# terminal %s stopped\n", b.stop)
			continue
		case b.terminal != "":
			if len(b.commands) != 1 {
				t.Fatalf("README.md:%d: a terminal block must hold one command", b.line)
			}
			out := &apitest.Buffer{}
			p := exec.Command("bash", "-c", "exec "+rewrite(b.commands[0].text))
			p.Dir, p.Env, p.Stdout, p.Stderr = r.dir, env, out, out
			if err := p.Start(); err != nil {
				t.Fatal(err)
			}
			background[b.terminal], outputs[b.terminal] = p, out
			for deadline := time.Now().Add(r.start); !strings.Contains(out.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("README.md:%d: terminal %s did not start:\n%s", b.line, b.terminal, out.String())
				}
			}
			fmt.Fprintf(transcript, "# terminal %s\n$ %s\n%s", b.terminal, b.commands[0].text, out.String())
			continue
		}
		for _, c := range b.commands {
			if strings.HasPrefix(c.text, "export SWITCHBOARD_SERVER=") {
				// What the reader pastes: the line a terminal printed.
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
				fmt.Fprintf(transcript, "$ %s\n", line)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), r.command)
			p := exec.CommandContext(ctx, "bash", "-c", rewrite(c.text))
			p.Dir, p.Env = r.dir, env
			out, err := p.CombinedOutput()
			cancel()
			fmt.Fprintf(transcript, "$ %s\n%s", c.text, out)
			wantsFailure := len(c.expect) > 0 && strings.HasPrefix(c.expect[0], r.failPrefix)
			if (err != nil) != wantsFailure {
				t.Fatalf("README.md:%d: %q: %v (an expectation starting with %q is what allows a failure)\n%s", c.line, c.text, err, r.failPrefix, out)
			}
			for _, want := range c.expect {
				if r.trimFail {
					want = strings.TrimPrefix(want, r.failPrefix)
				}
				if !matches(string(out), want) {
					t.Errorf("README.md:%d: %q printed\n%s\nwhich does not match\n# -> %s", c.line, c.text, out, want)
				}
			}
		}
	}
	return outputs, transcript
}

// The harness itself: expectations match in order, across whitespace.
func TestMatches(t *testing.T) {
	out := "{\n  \"status\": 200,\n  \"cache\": \"hit\"\n}\n"
	for _, tt := range []struct {
		want string
		ok   bool
	}{
		{`"status":200 … "cache":"hit"`, true},
		{`"cache": "hit"`, true},
		{`"cache":"hit" … "status":200`, false},
		{`"cache":"miss"`, false},
	} {
		if got := matches(out, tt.want); got != tt.ok {
			t.Errorf("matches(%q) = %v, want %v", tt.want, got, tt.ok)
		}
	}
}
