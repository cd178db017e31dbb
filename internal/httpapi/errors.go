package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// problem is an RFC 9457 problem document.
type problem struct {
	Type   string                `json:"type"`
	Title  string                `json:"title"`
	Status int                   `json:"status"`
	Detail string                `json:"detail,omitempty"`
	Code   switchboard.Code      `json:"code"`
	Errors []switchboard.Problem `json:"errors,omitempty"`
}

var titles = map[switchboard.Code]string{
	switchboard.CodeUnauthorized:        "Unauthorized",
	switchboard.CodeForbidden:           "Forbidden",
	switchboard.CodeNotFound:            "Not found",
	switchboard.CodeConflict:            "Conflict",
	switchboard.CodeInvalidDefinition:   "Invalid app definition",
	switchboard.CodeInvalidInput:        "Invalid input",
	switchboard.CodePayloadTooLarge:     "Payload too large",
	switchboard.CodeRateLimited:         "Too many requests",
	switchboard.CodeUpstreamUnreachable: "Upstream unreachable",
	switchboard.CodeUpstreamError:       "Upstream error",
	switchboard.CodeUpstreamTimeout:     "Upstream timeout",
	switchboard.CodeAccountDisconnected: "App account disconnected",
	switchboard.CodeSettingMissing:      "Setting missing",
	switchboard.CodeUpstreamForbidden:   "Upstream forbidden",
	switchboard.CodeUnavailable:         "Service unavailable",
	switchboard.CodeInternal:            "Internal error",
}

// ProblemTypeBase prefixes each problem's type: the errors page documents
// every code under its own anchor.
const ProblemTypeBase = "https://github.com/switchboardhq/switchboard/blob/main/docs/errors.md#"

// writeError writes err as a problem document. Anything that is not a
// *switchboard.Error is a 500 whose cause is logged with the request id and
// never sent.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *switchboard.Error
	if !errors.As(err, &e) {
		e = switchboard.Internal(err)
	}
	status := e.Code.Status()
	var ws *withStatus
	if errors.As(err, &ws) {
		if ws.status != 0 {
			status = ws.status
		}
		for k, v := range ws.header {
			w.Header()[k] = v
		}
	}
	var hs interface{ ResponseHeader() http.Header } // a refusal's Retry-After and RateLimit fields (SPEC 13)
	if errors.As(err, &hs) {
		for k, v := range hs.ResponseHeader() {
			w.Header()[k] = v
		}
	}
	if e.Code == switchboard.CodeInternal {
		i := info(w)
		i.log.Error("internal error", "request_id", i.id, "route", r.Pattern, "err", err)
		e = &switchboard.Error{Code: switchboard.CodeInternal,
			Detail: "an internal error occurred; the server log has the details under request id " + i.id}
	}
	p := problem{Type: ProblemTypeBase + string(e.Code), Title: titles[e.Code], Status: status, Detail: e.Detail, Code: e.Code, Errors: e.Problems}
	if ws != nil && ws.status != 0 {
		p.Title = http.StatusText(status)
	}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	var body []byte
	if len(e.Extra) > 0 {
		// Extra members (an upstream's status and body) go beside the
		// standard ones, as RFC 9457 extension members.
		m := map[string]any{}
		for k, v := range e.Extra {
			m[k] = v
		}
		b, _ := json.Marshal(p)
		_ = json.Unmarshal(b, &m)
		body, _ = jsonMarshal(m)
	} else {
		body, _ = jsonMarshal(p)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func jsonMarshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// fail writes err as a problem and notes it for the request's log line.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	info(w).err = string(switchboard.ErrorCode(err))
	writeError(w, r, err)
}

func invalidInput(loc, msg string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: msg, Problems: []switchboard.Problem{{Location: loc, Message: msg}}}
}

// noRoute is the error of a request that matches no route, or a 405 when
// its path is served for other methods.
func (s *Server) noRoute(r *http.Request) error {
	if allow := s.allowed(r.URL.Path); len(allow) > 0 && !slices.Contains(allow, r.Method) {
		return &withStatus{status: http.StatusMethodNotAllowed, header: http.Header{"Allow": {strings.Join(allow, ", ")}}, err: &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: fmt.Sprintf("%s is not served at %s; send %s (GET /openapi.json describes every route)", r.Method, r.URL.Path, orList(allow))}}
	}
	return switchboard.Errorf(switchboard.CodeNotFound, "no route %s %s; GET /openapi.json lists every route", r.Method, r.URL.Path)
}

// withStatus is an error answered with headers of its own and, when status
// is set, a more precise status than its code's and the title of that
// status: a 405 with Allow for a path that is served with other methods, a
// 431 for a head over MaxHeaderBytes (their code stays invalid_input: SPEC
// 7's codes are a closed set), a 503 with Retry-After for a body refused
// unread.
type withStatus struct {
	status int // 0: the code's
	err    *switchboard.Error
	header http.Header
}

func (e *withStatus) Error() string { return e.err.Error() }
func (e *withStatus) Unwrap() error { return e.err }

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
