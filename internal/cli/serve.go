package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/buildinfo"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/server"
)

// Config is the server's configuration (internal/server.Config), from flags
// and environment.
type Config = server.Config

func serveCommand(e *env) *cobra.Command {
	cfg := &Config{}
	var watch string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Long: `Run the Switchboard server. Every flag can also be set with an environment variable:
--addr is SWITCHBOARD_ADDR, --data is SWITCHBOARD_DATA, and so on. The operator key is
SWITCHBOARD_OPERATOR_KEY and the secret key SWITCHBOARD_SECRET_KEY (environment only).

With --dev, the server allows upstreams on private networks and, on an empty data
directory, creates an org and prints its admin key.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := bindEnv(cmd, e.getenv); err != nil {
				return err
			}
			cfg.OperatorKey = e.getenv("SWITCHBOARD_OPERATOR_KEY")
			cfg.SecretKey = e.getenv("SWITCHBOARD_SECRET_KEY")
			if cfg.Dev {
				cfg.AllowPrivateNetworks = true
				if !cmd.Flags().Changed("log-format") && e.getenv("SWITCHBOARD_LOG_FORMAT") == "" {
					cfg.LogFormat = "text"
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if watch != "" && !cfg.Dev {
				return errors.New("--watch registers definitions as the dev org's admin: it needs --dev")
			}
			return serve(cmd.Context(), cfg, e, watch)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "the address to listen on")
	f.StringVar(&cfg.Data, "data", "./data", "the data directory (the SQLite database and the secret key file)")
	f.BoolVar(&cfg.Dev, "dev", false, "development mode: allow private networks, create an org on first start, text logs")
	f.BoolVar(&cfg.AllowPrivateNetworks, "allow-private-networks", false, "allow requests to loopback, private and link-local addresses")
	f.DurationVar(&cfg.UpstreamTimeout, "upstream-timeout", 10*time.Second, "the time limit of a call to an upstream")
	f.Int64Var(&cfg.MaxResponseBytes, "max-response-bytes", 5<<20, "the largest upstream response accepted, in bytes")
	f.StringVar(&cfg.LogFormat, "log-format", "json", "json or text")
	f.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "a postgres:// URL: keep state in PostgreSQL, shared by every instance (default: SQLite in --data)")
	f.StringVar(&cfg.RedisURL, "redis-url", "", "a redis:// URL: keep the response cache and fallback state in Redis, shared by every instance")
	f.StringVar(&cfg.PublicURL, "public-url", "", "the server's URL as browsers reach it, for OAuth 2.0 redirect URIs (default http://<addr>)")
	f.StringSliceVar(&cfg.OAuthReturnURLs, "oauth-return-urls", nil, "URL prefixes that an app account's returnUrl may start with (comma-separated)")
	f.StringVar(&cfg.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof) on this address, such as 127.0.0.1:6060; never expose it")
	f.Int64Var(&cfg.CacheBytes, "cache-bytes", 256<<20, "the memory budget of the in-process response cache, in bytes")
	f.Int64Var(&cfg.CompiledCacheBytes, "compiled-cache-bytes", registry.DefaultCompiledCacheBytes,
		"the memory budget of compiled definitions kept beyond the versions installed by orgs in use, in bytes")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long to let runs in flight finish on SIGTERM")
	f.DurationVar(&cfg.ReadTimeout, "read-timeout", server.DefaultReadTimeout, "the time limit of reading a whole request, its body included")
	f.IntVar(&cfg.MaxBodies, "max-bodies", httpapi.DefaultMaxBodies, "the most request bodies read at once; beyond it a request answers 503 at once")
	f.IntVar(&cfg.MaxBodiesPerKey, "max-bodies-per-key", httpapi.DefaultMaxBodiesPerKey, "the most request bodies read at once for one API key")
	f.StringVar(&watch, "watch", "", "with --dev: register every definition in this directory, and again when its file changes")

	f.IntVar(&cfg.MaxInflightPerUpstream, "max-inflight-per-upstream", limit.DefaultMaxInflight, "the most runs of one org in flight to one upstream host; beyond it a run answers 503 at once")
	f.DurationVar(&cfg.AuditRetention, "audit-retention", server.DefaultAuditRetention, "how long audit entries are kept (older ones are deleted in small batches; 0 keeps them forever)")
	addWorkflowFlags(f, &cfg.Workflows)
	return cmd
}

// serve runs an instance until ctx ends, then shuts it down gracefully: it
// stops accepting, lets requests in flight finish, flushes the audit log and
// closes the store.
func serve(ctx context.Context, cfg *Config, e *env, watch string) error {
	// The live heap is small (compiled definitions, pools) and most garbage
	// is per request: collecting at 3x the live heap instead of 2x halves
	// the collector's share of a run's CPU for a few MiB. GOGC, when set,
	// still decides.
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if cfg.OperatorKey == "" { // --dev only: Validate refuses otherwise
		k, err := devFileKey(filepath.Join(cfg.Data, "operator.key"))
		if err != nil {
			return err
		}
		cfg.OperatorKey = k
	}
	build := buildinfo.Read(Version)
	cfg.Version = build.Version
	cfg.LogOutput = e.stderr
	in, err := server.New(ctx, *cfg)
	if err != nil {
		return err
	}
	defer in.Close()
	if cfg.Dev {
		if err := devBootstrap(ctx, cfg, in.Registry, in.URL, e.stdout); err != nil {
			in.Log.Error("dev bootstrap", "err", err)
		}
	}
	if watch != "" {
		w, err := startWatch(ctx, cfg, in, watch, e.stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Switchboard %s listening on %s\n", build, in.URL)
		return runWatching(ctx, in, w)
	}
	fmt.Fprintf(e.stdout, "Switchboard %s listening on %s\n", build, in.URL)
	return in.Run(ctx)
}

// devFileKey reads a key kept in a 0600 file of the data directory, creating
// it on first use. Only --dev keeps keys in files this way.
func devFileKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	k := "sbo_" + base64.RawURLEncoding.EncodeToString(b)
	if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
		return "", err
	}
	return k, nil
}

// devBootstrap creates an org on an empty dev server and prints a line to
// paste, so that the README's walkthrough works by copy and paste.
func devBootstrap(ctx context.Context, cfg *Config, reg *registry.Registry, base string, w io.Writer) error {
	keyFile := filepath.Join(cfg.Data, "dev-admin.key")
	key := ""
	if b, err := os.ReadFile(keyFile); err == nil {
		key = strings.TrimSpace(string(b))
	}
	if key == "" {
		org, adminKey, err := reg.CreateOrg(ctx, "dev", "Development org")
		if err != nil {
			if switchboard.ErrorCode(err) == switchboard.CodeConflict {
				fmt.Fprintf(w, "The dev org exists but its admin key file %s is gone; create a key with the operator key in %s.\n",
					keyFile, filepath.Join(cfg.Data, "operator.key"))
				return nil
			}
			return err
		}
		key = adminKey
		if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
			return err
		}
		fmt.Fprintf(w, "Created the org %q with an admin key (kept in %s).\n", org.ID, keyFile)
	}
	fmt.Fprintf(w, "\nDev mode: private-network upstreams are allowed. In another terminal, paste:\n\n")
	fmt.Fprintf(w, "  export SWITCHBOARD_SERVER=%s SWITCHBOARD_KEY=%s\n\n", base, key)
	fmt.Fprintf(w, "The operator key (to create orgs and public apps) is in %s.\n", filepath.Join(cfg.Data, "operator.key"))
	return nil
}
