package cli

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/internal/mock"
)

func mockCommand(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "mock FILE",
		Short: "Serve a local upstream from a fixtures file",
		Long: `Serve a local stand-in for an upstream API from a fixtures file (docs/mock.md), so that
commands and actions get real answers without the real upstream. Each request is logged to
stderr with the route that answered it; Ctrl-C stops the mock.

The mock echoes what it receives, secrets included: it listens on loopback unless --addr
says otherwise (env SWITCHBOARD_MOCK_ADDR). Point a definition at it with an http://127.0.0.1
URL and run the server with --dev or --allow-private-networks.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// Not bindEnv: it would read SWITCHBOARD_ADDR, the server's
			// address, and a mock beside a server must not take it.
			if v := e.getenv("SWITCHBOARD_MOCK_ADDR"); v != "" && !cmd.Flags().Changed("addr") {
				addr = v
			}
			file := args[0]
			data, err := os.ReadFile(file)
			if err != nil {
				return err
			}
			m, err := mock.Load(data)
			var ie *mock.InvalidError
			if errors.As(err, &ie) {
				for _, p := range ie.Problems {
					fmt.Fprintf(e.stderr, "%s: %s\n", p.Place(file), p.Message)
				}
				fmt.Fprintf(e.stderr, "%s is invalid: %d problem(s)\n", file, len(ie.Problems))
				return &ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			if ta, ok := l.Addr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
				fmt.Fprintf(e.stderr, "warning: the mock listens on %s, beyond loopback, and echoes what it receives\n", l.Addr())
			}
			n := len(m.Routes())
			plural := "s"
			if n == 1 {
				plural = ""
			}
			fmt.Fprintf(e.stdout, "mock upstream listening on http://%s (%d route%s from %s)\n", l.Addr(), n, plural, file)
			return m.Serve(cmd.Context(), l, e.stderr)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8089", "the address to listen on")
	return cmd
}
