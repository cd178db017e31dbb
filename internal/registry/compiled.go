package registry

import (
	"container/list"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"weak"

	"golang.org/x/sync/singleflight"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
)

// Compiled definitions are large (about 13 bytes of heap per byte of their
// JSON: 3 MiB for an app of 500 commands with schemas) and immutable, so one
// copy of each is shared, kept while something uses it and not forever. The
// cache holds them by "<id>@<version>" in two ways:
//
//   - weakly, every one compiled: a version that a loaded org state (or a
//     run in flight) refers to, which is every version installed by an org
//     this instance serves, is found again without compiling, and the
//     collector frees it once nothing refers to it;
//   - strongly, the most recently used, within a budget of estimated bytes,
//     so that versions used without an org state holding them (the one just
//     registered, the latest one whose settings are read, the versions of an
//     org whose state was dropped by a change and will be loaded again) are
//     not compiled again at once.
//
// A version that is neither is compiled again from its stored definition
// when it is next used.

// DefaultCompiledCacheBytes is the budget of compiled definitions kept
// beyond those installed by a loaded org (serve's --compiled-cache-bytes).
const DefaultCompiledCacheBytes = 128 << 20

// compiledBytesPerJSONByte estimates the heap of a compiled definition from
// the length of its canonical JSON. Measured with runtime.MemStats
// (TestCompiledSizeEstimate, and by hand for other shapes): 12.2 for an app
// of 500 or 2,000 commands with URL templates, settings and two schemas
// each, 12.2 for bare commands, 12.7 for workflow actions; rounded up.
const compiledBytesPerJSONByte = 13

// compiledSize is the estimated heap of a compiled definition.
func compiledSize(app *appdef.App) int64 { return int64(len(app.JSON)) * compiledBytesPerJSONByte }

func compiledKey(id, version string) string { return id + "@" + version }

type compiledCache struct {
	budget   int64
	sf       singleflight.Group // one compile of a version at a time
	compiles atomic.Int64

	mu   sync.Mutex
	used int64                               // estimated bytes of held
	lru  list.List                           // of *compiledEntry, most recently used first
	held map[string]*list.Element            // by key
	weak map[string]weak.Pointer[appdef.App] // by key; removed once collected
}

type compiledEntry struct {
	key  string
	app  *appdef.App
	size int64
}

// weakRef is what a compiled definition's cleanup is given: its key, the
// weak pointer that the cache held for it, so that a cleanup does not remove
// the entry of a later compile of the same version, and the cache, weakly
// too: a definition the cache holds must not be reachable from its own
// cleanup, or neither would ever be collected.
type weakRef struct {
	cache weak.Pointer[compiledCache]
	key   string
	wp    weak.Pointer[appdef.App]
}

func newCompiledCache(budget int64) *compiledCache {
	if budget <= 0 {
		budget = DefaultCompiledCacheBytes
	}
	return &compiledCache{budget: budget, held: map[string]*list.Element{}, weak: map[string]weak.Pointer[appdef.App]{}}
}

// get returns the compiled definition of key if it is still in memory.
func (c *compiledCache) get(key string) *appdef.App {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.held[key]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*compiledEntry).app
	}
	if app := c.weak[key].Value(); app != nil {
		c.holdLocked(key, app)
		return app
	}
	return nil
}

// put adds a compiled definition and returns the one to use: app, or the
// copy already in memory.
func (c *compiledCache) put(app *appdef.App) *appdef.App {
	key := compiledKey(app.ID, app.Version)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.weak[key].Value(); old != nil {
		c.holdLocked(key, old)
		return old
	}
	wp := weak.Make(app)
	c.weak[key] = wp
	runtime.AddCleanup(app, forget, weakRef{cache: weak.Make(c), key: key, wp: wp})
	c.holdLocked(key, app)
	return app
}

// hold marks a compiled definition as recently used.
func (c *compiledCache) hold(app *appdef.App) {
	c.mu.Lock()
	c.holdLocked(compiledKey(app.ID, app.Version), app)
	c.mu.Unlock()
}

func (c *compiledCache) holdLocked(key string, app *appdef.App) {
	if e, ok := c.held[key]; ok {
		c.lru.MoveToFront(e)
		return
	}
	size := compiledSize(app)
	if size > c.budget {
		return
	}
	c.held[key] = c.lru.PushFront(&compiledEntry{key: key, app: app, size: size})
	c.used += size
	for c.used > c.budget {
		e := c.lru.Remove(c.lru.Back()).(*compiledEntry)
		delete(c.held, e.key)
		c.used -= e.size
	}
}

// forget drops the weak entry of a collected definition.
func forget(ref weakRef) {
	c := ref.cache.Value()
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.weak[ref.key] == ref.wp {
		delete(c.weak, ref.key)
	}
	c.mu.Unlock()
}

// CompiledStats describes the compiled definitions in memory.
type CompiledStats struct {
	// Bytes and Held are the estimated bytes and the number of the
	// definitions kept by the budget.
	Bytes int64
	Held  int
	// Live counts every compiled definition still in memory: those kept
	// by the budget, those installed by a loaded org, and those not yet
	// collected.
	Live int
	// Compiles counts the stored definitions compiled because they were no
	// longer in memory (or not yet, after a start).
	Compiles int64
}

// CompiledStats reports the compiled definitions in memory.
func (r *Registry) CompiledStats() CompiledStats {
	c := r.apps
	c.mu.Lock()
	defer c.mu.Unlock()
	return CompiledStats{Bytes: c.used, Held: len(c.held), Live: len(c.weak), Compiles: c.compiles.Load()}
}

// compiled returns the compiled definition of a stored version, compiling
// it when it is no longer in memory.
func (r *Registry) compiled(v switchboard.AppVersion) (*appdef.App, error) {
	key := compiledKey(v.AppID, v.Version)
	if app := r.apps.get(key); app != nil {
		return app, nil
	}
	app, err, _ := r.apps.sf.Do(key, func() (any, error) {
		if app := r.apps.get(key); app != nil {
			return app, nil
		}
		app, _, err := appdef.Parse(v.Definition, appdef.Options{OrgID: v.OrgID})
		if err != nil {
			return nil, switchboard.Internal(fmt.Errorf("compile stored definition %s: %w", key, err))
		}
		r.apps.compiles.Add(1)
		return r.apps.put(app), nil
	})
	if err != nil {
		return nil, err
	}
	return app.(*appdef.App), nil
}
