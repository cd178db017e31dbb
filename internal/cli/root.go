// Package cli is the switchboard command: the server (serve) and the client
// subcommands, all built by Run from its arguments, environment and streams
// so that tests drive the real thing.
package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Version, when set at build time with -ldflags "-X ...cli.Version=v1.2.3",
// is the version reported instead of the build info's module version.
var Version = ""

// env is a program's view of its surroundings.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	out    output        // the -o and --json flags
	lines  *bufio.Reader // stdin read line by line, once something does
}

// Run runs the switchboard command with args (args[0] is the program name).
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "switchboard",
		Short:         "Switchboard: a self-hostable apps platform",
		Long:          "Switchboard keeps app definitions, settings and secrets, and runs commands and workflow actions for them.\n\nStart a server with 'switchboard serve --dev'; every other command talks to a server given by --server (SWITCHBOARD_SERVER) with the key given by --key (SWITCHBOARD_KEY), or to the profile that 'switchboard login' stored.\n\nExit status: 0 success, 1 an error answer from the server, 2 a usage error, 3 not signed in or a refused key, 4 not found, 5 a run whose upstream answered 400 or more.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args[1:])
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetContext(ctx)
	cc := &clientConfig{}
	root.PersistentFlags().StringVar(&cc.flagServer, "server", "", "the server's URL (env SWITCHBOARD_SERVER; default: the profile's, else http://127.0.0.1:8080)")
	root.PersistentFlags().StringVar(&cc.flagKey, "key", "", "the API key (env SWITCHBOARD_KEY; default: the profile's)")
	root.PersistentFlags().StringVar(&cc.flagProfile, "profile", "", "the profile that 'switchboard login' stored (env SWITCHBOARD_PROFILE; default: the current one)")
	addOutputFlags(root, &e.out)
	var showVersion bool
	root.Flags().BoolVar(&showVersion, "version", false, "print the version of the CLI and of the server")
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(cmd *cobra.Command, args []string) error {
		if showVersion {
			return printVersion(cmd.Context(), e, cc)
		}
		return unknownSubcommand(cmd, args)
	}
	root.AddCommand(
		serveCommand(e),
		appsCommand(e, cc),
		orgsCommand(e, cc),
		keysCommand(e, cc),
		settingsCommand(e, cc),
		commandsCommand(e, cc),
		actionsCommand(e, cc),
		accountsCommand(e, cc),
		secretsCommand(e),
		auditCommand(e, cc),
		mockCommand(e),
		limitsCommand(e, cc),
		workflowsCommand(e, cc),
		hooksCommand(e, cc),
	)
	root.AddCommand(
		loginCommand(e, cc),
		logoutCommand(e, cc),
		profilesCommand(e, cc),
		versionCommand(e, cc),
		sessionsCommand(e, cc),
		apiCommand(e, cc),
		statusCommand(e, cc),
	)
	addCompletions(root, e, cc)
	strictUsage(root)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(stderr, err, cc)
	}
	return err
}

// ExitError makes Run fail with a message already printed and a code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// printJSON prints v indented when w is a terminal and compact when piped,
// so that output reads well and pipes into jq alike.
func printJSON(w io.Writer, v any) error {
	data, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if isTerminal(w) {
		if err := json.Indent(&buf, data, "", "  "); err != nil {
			return err
		}
	} else if err := json.Compact(&buf, data); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// bindEnv gives every flag of cmd that has no value on the command line the
// value of its environment variable: --max-response-bytes reads
// SWITCHBOARD_MAX_RESPONSE_BYTES.
func bindEnv(cmd *cobra.Command, getenv func(string) string) error {
	var err error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}
