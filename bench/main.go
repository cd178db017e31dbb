// Command bench measures Switchboard's command runs against floors and
// references on this machine: a bare upstream, a bare handler that answers
// stored bytes, a bare reverse proxy, nginx (when installed) as a cache and
// as a proxy, and Switchboard itself with a cached, an uncached and an
// audited command.
//
// Run it from this directory:
//
//	go run . [-duration 10s] [-warmup 2s] [-concurrency 32] [-runs 3] [-targets a,b,...] [-json FILE]
//	go run . -soak 10m [-sample 10s] [-soak-warmup 1m]   (a soak: see soak.go)
//
// (the values shown are the defaults; go run . -h lists every flag).
//
// Every server is its own OS process: the harness re-executes its own binary
// with a hidden subcommand (upstream, floor-handler, floor-proxy), starts
// nginx, and builds and starts Switchboard, so no server shares a Go runtime
// with the load generator. Each run measures every target in turn under the
// same closed-loop load; with -runs N the report gives the median of the N
// runs. docs/performance.md in the repository describes the targets and the
// method, and holds the results of a run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the harness's command line.
type config struct {
	Duration    time.Duration `json:"duration"`
	Warmup      time.Duration `json:"warmup"`
	Concurrency int           `json:"concurrency"`
	Runs        int           `json:"runs"`
	Targets     []string      `json:"targets"`

	jsonPath   string
	repo       string // the repository root, where cmd/switchboard is
	sbBinary   string // a prebuilt switchboard binary, instead of building one
	nginxPath  string
	keepTmp    bool
	sbArgs     string        // extra flags for switchboard serve
	quiet      time.Duration // the longest wait for an otherwise idle machine
	tmp        string        // the temporary directory of this invocation
	soak       time.Duration // a soak of this long instead of the measurements
	soakSample time.Duration
	soakWarmup time.Duration
	executable string // this harness's binary, re-executed for the servers

	scaleOrgs, scaleCommands, scaleEntries int
	scaleArgs                              string // switchboard serve flags of the scale instance
}

func main() {
	// Hidden subcommands: the servers that the harness starts as child
	// processes of its own binary.
	if len(os.Args) > 1 {
		if serve, ok := servers[os.Args[1]]; ok {
			if err := serve(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each target is measured, in each run")
	fs.DurationVar(&cfg.Warmup, "warmup", 2*time.Second, "how long each target is loaded before it is measured")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "closed-loop workers: each sends a request and waits for its answer")
	fs.IntVar(&cfg.Runs, "runs", 3, "rounds over all targets; the report gives the median of the rounds")
	targets := fs.String("targets", strings.Join(targetNames, ","), "comma-separated targets to measure, in this order")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write all results as JSON to this file")
	fs.StringVar(&cfg.repo, "repo", "..", "the Switchboard repository, to build cmd/switchboard from")
	fs.StringVar(&cfg.sbBinary, "switchboard", "", "a prebuilt switchboard binary (default: build it from -repo)")
	fs.StringVar(&cfg.nginxPath, "nginx", "", "the nginx binary (default: nginx on PATH, then /usr/sbin/nginx); off to skip the nginx targets")
	fs.DurationVar(&cfg.quiet, "quiet", 30*time.Second, "before each measurement, wait up to this long for other processes to leave the CPUs (0: do not wait)")
	fs.StringVar(&cfg.sbArgs, "sb-args", "", "extra flags for switchboard serve, space-separated (for example --database-url=postgres://... --redis-url=redis://... or --debug-addr=127.0.0.1:6060)")
	fs.BoolVar(&cfg.keepTmp, "keep", false, "keep the temporary directory (logs, configs, data) and print its path")
	fs.DurationVar(&cfg.soak, "soak", 0, "instead of measuring, run a mixed load against Switchboard this long and sample its memory (for example 10m)")
	fs.DurationVar(&cfg.soakSample, "sample", 10*time.Second, "with -soak: how often to sample RSS, heap and goroutines")
	fs.IntVar(&cfg.scaleOrgs, "scale-orgs", 1000, "the scale case: orgs besides the bench org")
	fs.IntVar(&cfg.scaleCommands, "scale-commands", 50000, "the scale case: commands spread over those orgs")
	fs.IntVar(&cfg.scaleEntries, "scale-entries", 100000, "the scale case: cached answers spread over those orgs and commands")
	fs.StringVar(&cfg.scaleArgs, "scale-sb-args", "", "extra flags for the scale instance's switchboard serve (default: -sb-args; give it a database of its own)")
	fs.DurationVar(&cfg.soakWarmup, "soak-warmup", time.Minute, "with -soak: the growth is measured from the first sample after this")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run . [flags]\n\nTargets: %s\n\nFlags:\n", strings.Join(targetNames, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Concurrency < 1 || cfg.Runs < 1 {
		return nil, fmt.Errorf("-duration must be > 0, -warmup >= 0, -concurrency >= 1 and -runs >= 1")
	}
	for _, t := range strings.Split(*targets, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !slices.Contains(targetNames, t) {
			return nil, fmt.Errorf("unknown target %q (known: %s)", t, strings.Join(targetNames, ", "))
		}
		if !slices.Contains(cfg.Targets, t) {
			cfg.Targets = append(cfg.Targets, t)
		}
	}
	if len(cfg.Targets) == 0 {
		return nil, errors.New("-targets names no target")
	}
	return cfg, nil
}

// run sets up the servers, measures every target cfg.Runs times and
// reports. Every process it started is stopped and its temporary directory
// removed before it returns, on Ctrl-C too.
func run(cfg *config) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the harness at once
	}()

	if cfg.executable, err = os.Executable(); err != nil {
		return fmt.Errorf("find the harness's own binary: %w", err)
	}
	if cfg.tmp, err = os.MkdirTemp("", "switchboard-bench-"); err != nil {
		return fmt.Errorf("create a temporary directory: %w", err)
	}
	defer func() {
		if cfg.keepTmp {
			fmt.Fprintf(os.Stderr, "bench: kept %s\n", cfg.tmp)
			return
		}
		if rerr := os.RemoveAll(cfg.tmp); rerr != nil {
			fmt.Fprintf(os.Stderr, "bench: remove %s: %v\n", cfg.tmp, rerr)
		}
	}()
	var procs procGroup
	defer procs.stopAll()

	if cfg.soak > 0 {
		if err := soak(ctx, cfg, &procs); err != nil && ctx.Err() != nil {
			return errors.New("interrupted")
		} else if err != nil {
			return err
		}
		return nil
	}
	env, err := setup(ctx, cfg, &procs)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return err
	}

	logf("measuring %s: %d run(s), %s warm-up + %s each, %d workers",
		strings.Join(env.targetNames(), ", "), cfg.Runs, cfg.Warmup, cfg.Duration, cfg.Concurrency)
	runs := make([][]result, 0, cfg.Runs)
	for i := range cfg.Runs {
		var round []result
		for _, t := range env.targets {
			if err := procs.exited(); err != nil {
				return err
			}
			res, err := measureTarget(ctx, cfg, t, &procs)
			if err != nil {
				if ctx.Err() != nil {
					return errors.New("interrupted")
				}
				return fmt.Errorf("run %d, %s: %w", i+1, t.name, err)
			}
			logf("run %d/%d %-13s %s", i+1, cfg.Runs, t.name, res.line())
			round = append(round, res)
		}
		runs = append(runs, round)
	}

	rep := newReport(cfg, env, runs)
	rep.print(os.Stdout)
	if cfg.jsonPath != "" {
		if err := rep.writeJSON(cfg.jsonPath); err != nil {
			return err
		}
	}
	return nil
}

// logf reports progress on stderr; the report itself goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// tailFile returns the last lines of a log file, to explain a failure.
func tailFile(path string, lines int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	const tailBytes = 4096
	off := max(0, st.Size()-tailBytes)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return ""
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return fmt.Sprintf("\n--- last lines of %s ---\n%s", filepath.Base(path), strings.Join(ls, "\n"))
}
