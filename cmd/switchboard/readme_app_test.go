package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	outputs, transcript := reader{dir: t.TempDir(), mockAddr: freeAddr(t), start: 30 * time.Second, command: 2 * time.Minute,
		failPrefix: failing, trimFail: true}.run(t, blocks)
	for _, n := range []string{"1", "2"} {
		fmt.Fprintf(transcript, "# terminal %s printed\n%s", n, outputs[n].String())
	}
	if s := outputs["2"].String(); !strings.Contains(s, "watch: registered hello_dev 0.1.0 from hello/hello.json") ||
		!strings.Contains(s, "watch: registered hello_dev 0.1.1-dev.1 from hello/hello.json") {
		t.Errorf("the dev server did not print its registrations:\n%s", s)
	}
	if testing.Verbose() {
		t.Logf("transcript:\n%s", transcript.String())
	}
}
