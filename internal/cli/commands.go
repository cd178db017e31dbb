package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

func commandsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "commands", Short: "List and run the commands of your org's installed apps"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the commands you can run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/commands", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				cmds, err := decodeItems[client.Command](raw)
				if err != nil {
					return err
				}
				t.row("NAME", "APP", "VERSION", "METHOD", "URL")
				for _, c := range cmds {
					var d struct {
						HTTPMethod string `json:"httpMethod"`
						URL        string `json:"url"`
					}
					_ = json.Unmarshal(c.Definition, &d)
					t.row(c.Name, c.App, c.Version, strings.ToUpper(d.HTTPMethod), d.URL)
				}
				return nil
			})
		},
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show a command: its app, version and definition",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/commands/"+escapePath(args[0]), nil)
			if err != nil {
				return err
			}
			return e.show(raw, nil)
		},
	}
	var allowUpstreamErrors bool
	var argList, headerList []string
	var body string
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a command and print its response",
		Example: `  switchboard commands run ecommstore.store.refundOrder --arg store=dunder-mifflin \
      --header 'Authorization=Bearer {{authToken}}' --body '{"foo": 12}'
  switchboard commands run ecommstore.store.refundOrder --arg store=acme --body @order.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := client.RunRequest{}
			var err error
			if req.Args, err = pairs(argList, "--arg"); err != nil {
				return err
			}
			if req.Headers, err = pairs(headerList, "--header"); err != nil {
				return err
			}
			if body != "" {
				data, err := readArg(body, e.stdin)
				if err != nil {
					return err
				}
				var v json.RawMessage
				if err := json.Unmarshal(data, &v); err != nil {
					return fmt.Errorf("--body is not JSON: %v", err)
				}
				req.Body = v
			}
			raw, err := cc.client(e).Raw(cmd.Context(), "POST", "/v1/commands/"+escapePath(args[0])+"/run", req)
			if err != nil {
				return err
			}
			if err := printJSON(e.stdout, raw); err != nil {
				return err
			}
			var doc struct {
				Status int             `json:"status"`
				Body   json.RawMessage `json:"body"`
			}
			if json.Unmarshal(raw, &doc) == nil && doc.Status >= 400 {
				return upstreamFailed(e, doc.Status, doc.Body, allowUpstreamErrors)
			}
			return nil
		},
	}
	run.Flags().BoolVar(&allowUpstreamErrors, "allow-upstream-errors", false, "exit 0 when the upstream answers 400 or more (the exit status is 5 otherwise)")
	run.Flags().StringArrayVar(&argList, "arg", nil, "an arg as NAME=VALUE (repeatable)")
	run.Flags().StringArrayVar(&headerList, "header", nil, "a header as NAME=VALUE (repeatable); values are templates, such as 'Bearer {{authToken}}'")
	run.Flags().StringVar(&body, "body", "", "the body: JSON, @FILE, or @- for standard input")
	cmd.AddCommand(list, get, run)
	return cmd
}

func auditCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log (admin or auditor key)"}
	var q client.AuditQuery
	var since, until string
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit entries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if q.Since, err = parseTime(since, "--since"); err != nil {
				return err
			}
			if q.Until, err = parseTime(until, "--until"); err != nil {
				return err
			}
			c := cc.client(e)
			entries := []json.RawMessage{} // as the server wrote them, for -o json
			var next string
			for {
				page, cursor, err := c.AuditLogsRaw(cmd.Context(), q)
				if err != nil {
					return err
				}
				next = cursor
				entries = append(entries, page...)
				if !all || next == "" {
					if next != "" {
						fmt.Fprintf(e.stderr, "more entries: --cursor %s (or --all)\n", next)
					}
					break
				}
				q.Cursor = next
			}
			return e.showValue(map[string]any{"items": entries, "nextCursor": next}, func(t *tableWriter) error {
				t.row("TIME", "EVENT", "ACTOR", "COMMAND", "METHOD", "URL", "STATUS", "UPSTREAM", "MS", "CACHE", "ERROR")
				for _, raw := range entries {
					var en client.AuditEntry
					if err := json.Unmarshal(raw, &en); err != nil {
						return fmt.Errorf("the server sent an audit entry that is not one: %w", err)
					}
					upstream := "-"
					if en.UpstreamStatus != 0 {
						upstream = strconv.Itoa(en.UpstreamStatus)
					}
					t.row(en.Time.Local().Format("2006-01-02 15:04:05"), en.Event, en.Actor.Name,
						en.Command, en.Method, en.URL, en.Status, upstream, en.DurationMs, en.Cache, en.Error)
				}
				return nil
			})
		},
	}
	f := list.Flags()
	f.StringVar(&q.Command, "command", "", "only runs of this command (any spelling)")
	f.StringVar(&q.Event, "event", "", "only entries of this event: run, fallback_on or fallback_off")
	f.StringVar(&since, "since", "", "entries at or after: RFC 3339 or a duration ago such as 1h")
	f.StringVar(&until, "until", "", "entries before: RFC 3339 or a duration ago")
	f.IntVar(&q.Limit, "limit", 50, "entries per page (1 to 1000)")
	f.StringVar(&q.Cursor, "cursor", "", "continue from a previous page")
	f.BoolVar(&all, "all", false, "follow every page")
	cmd.AddCommand(list, auditExportCommand(e, cc))
	return cmd
}

// parseTime reads RFC 3339 or a duration before now.
func parseTime(s, flag string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: give an RFC 3339 time (2026-11-23T10:00:00Z) or a duration ago (90m)", flag, s)
}

// pairs reads NAME=VALUE flags.
func pairs(list []string, flag string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q: write NAME=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

// readArg returns s, or the contents of a file for @FILE (@- for stdin).
func readArg(s string, stdin io.Reader) ([]byte, error) {
	switch {
	case s == "@-":
		return io.ReadAll(stdin)
	case strings.HasPrefix(s, "@"):
		return os.ReadFile(s[1:])
	}
	return []byte(s), nil
}

func escapePath(s string) string { return strings.ReplaceAll(s, "/", "%2F") }

func actionsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "actions", Short: "List and run the workflow actions of your org's installed apps"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the actions you can run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/actions", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				acts, err := decodeItems[client.Action](raw)
				if err != nil {
					return err
				}
				t.row("NAME", "APP", "VERSION", "DESCRIPTION")
				for _, a := range acts {
					t.row(a.Name, a.App, a.Version, a.Description)
				}
				return nil
			})
		},
	}
	get := &cobra.Command{
		Use:   "get NAME",
		Short: "Show an action: its app, version, definition and sampleOutputContext",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/actions/"+escapePath(args[0]), nil)
			if err != nil {
				return err
			}
			return e.show(raw, nil)
		},
	}
	var allowUpstreamErrors bool
	var input string
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Run an action and print its output",
		Example: `  switchboard actions run ecommstore.store.refundOrder --input '{"querystring": "refund=full"}'
  switchboard actions run ecommstore.store.refundOrder --input @input.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in json.RawMessage
			if input != "" {
				data, err := readArg(input, e.stdin)
				if err != nil {
					return err
				}
				if err := json.Unmarshal(data, &in); err != nil {
					return fmt.Errorf("--input is not JSON: %v", err)
				}
			}
			raw, err := cc.client(e).Raw(cmd.Context(), "POST", "/v1/actions/"+escapePath(args[0])+"/run", map[string]any{"input": in})
			var ce *client.Error
			if errors.As(err, &ce) && ce.Code == client.CodeUpstreamError {
				// The upstream answered 400 or more: the problem document,
				// with its upstreamStatus and upstreamBody, is the run's
				// document.
				if err := printJSON(e.stdout, ce.Raw); err != nil {
					return err
				}
				var doc struct {
					Status int             `json:"upstreamStatus"`
					Body   json.RawMessage `json:"upstreamBody"`
				}
				_ = json.Unmarshal(ce.Raw, &doc)
				return upstreamFailed(e, doc.Status, doc.Body, allowUpstreamErrors)
			}
			if err != nil {
				return err
			}
			return printJSON(e.stdout, raw)
		},
	}
	run.Flags().StringVar(&input, "input", "", "the input: JSON, @FILE, or @- for standard input")
	run.Flags().BoolVar(&allowUpstreamErrors, "allow-upstream-errors", false, "exit 0 when the upstream answers 400 or more (the exit status is 5 otherwise)")
	cmd.AddCommand(list, get, run)
	return cmd
}

// upstreamFailed reports a run whose upstream answered status (400 or
// more) with body: its status and body on stderr, and exit status 5 unless
// the caller allows upstream errors.
func upstreamFailed(e *env, status int, body json.RawMessage, allow bool) error {
	b := strings.TrimSpace(string(body))
	var text string
	if json.Unmarshal(body, &text) == nil {
		b = text // a text body, as the run document carries it
	}
	if len(b) > 2000 {
		b = b[:2000] + "..."
	}
	fmt.Fprintf(e.stderr, "the upstream answered %d: %s\n", status, b)
	if allow {
		return nil
	}
	return &ExitError{Code: ExitUpstreamError}
}

// dash prints an empty table cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
