package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// apiCommand sends any request to the API, as gh api does: for routes that
// have no command of their own yet, and for scripts.
func apiCommand(e *env, cc *clientConfig) *cobra.Command {
	var method, input string
	cmd := &cobra.Command{
		Use:   "api PATH",
		Short: "Send a request to any route and print the answer (the routes are in GET /openapi.json)",
		Long: `Send a request to any route of the API with the configured server and key, and print
the JSON answer. The method is GET, or POST when --input is given; -X sets another. An
error answer exits as every other command does (1, 3 for 401, 4 for 404).`,
		Example: `  switchboard api /v1/apps/installed
  switchboard api -X PUT /v1/apps/shop/settings --input '{"default": {"region": "eu"}}'
  switchboard api -X DELETE /v1/sessions/ses_7d3f0a2b`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
			var body any
			if input != "" {
				data, err := readArg(input, e.stdin)
				if err != nil {
					return err
				}
				var v json.RawMessage
				if err := json.Unmarshal(data, &v); err != nil {
					return &usageError{msg: fmt.Sprintf("--input is not JSON: %v", err), cmd: cmd}
				}
				body = v
			}
			m := strings.ToUpper(method)
			if m == "" {
				m = http.MethodGet
				if body != nil {
					m = http.MethodPost
				}
			}
			raw, err := cc.client(e).Raw(cmd.Context(), m, path, body)
			if err != nil {
				return err
			}
			if len(raw) == 0 {
				return nil // 204
			}
			if !json.Valid(raw) {
				_, err := e.stdout.Write(raw)
				return err
			}
			return printJSON(e.stdout, raw)
		},
	}
	cmd.Flags().StringVarP(&method, "method", "X", "", "the HTTP method (default GET, or POST with --input)")
	cmd.Flags().StringVar(&input, "input", "", "the request body: JSON, @FILE, or @- for standard input")
	return cmd
}

// statusCommand says whether the server is up and ready, and its version.
func statusCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Say whether the server is live and ready (GET /healthz, /readyz, /v1/version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := cc.client(e)
			ctx := cmd.Context()
			type check struct {
				Live    bool   `json:"live"`
				Ready   bool   `json:"ready"`
				Reason  string `json:"reason,omitempty"`
				Version string `json:"version,omitempty"`
				Server  string `json:"server"`
			}
			st := check{Server: c.Server()}
			if _, err := c.Raw(ctx, "GET", "/healthz", nil); err != nil {
				return err
			}
			st.Live = true
			if _, err := c.Raw(ctx, "GET", "/readyz", nil); err != nil {
				st.Reason = err.Error()
			} else {
				st.Ready = true
			}
			if v, err := c.Version(ctx); err == nil {
				st.Version = v.Version
			}
			err := e.showText(st, func(t *tableWriter) error {
				state := "ready"
				if !st.Ready {
					state = "live but not ready: " + st.Reason
				}
				fmt.Fprintf(e.stdout, "%s (%s): %s\n", st.Server, st.Version, state)
				return nil
			})
			if err == nil && !st.Ready {
				return &ExitError{Code: ExitFailure}
			}
			return err
		},
	}
}
