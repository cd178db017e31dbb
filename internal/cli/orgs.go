package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

func orgsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "orgs", Short: "Manage orgs (operator key)"}
	var id, name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an org and print its first admin key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			org, err := cc.client(e).CreateOrg(cmd.Context(), id, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "created org %s; its admin key is shown only now\n", org.ID)
			return printJSON(e.stdout, org)
		},
	}
	create.Flags().StringVar(&id, "id", "", "the org id (1 to 64 of a-z0-9; random when empty)")
	create.Flags().StringVar(&name, "name", "", "a display name")
	cmd.AddCommand(create)
	return cmd
}

func keysCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage your org's API keys (admin key)"}
	var role string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key and print it (it is shown only once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := cc.client(e).CreateKey(cmd.Context(), args[0], role)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "created %s key %s; the key is shown only now\n", k.Role, k.ID)
			return printJSON(e.stdout, k)
		},
	}
	create.Flags().StringVar(&role, "role", "agent", "admin, agent or auditor")
	list := &cobra.Command{
		Use:   "list",
		Short: "List your org's keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := cc.client(e).Keys(cmd.Context())
			if err != nil {
				return err
			}
			return printKeys(e, keys)
		},
	}
	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Revoke a key at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cc.client(e).DeleteKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "revoked %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, del)
	return cmd
}

func printKeys(e *env, keys []client.Key) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tNAME\tCREATED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.ID, k.Role, strings.ReplaceAll(k.Name, "\t", " "), when(k.CreatedAt))
	}
	return tw.Flush()
}
