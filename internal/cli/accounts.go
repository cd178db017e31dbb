package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

func accountsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "accounts", Short: "Connect and list an app's OAuth 2.0 accounts (admin key)"}
	list := &cobra.Command{
		Use:   "list APP",
		Short: "List an app's accounts: status, scopes, expiry (never a token)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/apps/"+url.PathEscape(args[0])+"/accounts", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				accts, err := decodeItems[client.Account](raw)
				if err != nil {
					return err
				}
				t.row("NAME", "STATUS", "SCOPES", "EXPIRES", "LAST REFRESHED")
				for _, a := range accts {
					t.row(a.Name, a.Status, strings.Join(a.Scopes, " "), when(a.ExpiresAt), when(a.LastRefreshedAt))
				}
				return nil
			})
		},
	}
	var returnURL string
	var wait time.Duration
	connect := &cobra.Command{
		Use:   "connect APP [NAME]",
		Short: "Connect an account: prints the URL to open and waits until it is connected",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := "default"
			if len(args) == 2 {
				name = args[1]
			}
			c := cc.client(e)
			ctx := cmd.Context()
			started := time.Now()
			auth, err := c.Authorize(ctx, args[0], name, returnURL)
			if err != nil {
				return err
			}
			if auth.Account != nil {
				fmt.Fprintf(e.stdout, "Connected %s (%s).\n", auth.Account.Name, auth.Account.Status)
				return nil
			}
			fmt.Fprintf(e.stdout, "Open this URL in a browser to connect the account %q:\n\n  %s\n\nWaiting until it is connected (the link expires in 10 minutes)...\n", name, auth.AuthorizationURL)
			deadline := time.Now().Add(wait)
			for {
				accts, err := c.Accounts(ctx, args[0])
				if err != nil {
					return err
				}
				for _, a := range accts {
					if a.Name == name && a.Status == "connected" && !a.ConnectedAt.Before(started.Add(-time.Second)) {
						fmt.Fprintf(e.stdout, "Connected %s (scopes: %s).\n", name, strings.Join(a.Scopes, " "))
						return nil
					}
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the account was not connected within %v; run the command again for a new link", wait)
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(pollInterval):
				}
			}
		},
	}
	connect.Flags().StringVar(&returnURL, "return-url", "", "where the browser goes once connected (must be on the server's allow-list)")
	connect.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the account to be connected")
	disconnect := &cobra.Command{
		Use:   "disconnect APP NAME",
		Short: "Disconnect an account (revoking its token at the provider when it can)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cc.client(e).DisconnectAccount(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "disconnected %s\n", args[1])
			return nil
		},
	}
	cmd.AddCommand(list, connect, disconnect)
	return cmd
}

// pollInterval is how often accounts connect looks for the connection.
var pollInterval = 2 * time.Second

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
