// Package server is Switchboard's composition root: New builds a whole
// instance from a Config (store, secret box, registry, outbound client, OAuth
// accounts, cache, runner, HTTP API) and Run serves it, owning every
// background loop under one errgroup with one shutdown path. `switchboard
// serve` and the end-to-end tests both build their instance here, so the
// tests exercise the production wiring.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/cache"
	"github.com/switchboardhq/switchboard/internal/console"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/mcp"
	"github.com/switchboardhq/switchboard/internal/oauth"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/redis"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/session"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// Instance is one running Switchboard: its parts, built by New, and the
// loops that Run starts.
type Instance struct {
	// URL is the address the API listens on, such as http://127.0.0.1:8080.
	URL      string
	Store    switchboard.Store
	Registry *registry.Registry
	Runner   *runner.Runner
	OAuth    *oauth.Manager
	Sessions *session.Manager
	Console  *console.Console
	// Workflows runs hooks and workflows (nil with a Config.Store that is
	// neither of the project's stores).
	Workflows *workflow.Engine
	Metrics   *prometheus.Registry
	// Handler is the HTTP API (benchmarks call it without a listener).
	Handler http.Handler
	Log     *slog.Logger

	cfg      Config
	ln       net.Listener
	debugLn  net.Listener
	http     *http.Server
	logOut   *logWriter // nil when the logger was given
	closers  []func() error
	stopRun  sync.Once
	closeAll sync.Once
	closeErr error
}

// New builds an instance: it opens the store (unless cfg gives one), checks
// that the secret key opens the store's secrets, opens the cache, loads the
// registry's keys and listens on cfg.Addr (unless cfg
// gives a listener), but serves nothing until Run. Close releases what New
// opened, whether or not Run was called.
func New(ctx context.Context, cfg Config) (_ *Instance, err error) {
	in := &Instance{cfg: cfg, Metrics: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			in.Close()
		}
	}()
	in.Log = cfg.Log
	if in.Log == nil {
		out := cfg.LogOutput
		if out == nil {
			out = io.Discard
		}
		in.logOut = newLogWriter(out)
		in.closers = append(in.closers, func() error { in.logOut.Close(); return nil })
		in.Log = NewLogger(&cfg, in.logOut)
	}
	log := in.Log
	if cfg.Store == nil || len(cfg.SecretKeys) == 0 {
		if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	box, err := OpenBox(&cfg, log)
	if err != nil {
		return nil, err
	}
	in.Store = cfg.Store
	if in.Store == nil {
		if in.Store, err = OpenStore(ctx, &cfg, log); err != nil {
			return nil, err
		}
		in.closers = append(in.closers, in.Store.Close)
	}
	if err := checkKey(ctx, in.Store, box, &cfg, log); err != nil {
		return nil, err
	}

	in.ln = cfg.Listener
	if in.ln == nil {
		if in.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	in.closers = append(in.closers, func() error { in.ln.Close(); return nil })
	in.URL = "http://" + in.ln.Addr().String()
	if cfg.DebugAddr != "" {
		if in.debugLn, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			return nil, fmt.Errorf("listen on --debug-addr %s: %w", cfg.DebugAddr, err)
		}
		in.closers = append(in.closers, func() error { in.debugLn.Close(); return nil })
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = in.URL
	}

	in.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	in.Registry = registry.New(registry.Config{Store: in.Store, Box: box, Log: log, OperatorKey: cfg.OperatorKey, Now: cfg.Now,
		CompiledCacheBytes: cfg.CompiledCacheBytes})
	in.Registry.RegisterMetrics(in.Metrics)
	outCfg := outbound.Config{AllowPrivateNetworks: cfg.AllowPrivateNetworks, Timeout: cfg.UpstreamTimeout, MaxResponseBytes: cfg.MaxResponseBytes}
	if cfg.Outbound != nil {
		outCfg = *cfg.Outbound
	}
	out := outbound.New(outCfg)
	// The console's own landing page is always a valid return URL: it is
	// this server's page, where the console's Connect button comes back.
	returnURLs := append(slices.Clone(cfg.OAuthReturnURLs), strings.TrimRight(publicURL, "/")+console.ReturnPath)
	in.OAuth = oauth.New(oauth.Config{Registry: in.Registry, Store: in.Store, Box: box, Outbound: out, Log: log, Now: cfg.Now,
		PublicURL: publicURL, ReturnURLs: returnURLs})
	if err := in.Registry.Load(ctx); err != nil {
		return nil, err
	}

	respCache := cfg.Cache
	switch {
	case respCache != nil:
	case cfg.RedisURL != "":
		redis.QuietLogger(log)
		rc, err := redis.New(ctx, cfg.RedisURL, redis.Options{Log: log, Now: cfg.Now, Prefix: cfg.RedisPrefix})
		if err != nil {
			return nil, err
		}
		in.closers = append(in.closers, rc.Close)
		respCache = rc
	default:
		mem := cache.New(cfg.CacheBytes, cfg.Now)
		mem.RegisterMetrics(in.Metrics)
		respCache = mem
	}
	limits, err := in.openLimits(ctx, &cfg, log)
	if err != nil {
		return nil, err
	}
	in.Runner = runner.New(runner.Config{Registry: in.Registry, Store: in.Store, Outbound: out, Log: log, Now: cfg.Now,
		Cache: respCache, Metrics: runner.NewMetrics(in.Metrics), Accounts: in.OAuth, Limits: limits})

	// The session index follows the registry's change feed (subscribed
	// before Run starts following it) and loads once the keys it acts as
	// are loaded.
	in.Sessions = session.New(session.Config{Store: in.Store, Registry: in.Registry, Runner: in.Runner, Log: log, Now: cfg.Now})
	if err := in.Sessions.Load(ctx); err != nil {
		return nil, err
	}

	// The MCP endpoint's open streams hear of changes after the session
	// index has applied them, so that a revoked session is seen as such.
	agents := mcp.New(in.Runner, log, cfg.Version)
	in.Registry.OnChange(agents.Changed)
	in.Registry.OnApplied(agents.Applied)

	if in.Workflows, err = newWorkflows(in, box, out, log); err != nil {
		return nil, err
	}

	hcfg := httpapi.Config{Registry: in.Registry, Runner: in.Runner, OAuth: in.OAuth, Sessions: in.Sessions, Log: log, Metrics: in.Metrics, Version: cfg.Version,
		MaxBodies: cfg.MaxBodies, MaxBodiesPerKey: cfg.MaxBodiesPerKey, MCP: agents,
		Limits:    limit.NewService(in.Store, in.Store, in.Registry),
		Workflows: in.Workflows, PublicURL: cfg.PublicURL}
	if in.Console, err = console.New(console.Config{Registry: in.Registry, Runner: in.Runner, OAuth: in.OAuth, Sessions: in.Sessions,
		Store: in.Store, Orgs: in.Store, Log: log, Now: cfg.Now, PublicURL: publicURL, OperatorKey: cfg.OperatorKey,
		Limits: hcfg.Limits}); err != nil {
		return nil, err
	}
	hcfg.Console = in.Console
	if in.logOut != nil && cfg.LogFormat != "text" && log.Enabled(ctx, slog.LevelInfo) {
		hcfg.AccessLog = in.logOut // request lines in slog's JSON format, formatted without slog
	}
	api, err := httpapi.NewServer(hcfg)
	if err != nil {
		return nil, err
	}
	in.Handler = api
	in.http = &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    httpapi.ServerMaxHeaderBytes, // above httpapi.MaxHeaderBytes, which it answers as a problem
		ReadTimeout:       readTimeout(cfg.ReadTimeout),
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Shutdown waits for requests to end; an agent's listen stream ends
	// only when told.
	in.http.RegisterOnShutdown(agents.CloseStreams)
	return in, nil
}

// DefaultReadTimeout bounds the reading of a request when Config sets no
// ReadTimeout.
const DefaultReadTimeout = 30 * time.Second

func readTimeout(d time.Duration) time.Duration {
	if d == 0 {
		return DefaultReadTimeout
	}
	return d
}

// Run serves the API and runs the background loops until ctx ends or one
// of them fails, then shuts down in order: it stops accepting, lets requests
// in flight finish (for cfg.ShutdownTimeout, then cuts them), flushes the
// audit log, and stops the loops. It returns once everything has stopped;
// call Close afterwards.
func (in *Instance) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	// The loops outlive gctx: the registry must follow changes while
	// requests drain, and they stop only once the runner has flushed.
	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLoops()
	// The workflow engine stops before the runner, whose steps it runs.
	flows, stopFlows := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFlows()
	flowsDone := make(chan struct{})

	g.Go(func() error {
		if err := in.http.Serve(in.ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		in.Log.Info("shutting down: finishing requests in flight")
		timeout := in.cfg.ShutdownTimeout
		if timeout <= 0 {
			timeout = 20 * time.Second
		}
		sctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if err := in.http.Shutdown(sctx); err != nil {
			in.Log.Warn("shutdown: cutting the requests still in flight", "err", err)
			in.http.Close()
		}
		stopFlows() // the steps in flight finish before the runner stops
		<-flowsDone
		in.stopRunner()
		stopLoops()
		return nil
	})
	g.Go(func() error {
		defer close(flowsDone)
		if in.Workflows == nil {
			return nil
		}
		return in.Workflows.Run(flows)
	})
	g.Go(func() error { in.Registry.Follow(loops); return nil })
	g.Go(func() error { in.Store.Listen(loops, in.Registry.Notify); return nil })
	g.Go(func() error { prune(loops, in.Store, in.Log, in.now()); return nil })
	g.Go(func() error { in.Console.Prune(loops); return nil })
	if in.cfg.AuditRetention > 0 {
		r, first, every := in.auditRetention()
		g.Go(func() error { r.run(loops, first, every); return nil })
	}
	if in.debugLn != nil {
		g.Go(func() error { return serveDebug(loops, in.debugLn, in.Log) })
	}

	in.Log.Info("listening", "addr", in.ln.Addr().String(), "data", in.cfg.Data, "dev", in.cfg.Dev,
		"allow_private_networks", in.cfg.AllowPrivateNetworks, "store", in.cfg.storeName(), "cache", in.cfg.cacheName(),
		"audit_retention", in.cfg.AuditRetention.String())
	err := g.Wait()
	in.Log.Info("stopped")
	return err
}

// auditRetention returns the instance's audit retention and its timing.
// now is the instance's clock: Config.Now, or time.Now.
func (in *Instance) now() func() time.Time {
	if in.cfg.Now != nil {
		return in.cfg.Now
	}
	return time.Now
}

func (in *Instance) auditRetention() (r auditRetention, first, every time.Duration) {
	now := in.now()
	every = in.cfg.AuditPruneEvery
	if every <= 0 {
		every = auditPruneEvery
	}
	return auditRetention{store: in.Store, log: in.Log, keep: in.cfg.AuditRetention, now: now,
		batch: auditPruneBatch, pause: auditPrunePause}, min(auditPruneFirst, every), every
}

// stopRunner flushes the audit log and stops its writer, once.
func (in *Instance) stopRunner() {
	in.stopRun.Do(func() {
		if in.Runner != nil {
			in.Runner.Close()
		}
	})
}

// Close releases what New opened, in reverse order: the runner (when Run
// did not stop it), the listeners, the cache, the store and the log writer.
func (in *Instance) Close() error {
	in.closeAll.Do(func() {
		in.stopRunner()
		var errs []error
		for i := len(in.closers) - 1; i >= 0; i-- {
			errs = append(errs, in.closers[i]())
		}
		in.closeErr = errors.Join(errs...)
	})
	return in.closeErr
}
