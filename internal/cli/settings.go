package cli

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

func settingsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "settings", Short: "Read and write an app's settings for your org"}
	get := &cobra.Command{
		Use:   "get APP",
		Short: "Print an app's settings (secrets show only whether they are set)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// The document as the API answers it, "missing" included.
			doc, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/apps/"+url.PathEscape(args[0])+"/settings", nil)
			if err != nil {
				return err
			}
			return printJSON(e.stdout, doc)
		},
	}
	set := &cobra.Command{
		Use:   "set APP CATEGORY.NAME=VALUE...",
		Short: "Set settings: NAME=VALUE sets a string, NAME:=JSON any JSON value (null removes)",
		Example: `  switchboard settings set ecommstore default.authToken=s3cr3t
  switchboard settings set shop default.retries:=3 default.region=eu`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			values, err := parseAssignments(args[1:])
			if err != nil {
				return err
			}
			s, err := cc.client(e).PutSettings(cmd.Context(), args[0], values)
			if err != nil {
				return err
			}
			return printJSON(e.stdout, s)
		},
	}
	cmd.AddCommand(get, set)
	return cmd
}

// parseAssignments reads CATEGORY.NAME=VALUE (a string) and
// CATEGORY.NAME:=JSON (any JSON value).
func parseAssignments(args []string) (client.Settings, error) {
	out := client.Settings{}
	for _, a := range args {
		key, val, ok := strings.Cut(a, "=")
		if !ok {
			return nil, fmt.Errorf("%q: write CATEGORY.NAME=VALUE", a)
		}
		var v any = val
		if k, isJSON := strings.CutSuffix(key, ":"); isJSON {
			key = k
			if err := json.Unmarshal([]byte(val), &v); err != nil {
				return nil, fmt.Errorf("%q: the value after := must be JSON: %v", a, err)
			}
		}
		cat, name, ok := strings.Cut(key, ".")
		if !ok || cat == "" || name == "" {
			return nil, fmt.Errorf("%q: name the setting as CATEGORY.NAME, for example default.authToken", a)
		}
		if out[cat] == nil {
			out[cat] = map[string]any{}
		}
		out[cat][name] = v
	}
	return out, nil
}
