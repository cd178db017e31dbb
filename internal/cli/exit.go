package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// The exit statuses of the switchboard command, as the README lists them.
const (
	ExitOK            = 0 // success
	ExitFailure       = 1 // an error answer from the server, or any other failure
	ExitUsage         = 2 // a usage error: an unknown command or flag, a missing argument
	ExitAuth          = 3 // not signed in, or the server refused the key
	ExitNotFound      = 4 // the server answered 404
	ExitUpstreamError = 5 // commands run / actions run: the upstream answered 400 or more
)

// ExitCode returns the process exit status for Run's error: 0 for nil, the
// code of an *ExitError that err is or wraps, 2 for a usage error, 3 when
// no key was given or the server refused it, 4 for a 404, and 1 for any
// other error.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Code > 0 {
		return ee.Code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	var ns *notSignedIn
	if errors.As(err, &ns) {
		return ExitAuth
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		switch ce.Status {
		case 401:
			return ExitAuth
		case 404:
			return ExitNotFound
		}
	}
	// An ExitError without a positive code still reports a failure: a run
	// that returned an error must never look like a success.
	return ExitFailure
}

// usageError is a command line that cannot be run as written. cmd, when
// set, is the command whose usage line is shown with it.
type usageError struct {
	msg string
	cmd *cobra.Command
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) *usageError {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// notSignedIn is a command that needs a key run with none configured.
type notSignedIn struct{ server string }

func (e *notSignedIn) Error() string {
	return fmt.Sprintf("not signed in to %s: run 'switchboard login --server %s', or set --key or SWITCHBOARD_KEY", e.server, e.server)
}

// printError writes err for a person: a problem document with each of its
// problems, a connection failure with what to check, a usage error with the
// usage line. An *ExitError's message is already printed.
func printError(w io.Writer, err error, cc *clientConfig) {
	var ee *ExitError
	if errors.As(err, &ee) {
		return
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "error: %s\n", ue.msg)
		if ue.cmd != nil {
			fmt.Fprintf(w, "Usage: %s\nRun '%s --help' for more.\n", ue.cmd.UseLine(), ue.cmd.CommandPath())
		}
		return
	}
	var cfe *configError
	if errors.As(err, &cfe) {
		fmt.Fprintf(w, "error: %v\n", cfe.err)
		return
	}
	var conn *client.ConnError
	if errors.As(err, &conn) {
		why := ""
		switch {
		case conn.NotResolved():
			why = " (its host name does not resolve)"
		case !conn.Refused():
			why = " (" + conn.Err.Error() + ")"
		}
		fmt.Fprintf(w, "error: no Switchboard server at %s: is it running? (set --server or SWITCHBOARD_SERVER)%s\n", conn.Server, why)
		return
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		if ce.Status == 401 && cc != nil {
			if cc.key == "" {
				fmt.Fprintf(w, "error: %s\n", (&notSignedIn{server: cc.server}).Error())
				return
			}
			fmt.Fprintf(w, "error: the server refused the key from %s (%s): check it, or sign in again with 'switchboard login'\n", cc.keyFrom, ce.Error())
			return
		}
		fmt.Fprintf(w, "error: %s\n", ce.Error())
		for _, p := range ce.Errors {
			loc := p.Location
			if p.Line > 0 {
				loc = strings.TrimSpace(fmt.Sprintf("%d:%d %s", p.Line, p.Column, loc))
			}
			if loc != "" {
				fmt.Fprintf(w, "  %s: %s\n", loc, p.Message)
			} else {
				fmt.Fprintf(w, "  %s\n", p.Message)
			}
		}
		return
	}
	fmt.Fprintf(w, "error: %v\n", err)
}

// strictUsage makes every command of the tree under root report its usage
// errors as such (exit status 2): a wrong flag, a missing or extra
// argument (named from the command's Use line), and, for a command that
// only groups others, an unknown subcommand, which prints the help. It runs
// once the tree is built, so commands added later get it too.
func strictUsage(root *cobra.Command) {
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{msg: err.Error(), cmd: c}
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
			c.Args = cobra.ArbitraryArgs
			c.RunE = unknownSubcommand
			return
		}
		if c.Args == nil {
			return
		}
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return &usageError{msg: argsProblem(cmd, args, err), cmd: cmd}
			}
			return nil
		}
	}
	walk(root)
}

// unknownSubcommand runs a command that only groups others: with no
// argument it prints the help (and succeeds); with one, that is not a
// subcommand, it prints the help to stderr and fails with a usage error.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	cmd.SetOut(cmd.ErrOrStderr())
	_ = cmd.Help()
	return &usageError{msg: msg}
}

// argsProblem says what is wrong with a command's arguments: the names of
// the missing ones, from its Use line ("get APP" needs APP), or cobra's
// own message.
func argsProblem(cmd *cobra.Command, args []string, err error) string {
	var required []string
	for _, w := range strings.Fields(cmd.Use)[1:] {
		if strings.HasPrefix(w, "[") || strings.HasSuffix(w, "...") || strings.ToUpper(w) != w {
			break
		}
		required = append(required, w)
	}
	if len(args) < len(required) {
		missing := required[len(args):]
		s := "s"
		if len(missing) == 1 {
			s = ""
		}
		return fmt.Sprintf("missing argument%s %s", s, strings.Join(missing, " "))
	}
	return err.Error()
}
