package runner

import (
	"context"
	"net/url"
	"strings"
	"sync"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Preparing a run turns a command (prepareCommand) or an action
// (prepareAction) and what the caller sent into the request to send,
// refusing before anything is sent whatever must not be. The steps both
// take are here; each refuses in the words of its own caller.

// account is what an app account adds to a run: its access token, which
// templates see as {{authToken}} and which is redacted with the app's
// secrets.
type account struct {
	token  string
	scope  map[string]any
	redact redactor
}

// appAccount gets the access token of the app account name, or a new one
// when failed (the token an upstream refused with a 401) is given.
func (r *Runner) appAccount(ctx context.Context, inst *registry.Installed, name, failed string) (account, error) {
	token, err := r.accountToken(ctx, inst, name, failed)
	if err != nil {
		return account{}, err
	}
	return account{token: token, scope: map[string]any{"authToken": tmpl.Opaque(token)},
		redact: append(redactor{token}, inst.Secrets...)}, nil // a new slice: inst.Secrets is shared
}

// accountToken returns the access token of an app account, or a new one
// when failed (the token an upstream refused) is given.
func (r *Runner) accountToken(ctx context.Context, inst *registry.Installed, name, failed string) (string, error) {
	if r.accounts == nil {
		return "", switchboard.Errorf(switchboard.CodeAccountDisconnected, "this server has no OAuth 2.0 accounts configured")
	}
	if failed != "" {
		return r.accounts.Refresh(ctx, inst, name, failed)
	}
	return r.accounts.Token(ctx, inst, name)
}

// scopes is the data a run's templates see, first match winning: the
// account's token (nil without an account), the app's settings bound for
// the command or action, then the run's own values (args or input).
func scopes(acct, settings map[string]any, values any) tmpl.Scopes {
	if acct != nil {
		return tmpl.Scopes{acct, settings, values}
	}
	return tmpl.Scopes{settings, values}
}

// checkURL renders a URL template through its shape and checks that the
// result keeps the template's structure: each value in the path stays in its
// segment and makes no dot-segment, each value in the query stays in its
// parameter (shape.Render), and the origin is the template's with each host
// value one DNS label (o, with value giving what each host interpolation
// became). It is the one check of a rendered URL, for commands and actions
// alike. A structural refusal is an invalid_input problem at base + "/" +
// the value's name; an origin refusal comes back for the caller to word.
func checkURL(shape *appdef.URLShape, o *appdef.Origin, data any, value func(name string) string, base string) (*url.URL, string, error) {
	// A pooled buffer: a local array escapes through the templates, which
	// made it an allocation of every run.
	buf := urlBuffers.Get().(*[]byte)
	defer urlBuffers.Put(buf)
	b, refused := shape.Render((*buf)[:0], data)
	if cap(b) <= maxPooledURL {
		*buf = b[:0]
	}
	if refused != nil {
		loc := base
		if refused.Name != "" {
			loc = appdef.Pointer(base, refused.Name)
		}
		return nil, "", &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail:   "the " + strings.TrimPrefix(base, "/") + " would change the structure of the URL, so nothing was sent; the problem says which value and why",
			Problems: []switchboard.Problem{{Location: loc, Message: refused.Reason}}}
	}
	rendered := string(b)
	u, err := url.Parse(rendered)
	if err == nil {
		err = o.Check(u, value)
	}
	if err != nil {
		return nil, "", &originError{err}
	}
	return u, rendered, nil
}

// urlBuffers hold the bytes of URLs being rendered.
var urlBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// maxPooledURL bounds the buffers kept in urlBuffers.
const maxPooledURL = 8 << 10

// originError is a rendered URL that does not parse or leaves the origin.
type originError struct{ err error }

func (e *originError) Error() string { return e.err.Error() }
