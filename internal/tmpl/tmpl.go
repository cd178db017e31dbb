// Package tmpl renders the Handlebars templates of connectors and workflow
// actions (headers, URLs, bodies, and JSON templates whose strings are
// templates) with exactly the output of handlebars.js 4.7, minus partials,
// decorators and custom helpers. Templates are parsed once; rendering appends
// to the caller's buffer and allocates little.
package tmpl

import (
	"fmt"
	"slices"
	"strings"
)

// Template is a parsed template. It is immutable and safe for concurrent
// use.
type Template struct {
	src       string
	root      *program
	static    string
	isStatic  bool
	useDepths bool
	names     []string
	readsRoot bool
	segments  []Segment
}

// Segment is one top-level piece of a template: literal text (comments and
// escapes already resolved, whitespace control applied) or an expression.
type Segment struct {
	Text    string // the literal text, or the expression's source ({{...}}, or a whole block)
	Expr    bool   // an expression, not literal text
	Simple  bool   // a plain {{path}}, {{{path}}} or {{&path}}: no params, no helper
	Block   bool   // a block ({{#x}}...{{/x}}) or inverse ({{^x}}...{{/x}})
	Escaped bool   // the value is HTML-escaped ({{x}} rather than {{{x}}})
	Path    string // the path (or helper name) heading the expression, as written
}

// Parse compiles a template. A syntax error is a *Error; its Column counts
// runes (Unicode code points), not bytes.
//
// Besides handlebars.js's own syntax errors, Parse rejects what handlebars.js
// would only reject when rendering, and, deliberately, a few things it
// accepts: partials, decorators and raw blocks; a mustache, block or
// sub-expression with parameters or a hash whose head is not a built-in
// helper (if, unless, each, with, lookup, log) — handlebars.js calls its
// helperMissing, which throws, or yields nothing for a hash alone or a falsy
// sub-expression; built-in helpers with the wrong number of arguments
// (lookup needs two); block params (as |x|) on blocks other than #each and
// #with; blocks and sub-expressions nested more than 100 deep. These are
// errors even in a branch that would never render.
func Parse(src string) (*Template, error) {
	ast, err := parse(src)
	if err != nil {
		return nil, err
	}
	(&whitespace{}).program(ast)

	t := &Template{src: src}
	c := &compiler{src: src, names: map[string]bool{}}
	if err := c.compileRoot(t, ast); err != nil {
		return nil, err
	}
	t.useDepths = c.useDepths
	t.readsRoot = c.readsRoot
	for n := range c.names {
		t.names = append(t.names, n)
	}
	slices.Sort(t.names)

	t.isStatic = true
	var text strings.Builder
	for _, n := range ast.body {
		switch n := n.(type) {
		case *astContent:
			text.WriteString(n.value)
			if n.value != "" {
				t.addText(n.value)
			}
		case *astComment:
		case *astMustache:
			t.isStatic = false
			head := transformLiteralToPath(n.sexpr.path)
			kind, _ := c.classify(n.sexpr, head, rootScope())
			t.segments = append(t.segments, Segment{
				Text: src[n.pos:n.end], Expr: true, Simple: kind != kHelper,
				Escaped: n.escaped, Path: head.original.(string),
			})
		case *astBlock:
			t.isStatic = false
			head := transformLiteralToPath(n.sexpr.path)
			t.segments = append(t.segments, Segment{
				Text: src[n.pos:n.end], Expr: true, Block: true, Path: head.original.(string),
			})
		}
	}
	if t.isStatic {
		t.static = text.String()
	}
	return t, nil
}

func (t *Template) addText(s string) {
	if k := len(t.segments); k > 0 && !t.segments[k-1].Expr {
		t.segments[k-1].Text += s
		return
	}
	t.segments = append(t.segments, Segment{Text: s})
}

func rootScope() *scope {
	return &scope{prog: &program{}, ctxRoot: true, chain: []ctxEntry{{root: true}}}
}

func (c *compiler) compileRoot(t *Template, ast *astProgram) (err error) {
	defer func() {
		if r := recover(); r != nil {
			ce, ok := r.(compileError)
			if !ok {
				panic(r)
			}
			err = ce.err
		}
	}()
	sc := rootScope()
	t.root = c.program(ast, sc)
	if t.root == nil {
		t.root = &program{}
	}
	return nil
}

// MustParse is Parse for templates known to be valid; it panics on error.
func MustParse(src string) *Template {
	t, err := Parse(src)
	if err != nil {
		panic(fmt.Sprintf("tmpl: %q: %v", src, err))
	}
	return t
}

// Source returns the template's source text.
func (t *Template) Source() string { return t.src }

// Static returns the output of a template that has no expressions at all
// (only text, comments and escapes), so that a caller may skip rendering.
func (t *Template) Static() (string, bool) { return t.static, t.isStatic }

// Names returns, sorted and de-duplicated, the root-level names the
// template can read: the first segment of each path that resolves against
// the root context (at top level, in #if/#unless bodies and else branches,
// @root.x, ../x climbing back to the root, {{lookup this "x"}}). Paths inside
// #each and #with bodies resolve against other contexts and are not listed.
// The list is conservative where handlebars decides at run time: in a
// {{#x}} body, whose context is x or (x being true) the root, names count.
// See ReadsRoot for reads that no name describes.
func (t *Template) Names() []string { return slices.Clone(t.names) }

// ReadsRoot reports whether the template can read root-level names that
// Names cannot list: it iterates the root ({{#each this}} at top level) or
// looks a computed key up in it ({{lookup this key}}).
func (t *Template) ReadsRoot() bool { return t.readsRoot }

// Segments describes the template's top-level structure, for callers that
// analyse it (say, a URL's scheme and host): literal text and expressions,
// in order. Adjacent text is merged.
func (t *Template) Segments() []Segment { return slices.Clone(t.segments) }

// Append renders t with data as the root context and appends the output to
// dst. data is a jsonv value (nil, bool, string, json.Number, float64, int,
// int64, []any, []string, *jsonv.Object, map[string]any, map[string]string)
// or Scopes; values of other types print as "[object Object]". #each visits
// an object's members in JavaScript's order: integer-like keys ascending,
// then the others in insertion order; Go maps have no insertion order, so
// their other keys come sorted.
//
// handlebars.js throws at run time only for the constructs Parse already
// rejects, so Append returns an error only if rendering failed in a way it
// should not (an internal fault, recovered rather than crashing the caller).
// Data values are printed, never evaluated: a value "{{x}}" prints as text.
func (t *Template) Append(dst []byte, data any) (out []byte, err error) {
	if t.isStatic {
		return append(dst, t.static...), nil
	}
	r := rendererPool.Get().(*renderer)
	defer func() {
		if p := recover(); p != nil {
			out, err = dst, fmt.Errorf("tmpl: internal error rendering template: %v", p)
		}
	}()
	r.t, r.dst = t, dst
	r.rootFrame = frame{root: data}
	if t.useDepths {
		r.depths = append(r.depths, data)
	}
	r.flush(r.run(t.root, data, &r.rootFrame))
	out = r.dst
	r.release()
	return out, nil
}

// Render renders t with data as the root context; see Append.
func (t *Template) Render(data any) (string, error) {
	if t.isStatic {
		return t.static, nil
	}
	b, err := t.Append(nil, data)
	return string(b), err
}
