package cli

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard/internal/appdef"
)

// starter is what apps init writes: a definition and its fixtures, with
// __APP__, __TITLE__ and __UPSTREAM__ to fill in.
//
//go:embed starter/app.json starter/fixtures.json
var starter embed.FS

// defaultUpstream is where switchboard mock listens by default.
const defaultUpstream = "http://127.0.0.1:8089"

func appsInitCommand(e *env) *cobra.Command {
	var dir, title, upstream string
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Write a starter app definition and a fixtures file to test and mock it",
		Long: `Write a starter app definition, NAME/NAME.json, and its fixtures, NAME/NAME.fixtures.json.

The definition has a command with a secret setting, a cache and an output schema, and a
workflow action with input and output templates and schemas; it calls --upstream, by default
the address of 'switchboard mock' (SWITCHBOARD_MOCK_ADDR, or 127.0.0.1:8089). The fixtures file holds the mock's routes and test cases:
'switchboard apps test NAME/NAME.json' runs them offline, 'switchboard mock
NAME/NAME.fixtures.json' serves the routes, and 'switchboard serve --dev --watch NAME'
registers the definition again on every save. Nothing is overwritten.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !appdef.ValidAppID(name) {
				return fmt.Errorf("%q is not an app id: 1 to 64 of a-z, 0-9, _ and -, starting with a letter (as hello or crm_sync)", name)
			}
			if dir == "" {
				dir = name
			}
			if title == "" {
				title = strings.ToUpper(name[:1]) + strings.ReplaceAll(strings.ReplaceAll(name[1:], "_", " "), "-", " ")
			}
			if addr := e.getenv("SWITCHBOARD_MOCK_ADDR"); addr != "" && !cmd.Flags().Changed("upstream") {
				upstream = "http://" + addr // where the mock will listen
			}
			upstream = strings.TrimRight(upstream, "/")
			if u, err := url.Parse(upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return fmt.Errorf("--upstream %q is not a base URL such as https://api.example.com or http://127.0.0.1:8089", upstream)
			}
			files := []struct{ from, to string }{
				{"starter/app.json", filepath.Join(dir, name+".json")},
				{"starter/fixtures.json", filepath.Join(dir, name+".fixtures.json")},
			}
			for _, f := range files {
				if _, err := os.Stat(f.to); err == nil {
					return fmt.Errorf("%s exists: apps init writes new files only (choose another NAME or --dir)", f.to)
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			r := strings.NewReplacer("__APP__", name, "__TITLE__", jsonString(title), "__UPSTREAM__", jsonString(upstream))
			for _, f := range files {
				b, err := fs.ReadFile(starter, f.from)
				if err != nil {
					return err
				}
				if err := writeNew(f.to, []byte(r.Replace(string(b)))); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "wrote %s\n", f.to)
			}
			def, fixtures := files[0].to, files[1].to
			fmt.Fprintf(e.stdout, "\nNext:\n")
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
			fmt.Fprintf(tw, "  switchboard apps test %s\truns its cases offline\n", def)
			fmt.Fprintf(tw, "  switchboard mock %s\tserves its routes on %s\n", fixtures, upstream)
			fmt.Fprintf(tw, "  switchboard serve --dev --watch %s\tregisters it again on every save\n", dir)
			if err := tw.Flush(); err != nil {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "the directory to write to (default NAME)")
	f.StringVar(&title, "title", "", "the app's title (default from NAME)")
	f.StringVar(&upstream, "upstream", defaultUpstream, "the base URL the definition calls (default: switchboard mock's address)")
	return cmd
}

// writeNew writes a file that must not exist yet.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: apps init writes new files only", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// jsonString is s as the inside of a JSON string.
func jsonString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
