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
			return e.show(doc, nil)
		},
	}
	set := &cobra.Command{
		Use:   "set APP CATEGORY.NAME=VALUE...",
		Short: "Set settings: NAME=VALUE sets a string, NAME:=JSON any JSON value (null removes), NAME=- reads a secret from a prompt or stdin",
		Long: `Set settings for your org. CATEGORY.NAME=VALUE sets a string, CATEGORY.NAME:=JSON any JSON
value (null removes the value), and CATEGORY.NAME=- reads the value from a prompt without
echo, or from a line of standard input when it is not a terminal, so that a secret stays
out of the shell's history and the process list.`,
		Example: `  switchboard settings set ecommstore default.authToken=-
  printf '%s\n' "$TOKEN" | switchboard settings set ecommstore default.authToken=-
  switchboard settings set shop default.retries:=3 default.region=eu`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			values, err := parseAssignments(args[1:])
			if err != nil {
				return &usageError{msg: err.Error(), cmd: cmd}
			}
			plain := map[string]bool{} // the values given on the command line
			for cat, names := range values {
				for name, v := range names {
					if v != "-" {
						plain[cat+"."+name] = true
						continue
					}
					secret, err := readSecret(e, fmt.Sprintf("Value of %s.%s: ", cat, name))
					if err != nil {
						return err
					}
					names[name] = secret
				}
			}
			raw, err := cc.client(e).Raw(cmd.Context(), "PUT", "/v1/apps/"+url.PathEscape(args[0])+"/settings", values)
			if err != nil {
				return err
			}
			var doc map[string]map[string]json.RawMessage
			_ = json.Unmarshal(raw, &doc)
			for cat, names := range doc {
				for name, v := range names {
					if plain[cat+"."+name] && strings.Contains(string(v), `"secret":true`) {
						fmt.Fprintf(e.stderr, "note: %s.%s is a secret; give it as %s.%s=- to type it at a prompt (or pipe it), out of the shell's history\n", cat, name, cat, name)
					}
				}
			}
			return e.show(raw, nil)
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
