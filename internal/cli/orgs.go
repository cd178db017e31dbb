package cli

import (
	"fmt"

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
			return e.showValue(org, nil)
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
			return e.showValue(k, nil)
		},
	}
	create.Flags().StringVar(&role, "role", "agent", "admin, agent or auditor")
	list := &cobra.Command{
		Use:   "list",
		Short: "List your org's keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/keys", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				keys, err := decodeItems[client.Key](raw)
				if err != nil {
					return err
				}
				t.row("ID", "ROLE", "NAME", "CREATED")
				for _, k := range keys {
					t.row(k.ID, k.Role, k.Name, when(k.CreatedAt))
				}
				return nil
			})
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
