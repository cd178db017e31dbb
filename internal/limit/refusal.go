package limit

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Refusal is a run refused before anything was sent upstream: the problem
// to answer, the headers to answer it with (Retry-After, and the
// RateLimit-Policy and RateLimit fields for a rate limit), and whether the
// cache may answer instead with a stale response (SPEC 13: it may for the
// concurrency cap and an upstream's Retry-After, not for a rate limit).
type Refusal struct {
	Err    *switchboard.Error
	Header http.Header
	Stale  bool
	// Reason is what refused it, for metrics: "rate_limit", "inflight" or
	// "upstream_retry_after".
	Reason string
}

func (e *Refusal) Error() string { return e.Err.Error() }
func (e *Refusal) Unwrap() error { return e.Err }

// ResponseHeader returns the headers the refusal is answered with.
func (e *Refusal) ResponseHeader() http.Header { return e.Header }

// seconds rounds d up to whole seconds, at least 1: Retry-After and the
// RateLimit fields take whole seconds, and a client that waits less than
// asked is refused again.
func seconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// policy is one limit a run was counted against, named for the
// RateLimit-Policy field.
type policy struct {
	name string // "org" or "command"
	rate Rate
}

// rateHeaders are the fields of the IETF draft "RateLimit header fields
// for HTTP" (draft-ietf-httpapi-ratelimit-headers) for a refused run:
//
//	RateLimit-Policy: "org";q=20;w=2, "command";q=5;w=10
//	RateLimit: "org";r=3;t=1, "command";r=0;t=2
//
// q is the burst and w the seconds it takes to come back whole; r is what
// is left now and t the seconds until the next run is allowed (for a
// policy that refuses) or until the whole burst is back (for one that
// does not). Retry-After is the longest wait of the refusing policies.
func rateHeaders(ps []policy, ds []Decision) http.Header {
	var pol, cur strings.Builder
	var wait time.Duration
	for i, p := range ps {
		if i > 0 {
			pol.WriteString(", ")
			cur.WriteString(", ")
		}
		d := ds[i]
		pol.WriteString(`"` + p.name + `";q=` + strconv.Itoa(p.rate.Burst) + ";w=" + strconv.FormatInt(p.rate.Window(), 10))
		t := d.Reset
		if !d.Allowed {
			t = d.RetryAfter
			wait = max(wait, d.RetryAfter)
		}
		cur.WriteString(`"` + p.name + `";r=` + strconv.Itoa(d.Remaining) + ";t=" + strconv.FormatInt(seconds(t), 10))
	}
	return http.Header{
		"Retry-After":      {strconv.FormatInt(seconds(wait), 10)},
		"Ratelimit-Policy": {pol.String()},
		"Ratelimit":        {cur.String()},
	}
}
