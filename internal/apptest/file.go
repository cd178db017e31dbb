package apptest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/mock"
)

// File is a parsed fixtures file: the mock's routes (which answer a case
// that has no recorded response, and serve `switchboard mock`), settings
// shared by every case, and the cases.
type File struct {
	Cases []*Case
	// Mock answers from the file's routes; nil when it has none.
	Mock *mock.Mock

	root *jsonv.Object // the whole file, kept in order for Save
}

// Case is one test: a command or action to run, with what it is given and
// what is expected of it.
type Case struct {
	Name    string
	Pointer string // its JSON pointer in the file, as /cases/0
	Line    int    // its place in the file (0 when unknown)
	Column  int

	Command string // the command's name, any spelling; or
	Action  string // the action's name

	Args    any // an object, as the run route takes it; nil when absent
	Headers any
	Body    any
	HasBody bool
	Input   any

	// Settings are the file's settings with the case's own laid over
	// them: {"<category>": {"<name>": value}}.
	Settings *jsonv.Object

	Expect Expect
	// Response is the upstream's answer recorded by --record; nil when
	// the file's routes answer instead.
	Response *Response

	obj *jsonv.Object // the case in the file, for Save
}

// Expect is what a case checks; a nil member is not checked.
type Expect struct {
	// Request is the request the upstream must receive: method, url,
	// headers (by the names given) and body, secrets as [secret:name].
	Request any
	// NoRequest says that nothing may be sent ("request": null).
	NoRequest bool
	// Answer is the run's document (a command's {status, headers, body,
	// cache}, an action's {output}): the members given are checked.
	Answer any
	// Problem is the refusal expected instead of an answer ({code,
	// status, detail, errors}).
	Problem any
}

// Response is an upstream answer kept in a fixtures file. Its strings are
// data, never templates; [secret:name] stands for a secret's value.
type Response struct {
	Status int
	Header http.Header
	// Body is a JSON value when the upstream sent JSON, else its text.
	Body any

	raw []byte // the body as it came, when the answer is passed on as is
}

var (
	topMembers      = []string{"routes", "settings", "cases"}
	caseMembers     = []string{"name", "command", "action", "args", "headers", "body", "input", "settings", "expect", "response"}
	expectMembers   = []string{"request", "answer", "problem"}
	responseMembers = []string{"status", "headers", "body"}
)

// ReadFile reads and checks a fixtures file; a file with problems is an
// *InvalidError listing every one with its line and column.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// InvalidError is a fixtures file with problems.
type InvalidError struct {
	Problems []switchboard.Problem
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("invalid fixtures")
	for i, p := range e.Problems {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep)
		if p.Location != "" {
			b.WriteString(p.Location + ": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Parse checks a fixtures file and compiles its routes with the mock's own
// loader, so that a file that passes here also serves `switchboard mock`.
func Parse(data []byte) (*File, error) {
	v, err := jsonv.Decode(data)
	if err != nil {
		var se *jsonv.SyntaxError
		if errors.As(err, &se) {
			return nil, &InvalidError{[]switchboard.Problem{{Message: "not valid JSON: " + se.Msg, Line: se.Line, Column: se.Column}}}
		}
		return nil, &InvalidError{[]switchboard.Problem{{Message: "not valid JSON: " + err.Error()}}}
	}
	l := &loader{}
	f := l.top(v)
	pos := jsonv.Locate(data)
	if f != nil && len(l.problems) == 0 {
		if _, ok := f.root.Get("routes"); ok {
			m, err := mock.Load(data)
			var ie *mock.InvalidError
			switch {
			case errors.As(err, &ie):
				l.problems = append(l.problems, ie.Problems...)
			case err != nil:
				return nil, err
			default:
				f.Mock = m
			}
		}
		for _, c := range f.Cases {
			if at, ok := pos[c.Pointer]; ok {
				c.Line, c.Column = at[0], at[1]
			}
		}
	}
	if len(l.problems) == 0 {
		return f, nil
	}
	for i, p := range l.problems {
		if at, ok := pos[p.Location]; ok && p.Line == 0 {
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

func (l *loader) unknown(obj *jsonv.Object, ptr string, known []string, what string) {
	for _, m := range obj.Members {
		found := false
		for _, k := range known {
			found = found || k == m.Key
		}
		if !found {
			l.fail(appdef.Pointer(ptr, m.Key), "%q is not a member of %s (%s)", m.Key, what, strings.Join(known, ", "))
		}
	}
}

func (l *loader) top(v any) *File {
	root, ok := v.(*jsonv.Object)
	if !ok {
		l.fail("", `must be an object: {"routes": [...], "cases": [...]}`)
		return nil
	}
	l.unknown(root, "", topMembers, "a fixtures file")
	f := &File{root: root}
	shared := jsonv.NewObject(0)
	if sv, ok := root.Get("settings"); ok {
		if l.settings(sv, "/settings") {
			shared = sv.(*jsonv.Object)
		}
	}
	cv, ok := root.Get("cases")
	if !ok {
		l.fail("", "cases is missing: a fixtures file for apps test lists its cases")
		return f
	}
	list, ok := cv.([]any)
	if !ok || len(list) == 0 {
		l.fail("/cases", "must be an array of at least one case")
		return f
	}
	names := map[string]string{}
	for i, item := range list {
		ptr := "/cases/" + strconv.Itoa(i)
		c := l.testCase(item, ptr, shared)
		if c == nil {
			continue
		}
		if prev, dup := names[c.Name]; dup {
			l.fail(ptr+"/name", "%q is also the name of %s: each case needs a name of its own", c.Name, prev)
		}
		names[c.Name] = ptr
		f.Cases = append(f.Cases, c)
	}
	return f
}

// settings checks {"<category>": {"<name>": value}}.
func (l *loader) settings(v any, ptr string) bool {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, `must be an object of categories, as {"default": {"apiToken": "test-token"}}`)
		return false
	}
	good := true
	for _, m := range obj.Members {
		if _, ok := m.Value.(*jsonv.Object); !ok {
			l.fail(appdef.Pointer(ptr, m.Key), "must be an object of setting names and values")
			good = false
		}
	}
	return good
}

func (l *loader) testCase(v any, ptr string, shared *jsonv.Object) *Case {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, `must be an object, as {"name": "...", "command": "...", "expect": {...}}`)
		return nil
	}
	before := len(l.problems)
	l.unknown(obj, ptr, caseMembers, "a case")
	c := &Case{Pointer: ptr, obj: obj}
	str := func(name string) string {
		mv, ok := obj.Get(name)
		if !ok {
			return ""
		}
		s, ok := mv.(string)
		if !ok || s == "" {
			l.fail(ptr+"/"+name, "must be a non-empty string")
		}
		return s
	}
	c.Name, c.Command, c.Action = str("name"), str("command"), str("action")
	if _, ok := obj.Get("name"); !ok {
		l.fail(ptr, "name is missing: each case has a name, printed when it fails")
	}
	switch {
	case c.Command == "" && c.Action == "":
		l.fail(ptr, "names neither a command nor an action: add \"command\" or \"action\"")
	case c.Command != "" && c.Action != "":
		l.fail(ptr, "names both a command and an action: a case runs one of them")
	}
	object := func(name string) any {
		mv, ok := obj.Get(name)
		if !ok {
			return nil
		}
		if _, ok := mv.(*jsonv.Object); !ok {
			l.fail(ptr+"/"+name, "must be an object")
		}
		return mv
	}
	c.Args, c.Headers = object("args"), object("headers")
	c.Body, c.HasBody = obj.Get("body")
	c.Input, _ = obj.Get("input")
	if c.Action != "" {
		for _, m := range []string{"args", "headers", "body"} {
			if _, ok := obj.Get(m); ok {
				l.fail(ptr+"/"+m, "an action takes an input, not %s", m)
			}
		}
	}
	if _, ok := obj.Get("input"); ok && c.Command != "" {
		l.fail(ptr+"/input", "a command takes args, headers and a body, not an input")
	}
	c.Settings = jsonv.Clone(shared).(*jsonv.Object)
	if sv, ok := obj.Get("settings"); ok && l.settings(sv, ptr+"/settings") {
		for _, cat := range sv.(*jsonv.Object).Members {
			into, _ := c.Settings.Get(cat.Key)
			io, ok := into.(*jsonv.Object)
			if !ok {
				io = jsonv.NewObject(0)
				c.Settings.Set(cat.Key, io)
			}
			for _, m := range cat.Value.(*jsonv.Object).Members {
				io.Set(m.Key, jsonv.Clone(m.Value))
			}
		}
	}
	if ev, ok := obj.Get("expect"); ok {
		l.expect(c, ev, ptr+"/expect")
	}
	if rv, ok := obj.Get("response"); ok {
		c.Response = l.response(rv, ptr+"/response")
	}
	if len(l.problems) > before {
		return nil
	}
	return c
}

func (l *loader) expect(c *Case, v any, ptr string) {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, `must be an object with request, answer or problem`)
		return
	}
	l.unknown(obj, ptr, expectMembers, "expect")
	if rv, ok := obj.Get("request"); ok {
		switch rv.(type) {
		case nil:
			c.Expect.NoRequest = true
		case *jsonv.Object:
			c.Expect.Request = rv
			l.unknown(rv.(*jsonv.Object), ptr+"/request", []string{"method", "url", "headers", "body"}, "an expected request")
		default:
			l.fail(ptr+"/request", "must be an object (method, url, headers, body), or null for no request at all")
		}
	}
	if av, ok := obj.Get("answer"); ok {
		if !jsonv.IsObject(av) {
			l.fail(ptr+"/answer", "must be an object: the members of the run's document to check")
		}
		c.Expect.Answer = av
	}
	if pv, ok := obj.Get("problem"); ok {
		if !jsonv.IsObject(pv) {
			l.fail(ptr+"/problem", `must be an object, as {"code": "invalid_input"}`)
		}
		c.Expect.Problem = pv
	}
	if c.Expect.Answer != nil && c.Expect.Problem != nil {
		l.fail(ptr, "expects both an answer and a problem: a run has one or the other")
	}
}

func (l *loader) response(v any, ptr string) *Response {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		l.fail(ptr, "must be an object with status, headers and body")
		return nil
	}
	l.unknown(obj, ptr, responseMembers, "a response")
	r := &Response{Status: http.StatusOK, Header: http.Header{}}
	if sv, ok := obj.Get("status"); ok {
		n, _ := sv.(json.Number)
		code, err := strconv.Atoi(string(n))
		if err != nil || code < 100 || code > 599 {
			l.fail(ptr+"/status", "must be an integer 100..599")
		}
		r.Status = code
	}
	if hv, ok := obj.Get("headers"); ok {
		hs, ok := hv.(*jsonv.Object)
		if !ok {
			l.fail(ptr+"/headers", "must be an object of header names and values")
		} else {
			for _, m := range hs.Members {
				s, ok := m.Value.(string)
				if !ok {
					l.fail(appdef.Pointer(ptr+"/headers", m.Key), "must be a string")
					continue
				}
				r.Header.Add(m.Key, s)
			}
		}
	}
	r.Body, _ = obj.Get("body")
	return r
}

// SetResponse keeps resp as the case's recorded response, for Save.
func (f *File) SetResponse(c *Case, resp *Response) {
	c.Response = resp
	o := jsonv.NewObject(3)
	o.Set("status", resp.Status)
	hs := jsonv.NewObject(len(resp.Header))
	for _, k := range sortedHeaderNames(resp.Header) {
		hs.Set(k, strings.Join(resp.Header[k], ", "))
	}
	o.Set("headers", hs)
	if resp.Body != nil {
		o.Set("body", resp.Body)
	}
	c.obj.Set("response", o)
}

// Save writes the file back, indented with two spaces, with the responses
// set by SetResponse. It replaces the file in one rename, so that a reader
// never sees half of it.
func (f *File) Save(path string) error {
	b, err := jsonv.Marshal(f.root)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
