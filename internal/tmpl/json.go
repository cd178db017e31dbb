package tmpl

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// JSONTemplate is a compiled JSON template: a JSON value whose strings are
// Handlebars templates, or "/#path" substitutions that copy a value of the
// render context with its JSON type. It is immutable and safe for
// concurrent use.
type JSONTemplate struct {
	root      jnode
	names     []string
	readsRoot bool
}

type jkind uint8

const (
	jConst  jkind = iota // a value without templates: copied
	jString              // a Handlebars template: renders to a string
	jSubst               // "/#path": the value at path, or absent
	jArray
	jObject
)

type jnode struct {
	kind  jkind
	value any
	tmpl  *Template
	path  []string
	elems []jnode
	keys  []string // jObject: member names, parallel to elems
}

// JSONError is a template error in a JSON template, located by the JSON
// pointer (RFC 6901) of the string that holds it.
type JSONError struct {
	Pointer string
	Err     *Error
}

func (e *JSONError) Error() string {
	p := e.Pointer
	if p == "" {
		p = "(root)"
	}
	return p + ": " + e.Err.Error()
}

func (e *JSONError) Unwrap() error { return e.Err }

// JSONErrors is every error of a JSON template, in document order.
type JSONErrors []*JSONError

func (es JSONErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find the individual *JSONError values.
func (es JSONErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// substPrefix marks a string that copies a value of the context.
const substPrefix = "/#"

// CompileJSON compiles a decoded JSON value (the jsonv forms) into a
// template. Every string value (not object keys) is a Handlebars template,
// except a string "/#path": path is a dot-separated list of keys (a numeric
// segment indexes an array, as in "/#items.0.id"), and the string is
// replaced by the value at that path in the render context, keeping its
// JSON type; when the path is absent, the member is removed from its object
// (or the element from its array). "/#" alone is an ordinary string.
//
// All problems are reported, as JSONErrors.
func CompileJSON(v any) (*JSONTemplate, error) {
	c := &jsonCompiler{names: map[string]bool{}}
	t := &JSONTemplate{}
	t.root = c.compile(v, "", 0)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	for n := range c.names {
		t.names = append(t.names, n)
	}
	slices.Sort(t.names)
	t.readsRoot = c.readsRoot
	return t, nil
}

type jsonCompiler struct {
	errs      JSONErrors
	names     map[string]bool
	readsRoot bool
}

func (c *jsonCompiler) compile(v any, ptr string, depth int) jnode {
	if depth > jsonv.MaxDepth {
		c.errs = append(c.errs, &JSONError{Pointer: ptr, Err: &Error{Line: 1, Column: 1, Message: "value nests too deeply"}})
		return jnode{}
	}
	switch x := v.(type) {
	case string:
		if path, ok := strings.CutPrefix(x, substPrefix); ok && path != "" {
			segs := strings.Split(path, ".")
			c.names[segs[0]] = true
			return jnode{kind: jSubst, path: segs}
		}
		t, err := Parse(x)
		if err != nil {
			c.errs = append(c.errs, &JSONError{Pointer: ptr, Err: err.(*Error)})
			return jnode{}
		}
		for _, n := range t.names {
			c.names[n] = true
		}
		c.readsRoot = c.readsRoot || t.readsRoot
		if s, ok := t.Static(); ok {
			return jnode{kind: jConst, value: s}
		}
		return jnode{kind: jString, tmpl: t}
	case []any:
		n := jnode{kind: jArray, elems: make([]jnode, len(x))}
		for i, e := range x {
			n.elems[i] = c.compile(e, ptr+"/"+strconv.Itoa(i), depth+1)
		}
		return n
	case []string:
		n := jnode{kind: jArray, elems: make([]jnode, len(x))}
		for i, e := range x {
			n.elems[i] = c.compile(e, ptr+"/"+strconv.Itoa(i), depth+1)
		}
		return n
	case *jsonv.Object, map[string]any, map[string]string:
		n := jnode{kind: jObject}
		jsonv.Range(x, func(k string, val any) bool {
			n.keys = append(n.keys, k)
			n.elems = append(n.elems, c.compile(val, ptr+"/"+escapePointer(k), depth+1))
			return true
		})
		return n
	}
	return jnode{kind: jConst, value: v}
}

// escapePointer escapes a key for a JSON pointer: ~ as ~0, / as ~1.
func escapePointer(k string) string {
	if !strings.ContainsAny(k, "~/") {
		return k
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(k)
}

// Names returns, sorted and de-duplicated, the root-level names the
// template reads: those of its Handlebars strings (see Template.Names) and
// the first segment of each /# path.
func (t *JSONTemplate) Names() []string { return slices.Clone(t.names) }

// ReadsRoot reports whether one of the template's strings reads root-level
// names that Names cannot list (see Template.ReadsRoot).
func (t *JSONTemplate) ReadsRoot() bool { return t.readsRoot }

// Render renders the template with data as the root context and returns a
// new value: objects as *jsonv.Object (in the template's order), arrays as
// []any, rendered strings as string; substituted values are deep copies.
// Neither the template nor data is changed. A top-level "/#path" that is
// absent renders as nil.
func (t *JSONTemplate) Render(data any) (any, error) {
	r := jsonRenderer{data: data}
	v, ok, err := r.render(&t.root)
	if err != nil || !ok {
		return nil, err
	}
	return v, nil
}

type jsonRenderer struct {
	data any
	buf  []byte
}

func (r *jsonRenderer) render(n *jnode) (any, bool, error) {
	switch n.kind {
	case jConst:
		return n.value, true, nil
	case jString:
		var err error
		r.buf, err = n.tmpl.Append(r.buf[:0], r.data)
		if err != nil {
			return nil, false, err
		}
		return string(r.buf), true, nil
	case jSubst:
		v, ok := resolveJSONPath(r.data, n.path)
		if !ok {
			return nil, false, nil
		}
		c, err := cloneValue(v, 0)
		if err != nil {
			return nil, false, err
		}
		return c, true, nil
	case jArray:
		out := make([]any, 0, len(n.elems))
		for i := range n.elems {
			v, ok, err := r.render(&n.elems[i])
			if err != nil {
				return nil, false, err
			}
			if ok {
				out = append(out, v)
			}
		}
		return out, true, nil
	case jObject:
		out := jsonv.NewObject(len(n.elems))
		for i := range n.elems {
			v, ok, err := r.render(&n.elems[i])
			if err != nil {
				return nil, false, err
			}
			if ok {
				out.Set(n.keys[i], v)
			}
		}
		return out, true, nil
	}
	return nil, false, nil
}

// resolveJSONPath finds the value at a /# path: keys of objects, indexes of
// arrays.
func resolveJSONPath(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch x := v.(type) {
		case *jsonv.Object, map[string]any, map[string]string, Scopes:
			r, ok := own(x, seg)
			if !ok {
				return nil, false
			}
			v = r
		case []any, []string:
			i, ok := arrayIndex(seg)
			n, _ := arrayLen(x)
			if !ok || i >= n {
				return nil, false
			}
			v = arrayAt(x, i)
		default:
			return nil, false
		}
	}
	return v, true
}

// cloneValue is jsonv.Clone with a bound on depth, since data built in Go
// may nest without limit (or cycle). Scopes and []string become their JSON
// forms.
func cloneValue(v any, depth int) (any, error) {
	if depth > jsonv.MaxDepth {
		return nil, errors.New("tmpl: substituted value nests more than " + strconv.Itoa(jsonv.MaxDepth) + " levels")
	}
	switch x := v.(type) {
	case Opaque:
		return string(x), nil // substituted whole, as a JSON string
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := cloneValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	case *jsonv.Object:
		out := jsonv.NewObject(len(x.Members))
		for _, m := range x.Members { // in the object's own order
			c, err := cloneValue(m.Value, depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(m.Key, c)
		}
		return out, nil
	case map[string]any, map[string]string, Scopes:
		keys := objectKeys(x)
		out := jsonv.NewObject(len(keys))
		for _, k := range keys {
			val, _ := own(x, k)
			c, err := cloneValue(val, depth+1)
			if err != nil {
				return nil, err
			}
			out.Set(k, c)
		}
		return out, nil
	}
	return v, nil
}
