package tmpl

import (
	"fmt"
	"strings"
)

// The compiler turns handlebars' AST (after whitespace control) into the tree
// the renderer walks. It decides, as handlebars' compiler.js does, whether a
// mustache is a helper call, a value or a block-helper-missing block, and
// reports as syntax errors the calls that handlebars.js would only reject
// when rendering (unknown helpers, wrong arities).

// program is a compiled block body.
type program struct {
	nodes    []node
	declares bool // declares block params (as |x i|): #each and #with only
	explicit bool // has a node appended by a statement of its own (see run)
}

type nodeKind uint8

const (
	nText    nodeKind = iota
	nPrint            // a value, escaped or not
	nIf               // #if, #unless
	nEach             // #each
	nWith             // #with
	nMissing          // {{#path}}: handlebars' blockHelperMissing
)

type node struct {
	kind        nodeKind
	escaped     bool
	explicit    bool // {{#name}}: handlebars appends it outside the + chain
	unless      bool
	text        string
	expr        *expr // the printed value, or the block's subject
	includeZero *expr // #if/#unless hash includeZero, or nil
	fn, inverse *program
}

type exprKind uint8

const (
	eLiteral    exprKind = iota
	eContext             // a path on the context, at a depth (../)
	eData                // an @data path
	eBlockParam          // a block param, then a path on it
	eLookup              // (lookup obj key)
)

type expr struct {
	kind  exprKind
	depth int
	parts []string
	value any      // eLiteral
	prog  *program // eBlockParam: the program that declares it
	index int      // eBlockParam: its position in as |...|
	args  [2]*expr // eLookup
}

var undefinedExpr = &expr{kind: eLiteral, value: undefined}

// ctxEntry is a level of handlebars' depths stack as seen by the compiler:
// whether its context may be the root, and whether it may be missing
// (handlebars does not push a context equal to the one below it).
type ctxEntry struct{ root, optional bool }

// scope is what the compiler knows inside a program: the block params it
// declares and, for Names, whether its context may be the root.
type scope struct {
	parent    *scope
	prog      *program
	params    []string
	paramRoot []bool
	ctxRoot   bool
	chain     []ctxEntry // innermost first
}

func (s *scope) findParam(name string) (*scope, int) {
	for sc := s; sc != nil; sc = sc.parent {
		for i, p := range sc.params {
			if p == name {
				return sc, i
			}
		}
	}
	return nil, 0
}

// rootAt reports whether the context d levels up (../ d times) may be the
// root.
func (s *scope) rootAt(d int) bool {
	set := []int{d}
	for _, e := range s.chain {
		var next []int
		for _, k := range set {
			if e.optional {
				next = append(next, k)
			}
			if k == 0 {
				if e.root {
					return true
				}
			} else {
				next = append(next, k-1)
			}
		}
		set = dedupInts(next)
		if len(set) == 0 {
			return false
		}
	}
	return false
}

func dedupInts(s []int) []int {
	out := s[:0]
	seen := map[int]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

type compiler struct {
	src       string
	useDepths bool
	names     map[string]bool
	readsRoot bool
}

type compileError struct{ err *Error }

func (c *compiler) fail(pos int, format string, args ...any) {
	panic(compileError{errorAt(c.src, pos, fmt.Sprintf(format, args...))})
}

var knownHelpers = map[string]bool{
	"helperMissing": true, "blockHelperMissing": true, "each": true, "if": true,
	"unless": true, "with": true, "log": true, "lookup": true,
}

// transformLiteralToPath is handlebars' treatment of a literal in head
// position: {{"a b"}} and {{1}} look up the names "a b" and "1".
func transformLiteralToPath(e *astExpr) *astExpr {
	if e.typ == xPath {
		return e
	}
	name := toJSString(literalValue(e))
	return &astExpr{typ: xPath, parts: []string{name}, original: name, pos: e.pos}
}

func literalValue(e *astExpr) any {
	switch e.typ {
	case xString:
		return e.str
	case xNumber:
		return e.num
	case xBool:
		return e.b
	case xNull:
		return nil
	}
	return undefined
}

// scopedID is handlebars' AST.helpers.scopedId: /^\.|this\b/ on the path's
// original text.
func scopedID(original string) bool {
	if strings.HasPrefix(original, ".") {
		return true
	}
	for i := 0; ; {
		k := strings.Index(original[i:], "this")
		if k < 0 {
			return false
		}
		end := i + k + 4
		if end == len(original) || !isWordByte(original[end]) {
			return true
		}
		i = i + k + 1
	}
}

type sexprKind uint8

const (
	kSimple sexprKind = iota
	kAmbiguous
	kHelper
)

// classify is handlebars' classifySexpr. For a helper it returns the name
// of the known helper called, or "" when the helper is unknown.
func (c *compiler) classify(s *astSexpr, head *astExpr, sc *scope) (sexprKind, string) {
	isSimple := len(head.parts) == 1 && head.depth == 0 && !scopedID(head.original.(string))
	isBlockParam := false
	if isSimple {
		if p, _ := sc.findParam(head.parts[0]); p != nil {
			isBlockParam = true
		}
	}
	isHelper := !isBlockParam && (s.isSub || len(s.params) > 0 || len(s.hash) > 0)
	isEligible := !isBlockParam && (isHelper || isSimple)
	if isEligible && !isHelper && knownHelpers[head.parts[0]] {
		isHelper = true
	}
	switch {
	case isHelper:
		if len(head.parts) > 0 && knownHelpers[head.parts[0]] {
			return kHelper, head.parts[0]
		}
		return kHelper, ""
	case isEligible:
		return kAmbiguous, ""
	}
	return kSimple, ""
}

// pathExpr compiles a path, as handlebars' PathExpression; root reports
// whether its value may be the root context.
func (c *compiler) pathExpr(e *astExpr, sc *scope) (*expr, bool) {
	var name string
	if len(e.parts) > 0 {
		name = e.parts[0]
	}
	original, _ := e.original.(string)
	if e.depth == 0 && len(e.parts) > 0 && !scopedID(original) {
		if psc, i := sc.findParam(name); psc != nil {
			root := psc.paramRoot[i]
			if root && len(e.parts) > 1 {
				c.names[e.parts[1]] = true
			}
			return &expr{kind: eBlockParam, prog: psc.prog, index: i, parts: e.parts[1:]}, root && len(e.parts) == 1
		}
	}
	if len(e.parts) == 0 {
		// this, ., .., @. : the context itself.
		if e.depth > 0 {
			c.useDepths = true
		}
		root := sc.ctxRoot
		if e.depth > 0 {
			root = sc.rootAt(e.depth)
		}
		return &expr{kind: eContext, depth: e.depth}, root
	}
	if e.data {
		// @root, and @root reached through @_parent, is the root context.
		k := 0
		for k < len(e.parts) && e.parts[k] == "_parent" {
			k++
		}
		if k < len(e.parts) && e.parts[k] == "root" {
			if k+1 < len(e.parts) {
				c.names[e.parts[k+1]] = true
			} else {
				return &expr{kind: eData, depth: e.depth, parts: e.parts}, true
			}
		}
		return &expr{kind: eData, depth: e.depth, parts: e.parts}, false
	}
	if e.depth > 0 {
		c.useDepths = true
		if sc.rootAt(e.depth) {
			c.names[name] = true
		}
	} else if sc.ctxRoot {
		c.names[name] = true
	}
	return &expr{kind: eContext, depth: e.depth, parts: e.parts}, false
}

// param compiles a helper parameter or hash value.
func (c *compiler) param(e *astExpr, sc *scope) (*expr, bool) {
	switch e.typ {
	case xPath:
		return c.pathExpr(e, sc)
	case xSub:
		return c.subexpr(e.sub, sc)
	}
	return &expr{kind: eLiteral, value: literalValue(e)}, false
}

func (c *compiler) subexpr(s *astSexpr, sc *scope) (*expr, bool) {
	head := transformLiteralToPath(s.path)
	kind, name := c.classify(s, head, sc)
	if kind != kHelper {
		// Only a block param can head a sub-expression that is not a helper
		// call; its params are ignored, as in handlebars.
		return c.pathExpr(head, sc)
	}
	switch name {
	case "lookup":
		return c.lookup(s, sc), false
	case "log":
		c.params(s, sc)
		return undefinedExpr, false
	}
	c.badHelper(s, head, name, "(")
	return nil, false
}

// params compiles all params and hash values, for their errors and names.
func (c *compiler) params(s *astSexpr, sc *scope) []*expr {
	out := make([]*expr, len(s.params))
	for i, p := range s.params {
		out[i], _ = c.param(p, sc)
	}
	for _, h := range s.hash {
		c.param(h.value, sc)
	}
	return out
}

func (c *compiler) lookup(s *astSexpr, sc *scope) *expr {
	if len(s.params) != 2 {
		c.fail(s.pos, "lookup needs exactly two arguments, an object and a key: {{lookup obj key}}")
	}
	obj, root := c.param(s.params[0], sc)
	key, _ := c.param(s.params[1], sc)
	for _, h := range s.hash {
		c.param(h.value, sc)
	}
	if root {
		switch k := s.params[1]; k.typ {
		case xString, xNumber, xBool, xNull, xUndefined:
			c.names[toJSString(literalValue(k))] = true
		default:
			c.readsRoot = true
		}
	}
	return &expr{kind: eLookup, args: [2]*expr{obj, key}}
}

func (c *compiler) badHelper(s *astSexpr, head *astExpr, name, open string) {
	switch name {
	case "if", "unless", "each", "with":
		if open == "{{#" {
			c.fail(s.pos, "#%s needs exactly one argument", name)
		}
		c.fail(s.pos, "%s can only be used as a block: {{#%s ...}}...{{/%s}}", name, name, name)
	case "helperMissing", "blockHelperMissing":
		c.fail(s.pos, "%s is not a helper that templates can call", name)
	}
	what := "a helper call"
	switch {
	case s.isSub:
		what = "a sub-expression"
	case len(s.params) > 0 || len(s.hash) > 0:
		what = "a mustache with parameters"
	}
	c.fail(s.pos, "unknown helper %q in %s: only if, unless, each, with, lookup and log take parameters", originalString(head.original), what)
}

func (c *compiler) program(ap *astProgram, sc *scope) *program {
	if ap == nil {
		return nil
	}
	p := sc.prog
	for _, n := range ap.body {
		c.statement(n, sc, p)
	}
	if len(p.nodes) == 0 {
		return nil // an empty body prints nothing, whatever its context
	}
	return p
}

func (c *compiler) appendText(p *program, text string) {
	if text == "" {
		return
	}
	if k := len(p.nodes); k > 0 && p.nodes[k-1].kind == nText {
		p.nodes[k-1].text += text
		return
	}
	p.nodes = append(p.nodes, node{kind: nText, text: text})
}

func (c *compiler) statement(n astNode, sc *scope, p *program) {
	switch n := n.(type) {
	case *astContent:
		c.appendText(p, n.value)
	case *astComment:
	case *astMustache:
		c.mustache(n, sc, p)
	case *astBlock:
		c.block(n, sc, p)
	}
}

func (c *compiler) mustache(m *astMustache, sc *scope, p *program) {
	s := m.sexpr
	head := transformLiteralToPath(s.path)
	kind, name := c.classify(s, head, sc)
	if kind != kHelper {
		e, _ := c.pathExpr(head, sc)
		p.nodes = append(p.nodes, node{kind: nPrint, escaped: m.escaped, expr: e})
		return
	}
	switch name {
	case "lookup":
		p.nodes = append(p.nodes, node{kind: nPrint, escaped: m.escaped, expr: c.lookup(s, sc)})
		return
	case "log":
		// Prints nothing, but is still a piece (an empty string) of the
		// program's + chain.
		c.params(s, sc)
		p.nodes = append(p.nodes, node{kind: nPrint, escaped: m.escaped, expr: undefinedExpr})
		return
	}
	c.badHelper(s, head, name, "{{")
}

// child returns the scope of a block's body or inverse.
func (c *compiler) child(sc *scope, ap *astProgram, ctxRoot bool, push *ctxEntry, paramRoot []bool) *scope {
	ns := &scope{parent: sc, prog: &program{}, ctxRoot: ctxRoot, chain: sc.chain}
	if ap != nil && ap.hasParams {
		ns.params = ap.blockParams
		ns.paramRoot = make([]bool, len(ap.blockParams))
		copy(ns.paramRoot, paramRoot)
		ns.prog.declares = true
	}
	if push != nil {
		ns.chain = append([]ctxEntry{*push}, sc.chain...)
	}
	return ns
}

func (c *compiler) block(b *astBlock, sc *scope, p *program) {
	s := b.sexpr
	head := transformLiteralToPath(s.path)
	kind, name := c.classify(s, head, sc)

	if (b.program != nil && b.program.hasParams) || (b.inverse != nil && b.inverse.hasParams) {
		if kind != kHelper || (name != "each" && name != "with") || b.inverted {
			c.fail(b.blockParamsPos, "block parameters (as |...|) are only allowed on {{#each}} and {{#with}}")
		}
	}
	same := func(ap *astProgram) *program { // a body run with the same context
		return c.program(ap, c.child(sc, ap, sc.ctxRoot, nil, nil))
	}

	if kind != kHelper {
		subject, root := c.pathExpr(head, sc)
		// {{#x}}: the body's context is x (an object), or unchanged (x is
		// true), or each element (x is an array).
		push := ctxEntry{root: root, optional: true}
		fn := c.program(b.program, c.child(sc, b.program, root || sc.ctxRoot, &push, nil))
		// An ambiguous {{#name}} (a simple name that could be a helper) is
		// appended by a statement of its own, outside the + chain.
		explicit := kind == kAmbiguous
		p.explicit = p.explicit || explicit
		p.nodes = append(p.nodes, node{kind: nMissing, explicit: explicit, expr: subject, fn: fn, inverse: same(b.inverse)})
		return
	}
	switch name {
	case "if", "unless":
		if len(s.params) != 1 {
			c.badHelper(s, head, name, "{{#")
		}
		cond, _ := c.param(s.params[0], sc)
		n := node{kind: nIf, unless: name == "unless", expr: cond}
		for _, h := range s.hash {
			v, _ := c.param(h.value, sc)
			// handlebars assigns hash pairs in reverse order: with a
			// repeated key, the first wins.
			if h.key == "includeZero" && n.includeZero == nil {
				n.includeZero = v
			}
		}
		n.fn, n.inverse = same(b.program), same(b.inverse)
		p.nodes = append(p.nodes, n)
	case "each", "with":
		if len(s.params) != 1 {
			c.badHelper(s, head, name, "{{#")
		}
		subject, root := c.param(s.params[0], sc)
		for _, h := range s.hash {
			c.param(h.value, sc)
		}
		n := node{kind: nEach, expr: subject}
		var fn *program
		if name == "each" {
			if root {
				c.readsRoot = true // iterating the root reads every name
			}
			fn = c.program(b.program, c.child(sc, b.program, false, &ctxEntry{}, nil))
		} else {
			n.kind = nWith
			push := ctxEntry{root: root, optional: root}
			fn = c.program(b.program, c.child(sc, b.program, root, &push, []bool{root}))
		}
		n.fn, n.inverse = fn, same(b.inverse)
		p.nodes = append(p.nodes, n)
	case "lookup":
		// The helper's value is appended as is: block output is never
		// escaped. Its programs are never run.
		e := c.lookup(s, sc)
		same(b.program)
		same(b.inverse)
		p.nodes = append(p.nodes, node{kind: nPrint, expr: e})
	case "log":
		c.params(s, sc)
		same(b.program)
		same(b.inverse)
		p.nodes = append(p.nodes, node{kind: nPrint, expr: undefinedExpr})
	default:
		c.badHelper(s, head, name, "{{#")
	}
}
