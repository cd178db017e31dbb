package cli

import (
	"github.com/spf13/pflag"

	"github.com/switchboardhq/switchboard/internal/server"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// addWorkflowFlags adds serve's flags of the workflow engine (SPEC 12).
func addWorkflowFlags(f *pflag.FlagSet, wc *server.WorkflowConfig) {
	f.DurationVar(&wc.RunTimeout, "workflow-run-timeout", workflow.DefaultRunTimeout, "a workflow run not finished this long after it started fails with timeout")
	f.DurationVar(&wc.RetryBase, "workflow-retry-base", workflow.DefaultRetryBase, "the delay before a failed step's first retry; each further retry doubles it (5 attempts in all)")
	f.DurationVar(&wc.StepTimeout, "workflow-step-timeout", 0, "the time limit of one attempt of a step (default twice --upstream-timeout plus 10s)")
	f.DurationVar(&wc.RescueAfter, "workflow-rescue-after", 0, "when a step whose instance died (a crash, a kill) is run again (default --workflow-step-timeout plus 30s)")
	f.DurationVar(&wc.FetchCooldown, "workflow-fetch-cooldown", workflow.DefaultFetchCooldown, "River's FetchCooldown: the least time between two fetches of steps")
	f.DurationVar(&wc.FetchPollInterval, "workflow-fetch-poll-interval", workflow.DefaultFetchPollInterval, "River's FetchPollInterval: how often to look for steps without a notification (SQLite always polls)")
	f.IntVar(&wc.Workers, "workflow-workers", workflow.DefaultWorkers, "the most workflow steps this instance runs at once")
}
