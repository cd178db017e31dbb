package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/redis"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
)

// Config is the server's configuration, from flags and environment.
type Config struct {
	Addr                 string
	Data                 string
	Dev                  bool
	AllowPrivateNetworks bool
	UpstreamTimeout      time.Duration
	MaxResponseBytes     int64
	LogFormat            string
	LogLevel             string
	ShutdownTimeout      time.Duration
	CacheBytes           int64
	// DatabaseURL selects PostgreSQL (scale-out); empty means SQLite in
	// the data directory.
	DatabaseURL string
	// RedisURL selects the shared Redis cache; empty means the in-process
	// cache.
	RedisURL string
	// PublicURL is the address browsers reach the server at, for OAuth
	// 2.0 redirect URIs; empty means http://<addr>.
	PublicURL string
	// OAuthReturnURLs are the prefixes that an account's returnUrl may
	// start with.
	OAuthReturnURLs []string
	// DebugAddr, when set, serves net/http/pprof there (keep it private).
	DebugAddr string
	// OperatorKey and SecretKey come from the environment only, never from
	// flags, which other users of the machine can read in the process list.
	OperatorKey string
	SecretKey   string
}

// Validate checks the configuration once, before anything starts.
func (c *Config) Validate() error {
	var problems []string
	if c.OperatorKey != "" && len(c.OperatorKey) < 32 {
		problems = append(problems, "SWITCHBOARD_OPERATOR_KEY is shorter than 32 characters; generate one with: openssl rand -hex 32")
	}
	if c.OperatorKey == "" && !c.Dev {
		problems = append(problems, "SWITCHBOARD_OPERATOR_KEY is not set: it is the key that creates orgs and registers public apps (generate one with: openssl rand -hex 32), or start with --dev to generate one")
	}
	if c.UpstreamTimeout <= 0 {
		problems = append(problems, "--upstream-timeout must be positive")
	}
	if c.CacheBytes <= 0 {
		problems = append(problems, "--cache-bytes must be positive")
	}
	if c.MaxResponseBytes <= 0 {
		problems = append(problems, "--max-response-bytes must be positive")
	}
	switch c.LogFormat {
	case "json", "text", "":
	default:
		problems = append(problems, fmt.Sprintf("--log-format must be json or text, not %q", c.LogFormat))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		problems = append(problems, fmt.Sprintf("--log-level must be debug, info, warn or error, not %q", c.LogLevel))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n       "))
	}
	return nil
}

func serveCommand(e *env) *cobra.Command {
	cfg := &Config{}
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
			return serve(cmd.Context(), cfg, e)
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
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 20*time.Second, "how long to let runs in flight finish on SIGTERM")
	return cmd
}

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// serve runs the server until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish, and closes the store.
func serve(ctx context.Context, cfg *Config, e *env) error {
	// The live heap is small (compiled definitions, pools) and most garbage
	// is per request: collecting at 3x the live heap instead of 2x halves
	// the collector's share of a run's CPU for a few MiB. GOGC, when set,
	// still decides.
	if e.getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	logOut := newLogWriter(e.stderr)
	defer logOut.Close()
	log := newLogger(cfg, logOut)
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
	box, err := openBox(cfg, log)
	if err != nil {
		return err
	}
	store, follow, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + ln.Addr().String()
	}

	promReg := prometheus.NewRegistry()
	promReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg := registry.New(registry.Config{Store: store, Box: box, Log: log, OperatorKey: cfg.OperatorKey})
	out := outbound.New(outbound.Config{AllowPrivateNetworks: cfg.AllowPrivateNetworks, Timeout: cfg.UpstreamTimeout, MaxResponseBytes: cfg.MaxResponseBytes})
	accounts := oauth.New(oauth.Config{Registry: reg, Store: store, Box: box, Outbound: out, Log: log,
		PublicURL: publicURL, ReturnURLs: cfg.OAuthReturnURLs})
	runCtx, stopFollowing := context.WithCancel(context.Background())
	defer stopFollowing()
	if err := reg.Start(runCtx); err != nil {
		return err
	}
	if follow != nil {
		go follow(runCtx, reg.Notify)
	}
	go prune(runCtx, store, log)
	var respCache switchboard.Cache
	if cfg.RedisURL != "" {
		redis.QuietLogger(log)
		rc, err := redis.New(ctx, cfg.RedisURL, redis.Options{Log: log})
		if err != nil {
			return err
		}
		defer rc.Close()
		respCache = rc
	} else {
		mem := cache.New(cfg.CacheBytes, nil)
		mem.RegisterMetrics(promReg)
		respCache = mem
	}
	run := runner.New(runner.Config{Registry: reg, Store: store, Outbound: out, Log: log, Cache: respCache,
		Metrics: runner.NewMetrics(promReg), Accounts: accounts})
	defer run.Close() // after the HTTP server has drained: flushes the audit log
	hcfg := httpapi.Config{Registry: reg, Runner: run, OAuth: accounts, Log: log, Metrics: promReg, Version: Version}
	if cfg.LogFormat == "json" && log.Enabled(ctx, slog.LevelInfo) {
		hcfg.AccessLog = logOut // request lines in slog's JSON format, formatted without slog
	}
	srv, err := httpapi.NewServer(hcfg)
	if err != nil {
		return err
	}

	base := "http://" + ln.Addr().String()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if cfg.DebugAddr != "" {
		dbg := http.NewServeMux()
		dbg.HandleFunc("/debug/pprof/", pprof.Index)
		dbg.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dbg.HandleFunc("/debug/pprof/trace", pprof.Trace)
		dbg.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		go func() {
			if err := http.ListenAndServe(cfg.DebugAddr, dbg); err != nil {
				log.Warn("debug listener", "err", err)
			}
		}()
	}
	log.Info("listening", "addr", ln.Addr().String(), "data", cfg.Data, "dev", cfg.Dev, "allow_private_networks", cfg.AllowPrivateNetworks,
		"store", storeName(cfg), "cache", cacheName(cfg))
	if cfg.Dev {
		if err := devBootstrap(ctx, cfg, reg, base, e.stdout); err != nil {
			log.Error("dev bootstrap", "err", err)
		}
	}
	fmt.Fprintf(e.stdout, "Switchboard %s listening on %s\n", Version, base)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	stopFollowing()
	log.Info("stopped")
	return nil
}

// openStore opens PostgreSQL when a database URL is given, else SQLite in
// the data directory. follow, when not nil, delivers the database's change
// notifications.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (switchboard.Store, func(context.Context, func()), error) {
	if cfg.DatabaseURL == "" {
		s, err := sqlite.Open(ctx, filepath.Join(cfg.Data, "switchboard.db"))
		return s, nil, err
	}
	// The database may still be starting (several instances and their
	// database brought up together): retry for a while before giving up.
	var lastErr error
	for wait, start := 250*time.Millisecond, time.Now(); time.Since(start) < 30*time.Second; wait = min(2*wait, 5*time.Second) {
		s, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err == nil {
			s.Log = log
			return s, s.Listen, nil
		}
		lastErr = err
		log.Warn("cannot open PostgreSQL yet; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait):
		}
	}
	return nil, nil, fmt.Errorf("open PostgreSQL: %w", lastErr)
}

func storeName(cfg *Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func cacheName(cfg *Config) string {
	if cfg.RedisURL != "" {
		return "redis"
	}
	return "memory"
}

// prune drops change-feed entries older than an hour (every instance reads
// the feed every 500 ms, so an hour is ample) and expired authorization
// states, every ten minutes.
func prune(ctx context.Context, store switchboard.Store, log *slog.Logger) {
	p, ok := store.(interface {
		PruneChanges(context.Context, time.Time) error
		PruneOAuthStates(context.Context, time.Time) error
	})
	if !ok {
		return
	}
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.PruneChanges(ctx, time.Now().Add(-time.Hour)); err != nil {
				log.Warn("prune the change feed", "err", err)
			}
			if err := p.PruneOAuthStates(ctx, time.Now()); err != nil {
				log.Warn("prune expired authorization states", "err", err)
			}
		}
	}
}

func openBox(cfg *Config, log *slog.Logger) (*secretbox.Box, error) {
	var keys [][]byte
	if cfg.SecretKey != "" {
		for i, s := range strings.Split(cfg.SecretKey, ",") {
			k, err := secretbox.ParseKey(s)
			if err != nil {
				return nil, fmt.Errorf("SWITCHBOARD_SECRET_KEY (key %d): %w", i+1, err)
			}
			keys = append(keys, k)
		}
	} else {
		k, created, err := secretbox.LoadOrCreateKeyFile(cfg.Data)
		if err != nil {
			return nil, err
		}
		if created {
			log.Warn("created a secret key file; back it up: without it the stored secrets cannot be read",
				"path", filepath.Join(cfg.Data, secretbox.KeyFileName))
		}
		keys = append(keys, k)
	}
	return secretbox.New(keys...)
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
