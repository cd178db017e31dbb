package httpapi

import (
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/switchboardhq/switchboard"
)

// Request bodies are read into buffers that grow only as bytes arrive, so a
// client that claims a large Content-Length and sends nothing costs
// nothing; http.Server.ReadTimeout (internal/server) ends a body that does
// not arrive. bodyGate also caps the bodies being read at once, in total and
// per key, so that many slow clients cannot hold every worker. Counting is
// lock-free: a run pays two atomic adds and a sync.Map load.

// The default caps of the bodies being read at once.
const (
	DefaultMaxBodies       = 256
	DefaultMaxBodiesPerKey = 32
)

// maxPooledBuffer is the largest buffer put back in the pool: one that grew
// for a large body is left to the collector rather than kept for ever.
const maxPooledBuffer = 256 << 10

type bodyGate struct {
	max, maxPerKey int64
	inFlight       atomic.Int64
	perKey         sync.Map // key id -> *atomic.Int64
}

func newBodyGate(max, maxPerKey int) *bodyGate {
	if max <= 0 {
		max = DefaultMaxBodies
	}
	if maxPerKey <= 0 {
		maxPerKey = DefaultMaxBodiesPerKey
	}
	return &bodyGate{max: int64(max), maxPerKey: int64(maxPerKey)}
}

// acquire counts a body being read for the key (nil before authentication),
// or refuses it with 503 unavailable when a cap is reached. The caller
// passes what it returns to release (a counter, not a closure: a closure
// would cost an allocation per run).
func (g *bodyGate) acquire(p *switchboard.Principal) (*atomic.Int64, error) {
	if g.inFlight.Add(1) > g.max {
		g.inFlight.Add(-1)
		return nil, busy("the server is reading as many request bodies as it allows at once")
	}
	if p == nil {
		return nil, nil
	}
	c, ok := g.perKey.Load(p.KeyID)
	if !ok {
		c, _ = g.perKey.LoadOrStore(p.KeyID, new(atomic.Int64))
	}
	n := c.(*atomic.Int64)
	if n.Add(1) > g.maxPerKey {
		n.Add(-1)
		g.inFlight.Add(-1)
		return nil, busy("this key is sending as many request bodies as it may at once")
	}
	return n, nil
}

// release ends what acquire counted.
func (g *bodyGate) release(perKey *atomic.Int64) {
	if perKey != nil {
		perKey.Add(-1)
	}
	g.inFlight.Add(-1)
}

// busy refuses a body unread: Connection: close tells net/http not to read
// the rest of it first, so the answer goes out at once.
func busy(why string) error {
	return &withStatus{header: http.Header{"Retry-After": {"1"}, "Connection": {"close"}},
		err: &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: why + "; retry in a moment"}}
}
