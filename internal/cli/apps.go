package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func appsCommand(e *env, cc *clientConfig) *cobra.Command {
	cmd := &cobra.Command{Use: "apps", Short: "Validate, register, list and install app definitions"}
	cmd.AddCommand(
		appsValidateCommand(e),
		appsRegisterCommand(e, cc),
		appsListCommand(e, cc),
		appsInstalledCommand(e, cc),
		appsGetCommand(e, cc),
		appsInstallCommand(e, cc),
		appsUninstallCommand(e, cc),
		appsInitCommand(e),
		appsTestCommand(e),
	)
	return cmd
}

// appsValidateCommand needs no client: it runs the server's validator
// offline.
func appsValidateCommand(e *env) *cobra.Command {
	var org string
	validate := &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a definition offline with the server's own validator",
		Long:  "Check a definition offline with the server's own validator. Each problem is printed with its line:column and JSON pointer; the exit status is 1 when the definition is invalid.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			app, warnings, err := appdef.Parse(data, appdef.Options{OrgID: org})
			for _, w := range warnings {
				fmt.Fprintf(e.stdout, "%s: warning: %s\n", w.Place(args[0]), w.Message)
			}
			var se *switchboard.Error
			if errors.As(err, &se) && se.Code == switchboard.CodeInvalidDefinition {
				probs := se.Problems
				for _, p := range probs {
					fmt.Fprintf(e.stdout, "%s: %s\n", p.Place(args[0]), p.Message)
				}
				fmt.Fprintf(e.stderr, "%s is invalid: %d problem(s)\n", args[0], len(probs))
				return &ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s is valid: app %s version %s, %d command(s), %d action(s)\n",
				args[0], app.ID, app.Version, len(app.Commands), len(app.Actions))
			return nil
		},
	}
	validate.Flags().StringVar(&org, "org", "", "validate as a private app of this org (namespacing its names); public when empty")
	return validate
}

func appsRegisterCommand(e *env, cc *clientConfig) *cobra.Command {
	var public bool
	register := &cobra.Command{
		Use:   "register FILE",
		Short: "Register a version of an app definition",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			v, err := cc.client(e).RegisterApp(cmd.Context(), data, public)
			var ce *client.Error
			if errors.As(err, &ce) && ce.Code == client.CodeInvalidDefinition {
				// As apps validate prints them: FILE:LINE:COLUMN POINTER: message.
				pos := jsonv.Locate(data)
				for _, p := range ce.Errors {
					sp := switchboard.Problem{Message: p.Message, Location: p.Location, Line: p.Line, Column: p.Column}
					if at, ok := pos[sp.Location]; ok && sp.Line == 0 {
						sp.Line, sp.Column = at[0], at[1]
					}
					fmt.Fprintf(e.stdout, "%s: %s\n", sp.Place(args[0]), sp.Message)
				}
				fmt.Fprintf(e.stderr, "error: %s\n%s is invalid: %d problem(s)\n", ce.Error(), args[0], len(ce.Errors))
				return &ExitError{Code: ExitFailure}
			}
			if err != nil {
				return err
			}
			for _, w := range v.Warnings {
				fmt.Fprintf(e.stderr, "warning: %s: %s\n", w.Location, w.Message)
			}
			if v.Created {
				fmt.Fprintf(e.stderr, "registered %s version %s (%s)\n", v.App, v.Version, v.Visibility)
			} else {
				fmt.Fprintf(e.stderr, "%s version %s was already registered with this definition\n", v.App, v.Version)
			}
			return e.show(v.Raw, nil)
		},
	}
	register.Flags().BoolVar(&public, "public", false, "register a public app (needs the operator key)")
	return register
}

func appsListCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the apps you can see",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/apps/available", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				apps, err := decodeItems[client.AppSummary](raw)
				if err != nil {
					return err
				}
				t.row("APP", "VERSION", "VISIBILITY", "TITLE")
				for _, a := range apps {
					t.row(a.App, a.Version, a.Visibility, a.Title)
				}
				return nil
			})
		},
	}
}

func appsInstalledCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "installed",
		Short: "List your org's installed apps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", "/v1/apps/installed", nil)
			if err != nil {
				return err
			}
			return e.show(raw, func(t *tableWriter) error {
				apps, err := decodeItems[client.AppSummary](raw)
				if err != nil {
					return err
				}
				t.row("APP", "VERSION", "VISIBILITY", "TITLE", "INSTALLED")
				for _, a := range apps {
					t.row(a.App, a.Version, a.Visibility, a.Title, when(a.InstalledAt))
				}
				return nil
			})
		},
	}
}

func appsGetCommand(e *env, cc *clientConfig) *cobra.Command {
	var version string
	get := &cobra.Command{
		Use:   "get APP",
		Short: "Show an app's latest (or given) version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/v1/apps/available/" + url.PathEscape(args[0])
			if version != "" {
				path += "/versions/" + url.PathEscape(version)
			}
			raw, err := cc.client(e).Raw(cmd.Context(), "GET", path, nil)
			if err != nil {
				return err
			}
			return e.show(raw, nil)
		},
	}
	get.Flags().StringVar(&version, "version", "", "a version other than the latest")
	return get
}

func appsInstallCommand(e *env, cc *clientConfig) *cobra.Command {
	var version string
	install := &cobra.Command{
		Use:   "install APP",
		Short: "Install an app for your org",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cc.client(e).Install(cmd.Context(), args[0], version); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "installed %s\n", args[0])
			return nil
		},
	}
	install.Flags().StringVar(&version, "version", "", "the version to install (default: the latest)")
	return install
}

func appsUninstallCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall APP",
		Short: "Uninstall an app",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cc.client(e).Uninstall(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "uninstalled %s\n", args[0])
			return nil
		},
	}
}
