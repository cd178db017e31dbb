package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// sessionsCommand mints, lists and revokes browser sessions (admin or
// agent key).
func sessionsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "sessions", Short: "Mint, list and revoke browser session tokens (admin or agent key)"}
	var req client.SessionRequest
	var argList []string
	var ttl time.Duration
	create := &cobra.Command{
		Use:   "create",
		Short: "Mint a session token for a browser (the token is shown only now)",
		Example: `  switchboard sessions create --command ecommstore.store.lookupOrder --origin https://desk.example.com --subject agent-42
  switchboard sessions create --command 'ecommstore.*' --arg store=acme --ttl 1h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(req.Commands) == 0 {
				return &usageError{msg: "missing --command: name at least one command the session may run (or APP.* for all of an app's)", cmd: cmd}
			}
			var err error
			if req.Args, err = pairs(argList, "--arg"); err != nil {
				return &usageError{msg: err.Error(), cmd: cmd}
			}
			if ttl > 0 {
				req.TTLSeconds = int(ttl / time.Second)
			}
			raw, err := cc.client(e).Raw(cmd.Context(), "POST", "/v1/sessions", req)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stderr, "created a session; its token is shown only now")
			return printJSON(e.stdout, raw)
		},
	}
	f := create.Flags()
	f.StringArrayVar(&req.Commands, "command", nil, "a command the session may run, in any spelling, or APP.* (repeatable)")
	f.StringArrayVar(&argList, "arg", nil, "an arg pinned for every run, as NAME=VALUE (repeatable)")
	f.StringArrayVar(&req.Origins, "origin", nil, "a page origin the token may be used from, such as https://desk.example.com (repeatable; default any)")
	f.StringVar(&req.Subject, "subject", "", "who the session is for, recorded in the audit log")
	f.DurationVar(&ttl, "ttl", 0, "how long the token works, at most 1h (default 15m)")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the live sessions (never their tokens)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/sessions", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				items, err := decodeItems[client.Session](raw)
				if err != nil {
					return err
				}
				t.row("ID", "SUBJECT", "COMMANDS", "ORIGINS", "EXPIRES")
				for _, s := range items {
					t.row(s.ID, s.Subject, joinList(s.Commands), joinList(s.Origins), when(s.ExpiresAt))
				}
				return nil
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Revoke a session on every instance at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cc.client(e).DeleteSession(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "revoked %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

// joinList prints a list in one cell.
func joinList(l []string) string {
	s := ""
	for i, v := range l {
		if i > 0 {
			s += ","
		}
		s += v
	}
	return s
}
