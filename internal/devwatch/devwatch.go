// Package devwatch keeps the app definitions of a directory registered on a
// dev server (`switchboard serve --dev --watch DIR`): each at start, and
// again whenever its file changes. A changed definition whose version is
// already registered gets the next pre-release version, so that authors
// need not bump it on every save; problems are printed at file:line:col.
// It polls the directory (docs/decisions.md says why).
package devwatch

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
)

// Registry is what the watcher needs of internal/registry.
type Registry interface {
	// Register registers a version (invalid_definition, conflict).
	Register(ctx context.Context, p *switchboard.Principal, data []byte, public bool) (*registry.Registered, error)
	// App returns the latest version of an app (not_found).
	App(ctx context.Context, p *switchboard.Principal, name string) (switchboard.AppVersion, []switchboard.AppVersion, error)
}

// Config configures a Watcher.
type Config struct {
	Dir       string
	Registry  Registry
	Principal *switchboard.Principal // whose private apps they are: the dev org's admin
	Out       io.Writer              // a line per registration or problem
	// Interval is how often the directory is read (default 250ms). A
	// change is acted on once two reads in a row see the same content, so
	// that a file caught half-written is not registered.
	Interval time.Duration
}

// Watcher is not safe for concurrent use: Run owns it.
type Watcher struct {
	cfg   Config
	files map[string]*file
}

type file struct {
	mod     time.Time
	size    int64
	seen    [32]byte // the content of the last read
	settled [32]byte // the content last acted on
	acted   bool
}

// New returns a Watcher of cfg.Dir.
func New(cfg Config) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = 250 * time.Millisecond
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	return &Watcher{cfg: cfg, files: map[string]*file{}}
}

// IsDefinition reports whether the watcher takes a file name for a
// definition: a .json file that is not a fixtures file (.fixtures.json,
// which `apps init` writes beside its definition).
func IsDefinition(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasSuffix(name, ".fixtures.json") && !strings.HasPrefix(name, ".")
}

// Start registers every definition in the directory now, whatever its
// state, and returns an error only when the directory cannot be read.
func (w *Watcher) Start(ctx context.Context) error {
	if _, err := os.ReadDir(w.cfg.Dir); err != nil {
		return fmt.Errorf("--watch: %w", err)
	}
	w.scan(ctx, true)
	return nil
}

// Run reads the directory every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.scan(ctx, false)
		}
	}
}

// scan reads the directory once; now acts on every file without waiting
// for it to settle.
func (w *Watcher) scan(ctx context.Context, now bool) {
	entries, err := os.ReadDir(w.cfg.Dir)
	if err != nil {
		fmt.Fprintf(w.cfg.Out, "watch: %v\n", err)
		return
	}
	present := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !IsDefinition(e.Name()) {
			continue
		}
		path := filepath.Join(w.cfg.Dir, e.Name())
		present[path] = true
		info, err := e.Info()
		if err != nil {
			continue
		}
		f := w.files[path]
		if f == nil {
			f = &file{}
			w.files[path] = f
		}
		if f.acted && !now && info.ModTime().Equal(f.mod) && info.Size() == f.size && f.seen == f.settled {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(data)
		f.mod, f.size = info.ModTime(), info.Size()
		settled := now || sum == f.seen
		f.seen = sum
		if !settled || (f.acted && sum == f.settled) {
			continue
		}
		f.settled, f.acted = sum, true
		w.register(ctx, path, data)
	}
	for path := range w.files {
		if !present[path] {
			delete(w.files, path)
			fmt.Fprintf(w.cfg.Out, "watch: %s was removed; its app stays registered\n", path)
		}
	}
}

// register registers one definition, as a next pre-release version when
// its own version is taken.
func (w *Watcher) register(ctx context.Context, path string, data []byte) {
	p := w.cfg.Principal
	app, warnings, err := appdef.Parse(data, appdef.Options{OrgID: p.OrgID})
	for _, wp := range warnings {
		fmt.Fprintf(w.cfg.Out, "%s: warning: %s\n", wp.Place(path), wp.Message)
	}
	if err != nil {
		w.problems(path, err)
		return
	}
	latest, _, err := w.cfg.Registry.App(ctx, p, app.ID)
	switch {
	case switchboard.IsNotFound(err):
		w.registerAs(ctx, path, data, app.Version, "")
		return
	case err != nil:
		fmt.Fprintf(w.cfg.Out, "watch: %s: %v\n", path, err)
		return
	}
	if appdef.CompareVersions(app.Version, latest.Version) > 0 {
		w.registerAs(ctx, path, data, app.Version, "")
		return
	}
	if same, err := sameAs(data, latest, p.OrgID); err == nil && same {
		fmt.Fprintf(w.cfg.Out, "watch: %s is registered: %s %s\n", path, latest.AppID, latest.Version)
		return
	}
	next := NextDev(latest.Version)
	b, err := withVersion(data, next)
	if err != nil {
		fmt.Fprintf(w.cfg.Out, "watch: %s: %v\n", path, err)
		return
	}
	why := fmt.Sprintf(" (the file says %s; %s is registered, so dev mode gives the changed definition the next pre-release version)", app.Version, latest.Version)
	w.registerAs(ctx, path, b, next, why)
}

func (w *Watcher) registerAs(ctx context.Context, path string, data []byte, version, why string) {
	res, err := w.cfg.Registry.Register(ctx, w.cfg.Principal, data, false)
	if err != nil {
		w.problems(path, err)
		return
	}
	fmt.Fprintf(w.cfg.Out, "watch: registered %s %s from %s%s\n", res.Version.AppID, version, path, why)
}

// problems prints a refusal: each problem at file:line:col.
func (w *Watcher) problems(path string, err error) {
	var se *switchboard.Error
	if errors.As(err, &se) && len(se.Problems) > 0 {
		for _, p := range se.Problems {
			fmt.Fprintf(w.cfg.Out, "%s: %s\n", p.Place(path), p.Message)
		}
		fmt.Fprintf(w.cfg.Out, "watch: %s is not registered: %d problem(s); fix it and save again\n", path, len(se.Problems))
		return
	}
	fmt.Fprintf(w.cfg.Out, "watch: %s is not registered: %v\n", path, err)
}

// sameAs reports whether data, given the latest version's number, is the
// latest version's definition.
func sameAs(data []byte, latest switchboard.AppVersion, org string) (bool, error) {
	b, err := withVersion(data, latest.Version)
	if err != nil {
		return false, err
	}
	app, _, err := appdef.Parse(b, appdef.Options{OrgID: org})
	if err != nil {
		return false, err
	}
	return app.Hash == latest.Hash, nil
}

// withVersion returns the definition with its version replaced.
func withVersion(data []byte, version string) ([]byte, error) {
	v, err := jsonv.DecodeStrict(data)
	if err != nil {
		return nil, err
	}
	root, ok := v.(*jsonv.Object)
	if !ok {
		return nil, errors.New("the definition is not an object")
	}
	root.Set("version", version)
	b, err := jsonv.Marshal(root)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// NextDev returns the first dev pre-release above v, a registered
// version: 1.2.3 gives 1.2.4-dev.1, 1.2.4-dev.1 gives 1.2.4-dev.2, and
// 1.2.3-beta gives 1.2.3-beta.dev.1. Build metadata is dropped.
func NextDev(v string) string {
	v, _, _ = strings.Cut(v, "+")
	core, pre, hasPre := strings.Cut(v, "-")
	if !hasPre {
		parts := strings.Split(core, ".")
		if n, ok := new(big.Int).SetString(parts[len(parts)-1], 10); ok {
			parts[len(parts)-1] = n.Add(n, big.NewInt(1)).String()
		}
		return strings.Join(parts, ".") + "-dev.1"
	}
	ids := strings.Split(pre, ".")
	if len(ids) >= 2 && ids[len(ids)-2] == "dev" {
		last := ids[len(ids)-1]
		if n, ok := new(big.Int).SetString(last, 10); ok && last == n.String() {
			ids[len(ids)-1] = n.Add(n, big.NewInt(1)).String()
			return core + "-" + strings.Join(ids, ".")
		}
	}
	return core + "-" + pre + ".dev.1"
}
