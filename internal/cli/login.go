package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
)

// loginCommand stores a profile: a server and a key, checked first.
func loginCommand(e *env, cc *clientConfig) *cobra.Command {
	var keyStdin bool
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Sign in to a server: check a key and keep it in a profile",
		Long: `Sign in to a server: read an API key from a prompt (without echo) or, with --key-stdin,
from standard input, check it against the server, and keep the server and the key in a
profile of the configuration file (in the user's configuration directory, mode 0600;
SWITCHBOARD_CONFIG names another file). The profile becomes the current one.

Which profile a command uses: --profile, else SWITCHBOARD_PROFILE, else the current one.
--server and --key (SWITCHBOARD_SERVER and SWITCHBOARD_KEY) still win over a profile, and
a profile's key is sent only to its own server.`,
		Example: `  switchboard login --server https://switchboard.example.com
  switchboard login --profile staging --server https://staging.example.com
  printf '%s\n' "$KEY" | switchboard login --server http://127.0.0.1:8080 --key-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cc.flagKey != "" {
				return &usageError{msg: "login reads the key from a prompt or --key-stdin, never from --key (other users can read a command line)", cmd: cmd}
			}
			path, pf, err := openProfiles(e.getenv)
			if err != nil {
				return err
			}
			name := cc.flagProfile
			if name == "" {
				name = firstNonEmpty(e.getenv("SWITCHBOARD_PROFILE"), "default")
			}
			server := firstNonEmpty(cc.flagServer, e.getenv("SWITCHBOARD_SERVER"), pf.Profiles[name].Server)
			if server == "" {
				return &usageError{msg: "missing --server URL: the server to sign in to", cmd: cmd}
			}
			if server, err = normalizeServer(server); err != nil {
				return err
			}
			var key string
			if keyStdin {
				b, err := io.ReadAll(e.stdin)
				if err != nil {
					return fmt.Errorf("read the key from standard input: %w", err)
				}
				key = strings.TrimSpace(string(b))
			} else {
				if !isTerminalReader(e.stdin) {
					return &usageError{msg: "standard input is not a terminal: pipe the key with --key-stdin", cmd: cmd}
				}
				if key, err = readSecret(e, fmt.Sprintf("API key for %s: ", server)); err != nil {
					return err
				}
			}
			if key == "" {
				return &usageError{msg: "no key was given: paste an API key (sbk_..., or the operator key)", cmd: cmd}
			}
			role, err := checkKey(cmd.Context(), client.New(server, key, nil))
			if err != nil {
				// The check's own messages name the server; a refused key
				// exits 3 like any other.
				cc.server, cc.key, cc.keyFrom = server, key, "the prompt"
				if keyStdin {
					cc.keyFrom = "standard input"
				}
				return err
			}
			pf.Profiles[name] = profile{Server: server, Key: key}
			pf.Current = name
			if err := pf.save(path); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Signed in to %s%s; saved as profile %q in %s.\n", server, role, name, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&keyStdin, "key-stdin", false, "read the key from standard input instead of a prompt")
	return cmd
}

// checkKey asks the server whether it knows key, and returns a note of
// what the key may do. A key that the server knows but whose role may not
// list apps (an auditor's) is still a good key.
func checkKey(ctx context.Context, c *client.Client) (string, error) {
	_, err := c.Apps(ctx)
	var ce *client.Error
	switch {
	case err == nil:
		return "", nil
	case errors.As(err, &ce) && ce.Status == 403:
		return " (a key that may not list apps, such as an auditor's)", nil
	}
	return "", err
}

func logoutCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget a profile's key (the current one, or --profile)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			path, pf, err := openProfiles(e.getenv)
			if err != nil {
				return err
			}
			name, _ := cc.profileName(e, pf)
			p, ok := pf.Profiles[name]
			if !ok {
				return fmt.Errorf("no profile %q in %s: nothing to sign out of", name, path)
			}
			delete(pf.Profiles, name)
			if pf.Current == name {
				pf.Current = ""
			}
			if err := pf.save(path); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Signed out of %s: removed profile %q from %s.\n", p.Server, name, path)
			return nil
		},
	}
}

// profilesCommand lists the profiles (never their keys) and picks one.
func profilesCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "profiles", Short: "List the profiles that login stored, and choose the current one"}
	list := &cobra.Command{
		Use:   "list",
		Short: "List the profiles: name, server, whether it holds a key, which is current",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, pf, err := openProfiles(e.getenv)
			if err != nil {
				return err
			}
			current, _ := cc.profileName(e, pf)
			type item struct {
				Name    string `json:"name"`
				Server  string `json:"server"`
				HasKey  bool   `json:"hasKey"`
				Current bool   `json:"current"`
			}
			items := []item{}
			for _, n := range pf.sortedNames() {
				p := pf.Profiles[n]
				items = append(items, item{Name: n, Server: p.Server, HasKey: p.Key != "", Current: n == current})
			}
			return e.showValue(map[string]any{"items": items}, func(t *tableWriter) error {
				t.row("CURRENT", "NAME", "SERVER", "KEY")
				for _, it := range items {
					mark, key := "", "none"
					if it.Current {
						mark = "*"
					}
					if it.HasKey {
						key = "stored"
					}
					t.row(mark, it.Name, it.Server, key)
				}
				return nil
			})
		},
	}
	use := &cobra.Command{
		Use:   "use NAME",
		Short: "Make a profile the current one",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, pf, err := openProfiles(e.getenv)
			if err != nil {
				return err
			}
			if _, ok := pf.Profiles[args[0]]; !ok {
				return fmt.Errorf("no profile %q in %s (the profiles: %s)", args[0], path, strings.Join(pf.sortedNames(), ", "))
			}
			pf.Current = args[0]
			if err := pf.save(path); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Profile %q (%s) is now the current one.\n", args[0], pf.Profiles[args[0]].Server)
			return nil
		},
	}
	cmd.AddCommand(list, use)
	return cmd
}
