package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/apptest"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func appsTestCommand(e *env) *cobra.Command {
	var fixtures, settingsFile, only string
	var record, allowPrivate bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test DEFINITION",
		Short: "Run a definition's test cases offline, against recorded responses",
		Long: `Run every case of a fixtures file (docs/apptest.md) against a definition, offline: each runs
through the server's own code (registration, settings, templates, URL rules, schemas, output
templates) in a throwaway instance, and every request it sends goes to a local stand-in that
answers with the case's recorded response, or else with the file's routes. A case checks the
request sent (method, url, headers, body; secrets shown as [secret:category.name]), the answer,
or the problem. A failing case prints each difference; the exit status is 1 if any fails.

--fixtures defaults to DEFINITION with .json replaced by .fixtures.json.

--record runs the cases once against the live upstream instead, and writes each response into
the fixtures file, with secret values, credentials and cookies scrubbed. The live upstream's
settings come from --settings FILE ({"<category>": {"<name>": value}}) and from variables
SWITCHBOARD_SETTING_<CATEGORY>_<NAME> (SWITCHBOARD_SETTING_DEFAULT_APITOKEN), which win; they
are never written to the file. As the server, a recording refuses private networks (loopback
included) unless --allow-private-networks.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defPath := args[0]
			if fixtures == "" {
				fixtures = strings.TrimSuffix(defPath, ".json") + ".fixtures.json"
			}
			def, err := os.ReadFile(defPath)
			if err != nil {
				return err
			}
			app, warnings, err := appdef.Parse(def, appdef.Options{})
			for _, w := range warnings {
				fmt.Fprintf(e.stderr, "%s: warning: %s\n", w.Place(defPath), w.Message)
			}
			var se *switchboard.Error
			if errors.As(err, &se) && se.Code == switchboard.CodeInvalidDefinition {
				for _, p := range se.Problems {
					fmt.Fprintf(e.stdout, "%s: %s\n", p.Place(defPath), p.Message)
				}
				fmt.Fprintf(e.stderr, "%s is invalid: %d problem(s)\n", defPath, len(se.Problems))
				return &ExitError{Code: 1}
			}
			if err != nil {
				return err
			}
			f, err := apptest.ReadFile(fixtures)
			var ie *apptest.InvalidError
			if errors.As(err, &ie) {
				for _, p := range ie.Problems {
					fmt.Fprintf(e.stdout, "%s: %s\n", p.Place(fixtures), p.Message)
				}
				fmt.Fprintf(e.stderr, "%s is invalid: %d problem(s)\n", fixtures, len(ie.Problems))
				return &ExitError{Code: 1}
			}
			if err != nil {
				return fmt.Errorf("read the fixtures (--fixtures): %w", err)
			}
			opts := apptest.Options{Definition: def, File: f, FixturesPath: fixtures, Out: e.stdout, Only: only,
				Record: record, AllowPrivateNetworks: allowPrivate, UpstreamTimeout: timeout}
			if record {
				if opts.LiveSettings, err = liveSettings(settingsFile, app, e.getenv); err != nil {
					return err
				}
			} else if settingsFile != "" {
				return errors.New("--settings is for --record: offline, each case's settings are in the fixtures file")
			}
			res, err := apptest.Run(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if record && res.Recorded > 0 {
				if err := f.Save(fixtures); err != nil {
					return fmt.Errorf("write the recorded responses: %w", err)
				}
				fmt.Fprintf(e.stdout, "recorded %d response(s) into %s\n", res.Recorded, fixtures)
			}
			fmt.Fprintf(e.stdout, "%d passed, %d failed\n", res.Passed, res.Failed)
			if res.Passed+res.Failed == 0 {
				fmt.Fprintf(e.stderr, "no case's name contains %q\n", only)
				return &ExitError{Code: 1}
			}
			if res.Failed > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&fixtures, "fixtures", "", "the fixtures file with the cases (default: DEFINITION as .fixtures.json)")
	fl.BoolVar(&record, "record", false, "run against the live upstream once and write its responses into the fixtures")
	fl.StringVar(&settingsFile, "settings", "", "with --record: a JSON file of the live settings, {\"<category>\": {\"<name>\": value}}")
	fl.BoolVar(&allowPrivate, "allow-private-networks", false, "with --record: allow a live upstream on loopback or a private network")
	fl.DurationVar(&timeout, "upstream-timeout", 10*time.Second, "with --record: the time limit of a call to the live upstream")
	fl.StringVar(&only, "run", "", "run only the cases whose name contains this")
	return cmd
}

// liveSettings reads the settings a recording sends to the live upstream:
// a file, then SWITCHBOARD_SETTING_<CATEGORY>_<NAME> for each setting the
// definition declares or reads.
func liveSettings(path string, app *appdef.App, getenv func(string) string) (*jsonv.Object, error) {
	out := jsonv.NewObject(0)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--settings: %w", err)
		}
		v, err := jsonv.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("--settings %s: not valid JSON: %w", path, err)
		}
		obj, ok := v.(*jsonv.Object)
		if !ok {
			return nil, fmt.Errorf(`--settings %s: must be an object of categories, as {"default": {"apiToken": "..."}}`, path)
		}
		for _, m := range obj.Members {
			if !jsonv.IsObject(m.Value) {
				return nil, fmt.Errorf("--settings %s: %s must be an object of setting names and values", path, m.Key)
			}
		}
		out = obj
	}
	keys := map[string]bool{}
	for k := range app.Settings {
		keys[k] = true
	}
	for _, c := range app.Commands {
		for _, ref := range c.AppSettings {
			keys[ref.Key()] = true
		}
	}
	for _, a := range app.Actions {
		for _, ref := range a.AppSettings {
			keys[ref.Key()] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		v := getenv(settingEnv(k))
		if v == "" {
			continue
		}
		cat, name, _ := strings.Cut(k, ".")
		cv, _ := out.Get(cat)
		co, ok := cv.(*jsonv.Object)
		if !ok {
			co = jsonv.NewObject(1)
			out.Set(cat, co)
		}
		var val any = v
		if decl := app.Settings[k]; decl != nil {
			switch decl.Type {
			case "number":
				val = json.Number(v)
			case "boolean":
				val = v == "true"
			}
		}
		co.Set(name, val)
	}
	return out, nil
}

// settingEnv is the variable of a setting: default.apiToken is
// SWITCHBOARD_SETTING_DEFAULT_APITOKEN.
func settingEnv(key string) string {
	var b strings.Builder
	b.WriteString("SWITCHBOARD_SETTING_")
	for _, r := range strings.ToUpper(key) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
