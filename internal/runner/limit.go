package runner

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// SPEC 13 on the run path: a run that would call an upstream first passes
// the limits (the upstream's own Retry-After, the org's and the command's
// rate limits, the cap on runs in flight per org and host); a run answered
// from the cache passes none of them and is not counted. An upstream's 429
// or 503 with a Retry-After is remembered for the org and command.

// admit asks the limits whether a run of name for org may call u now. The
// place's Release gives it back among the runs in flight; a refusal is a
// *limit.Refusal.
func (r *Runner) admit(ctx context.Context, org, name string, u *url.URL) (limit.Place, error) {
	if r.limits == nil {
		return limit.Place{}, nil
	}
	return r.limits.Admit(ctx, org, name, u.Host)
}

// note remembers an upstream's Retry-After on a 429 or 503.
func (r *Runner) note(org, name string, resp *outbound.Response) {
	if r.limits != nil && resp != nil && (resp.Status == http.StatusTooManyRequests || resp.Status == http.StatusServiceUnavailable) {
		r.limits.Note(org, name, resp.Status, resp.Header)
	}
}

// refusal returns err's *limit.Refusal, or nil.
func refusal(err error) *limit.Refusal {
	var ref *limit.Refusal
	if err != nil && errors.As(err, &ref) {
		return ref
	}
	return nil
}

// refreshes reports whether an upstream status means that the account's
// token was refused: auth.refreshOn, [401] by default.
func refreshes(auth *appdef.Auth, status int) bool {
	if auth == nil {
		return status == http.StatusUnauthorized
	}
	return auth.Refreshes(status)
}

// retryAfter is the Retry-After a run's answer carries while the
// upstream's own lasts (SPEC 13): for an answer with the upstream's 429 or
// 503, and for a stale one served meanwhile.
func (r *Runner) retryAfter(org, name string, f *fetched) string {
	if r.limits == nil || (f.status != http.StatusTooManyRequests && f.status != http.StatusServiceUnavailable && f.cache != CacheStale) {
		return ""
	}
	d := r.held(org, name)
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64((d+999_999_999)/1e9), 10)
}

// callActionLimited calls an action's upstream once the limits admit it.
// An upstream_error with the upstream's Retry-After carries it as the
// answer's Retry-After header.
func (r *Runner) callActionLimited(ctx context.Context, org string, a *appdef.Action, req *actionRequest) (any, int, error) {
	place, err := r.admit(ctx, org, a.Name, req.url)
	if err != nil {
		return nil, 0, err
	}
	defer place.Release()
	req.org = org
	out, status, err := r.callAction(ctx, a, req)
	if err != nil && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
		if d := r.held(org, a.Name); d > 0 {
			err = &headerError{err: err, header: http.Header{"Retry-After": {strconv.FormatInt(int64((d+999_999_999)/1e9), 10)}}}
		}
	}
	return out, status, err
}

// headerError is an error answered with headers of its own.
type headerError struct {
	err    error
	header http.Header
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// ResponseHeader returns the headers to answer with.
func (e *headerError) ResponseHeader() http.Header { return e.header }

// held is how long runs of name for org still wait for the upstream's
// Retry-After.
func (r *Runner) held(org, name string) time.Duration {
	if r.limits == nil {
		return 0
	}
	return r.limits.Held(org, name)
}
