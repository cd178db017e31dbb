package switchboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Code is one of the closed set of error codes of SPEC 7.
type Code string

// The error codes. Each maps to exactly one HTTP status (see Status).
const (
	CodeUnauthorized        Code = "unauthorized"
	CodeForbidden           Code = "forbidden"
	CodeNotFound            Code = "not_found"
	CodeConflict            Code = "conflict"
	CodeInvalidDefinition   Code = "invalid_definition"
	CodeInvalidInput        Code = "invalid_input"
	CodePayloadTooLarge     Code = "payload_too_large"
	CodeRateLimited         Code = "rate_limited"
	CodeUpstreamUnreachable Code = "upstream_unreachable"
	CodeUpstreamError       Code = "upstream_error"
	CodeUpstreamTimeout     Code = "upstream_timeout"
	CodeAccountDisconnected Code = "account_disconnected"
	CodeSettingMissing      Code = "setting_missing"
	CodeUpstreamForbidden   Code = "upstream_forbidden"
	CodeUnavailable         Code = "unavailable"
	CodeInternal            Code = "internal"
)

var codeStatus = map[Code]int{
	CodeUnauthorized:        http.StatusUnauthorized,
	CodeForbidden:           http.StatusForbidden,
	CodeNotFound:            http.StatusNotFound,
	CodeConflict:            http.StatusConflict,
	CodeInvalidDefinition:   http.StatusBadRequest,
	CodeInvalidInput:        http.StatusBadRequest,
	CodePayloadTooLarge:     http.StatusRequestEntityTooLarge,
	CodeRateLimited:         http.StatusTooManyRequests,
	CodeUpstreamUnreachable: http.StatusBadGateway,
	CodeUpstreamError:       http.StatusBadGateway,
	CodeUpstreamTimeout:     http.StatusGatewayTimeout,
	CodeAccountDisconnected: http.StatusFailedDependency,
	CodeSettingMissing:      http.StatusFailedDependency,
	CodeUpstreamForbidden:   http.StatusForbidden,
	CodeUnavailable:         http.StatusServiceUnavailable,
	CodeInternal:            http.StatusInternalServerError,
}

// Codes returns every code, for the tests that check each is documented.
func Codes() []Code {
	out := make([]Code, 0, len(codeStatus))
	for c := range codeStatus {
		out = append(out, c)
	}
	return out
}

// Status returns the HTTP status of a code; an unknown code is a 500.
func (c Code) Status() int {
	if s, ok := codeStatus[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is one located problem inside an error: Location is a JSON pointer
// into what the caller sent ("/commands/0/cacheSeconds", "/body/foo").
// Line and Column (1-based) are set when the problem is in malformed JSON or
// inside a template.
type Problem struct {
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// Place formats where in file a problem is, as a command line prints it
// before the message: FILE:LINE:COLUMN POINTER (the line and column when
// known, the pointer when there is one).
func (p Problem) Place(file string) string {
	s := file
	if p.Line > 0 {
		s = fmt.Sprintf("%s:%d:%d", file, p.Line, p.Column)
	}
	if p.Location != "" {
		s += " " + p.Location
	}
	return s
}

// Error is the domain's one error type. Detail is safe to show to the caller;
// it never holds a secret or an internal detail (internal errors carry a
// generic detail and wrap the cause in Err, which is logged, never sent).
type Error struct {
	Code   Code
	Detail string
	// Problems lists every located problem, for example each violation of a
	// schema or each problem of a definition.
	Problems []Problem
	// Extra holds further members of the problem document, for example the
	// upstream status and body of an upstream_error.
	Extra map[string]any
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	for i, p := range e.Problems {
		if i == 3 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Problems)-3)
			break
		}
		b.WriteString("; ")
		if p.Location != "" {
			b.WriteString(p.Location)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error: the caller sees a generic 500, the log
// sees err.
func Internal(err error) *Error {
	return &Error{Code: CodeInternal, Detail: "an internal error occurred", Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, CodeInternal
// for any other non-nil error and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsNotFound reports whether err is a not_found error.
func IsNotFound(err error) bool { return ErrorCode(err) == CodeNotFound }
