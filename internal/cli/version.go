package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/buildinfo"
)

func versionCommand(e *env, cc *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of the CLI and, when a server is configured, the server's",
		Long: `Print the CLI's module version, commit and build time (from the build info the Go
toolchain stamps) and, when a server is configured (--server, SWITCHBOARD_SERVER or a
profile), the server's, as GET /v1/version answers it. The same as --version.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return printVersion(cmd.Context(), e, cc)
		},
	}
}

// versionDoc is version's JSON form.
type versionDoc struct {
	Client buildinfo.Info        `json:"client"`
	Server *client.ServerVersion `json:"server,omitempty"`
	URL    string                `json:"serverUrl,omitempty"`
	Error  string                `json:"serverError,omitempty"`
}

// printVersion prints the CLI's build and, when a server is configured,
// the server's. A server that does not answer is a warning: the CLI's
// version is still worth printing.
func printVersion(ctx context.Context, e *env, cc *clientConfig) error {
	doc := versionDoc{Client: buildinfo.Read(Version)}
	if cc.serverConfigured(e) {
		c := cc.client(e)
		doc.URL = c.Server()
		v, err := c.Version(ctx)
		if err != nil {
			doc.Error = err.Error()
			printError(e.stderr, err, cc)
		} else {
			doc.Server = v
		}
	}
	return e.showText(doc, func(t *tableWriter) error {
		fmt.Fprintf(e.stdout, "switchboard %s\n", doc.Client)
		if doc.Server != nil {
			s := buildinfo.Info{Version: doc.Server.Version, Commit: doc.Server.Commit, Time: doc.Server.BuildTime, GoVersion: doc.Server.GoVersion}
			fmt.Fprintf(e.stdout, "server %s: %s\n", doc.URL, s)
		}
		return nil
	})
}

// serverConfigured reports whether a flag, the environment or a profile
// names a server (rather than the default address).
func (cc *clientConfig) serverConfigured(e *env) bool {
	if cc.flagServer != "" || e.getenv("SWITCHBOARD_SERVER") != "" {
		return true
	}
	if cc.resolve(e) != nil {
		return true // say why the configuration is unusable
	}
	path, err := configPath(e.getenv)
	if err != nil {
		return false
	}
	pf, err := loadProfiles(path)
	if err != nil {
		return true
	}
	_, ok := pf.Profiles[cc.profile]
	return ok
}
