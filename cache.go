package switchboard

import (
	"context"
	"time"
)

// Cache keeps run responses and the Cache Fallback Mode state of each cache
// key (SPEC 4). Keys are digests that already include the org, the command,
// the app version and the rendered request, so an entry never crosses orgs.
// Implementations return errors only when the cache itself fails; callers
// then run uncached.
type Cache interface {
	// Lookup returns the cached entry of key (nil when there is none or it
	// expired) and its fallback state. When fallback mode is active it
	// counts this run, atomically, and Probe reports whether this run is
	// one of the every-5th that call the upstream live.
	Lookup(ctx context.Context, key string) (CacheLookup, error)
	// Peek returns the cached entry of key (nil when there is none or it
	// expired) without counting a run: for a caller waiting while another
	// instance fetches.
	Peek(ctx context.Context, key string) (*CacheEntry, error)
	// Store saves a response fetched live with a status below 400, for 24
	// hours, and turns fallback mode off for key. It reports whether
	// fallback mode was on: of callers on every instance sharing the cache,
	// only the one whose call turned it off hears true.
	Store(ctx context.Context, key string, e CacheEntry) (bool, error)
	// Activate turns fallback mode on for key and reports whether it was
	// off (only the caller whose call turned it on hears true); when it is
	// on already, the run count goes on.
	Activate(ctx context.Context, key string) (bool, error)
	// Lock tries to become the one caller fetching key live, for at most
	// ttl. ok is false when another caller holds the lock; release gives it
	// up early.
	Lock(ctx context.Context, key string, ttl time.Duration) (release func(), ok bool, err error)
}

// CacheEntry is a cached response: the encoded response document without
// its cache members, and when it was fetched.
type CacheEntry struct {
	Doc       []byte
	Status    int
	FetchedAt time.Time
}

// CacheLookup is the result of Cache.Lookup.
type CacheLookup struct {
	Entry    *CacheEntry
	Fallback bool
	Probe    bool
}

// CacheTTL is how long a response is kept, whatever the command's
// cacheSeconds.
const CacheTTL = 24 * time.Hour

// ProbeEvery is the period of live calls in fallback mode: every 5th run.
const ProbeEvery = 5
