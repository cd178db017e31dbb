package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// openPTY opens a pseudo-terminal: the side a program writes to and reads
// from (a terminal for it), and the side a person types into.
func openPTY(t *testing.T) (tty, person *os.File) {
	t.Helper()
	person, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { person.Close() })
	fd := int(person.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty, person
}

// On a terminal a list is a table and a document is indented; the same
// commands in a pipe print compact JSON (TestCommandConventions).
func TestTerminalOutput(t *testing.T) {
	_, env, dir := conventionsServer(t)
	cliCase{args: []string{"apps", "register", filepath.Join(dir, "shop.json")}}.run(t, env)
	tty, person := openPTY(t)
	var screen bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&screen, person); close(done) }()
	for _, args := range [][]string{{"apps", "list"}, {"apps", "get", "shop"}, {"apps", "list", "--json"}} {
		err := Run(context.Background(), append([]string{"switchboard"}, args...), func(k string) string { return env[k] },
			strings.NewReader(""), tty, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", args, err)
		}
	}
	tty.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	out := strings.ReplaceAll(screen.String(), "\r\n", "\n")
	for _, want := range []string{
		"APP        VERSION  VISIBILITY  TITLE\nshop_acme  1.0.0    private     Shop\n", // apps list: a table
		"{\n  \"app\": \"shop_acme\",\n",                                                // apps get: indented JSON
		"{\n  \"items\": [\n",                                                           // apps list --json: JSON, indented
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal shows no %q:\n%s", want, out)
		}
	}
}

// A key typed at login's prompt is not echoed, and is what gets stored.
func TestLoginPromptDoesNotEcho(t *testing.T) {
	s, env, _ := conventionsServer(t)
	tty, person := openPTY(t)
	home := map[string]string{"HOME": env["HOME"], "XDG_CONFIG_HOME": env["XDG_CONFIG_HOME"]}
	errOut := &apitest.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), []string{"switchboard", "login", "--server", s.URL}, func(k string) string { return home[k] },
			tty, io.Discard, errOut)
	}()
	// Wait for the prompt, then type the key as a person would.
	var screen bytes.Buffer
	buf := make([]byte, 1024)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errOut.String(), "API key for") {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt: %q", errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The prompt is printed before ReadPassword turns echo off: wait
	// until the terminal says echo is off, as a person would wait for the
	// prompt to settle.
	for {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err == nil && tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("echo never turned off")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := person.Write([]byte(env["SWITCHBOARD_KEY"] + "\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("login: %v\n%s", err, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("login did not finish: %s", errOut.String())
	}
	// What the terminal showed: read until the program's side is closed.
	tty.Close()
	read := make(chan struct{})
	go func() {
		for {
			n, err := person.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				break
			}
		}
		close(read)
	}()
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal was never closed")
	}
	if strings.Contains(screen.String(), env["SWITCHBOARD_KEY"]) {
		t.Errorf("the terminal echoed the key: %q", screen.String())
	}
	if !strings.Contains(errOut.String(), "Signed in to "+s.URL) {
		t.Errorf("login printed %q", errOut.String())
	}
	cliCase{args: []string{"apps", "list"}, stdout: []string{`"items":[`}}.run(t, home)
}
