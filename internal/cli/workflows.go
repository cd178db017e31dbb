package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// watchEvery is how often --watch reads a run.
const watchEvery = 200 * time.Millisecond

func workflowsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "workflows", Short: "List workflows, start runs and follow them (SPEC 12)"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the workflows of your org's installed apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			flows, err := cc.client(e).Workflows(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tAPP\tVERSION\tENABLED\tEVENT\tSTEPS")
			for _, f := range flows {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%d\n", f.Name, f.App, f.Version, f.Enabled, orDash(f.EventName), len(f.Steps)-1)
			}
			return tw.Flush()
		},
	}

	var input string
	var watch bool
	run := &cobra.Command{
		Use:   "run NAME",
		Short: "Start a run by hand; --input stands in for the trigger's output (steps.1)",
		Example: `  switchboard workflows run orderflows.refundCancelled --input '{"orderId": "ord_1", "status": "cancelled"}' --watch
  switchboard workflows run orderflows.refundCancelled --input @order.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in any
			if input != "" {
				data, err := readArg(input, e.stdin)
				if err != nil {
					return err
				}
				var v json.RawMessage
				if err := json.Unmarshal(data, &v); err != nil {
					return fmt.Errorf("--input is not JSON: %v", err)
				}
				in = v
			}
			c := cc.client(e)
			r, err := c.StartRun(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			if !watch {
				return printJSON(e.stdout, r)
			}
			fmt.Fprintf(e.stdout, "run %s of %s started\n", r.ID, r.Workflow)
			return follow(cmd.Context(), c, r.ID, e.stdout)
		},
	}
	run.Flags().StringVar(&input, "input", "", "the input: JSON, @FILE, or @- for standard input")
	run.Flags().BoolVar(&watch, "watch", false, "follow the run step by step until it ends")

	var q client.RunQuery
	var since string
	var asJSON bool
	runs := &cobra.Command{
		Use:   "runs",
		Short: "List runs, newest first (admin or auditor key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if q.Since, err = parseTime(since, "--since"); err != nil {
				return err
			}
			list, next, err := cc.client(e).WorkflowRuns(cmd.Context(), q)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(e.stdout, list)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tWORKFLOW\tSTATUS\tSTARTED\tDURATION")
			for _, r := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Workflow, r.Status, r.StartedAt.Format(time.RFC3339), took(r.StartedAt, r.FinishedAt))
			}
			if next != "" {
				fmt.Fprintf(e.stderr, "more runs: --cursor %s\n", next)
			}
			return tw.Flush()
		},
	}
	runs.Flags().StringVar(&q.Workflow, "workflow", "", "only this workflow's runs (any spelling of its name)")
	runs.Flags().StringVar(&q.Status, "status", "", "only runs in this status: running, succeeded, failed or canceled")
	runs.Flags().StringVar(&since, "since", "", "only runs started at or after this RFC 3339 time")
	runs.Flags().IntVar(&q.Limit, "limit", 50, "the most runs to list (1 to 500)")
	runs.Flags().StringVar(&q.Cursor, "cursor", "", "the cursor of the next page, as printed")
	runs.Flags().BoolVar(&asJSON, "json", false, "print the runs as JSON")

	var getWatch bool
	get := &cobra.Command{
		Use:   "run-get ID",
		Short: "Show a run: the trigger's output and each step's params, output, status, attempts and timings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cc.client(e)
			if getWatch {
				return follow(cmd.Context(), c, args[0], e.stdout)
			}
			r, err := c.WorkflowRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(e.stdout, r)
		},
	}
	get.Flags().BoolVar(&getWatch, "watch", false, "follow the run step by step until it ends")

	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a running run (admin key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := cc.client(e).CancelRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(e.stdout, r)
		},
	}
	var retryWatch bool
	retry := &cobra.Command{
		Use:   "retry ID",
		Short: "Retry a failed or cancelled run from the step where it stopped (admin key)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cc.client(e)
			r, err := c.RetryRun(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !retryWatch {
				return printJSON(e.stdout, r)
			}
			return follow(cmd.Context(), c, r.ID, e.stdout)
		},
	}
	retry.Flags().BoolVar(&retryWatch, "watch", false, "follow the run step by step until it ends")
	cmd.AddCommand(list, run, runs, get, cancel, retry)
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func took(start time.Time, end *time.Time) string {
	if end == nil {
		return "-"
	}
	return end.Sub(start).Round(time.Millisecond).String()
}

// follow prints each step of a run as it changes, until the run ends; it
// fails (exit status 1) when the run does not succeed.
func follow(ctx context.Context, c *client.Client, id string, w io.Writer) error {
	seen := map[int]string{}
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		r, err := c.WorkflowRun(ctx, id)
		if err != nil {
			return err
		}
		for _, s := range r.Steps {
			line := fmt.Sprintf("step %s: %s", s.ID, s.Status)
			if s.Attempts > 1 {
				line += fmt.Sprintf(" (attempt %d)", s.Attempts)
			}
			if s.FinishedAt != nil && s.StartedAt != nil {
				line += " in " + s.FinishedAt.Sub(*s.StartedAt).Round(time.Millisecond).String()
			}
			if len(s.Output) > 0 && s.Status == "succeeded" {
				line += " output " + compact(s.Output)
			}
			if len(s.Error) > 0 {
				line += " error " + compact(s.Error)
			}
			if seen[s.Seq] != line {
				seen[s.Seq] = line
				fmt.Fprintln(w, line)
			}
		}
		if r.Finished() {
			fmt.Fprintf(w, "run %s %s in %s\n", r.ID, r.Status, took(r.StartedAt, r.FinishedAt))
			if r.Status != "succeeded" {
				return &ExitError{Code: 1}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// compact shortens a JSON value for one line.
func compact(raw json.RawMessage) string {
	s := string(raw)
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func hooksCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "hooks", Short: "List and regenerate the hook URLs of an installed app (admin key)"}
	list := &cobra.Command{
		Use:   "list APP",
		Short: "List an app's hooks with their URLs (a new web hook's secret is printed once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			hooks, err := cc.client(e).Hooks(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EVENT\tTYPE\tURL\tSECRET")
			for _, h := range hooks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", h.EventName, h.Type, h.URL, orDash(h.Secret))
			}
			return tw.Flush()
		},
	}
	regen := &cobra.Command{
		Use:   "regenerate APP HOOK",
		Short: "Give a hook (its event name or id) a new URL and a web hook a new secret; the old URL stops working",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := cc.client(e).RegenerateHook(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return printJSON(e.stdout, h)
		},
	}
	cmd.AddCommand(list, regen)
	return cmd
}
