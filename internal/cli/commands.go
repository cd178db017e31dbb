package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
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
			cmds, err := cc.client(e).Commands(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tAPP\tVERSION\tMETHOD\tURL")
			for _, c := range cmds {
				var d struct {
					HTTPMethod string `json:"httpMethod"`
					URL        string `json:"url"`
				}
				_ = json.Unmarshal(c.Definition, &d)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.App, c.Version, strings.ToUpper(d.HTTPMethod), d.URL)
			}
			return tw.Flush()
		},
	}
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
			return printJSON(e.stdout, raw)
		},
	}
	run.Flags().StringArrayVar(&argList, "arg", nil, "an arg as NAME=VALUE (repeatable)")
	run.Flags().StringArrayVar(&headerList, "header", nil, "a header as NAME=VALUE (repeatable); values are templates, such as 'Bearer {{authToken}}'")
	run.Flags().StringVar(&body, "body", "", "the body: JSON, @FILE, or @- for standard input")
	cmd.AddCommand(list, run)
	return cmd
}

func auditCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log (admin or auditor key)"}
	var q client.AuditQuery
	var since, until string
	var all, asJSON bool
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
			var entries []client.AuditEntry
			for {
				page, next, err := c.AuditLogs(cmd.Context(), q)
				if err != nil {
					return err
				}
				entries = append(entries, page...)
				if !all || next == "" {
					if next != "" {
						fmt.Fprintf(e.stderr, "more entries: --cursor %s (or --all)\n", next)
					}
					break
				}
				q.Cursor = next
			}
			if asJSON {
				return printJSON(e.stdout, entries)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tEVENT\tACTOR\tCOMMAND\tMETHOD\tURL\tSTATUS\tUPSTREAM\tMS\tCACHE\tERROR")
			for _, en := range entries {
				upstream := "-"
				if en.UpstreamStatus != 0 {
					upstream = strconv.Itoa(en.UpstreamStatus)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", en.Time.Local().Format("2006-01-02 15:04:05"), en.Event, en.Actor.Name,
					en.Command, en.Method, en.URL, en.Status, upstream, en.DurationMs, dash(en.Cache), dash(en.Error))
			}
			return tw.Flush()
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
	f.BoolVar(&asJSON, "json", false, "print JSON")
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
			acts, err := cc.client(e).Actions(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tAPP\tVERSION\tDESCRIPTION")
			for _, a := range acts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Name, a.App, a.Version, a.Description)
			}
			return tw.Flush()
		},
	}
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
			if err != nil {
				return err
			}
			return printJSON(e.stdout, raw)
		},
	}
	run.Flags().StringVar(&input, "input", "", "the input: JSON, @FILE, or @- for standard input")
	cmd.AddCommand(list, run)
	return cmd
}

// dash prints an empty table cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
