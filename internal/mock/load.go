package mock

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// InvalidError is a fixtures file with problems: every one of them, in
// document order, each with its JSON pointer and, when known, its line and
// column in the file.
type InvalidError struct {
	Problems []switchboard.Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("invalid fixtures")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if p.Location != "" {
			b.WriteString(p.Location + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

var (
	// settings and cases are read by `switchboard apps test`, which takes
	// the same file: the mock answers from the routes and leaves them be.
	topMembers   = []string{"routes", "settings", "cases"}
	routeMembers = []string{"method", "host", "path", "status", "headers", "body"}
)

// Load parses, validates and compiles a fixtures file. A file with problems
// is an *InvalidError that lists all of them.
func Load(data []byte) (*Mock, error) {
	v, err := jsonv.Decode(data)
	if err != nil {
		var se *jsonv.SyntaxError
		if errors.As(err, &se) {
			return nil, &InvalidError{[]switchboard.Problem{{Message: "not valid JSON: " + se.Msg, Line: se.Line, Column: se.Column}}}
		}
		return nil, &InvalidError{[]switchboard.Problem{{Message: "not valid JSON: " + err.Error()}}}
	}
	l := &loader{}
	m := l.top(v)
	if len(l.problems) == 0 {
		return m, nil
	}
	pos := jsonv.Locate(data)
	for i, p := range l.problems {
		if at, ok := pos[p.Location]; ok {
			l.problems[i].Line, l.problems[i].Column = at[0], at[1]
		}
	}
	return nil, &InvalidError{l.problems}
}

type loader struct {
	problems []switchboard.Problem
}

func (l *loader) fail(ptr, format string, args ...any) {
	l.problems = append(l.problems, switchboard.Problem{Location: ptr, Message: fmt.Sprintf(format, args...)})
}

func (l *loader) top(v any) *Mock {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail("", `must be an object: {"routes": [...]}`)
		return nil
	}
	l.unknown(obj, "", topMembers, "the fixtures")
	rv, ok := obj.Get("routes")
	if !ok {
		l.fail("", "routes is missing: a fixtures file lists its routes")
		return nil
	}
	list, ok := rv.([]any)
	if !ok {
		l.fail("/routes", "must be an array of routes")
		return nil
	}
	if len(list) == 0 {
		l.fail("/routes", "must list at least one route")
	}
	m := &Mock{}
	for i, r := range list {
		if rt := l.route(r, pointer("/routes", strconv.Itoa(i)), i); rt != nil {
			m.routes = append(m.routes, rt)
		}
	}
	return m
}

// unknown reports members of obj not in known: most are typos, and a
// silently ignored "staus" would answer 200.
func (l *loader) unknown(obj *jsonv.Object, ptr string, known []string, what string) {
	for _, mem := range obj.Members {
		if !contains(known, mem.Key) {
			l.fail(pointer(ptr, mem.Key), "%q is not a member of %s (%s)", mem.Key, what, strings.Join(known, ", "))
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (l *loader) route(v any, ptr string, index int) *route {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, "must be an object with a path")
		return nil
	}
	before := len(l.problems)
	l.unknown(obj, ptr, routeMembers, "a route")
	rt := &route{index: index, status: http.StatusOK}

	if mv, ok := obj.Get("method"); ok {
		s, ok := mv.(string)
		if !ok || !isToken(s) {
			l.fail(ptr+"/method", "must be an HTTP method such as GET or POST (leave it out to match any)")
		} else {
			rt.method = strings.ToUpper(s)
		}
	}
	if hv, ok := obj.Get("host"); ok {
		s, ok := hv.(string)
		if !ok {
			l.fail(ptr+"/host", "must be a string such as {store}.example.com")
		} else if p, err := parseHost(s); err != nil {
			l.fail(ptr+"/host", "%v", err)
		} else {
			rt.host = p
		}
	}
	if pv, ok := obj.Get("path"); !ok {
		l.fail(ptr, "path is missing: a route matches a path such as /orders/{id}")
	} else if s, ok := pv.(string); !ok {
		l.fail(ptr+"/path", "must be a string such as /orders/{id}")
	} else if p, err := parsePath(s); err != nil {
		l.fail(ptr+"/path", "%v", err)
	} else {
		rt.path = p
	}
	var names []string
	if rt.host != nil {
		names = rt.host.names()
	}
	if rt.path != nil {
		names = append(names, rt.path.names()...)
	}
	for i, n := range names {
		if contains(names[:i], n) {
			l.fail(ptr, "{%s} is captured twice: the captures of host and path are all {{path.name}}", n)
		}
	}
	if sv, ok := obj.Get("status"); ok {
		n, isNum := sv.(json.Number)
		code, err := strconv.Atoi(string(n))
		switch {
		case !isNum || err != nil:
			l.fail(ptr+"/status", "must be an integer 100..599")
		case code < 100 || code > 599:
			l.fail(ptr+"/status", "must be 100..599")
		default:
			rt.status = code
		}
	}
	if hv, ok := obj.Get("headers"); ok {
		l.headers(rt, hv, ptr+"/headers")
	}
	if bv, ok := obj.Get("body"); ok {
		if !bodyAllowed(rt.status) {
			l.fail(ptr+"/body", "a %d answer has no body", rt.status)
		}
		l.body(rt, bv, ptr+"/body")
	}
	if len(l.problems) > before {
		return nil
	}
	return rt
}

// bodyAllowed reports whether an answer of status may have a body (RFC 9110).
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

func (l *loader) headers(rt *route, v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, `must be an object of header names and values, as {"X-Request-Id": "r-1"}`)
		return
	}
	for _, mem := range obj.Members {
		hp := pointer(ptr, mem.Key)
		if !isToken(mem.Key) {
			l.fail(hp, "%q is not a header name", mem.Key)
			continue
		}
		switch http.CanonicalHeaderKey(mem.Key) {
		case "Content-Length", "Transfer-Encoding":
			l.fail(hp, "%s is set by the mock from the body", mem.Key)
			continue
		}
		s, ok := mem.Value.(string)
		if !ok {
			l.fail(hp, "must be a string")
			continue
		}
		t, err := tmpl.Parse(s)
		if err != nil {
			l.templateProblem(hp, err)
			continue
		}
		rt.headers = append(rt.headers, header{name: mem.Key, value: t})
		rt.headerNames = appendHeaderRefs(rt.headerNames, s)
	}
}

func (l *loader) body(rt *route, v any, ptr string) {
	rt.hasBody = true
	// A string is text, but "/#path" is JSON, as in a JSON template, so that
	// "/#body" echoes the request's body whole.
	if s, ok := v.(string); ok && (!strings.HasPrefix(s, "/#") || s == "/#") {
		t, err := tmpl.Parse(s)
		if err != nil {
			l.templateProblem(ptr, err)
			return
		}
		rt.text = t
		rt.headerNames = appendHeaderRefs(rt.headerNames, s)
		return
	}
	t, err := tmpl.CompileJSON(v)
	if err != nil {
		var jes tmpl.JSONErrors
		if errors.As(err, &jes) {
			for _, je := range jes {
				l.templateProblem(ptr+je.Pointer, je.Err)
			}
			return
		}
		l.fail(ptr, "%v", err)
		return
	}
	rt.json = t
	walkStrings(v, func(s string) { rt.headerNames = appendHeaderRefs(rt.headerNames, s) })
}

func (l *loader) templateProblem(ptr string, err error) {
	var te *tmpl.Error
	if errors.As(err, &te) {
		l.fail(ptr, "template: line %d, column %d of the string: %s", te.Line, te.Column, te.Message)
		return
	}
	l.fail(ptr, "template: %v", err)
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case *jsonv.Object:
		for _, m := range x.Members {
			walkStrings(m.Value, fn)
		}
	}
}

// headerRef finds the header names a template reads, as header.X-Api-Key,
// header.[X-Api-Key] or, in a "/#" path, header.X-Api-Key. Handlebars looks
// names up exactly, and header names are case-insensitive: each request
// offers its headers under these spellings too. A match in plain text only
// adds a spelling that nothing reads.
var headerRef = regexp.MustCompile(`header\.(?:\[([^\]]+)\]|([^\s!"#%&'()*+,./;<=>@\[\\\]^` + "`" + `{|}~]+))`)

func appendHeaderRefs(names []string, src string) []string {
	for _, m := range headerRef.FindAllStringSubmatch(src, -1) {
		n := m[1] + m[2]
		if !contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// isToken reports whether s is an RFC 9110 token: a method or header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// pointer appends a member name or index to a JSON pointer (RFC 6901).
func pointer(base, tok string) string {
	return base + "/" + strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
