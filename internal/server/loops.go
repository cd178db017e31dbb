package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/switchboardhq/switchboard"
)

// pruneEvery is how often prune runs; changeRetention is how long the
// change feed is kept: every instance reads it every 500 ms, so an hour is
// ample, and an instance that falls further behind reloads everything.
const (
	pruneEvery      = 10 * time.Minute
	changeRetention = time.Hour
)

// prune drops old change-feed entries and expired authorization states
// until ctx ends.
func prune(ctx context.Context, m switchboard.Maintenance, log *slog.Logger, now func() time.Time) {
	t := time.NewTicker(pruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pruneOnce(ctx, m, log, now())
		}
	}
}

func pruneOnce(ctx context.Context, m switchboard.Maintenance, log *slog.Logger, now time.Time) {
	if err := m.PruneChanges(ctx, now.Add(-changeRetention)); err != nil {
		log.Warn("prune the change feed", "err", err)
	}
	if err := m.PruneOAuthStates(ctx, now); err != nil {
		log.Warn("prune expired authorization states", "err", err)
	}
	if err := m.PruneSessions(ctx, now); err != nil {
		log.Warn("prune expired sessions", "err", err)
	}
}

// serveDebug serves Go's profiler on ln until ctx ends. The address is the
// operator's to keep private: it has no authentication.
func serveDebug(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Warn("debug listener", "err", err)
	}
	return nil
}
