package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// RunAction runs a rest_api workflow action (SPEC 6) with input and returns
// its output: the outputTemplate rendered against the response, converted
// and filtered by the outputSchema. An upstream status of 400 or more is an
// upstream_error carrying the status and body.
func (r *Runner) RunAction(ctx context.Context, p *switchboard.Principal, name string, input any, via string) (any, error) {
	res, err := r.resolve(ctx, p, name, true)
	if err != nil {
		return nil, err
	}
	a, inst := res.Action, res.Inst
	if input == nil {
		input = jsonv.NewObject(0)
	}
	input, violations := a.InputSchema.Input(input, "/input")
	if len(violations) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: fmt.Sprintf("the input does not match the action's input schema (%d problem(s))", len(violations)), Problems: violations}
	}
	start := r.now()
	req, err := r.prepareAction(ctx, a, inst, input, "")
	if err != nil {
		return nil, err
	}
	out, status, runErr := r.callActionLimited(ctx, p.OrgID, a, req)
	red := req.redact
	entry := switchboard.AuditEntry{
		ID: auditID(start), Time: start.UTC(), OrgID: p.OrgID, ActorID: p.KeyID, ActorName: p.KeyName,
		Kind: "action", Name: a.Name, Args: map[string]string{}, Method: req.method, URL: red.String(req.url.String()),
		Status: status, DurationMs: r.now().Sub(start).Milliseconds(), Cache: CacheNone, Via: via,
	}
	if err := r.writeAudit(ctx, entry, runErr); err != nil {
		return nil, err
	}
	if runErr != nil {
		return nil, named(runErr, "action", a.Name)
	}
	return out, nil
}

// actionRequest is a rendered inputTemplate.
type actionRequest struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
	json   bool
	redact redactor
	// retry prepares the request again with a refreshed account token
	// after a 401 (nil: no retry).
	retry func(context.Context) (*actionRequest, error)
	// auth is the app's OAuth client (its refreshOn); org is the run's
	// org (SPEC 13).
	auth *appdef.Auth
	org  string
}

// prepareAction renders the inputTemplate with the input and the action's
// settings and turns it into a request: uri (its origin checked), method,
// headers, qs, data and json.
func (r *Runner) prepareAction(ctx context.Context, a *appdef.Action, inst *registry.Installed, input any, failed string) (*actionRequest, error) {
	red := redactor(inst.Secrets)
	var acct map[string]any
	var retry func(context.Context) (*actionRequest, error)
	if a.AppAccountName != "" {
		ac, err := r.appAccount(ctx, inst, a.AppAccountName, failed)
		if err != nil {
			return nil, err
		}
		acct, red = ac.scope, ac.redact
		if failed == "" {
			token := ac.token
			retry = func(ctx context.Context) (*actionRequest, error) { return r.prepareAction(ctx, a, inst, input, token) }
		}
	}
	if err := actionMissing(a, inst, acct); err != nil {
		return nil, err
	}
	data := scopes(acct, inst.Bindings(a.Name), input)
	v, err := a.Input.Render(data)
	if err != nil {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the inputTemplate could not be rendered: " + err.Error(), Err: err}
	}
	it, _ := v.(*jsonv.Object)
	req := &actionRequest{header: http.Header{}, redact: red, retry: retry, auth: inst.App.Auth}
	if req.url, err = actionURL(a, data); err != nil {
		return nil, err
	}
	if req.method, err = actionMethod(it); err != nil {
		return nil, err
	}
	actionHeaders(it, req.header)
	actionQuery(req.url, it)
	if err := actionBody(it, req); err != nil {
		return nil, err
	}
	return req, nil
}

// invalidInput refuses an action's input with one problem.
func invalidInput(loc, msg string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: msg,
		Problems: []switchboard.Problem{{Location: loc, Message: msg}}}
}

// actionURL renders the inputTemplate's uri (as the whole inputTemplate
// rendered it) and checks where it goes (checkURL); the host's
// interpolations are looked up in data.
func actionURL(a *appdef.Action, data tmpl.Scopes) (*url.URL, error) {
	u, _, err := checkURL(a.Shape, &a.Origin, data, func(name string) string { return valueString(lookupRoot(data, name)) }, "/input")
	if oe, ok := err.(*originError); ok {
		return nil, invalidInput("/input", "the input would send the request somewhere the action's uri does not aim: "+oe.Error())
	}
	return u, err
}

// actionMethod is the rendered inputTemplate's method, upper case.
func actionMethod(it *jsonv.Object) (string, error) {
	m, _ := jsonv.Get(it, "method")
	ms, _ := m.(string)
	method := strings.ToUpper(ms)
	switch method {
	case "GET", "POST", "PUT", "PATCH", "DELETE":
		return method, nil
	}
	return "", invalidInput("/input", fmt.Sprintf("the inputTemplate's method rendered to %q; it must be get, post, put, patch or delete", ms))
}

// actionHeaders adds the rendered inputTemplate's headers to h.
func actionHeaders(it *jsonv.Object, h http.Header) {
	if hs, ok := jsonv.Get(it, "headers"); ok {
		jsonv.Range(hs, func(k string, val any) bool {
			h[http.CanonicalHeaderKey(k)] = []string{primitiveString(val)}
			return true
		})
	}
}

// actionQuery appends the rendered inputTemplate's qs, a string or an
// object stringified as npm qs does, to u's query.
func actionQuery(u *url.URL, it *jsonv.Object) {
	qs, ok := jsonv.Get(it, "qs")
	if !ok || qs == nil {
		return
	}
	var q string
	switch x := qs.(type) {
	case string:
		q = strings.TrimPrefix(x, "?")
	default:
		if jsonv.IsObject(x) {
			q = stringifyQuery(x)
		}
	}
	if q != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
}

// actionBody encodes the rendered inputTemplate's data into req: JSON when
// json is true, a form for an object, else text. With json, the request
// accepts JSON unless its headers say otherwise.
func actionBody(it *jsonv.Object, req *actionRequest) error {
	j, _ := jsonv.Get(it, "json")
	req.json = j == true
	if body, ok := jsonv.Get(it, "data"); ok && body != nil {
		switch {
		case req.json:
			var err error
			if req.body, err = jsonv.Marshal(body); err != nil {
				return invalidInput("/input", "the inputTemplate's data cannot be encoded as JSON")
			}
			req.header.Set("Content-Type", "application/json")
		case jsonv.IsObject(body):
			req.body = []byte(stringifyQuery(body))
			req.header.Set("Content-Type", "application/x-www-form-urlencoded")
		default:
			req.body = []byte(primitiveString(body))
		}
	}
	if req.json && req.header.Get("Accept") == "" {
		req.header.Set("Accept", "application/json")
	}
	return nil
}

// lookupRoot finds a root-level name in the template data.
func lookupRoot(data tmpl.Scopes, name string) any {
	for _, s := range data {
		if v, ok := jsonv.Get(s, name); ok {
			return v
		}
	}
	return nil
}

func valueString(v any) string {
	if v == nil {
		return ""
	}
	return primitiveString(v)
}

// callAction sends the request and builds the output.
func (r *Runner) callAction(ctx context.Context, a *appdef.Action, req *actionRequest) (any, int, error) {
	org := req.org // a retry's request is prepared anew, without it
	resp, err := r.out.Do(ctx, &outbound.Request{Method: req.method, URL: req.url, Header: req.header, Body: req.body})
	if err == nil && req.retry != nil && refreshes(req.auth, resp.Status) {
		// The account's token was refused: refresh it once and retry once.
		req2, rerr := req.retry(ctx)
		if rerr != nil {
			return nil, resp.Status, rerr
		}
		*req = *req2 // the audit entry records what was sent last
		resp, err = r.out.Do(ctx, &outbound.Request{Method: req.method, URL: req.url, Header: req.header, Body: req.body})
	}
	if err != nil {
		return nil, 0, err
	}
	r.note(org, a.Name, resp)
	red := req.redact
	var body any = red.String(string(resp.Body))
	if req.json && len(resp.Body) > 0 {
		if v, err := jsonv.Decode(resp.Body); err == nil {
			body = red.Value(v)
		}
	}
	if resp.Status >= 400 {
		return nil, resp.Status, &switchboard.Error{Code: switchboard.CodeUpstreamError,
			Detail: fmt.Sprintf("the upstream answered %d", resp.Status),
			Extra:  map[string]any{"upstreamStatus": resp.Status, "upstreamBody": body}}
	}
	response := jsonv.NewObject(3)
	response.Set("statusCode", resp.Status)
	response.Set("headers", headerObject(resp.Header, red))
	response.Set("body", body)
	ctxObj := jsonv.NewObject(2)
	ctxObj.Set("body", body)
	ctxObj.Set("response", response)
	var out any = ctxObj
	if a.Output != nil {
		if out, err = a.Output.Render(ctxObj); err != nil {
			return nil, resp.Status, &switchboard.Error{Code: switchboard.CodeUpstreamError, Detail: "the outputTemplate could not be rendered: " + err.Error(), Err: err}
		}
	}
	if a.OutputSchema != nil {
		out = a.OutputSchema.Output(out)
	}
	return out, resp.Status, nil
}

// headerObject is a response's headers as Node gives them: lower-case names,
// several values joined by ", ".
func headerObject(h http.Header, red redactor) *jsonv.Object {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	o := jsonv.NewObject(len(names))
	for _, k := range names {
		o.Set(strings.ToLower(k), red.String(strings.Join(h[k], ", ")))
	}
	return o
}
