package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/switchboardhq/switchboard/internal/devwatch"
	"github.com/switchboardhq/switchboard/internal/server"
)

// startWatch registers the definitions of dir as the dev org's admin (the
// key devBootstrap keeps in the data directory) and returns the watcher
// that keeps them registered.
func startWatch(ctx context.Context, cfg *Config, in *server.Instance, dir string, out io.Writer) (*devwatch.Watcher, error) {
	keyFile := filepath.Join(cfg.Data, "dev-admin.key")
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("--watch registers as the dev org's admin, whose key file %s cannot be read: %w", keyFile, err)
	}
	p, err := in.Registry.Authenticate(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("--watch: the key in %s: %w", keyFile, err)
	}
	w := devwatch.New(devwatch.Config{Dir: dir, Registry: in.Registry, Principal: p, Out: out})
	fmt.Fprintf(out, "watch: registering the definitions in %s, and again on every change\n", dir)
	if err := w.Start(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

// runWatching runs the instance and the watcher until ctx ends or the
// instance stops; the watcher stops with it.
func runWatching(ctx context.Context, in *server.Instance, w *devwatch.Watcher) error {
	g, gctx := errgroup.WithContext(ctx)
	wctx, stop := context.WithCancel(gctx)
	g.Go(func() error {
		defer stop()
		return in.Run(ctx)
	})
	g.Go(func() error { w.Run(wctx); return nil })
	return g.Wait()
}
