package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/switchboardhq/switchboard/internal/server"
)

// secretsCommand re-encrypts secrets at rest with the current secret key.
func secretsCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "secrets", Short: "Manage the encryption of secrets at rest"}
	cfg := &Config{}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every secret setting, account token, web hook secret and the key check value with the first key of SWITCHBOARD_SECRET_KEY",
		Long: `Rotate the secret key:

  1. Generate a new key:             openssl rand -hex 32
  2. On every instance, set          SWITCHBOARD_SECRET_KEY=<new>,<old>
     and restart them: new values are sealed with the new key, old ones still open.
  3. Run once, with the same environment (and --data or SWITCHBOARD_DATABASE_URL):
                                     switchboard secrets rotate
  4. Drop the old key:               SWITCHBOARD_SECRET_KEY=<new>, and restart.

Until step 3, an instance given only the new key refuses to start: the database's
key check value opens with the old key until rotate re-seals it, last.

It talks to the database directly; the servers may keep running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd, e.getenv); err != nil {
				return err
			}
			cfg.SecretKey = e.getenv("SWITCHBOARD_SECRET_KEY")
			log := server.NewLogger(&Config{LogFormat: "text", LogLevel: "warn"}, e.stderr)
			box, err := server.OpenBox(cfg, log)
			if err != nil {
				return err
			}
			store, err := server.OpenStore(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer store.Close()
			n, err := server.Rotate(cmd.Context(), store, box, cfg)
			fmt.Fprintf(e.stdout, "re-encrypted %d value(s) with the current key\n", n)
			return err
		},
	}
	rotate.Flags().StringVar(&cfg.Data, "data", "./data", "the data directory (SQLite)")
	rotate.Flags().StringVar(&cfg.DatabaseURL, "database-url", "", "a postgres:// URL (scale-out)")
	cmd.AddCommand(rotate)
	return cmd
}
