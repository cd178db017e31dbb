package cli

import (
	"errors"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// limitsCommand reads and writes rate limits (SPEC 13): an org's own with
// the operator key (--org), an app's commands' and actions' with an admin
// key (--app).
func limitsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "limits", Short: "Read and write rate limits: an org's (operator) or an app's commands' and actions' (admin)"}
	var getOrg, getApp string
	get := &cobra.Command{
		Use:   "get (--org ORG | --app APP)",
		Short: "Print an org's own rate limit (operator key) or the limits of an app's commands and actions (admin key)",
		Example: `  switchboard limits get --org acme
  switchboard limits get --app shop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := limitsPath(getOrg, getApp)
			if err != nil {
				return err
			}
			doc, err := cc.client(e).Raw(cmd.Context(), "GET", path, nil)
			if err != nil {
				return err
			}
			return printJSON(e.stdout, doc)
		},
	}
	get.Flags().StringVar(&getOrg, "org", "", "the org whose own limit to print (operator key)")
	get.Flags().StringVar(&getApp, "app", "", "the installed app whose commands' and actions' limits to print (admin key)")

	var setOrg, setApp string
	var rps float64
	var burst int
	var remove bool
	set := &cobra.Command{
		Use:   "set (--org ORG | --app APP NAME...) (--runs-per-second N [--burst N] | --remove)",
		Short: "Set or remove an org's own rate limit (operator key) or those of an app's commands and actions (admin key)",
		Long: `Set a rate limit: --runs-per-second runs a second on average, --burst of them at once
(default: a second's worth). Over a limit, a run answers 429 rate_limited with Retry-After and
the RateLimit-Policy and RateLimit headers, and nothing is sent upstream. --remove removes it.`,
		Example: `  switchboard limits set --org acme --runs-per-second 50 --burst 100
  switchboard limits set --app shop refundOrder lookup --runs-per-second 0.5 --burst 2
  switchboard limits set --app shop refundOrder --remove`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := limitsPath(setOrg, setApp); err != nil {
				return err
			}
			if remove == cmd.Flags().Changed("runs-per-second") {
				return errors.New("give --runs-per-second (and --burst) to set a limit, or --remove to remove it")
			}
			// null removes a limit; a burst left out is the server's default.
			var rate any = map[string]any{"runsPerSecond": nil}
			if !remove {
				rate = client.Rate{RunsPerSecond: rps, Burst: burst}
			}
			path, _ := limitsPath(setOrg, setApp)
			var body any = rate
			if setOrg != "" {
				if len(args) > 0 {
					return errors.New("an org's own limit takes no command names; use --app APP NAME... for commands")
				}
			} else {
				if len(args) == 0 {
					return errors.New("name the commands or actions of the app to limit: switchboard limits set --app APP NAME... --runs-per-second N")
				}
				limits := make(map[string]any, len(args))
				for _, name := range args {
					limits[name] = rate
				}
				body = limits
			}
			doc, err := cc.client(e).Raw(cmd.Context(), "PUT", path, body)
			if err != nil {
				return err
			}
			return printJSON(e.stdout, doc)
		},
	}
	set.Flags().StringVar(&setOrg, "org", "", "the org whose own limit to set (operator key)")
	set.Flags().StringVar(&setApp, "app", "", "the installed app whose commands or actions to limit (admin key)")
	set.Flags().Float64Var(&rps, "runs-per-second", 0, "runs a second on average (0.5: one every 2 seconds)")
	set.Flags().IntVar(&burst, "burst", 0, "runs allowed at once (default: a second's worth, at least 1)")
	set.Flags().BoolVar(&remove, "remove", false, "remove the limit")
	cmd.AddCommand(get, set)
	return cmd
}

// limitsPath is the route of --org or --app, exactly one of which is
// given.
func limitsPath(org, app string) (string, error) {
	switch {
	case org != "" && app != "":
		return "", errors.New("give --org or --app, not both")
	case org != "":
		return "/v1/orgs/" + url.PathEscape(org) + "/limits", nil
	case app != "":
		return "/v1/apps/" + url.PathEscape(app) + "/limits", nil
	}
	return "", errors.New("give --org ORG (an org's own limit, operator key) or --app APP (its commands' and actions' limits, admin key)")
}
