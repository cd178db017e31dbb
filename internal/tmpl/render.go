package tmpl

import (
	"slices"
	"sync"
)

// The renderer walks the compiled tree. Its state (handlebars' depths stack,
// the block params in scope, @data frames) lives in a pooled struct, so that
// a render allocates nothing but the output it appends.

type bpEntry struct {
	prog *program
	vals [2]any
}

type renderer struct {
	t         *Template
	dst       []byte
	depths    []any // handlebars' depths, the innermost last
	bps       []bpEntry
	rootFrame frame
	free      *frame
}

var rendererPool = sync.Pool{New: func() any { return new(renderer) }}

func (r *renderer) newFrame(parent *frame) *frame {
	f := r.free
	if f != nil {
		r.free = f.nextFree
		*f = frame{}
	} else {
		f = new(frame)
	}
	f.parent, f.root, f.iter = parent, parent.root, true
	return f
}

func (r *renderer) freeFrame(f *frame) {
	*f = frame{nextFree: r.free}
	r.free = f
}

func (r *renderer) release() {
	r.t, r.dst = nil, nil
	clear(r.depths)
	r.depths = r.depths[:0]
	clear(r.bps)
	r.bps = r.bps[:0]
	r.rootFrame = frame{}
	rendererPool.Put(r)
}

// Handlebars compiles a program to one JavaScript expression that joins its
// pieces with +, so its value is not always a string: {{{a}}}{{{b}}} with
// numbers a and b adds them, and a block whose body is {{{n}}} yields a
// number that its parent adds in turn. The renderer reproduces this: it
// writes strings to dst as it goes, and keeps a number or boolean pending
// while the value so far is one (see acc).

type accKind uint8

const (
	accNone accKind = iota // no piece yet
	accStr                 // a string, written to dst
	accPrim                // a number or boolean, not yet written
)

// acc is the value of a + chain so far.
type acc struct {
	kind accKind
	prim any
}

var strTerm = acc{kind: accStr}

// add is st = st + t, JavaScript's +, where t's text (when a string) was
// written at dst[tStart:].
func (r *renderer) add(st *acc, t acc, tStart int) {
	switch st.kind {
	case accNone:
		*st = t
	case accStr:
		if t.kind == accPrim {
			r.dst = appendValue(r.dst, t.prim, false, 0)
		}
	case accPrim:
		if t.kind == accPrim {
			st.prim = toNumber(primNumber(st.prim)) + toNumber(primNumber(t.prim))
			return
		}
		var tmp [32]byte
		r.dst = slices.Insert(r.dst, tStart, appendValue(tmp[:0], st.prim, false, 0)...)
		*st = strTerm
	}
}

func primNumber(v any) any {
	if b, ok := v.(bool); ok {
		return boolNumber(b)
	}
	return v
}

// valueTerm is a value as a piece of a + chain: handlebars appends
// (v != null ? v : ""), and + turns objects and arrays into strings.
func (r *renderer) valueTerm(v any) acc {
	switch v.(type) {
	case bool:
		return acc{kind: accPrim, prim: v}
	}
	if num, _ := isNumber(v); num {
		return acc{kind: accPrim, prim: v}
	}
	r.dst = appendValue(r.dst, v, false, 0)
	return strTerm
}

// flush writes a pending number or boolean: the template's output is
// ” + its value.
func (r *renderer) flush(st acc) {
	if st.kind == accPrim {
		r.dst = appendValue(r.dst, st.prim, false, 0)
	}
}

// invoke runs a block's program with a context, as handlebars' wrapProgram:
// the context becomes a new level for ../ unless it equals (==) the current
// one. A missing program is handlebars' noop, which returns "".
func (r *renderer) invoke(p *program, ctx any, data *frame, bp0, bp1 any) acc {
	if p == nil {
		return strTerm
	}
	pushed := false
	if r.t.useDepths {
		top := r.depths[len(r.depths)-1]
		if !looseEqual(ctx, top) && !(ctx == any(nullContext) && top == nil) {
			r.depths = append(r.depths, ctx)
			pushed = true
		}
	}
	if p.declares {
		r.bps = append(r.bps, bpEntry{prog: p, vals: [2]any{bp0, bp1}})
	}
	res := r.run(p, ctx, data)
	if p.declares {
		r.bps[len(r.bps)-1] = bpEntry{}
		r.bps = r.bps[:len(r.bps)-1]
	}
	if pushed {
		r.depths[len(r.depths)-1] = nil
		r.depths = r.depths[:len(r.depths)-1]
	}
	return res
}

// helperThis is the `this` a built-in helper sees: the context, or
// nullContext when it is null.
func helperThis(ctx any) any {
	if isNullish(ctx) {
		return nullContext
	}
	return ctx
}

// run renders a program and returns its value. Without {{#name}} blocks
// (which handlebars appends by a statement of their own) the program is one
// + chain; with them, it builds a buffer as handlebars' generated code does:
// buffer = chain; buffer += value; buffer += (chain); return buffer + chain.
func (r *renderer) run(p *program, ctx any, data *frame) acc {
	nodes := p.nodes
	if !p.explicit {
		var st acc
		for i := range nodes {
			start := len(r.dst)
			r.add(&st, r.term(&nodes[i], ctx, data), start)
		}
		if st.kind == accNone {
			return strTerm // an empty program returns ""
		}
		return st
	}
	var buf acc
	first := true
	for i := 0; i < len(nodes); {
		if nodes[i].explicit {
			if first {
				buf = strTerm // buffer = ""
				first = false
			}
			start := len(r.dst)
			r.add(&buf, r.term(&nodes[i], ctx, data), start)
			i++
			continue
		}
		j := i
		for j < len(nodes) && !nodes[j].explicit {
			j++
		}
		switch {
		case first, j == len(nodes):
			// buffer = t1 + t2 ..., or return buffer + t1 + t2 ...
			for k := i; k < j; k++ {
				start := len(r.dst)
				r.add(&buf, r.term(&nodes[k], ctx, data), start)
			}
			first = false
		default:
			// buffer += (t1 + t2 ...)
			var st acc
			chainStart := len(r.dst)
			for k := i; k < j; k++ {
				start := len(r.dst)
				r.add(&st, r.term(&nodes[k], ctx, data), start)
			}
			r.add(&buf, st, chainStart)
		}
		i = j
	}
	return buf
}

// term renders one node and returns its value as a piece of a + chain.
func (r *renderer) term(n *node, ctx any, data *frame) acc {
	switch n.kind {
	case nText:
		r.dst = append(r.dst, n.text...)
		return strTerm
	case nPrint:
		v := r.eval(n.expr, ctx, data)
		if n.escaped {
			r.dst = appendValue(r.dst, v, true, 0) // escapeExpression returns a string
			return strTerm
		}
		return r.valueTerm(v)
	case nIf:
		cond := r.eval(n.expr, ctx, data)
		includeZero := n.includeZero != nil && truthy(r.eval(n.includeZero, ctx, data))
		pass := !((!includeZero && !truthy(cond)) || isEmpty(cond))
		fn, inverse := n.fn, n.inverse
		if n.unless {
			fn, inverse = inverse, fn
		}
		if pass {
			return r.invoke(fn, helperThis(ctx), data, nil, nil)
		}
		return r.invoke(inverse, helperThis(ctx), data, nil, nil)
	case nEach:
		if r.each(n, r.eval(n.expr, ctx, data), data) {
			return strTerm
		}
		return r.invoke(n.inverse, helperThis(ctx), data, nil, nil)
	case nWith:
		v := r.eval(n.expr, ctx, data)
		if isEmpty(v) {
			return r.invoke(n.inverse, helperThis(ctx), data, nil, nil)
		}
		return r.invoke(n.fn, v, data, v, undefined)
	case nMissing:
		// handlebars' blockHelperMissing, called with this = the context.
		v := r.eval(n.expr, ctx, data)
		switch {
		case v == true:
			return r.invoke(n.fn, ctx, data, nil, nil)
		case v == false || isNullish(v):
			return r.invoke(n.inverse, ctx, data, nil, nil)
		}
		if k, ok := arrayLen(v); ok {
			if k > 0 && r.each(n, v, data) {
				return strTerm
			}
			return r.invoke(n.inverse, ctx, data, nil, nil)
		}
		return r.invoke(n.fn, v, data, nil, nil)
	}
	return strTerm
}

// each runs n.fn for every element of an array or member of an object, as
// handlebars' #each (whose result, "" + each body, is a string), and
// reports whether it ran it at all.
func (r *renderer) each(n *node, v any, data *frame) bool {
	if k, ok := arrayLen(v); ok {
		if k == 0 {
			return false
		}
		f := r.newFrame(data)
		for i := 0; i < k; i++ {
			f.key, f.index, f.first, f.last = i, i, i == 0, i == k-1
			elem := arrayAt(v, i)
			r.flush(r.invoke(n.fn, elem, f, elem, i))
		}
		r.freeFrame(f)
		return true
	}
	if !isObject(v) {
		return false
	}
	f := r.newFrame(data)
	// Run one step behind, as handlebars does, to know which is last.
	i := 0
	var priorKey string
	var priorVal any
	rangeObject(v, func(key string, val any) bool {
		if i > 0 {
			f.key, f.index, f.first, f.last = priorKey, i-1, i-1 == 0, false
			r.flush(r.invoke(n.fn, priorVal, f, priorVal, priorKey))
		}
		priorKey, priorVal = key, val
		i++
		return true
	})
	if i > 0 {
		f.key, f.index, f.first, f.last = priorKey, i-1, i-1 == 0, true
		r.flush(r.invoke(n.fn, priorVal, f, priorVal, priorKey))
	}
	r.freeFrame(f)
	return i > 0
}

func (r *renderer) eval(e *expr, ctx any, data *frame) any {
	switch e.kind {
	case eLiteral:
		return e.value
	case eContext:
		cur := ctx
		if e.depth > 0 {
			if k := len(r.depths) - 1 - e.depth; k >= 0 {
				cur = r.depths[k]
			} else {
				cur = undefined
			}
		}
		for _, p := range e.parts {
			if isNullish(cur) {
				return cur
			}
			cur = lookupProp(cur, p)
		}
		return cur
	case eData:
		f := data
		for i := 0; i < e.depth && f != nil; i++ {
			f = f.parent
		}
		var cur any = undefined
		if f != nil {
			cur = f
		}
		// Data paths chain with &&, not != null: @first.x is false when
		// @first is.
		for _, p := range e.parts {
			if !truthy(cur) {
				return cur
			}
			cur = lookupProp(cur, p)
		}
		return cur
	case eBlockParam:
		var cur any = undefined
		for i := len(r.bps) - 1; i >= 0; i-- {
			if r.bps[i].prog == e.prog {
				if e.index < len(r.bps[i].vals) {
					cur = r.bps[i].vals[e.index]
				}
				break
			}
		}
		for _, p := range e.parts {
			if isNullish(cur) {
				return cur
			}
			cur = lookupProp(cur, p)
		}
		return cur
	case eLookup:
		obj := r.eval(e.args[0], ctx, data)
		key := r.eval(e.args[1], ctx, data)
		if !truthy(obj) {
			return obj
		}
		return lookupKey(obj, key)
	}
	return undefined
}
