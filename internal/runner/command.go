package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Header is one header a caller asks a run to send; its value is a
// template.
type Header struct {
	Name, Value string
}

// CommandRequest is what a caller sends to run a command.
type CommandRequest struct {
	// Body is the body (a JSON value); HasBody tells an absent body from
	// null.
	Body    any
	HasBody bool
	Headers []Header
	Args    map[string]string
	// Envelope asks for the seed platform's command_run_response document
	// as well (Answer.Envelope): the caller sent Accept:
	// application/vnd.api+json.
	Envelope bool
	// Via names the protocol the run came through for its audit entry
	// ("mcp"); empty for the REST API.
	Via string
}

// ArgString reads an arg's value from a run request: a string, or a number
// or boolean printed as JavaScript would interpolate it (its String). Both
// ways to run a command (the REST route and an MCP tool call) read args
// with it.
func ArgString(v any) (string, bool) {
	switch v.(type) {
	case string, json.Number, bool:
		return primitiveString(v), true
	}
	return "", false
}

// Cache values of a run response.
const (
	CacheNone  = "none"
	CacheMiss  = "miss"
	CacheHit   = "hit"
	CacheStale = "stale"
)

// RunCommand runs a command for p and returns the response document of
// SPEC 4.7.
func (r *Runner) RunCommand(ctx context.Context, p *switchboard.Principal, name string, req *CommandRequest) (Answer, error) {
	res, err := r.resolve(ctx, p, name, false)
	if err != nil {
		return Answer{}, err
	}
	if err := inScope(p, res, name); err != nil {
		return Answer{}, err
	}
	if p.Session != nil && len(p.Session.Args) > 0 {
		if req, err = pinArgs(p.Session, req); err != nil {
			return Answer{}, err
		}
	}
	cmd, inst := res.Command, res.Inst
	start := r.now()
	call, err := r.prepareCommand(ctx, cmd, inst, req, "")
	if err != nil {
		return Answer{}, err
	}
	f, runErr := r.fetchCommand(ctx, p, cmd, inst, call)
	f.answer.RetryAfter = r.retryAfter(p.OrgID, cmd.Name, &f)
	if cmd.AuditLogging {
		entry := switchboard.AuditEntry{
			ID: auditID(start), Time: start.UTC(), OrgID: p.OrgID, ActorID: p.KeyID, ActorName: p.KeyName,
			SessionID: sessionID(p), Subject: sessionSubject(p),
			Kind: "command", Name: cmd.Name, Args: req.Args, Method: cmd.Method, URL: call.redact.String(call.url.String()),
			Status: f.status, DurationMs: r.now().Sub(start).Milliseconds(), Cache: f.cache,
			UpstreamStatus: f.upstreamStatus, Error: f.upstreamError, Via: req.Via,
		}
		if err := r.writeAudit(ctx, entry, runErr); err != nil {
			return Answer{}, err
		}
	}
	if runErr != nil {
		return Answer{}, named(runErr, "command", cmd.Name)
	}
	if req.Envelope {
		if f.answer.Envelope, err = envelope(cmd, req, call, f.answer); err != nil {
			return Answer{}, switchboard.Internal(err)
		}
	}
	return f.answer, nil
}

// call is a prepared upstream request.
type call struct {
	method  string
	url     *url.URL
	rawURL  string // the rendered URL, as the cache key has it
	body    []byte
	json    bool // the body is JSON: sent with its Content-Type
	redact  redactor
	headers []Header // rendered, for the cache key
	// retry prepares the request again with a refreshed token, after the
	// upstream refused the account's token with a 401 (nil: no retry).
	retry func(context.Context) (*call, error)
	// auth is the app's OAuth client, whose refreshOn says which statuses
	// call for the retry; org is the org the run is for (SPEC 13).
	auth *appdef.Auth
	org  string
}

// prepareCommand checks the args, renders the URL, headers and body, checks
// the origin and converts the body: everything that can refuse a run
// before anything is sent.
//
// A command with an appAccountName gets the account's access token as
// {{authToken}}; failed is the token an upstream refused with a 401, when
// preparing the one retry that follows a refresh.
func (r *Runner) prepareCommand(ctx context.Context, cmd *appdef.Command, inst *registry.Installed, req *CommandRequest, failed string) (*call, error) {
	if err := checkArgs(cmd, req.Args); err != nil {
		return nil, err
	}
	c := &call{method: cmd.Method, redact: redactor(inst.Secrets)}
	var acct map[string]any
	if cmd.AppAccountName != "" {
		a, err := r.appAccount(ctx, inst, cmd.AppAccountName, failed)
		if err != nil {
			return nil, err
		}
		acct, c.redact, c.auth = a.scope, a.redact, inst.App.Auth
		if failed == "" {
			token := a.token
			c.retry = func(ctx context.Context) (*call, error) { return r.prepareCommand(ctx, cmd, inst, req, token) }
		}
	}
	if err := r.commandMissing(cmd, inst, req, acct); err != nil {
		return nil, err
	}
	var err error
	if c.url, c.rawURL, err = renderURL(cmd, req.Args); err != nil {
		return nil, err
	}
	data := scopes(acct, inst.Bindings(cmd.Name), req.Args)
	var problems []switchboard.Problem
	c.headers = r.renderHeaders(req.Headers, data, &problems)
	// Rendering works in place, and a request with an account may be
	// prepared again for a retry: then render a copy, never what was
	// rendered once.
	body, hasBody := r.renderBody(cmd, req, acct != nil, data, &problems)
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "a template in the run is not valid; each problem has its location and line:column", Problems: problems}
	}
	if hasBody {
		if c.body, err = convertBody(cmd, body); err != nil {
			return nil, err
		}
		c.json = true
	}
	return c, nil
}

var jsonContentType = []string{"application/json"}

// httpHeader is the header the upstream gets: the rendered headers (of two
// with one name, the last) and, with a JSON body, its Content-Type. Only a
// live call builds it: a cache hit needs the rendered list alone, for its
// key (the allocation profile of cached runs had this map as its largest
// allocation in the runner).
func (c *call) httpHeader() http.Header {
	h := make(http.Header, len(c.headers)+1)
	for _, hd := range c.headers {
		h[http.CanonicalHeaderKey(hd.Name)] = []string{hd.Value}
	}
	if c.json {
		h["Content-Type"] = jsonContentType // outbound never modifies it
	}
	return h
}

// checkArgs refuses a run with args the command does not permit, naming
// each one.
func checkArgs(cmd *appdef.Command, args map[string]string) error {
	var problems []switchboard.Problem
	for k := range args {
		if !cmd.Permits(k) {
			problems = append(problems, switchboard.Problem{Location: appdef.Pointer("/args", k),
				Message: fmt.Sprintf("%q is not a permitted arg of this command (permitted: %s)", k, strings.Join(cmd.Args, ", "))})
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Location < problems[j].Location })
	return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the run has args the command does not permit; each problem names the arg and the ones permitted", Problems: problems}
}

// renderURL renders the command's URL with the args and checks where it
// goes (checkURL). It returns the URL parsed and as rendered.
func renderURL(cmd *appdef.Command, args map[string]string) (*url.URL, string, error) {
	u, rendered, err := checkURL(cmd.Shape, &cmd.Origin, args, func(name string) string { return args[name] }, "/args")
	if oe, ok := err.(*originError); ok {
		return nil, "", &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail:   "the args would send the request somewhere the command's URL does not aim: " + oe.Error(),
			Problems: []switchboard.Problem{{Location: "/args", Message: oe.Error()}}}
	}
	return u, rendered, err
}

// renderHeaders renders the values of the headers a run asks to send, in
// order, as the cache key takes them and call.httpHeader sends them; each
// template that fails is a problem.
func (r *Runner) renderHeaders(hs []Header, data tmpl.Scopes, problems *[]switchboard.Problem) []Header {
	var rendered []Header
	if len(hs) > 0 {
		rendered = make([]Header, 0, len(hs))
	}
	for _, h := range hs {
		v, perr := r.render(h.Value, data)
		if perr != nil {
			perr.Location = appdef.Pointer("/headers", h.Name)
			*problems = append(*problems, *perr)
			continue
		}
		rendered = append(rendered, Header{h.Name, v})
	}
	return rendered
}

// renderBody renders every string of the run's body as a template, a copy
// of it when clone is set. A command with an input schema gets an empty
// object for an absent body. hasBody reports whether there is a body to
// send; each template that fails is a problem.
func (r *Runner) renderBody(cmd *appdef.Command, req *CommandRequest, clone bool, data tmpl.Scopes, problems *[]switchboard.Problem) (body any, hasBody bool) {
	body, hasBody = req.Body, req.HasBody
	if clone {
		body = jsonv.Clone(body)
	}
	if !hasBody && cmd.InputSchema != nil {
		body, hasBody = jsonv.NewObject(0), true
	}
	if hasBody {
		var path [8]pathToken
		body = r.renderValue(body, data, append(path[:0], pathToken{key: "body", index: -1}), problems)
	}
	return body, hasBody
}

// convertBody converts a rendered body with the command's input schema,
// refusing it when it does not match, and encodes it.
func convertBody(cmd *appdef.Command, body any) ([]byte, error) {
	body, violations := cmd.InputSchema.Input(body, "/body")
	if len(violations) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: fmt.Sprintf("the body does not match the command's input schema (%d problem(s))", len(violations)), Problems: violations}
	}
	b, err := jsonv.Marshal(body)
	if err != nil {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the body cannot be encoded as JSON", Err: err}
	}
	return b, nil
}

// render renders a template sent with a run. A problem has no location:
// the caller knows it.
func (r *Runner) render(src string, data any) (string, *switchboard.Problem) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	t, err := r.tmpls.Get(src)
	if err != nil {
		p := switchboard.Problem{Message: "template: " + err.Error()}
		var te *tmpl.Error
		if errors.As(err, &te) {
			p.Message, p.Line, p.Column = "template: "+te.Message, te.Line, te.Column
		}
		return "", &p
	}
	out, err := t.Render(data)
	if err != nil {
		return "", &switchboard.Problem{Message: "template: " + err.Error()}
	}
	return out, nil
}

// pathToken is a member name, or an array index when index >= 0.
type pathToken struct {
	key   string
	index int
}

// renderValue renders every string inside a JSON value as a template. It
// changes v in place (the caller decoded it for this run) and returns it.
// path holds the tokens of v's JSON pointer, turned into a string only for
// a problem.
func (r *Runner) renderValue(v any, data any, path []pathToken, problems *[]switchboard.Problem) any {
	switch x := v.(type) {
	case string:
		s, p := r.render(x, data)
		if p != nil {
			loc := ""
			for _, tok := range path {
				if tok.key == "" && tok.index >= 0 {
					loc = appdef.Pointer(loc, tok.index)
				} else {
					loc = appdef.Pointer(loc, tok.key)
				}
			}
			p.Location = loc
			*problems = append(*problems, *p)
			return x
		}
		return s
	case []any:
		for i, e := range x {
			x[i] = r.renderValue(e, data, append(path, pathToken{index: i}), problems)
		}
	case *jsonv.Object:
		for i := range x.Members {
			m := &x.Members[i]
			m.Value = r.renderValue(m.Value, data, append(path, pathToken{key: m.Key, index: -1}), problems)
		}
	}
	return v
}

// fetchCommand calls the upstream, through the cache when the command has
// cacheSeconds, and encodes the run response.
func (r *Runner) fetchCommand(ctx context.Context, p *switchboard.Principal, cmd *appdef.Command, inst *registry.Installed, c *call) (fetched, error) {
	c.org = p.OrgID
	if cmd.CacheSeconds > 0 && r.cache != nil {
		return r.fetchCached(ctx, p, cmd, inst, c)
	}
	return r.answer(r.live(ctx, cmd, c), CacheNone)
}

// encodeResponse encodes a run response without its closing cache members:
// {"status":200,"headers":{...},"body":...
func encodeResponse(resp *outbound.Response, cmd *appdef.Command, red redactor) []byte {
	dst := make([]byte, 0, len(resp.Body)+256)
	dst = append(dst, `{"status":`...)
	dst = strconv.AppendInt(dst, int64(resp.Status), 10)
	dst = append(dst, `,"headers":{`...)
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst, _ = jsonv.Append(dst, strings.ToLower(k))
		dst = append(dst, ':')
		dst, _ = jsonv.Append(dst, red.String(strings.Join(resp.Header[k], ", ")))
	}
	dst = append(dst, `},"body":`...)
	dst, _ = jsonv.Append(dst, responseBody(resp.Body, cmd, red))
	return dst
}

// responseBody is the upstream body as a JSON value when it is JSON
// (converted and filtered by the output schema), else as text.
func responseBody(body []byte, cmd *appdef.Command, red redactor) any {
	if len(body) == 0 {
		return ""
	}
	v, err := jsonv.Decode(body)
	if err != nil {
		return red.String(string(body))
	}
	if cmd != nil && cmd.OutputSchema != nil {
		v = cmd.OutputSchema.Output(v)
	}
	return red.Value(v)
}

// Answer is a run's response document: the encoded response without its
// closing cache members, which Tail supplies. Keeping them apart lets a
// cached document be written as it is stored, without a copy.
type Answer struct {
	Doc      []byte
	Cache    string
	Fallback bool
	// Envelope is the seed platform's document of the run, when the
	// request asked for it.
	Envelope []byte
	// RetryAfter is the upstream's Retry-After while it lasts (SPEC 13),
	// for the answer's Retry-After header ("" for none).
	RetryAfter string
}

// tails are the closing members of each answer, built once.
var tails = map[string]string{
	CacheNone: `,"cache":"none"}`, CacheMiss: `,"cache":"miss"}`, CacheHit: `,"cache":"hit"}`,
	CacheStale: `,"cache":"stale"}`,
}

// Tail returns the members that close the document.
func (a Answer) Tail() string {
	if a.Fallback {
		return `,"cache":"stale","cacheFallback":true}`
	}
	return tails[a.Cache]
}

// Bytes returns the whole document.
func (a Answer) Bytes() []byte {
	return append(append(make([]byte, 0, len(a.Doc)+40), a.Doc...), a.Tail()...)
}
