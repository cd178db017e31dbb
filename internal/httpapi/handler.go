package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
)

// handlerFunc is a handler that returns its error instead of writing it,
// so that a failure is one return statement and every failure is written
// the same way, by ServeHTTP (pkgsite's shape).
//
// The contract: return an error only before writing anything. Once a
// handler has called WriteHeader or Write, the response is its own; it
// returns nil, since a problem document written after it would be a
// second response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP is the one place a handler's error is written: as a problem
// document, its code noted for the request's log line (see fail).
func (f handlerFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := f(w, r); err != nil {
		fail(w, r, err)
	}
}

// authedFunc is a handlerFunc that runs with an authenticated principal;
// auth turns it into a handlerFunc. The same contract holds.
type authedFunc func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error
