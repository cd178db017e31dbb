package client

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// The codes of the problem documents that the server answers with, one per
// kind of failure; Error.Code holds one of them (or, for an answer that is
// not a problem document, the HTTP status text). docs/errors.md describes
// each one and what to do about it.
const (
	CodeUnauthorized        = "unauthorized"         // 401: no key, or a key the server does not know
	CodeForbidden           = "forbidden"            // 403: the key's role may not call the route
	CodeNotFound            = "not_found"            // 404: no such app, command, key, ... (or another org's)
	CodeConflict            = "conflict"             // 409: the version exists with another definition
	CodeInvalidDefinition   = "invalid_definition"   // 400: an app definition with problems (Error.Errors)
	CodeInvalidInput        = "invalid_input"        // 400: a request with problems (Error.Errors)
	CodePayloadTooLarge     = "payload_too_large"    // 413: the request's body is over the limit
	CodeRateLimited         = "rate_limited"         // 429: over a rate limit; retry after Retry-After
	CodeUpstreamUnreachable = "upstream_unreachable" // 502: the upstream could not be reached
	CodeUpstreamError       = "upstream_error"       // 502: an action's upstream answered 400 or more
	CodeUpstreamTimeout     = "upstream_timeout"     // 504: the upstream did not answer in time
	CodeAccountDisconnected = "account_disconnected" // 424: the app account needs to be connected again
	CodeSettingMissing      = "setting_missing"      // 424: a setting the run needs has no value
	CodeUpstreamForbidden   = "upstream_forbidden"   // 403: the upstream's address is refused (a private network)
	CodeUnavailable         = "unavailable"          // 503: the server is busy or not ready; retry
	CodeInternal            = "internal"             // 500: a fault of the server, logged there
)

// ConnError is a request that got no answer from the server: nothing
// listens at its address, the name does not resolve, the connection broke
// or timed out. Its Err is the transport's error.
type ConnError struct {
	Server string // the server's base URL
	Err    error
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("no Switchboard server at %s: %v", e.Server, e.Err)
}

func (e *ConnError) Unwrap() error { return e.Err }

// Refused reports whether the connection was refused: no process listens
// at the server's address.
func (e *ConnError) Refused() bool { return errors.Is(e.Err, syscall.ECONNREFUSED) }

// NotResolved reports whether the server's host name did not resolve.
func (e *ConnError) NotResolved() bool {
	var de *net.DNSError
	return errors.As(e.Err, &de)
}
