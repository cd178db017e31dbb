package schema

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	switchboard "github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Input converts and checks v with inputSchema semantics, as Ajv 8 does with
// {coerceTypes: true, allErrors: true}: it returns the converted value and
// every violation. A violation's Location is base followed by the JSON
// pointer of the value inside v. Input may change v in place: callers pass
// freshly decoded values.
//
// Where Ajv's behaviour comes from JavaScript's prototypes, Input differs on
// purpose: it sees an object's own members only, where Ajv reads data[name]
// and so finds "constructor" or "toString" in every object, and it treats a
// property named "__proto__" like any other, where Ajv ignores it.
func (s *Schema) Input(v any, base string) (any, []switchboard.Problem) {
	if s == nil {
		return v, nil
	}
	w := walker{base: base}
	out, _ := w.walk(s.root, v)
	return out, w.problems
}

// Output converts and filters v with outputSchema semantics, and never
// fails: a missing required property stays absent; a property that
// additionalProperties does not allow, or whose value cannot be converted,
// is removed; an array element that cannot be converted is removed too, so
// later elements move up (a response keeps only what the schema promises,
// and a null placeholder would break that promise). A coercion that gives a
// non-finite number ("1e400" for a number) counts as a failure here, so
// that the result passes the schema again unchanged. When v itself cannot
// be converted, Output returns it unchanged. Output may change v in place.
func (s *Schema) Output(v any) any {
	if s == nil {
		return v
	}
	w := walker{output: true}
	out, ok := w.walk(s.root, v)
	if !ok {
		return v
	}
	return out
}

// walker carries the state of one conversion. The path to the current
// value is a stack of segments, joined into a JSON pointer only when a
// violation is reported, so that a valid value costs no allocation. The
// first levels live in an array inside the walker, which stays on Input's
// stack (a slice of it, or a list of frames linked through the recursion,
// would make the compiler move them to the heap).
type walker struct {
	base     string
	output   bool
	problems []switchboard.Problem
	depth    int
	segs     [pathInline]seg
	more     []seg // the levels past pathInline
}

const pathInline = 16

// seg is one step of the path: an array index when index >= 0, else a
// member name.
type seg struct {
	name  string
	index int
}

func (w *walker) push(name string, index int) {
	if w.depth < pathInline {
		w.segs[w.depth] = seg{name, index}
	} else {
		w.more = append(w.more[:w.depth-pathInline], seg{name, index})
	}
	w.depth++
}

func (w *walker) pop() { w.depth-- }

// report records a violation at the current path or, when hasMember is
// set, at its member named member (required and additionalProperties point
// at the member, not at the object). Output records nothing.
func (w *walker) report(msg string, member string, hasMember bool) {
	if w.output {
		return
	}
	var b strings.Builder
	b.WriteString(w.base)
	for i := 0; i < w.depth; i++ {
		var sg seg
		if i < pathInline {
			sg = w.segs[i]
		} else {
			sg = w.more[i-pathInline]
		}
		b.WriteByte('/')
		if sg.index >= 0 {
			b.WriteString(strconv.Itoa(sg.index))
		} else {
			writeEscaped(&b, sg.name)
		}
	}
	if hasMember {
		b.WriteByte('/')
		writeEscaped(&b, member)
	}
	w.problems = append(w.problems, switchboard.Problem{Message: msg, Location: b.String()})
}

func writeEscaped(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '~':
			b.WriteString("~0")
		case '/':
			b.WriteString("~1")
		default:
			b.WriteByte(s[i])
		}
	}
}

// walk applies n to v and returns the converted value, and whether v
// passed the type (and false-schema) check of n itself. As in Ajv, the
// object and array keywords apply whenever the (converted) value is an
// object or an array, whatever the type check said; in Output a value that
// fails its type is dropped by the caller, so walk stops there.
func (w *walker) walk(n *node, v any) (any, bool) {
	if n.never {
		w.report("boolean schema is false", "", false)
		return v, false
	}
	ok := true
	if len(n.types) > 0 {
		v, ok = coerce(n.types, v)
		if ok && w.output {
			// Only a coercion makes a float64 that is not finite.
			if f, isFloat := v.(float64); isFloat && !finite(f) {
				return v, false
			}
		}
		if !ok {
			w.report(n.typeMsg, "", false)
			if w.output {
				return v, false
			}
		}
	}
	switch x := v.(type) {
	case *jsonv.Object:
		if n.hasObjectRules() {
			w.object(n, x)
		}
	case map[string]any:
		if n.hasObjectRules() {
			w.mapObject(n, x)
		}
	case map[string]string:
		// Members may change type, so this form becomes an *Object.
		if n.hasObjectRules() {
			o := jsonv.Clone(x).(*jsonv.Object)
			w.object(n, o)
			v = o
		}
	case []any:
		if n.items != nil {
			// Boxing a slice allocates: box it again only when Output
			// shortened it.
			if k := w.array(n.items, x); k < len(x) {
				v = x[:k]
			}
		}
	}
	return v, ok
}

// object applies the object keywords of n to o, in Ajv's order (required,
// additionalProperties, properties), so that violations come in Ajv's order.
func (w *walker) object(n *node, o *jsonv.Object) {
	for _, r := range n.required {
		if !has(o, r.name) {
			w.report(r.msg, r.name, true)
		}
	}
	if n.noAdditional || n.additional != nil {
		for i := 0; i < len(o.Members); {
			key := o.Members[i].Key
			if _, declared := n.lookup(key); declared {
				i++
				continue
			}
			if n.noAdditional {
				w.report("must NOT have additional properties", key, true)
				if w.output {
					o.Delete(key)
					continue
				}
				i++
				continue
			}
			w.push(key, -1)
			nv, ok := w.walk(n.additional, o.Members[i].Value)
			w.pop()
			if !ok && w.output {
				o.Delete(key)
				continue
			}
			o.Members[i].Value = nv
			i++
		}
	}
	// Members usually come in the schema's order: start each search where
	// the previous one ended.
	hint := 0
	for p := range n.props {
		pr := &n.props[p]
		i := find(o, pr.name, hint)
		if i < 0 {
			continue
		}
		hint = i + 1
		if pr.schema.alwaysValid() {
			continue
		}
		w.push(pr.name, -1)
		nv, ok := w.walk(pr.schema, o.Members[i].Value)
		w.pop()
		if !ok && w.output {
			o.Delete(pr.name)
			hint = i
			continue
		}
		o.Members[i].Value = nv
	}
}

// find returns the index of the member key of o, searching from hint on
// and then from the start, or -1.
func find(o *jsonv.Object, key string, hint int) int {
	m := o.Members
	if hint > len(m) {
		hint = 0
	}
	for i := hint; i < len(m); i++ {
		if m[i].Key == key {
			return i
		}
	}
	for i := 0; i < hint; i++ {
		if m[i].Key == key {
			return i
		}
	}
	return -1
}

func has(o *jsonv.Object, key string) bool {
	_, ok := o.Get(key) // a map lookup once jsonv indexes a large object
	return ok
}

// mapObject is object for the map form, which Go code may build. Members
// are visited in sorted order, as jsonv does, so violations are
// deterministic.
func (w *walker) mapObject(n *node, m map[string]any) {
	for _, r := range n.required {
		if _, ok := m[r.name]; !ok {
			w.report(r.msg, r.name, true)
		}
	}
	if n.noAdditional || n.additional != nil {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, key := range keys {
			if _, declared := n.lookup(key); declared {
				continue
			}
			if n.noAdditional {
				w.report("must NOT have additional properties", key, true)
				if w.output {
					delete(m, key)
				}
				continue
			}
			w.push(key, -1)
			nv, ok := w.walk(n.additional, m[key])
			w.pop()
			if !ok && w.output {
				delete(m, key)
			} else {
				m[key] = nv
			}
		}
	}
	for p := range n.props {
		pr := &n.props[p]
		val, ok := m[pr.name]
		if !ok || pr.schema.alwaysValid() {
			continue
		}
		w.push(pr.name, -1)
		nv, ok := w.walk(pr.schema, val)
		w.pop()
		if !ok && w.output {
			delete(m, pr.name)
		} else {
			m[pr.name] = nv
		}
	}
}

// array applies items to every element of a, in place, and returns the
// new length: in Output, the elements that were dropped are gone and later
// ones have moved up.
func (w *walker) array(items *node, a []any) int {
	j := 0
	for i, e := range a {
		w.push("", i)
		nv, ok := w.walk(items, e)
		w.pop()
		if !ok && w.output {
			continue
		}
		a[j] = nv
		j++
	}
	clear(a[j:]) // let the dropped elements be collected
	return j
}

// number returns the JavaScript number a value holds, and whether it is a
// number at all.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		return jsnum.Float(x), true
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func finite(f float64) bool { return !math.IsInf(f, 0) && !math.IsNaN(f) }

// is reports whether v is of type k. As Ajv's default strictNumbers, a
// non-finite number (1e400 in JSON) is neither a number nor an integer.
func is(k kind, v any) bool {
	switch k {
	case kString:
		_, ok := v.(string)
		return ok
	case kNumber:
		f, ok := number(v)
		return ok && finite(f)
	case kInteger:
		f, ok := number(v)
		return ok && finite(f) && f == math.Trunc(f)
	case kBoolean:
		_, ok := v.(bool)
		return ok
	case kNull:
		return v == nil
	case kObject:
		return jsonv.IsObject(v)
	case kArray:
		_, ok := v.([]any)
		return ok
	}
	return false
}

// coerce returns v when it has one of types, else v coerced to the first
// type it can be coerced to, in the order of types, as Ajv's coerceData
// does; ok is false when there is none. Objects and arrays are never
// coerced (that needs coerceTypes: "array").
func coerce(types []kind, v any) (any, bool) {
	for _, t := range types {
		if is(t, v) {
			return v, true
		}
	}
	for _, t := range types {
		if c, ok := coerceTo(t, v); ok {
			return c, true
		}
	}
	return v, false
}

// coerceTo is one branch of Ajv's coerceData for a value not of type t.
func coerceTo(t kind, v any) (any, bool) {
	switch t {
	case kString:
		// "" + data for numbers and booleans, "" for null.
		switch x := v.(type) {
		case nil:
			return "", true
		case bool:
			if x {
				return strTrue, true
			}
			return strFalse, true
		case json.Number:
			return jsnum.FormatNumber(x), true
		case int:
			if i := int64(x); i > -1<<53 && i < 1<<53 {
				return strconv.FormatInt(i, 10), true
			}
			return jsnum.Format(float64(x)), true
		}
		if f, ok := number(v); ok {
			return jsnum.Format(f), true
		}
	case kNumber, kInteger:
		// +data for booleans, null, and non-empty strings with
		// data == +data (a string JavaScript reads as a number, which
		// includes "0x10", " 12 " and " ", but not "NaN"). For integer
		// also !(data % 1), which Infinity passes (Infinity % 1 is NaN).
		switch x := v.(type) {
		case nil:
			return numZero, true
		case bool:
			if x {
				return numOne, true
			}
			return numZero, true
		case string:
			if x == "" {
				return nil, false
			}
			f, ok := jsnum.Parse(x)
			if !ok {
				return nil, false
			}
			if t == kInteger && finite(f) && f != math.Trunc(f) {
				return nil, false
			}
			if finite(f) && isCanonical(x, f) {
				// "12" reads as 12, which prints as "12": keep the
				// string rather than print a copy.
				return json.Number(x), true
			}
			return numberValue(f), true
		}
	case kBoolean:
		// data === "false" || data === 0 || data === null, and
		// data === "true" || data === 1.
		switch x := v.(type) {
		case nil:
			return false, true
		case string:
			switch x {
			case "false":
				return false, true
			case "true":
				return true, true
			}
		default:
			if f, ok := number(v); ok {
				switch f {
				case 0: // also -0
					return false, true
				case 1:
					return true, true
				}
			}
		}
	case kNull:
		// data === "" || data === 0 || data === false.
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil, true
			}
		case bool:
			if !x {
				return nil, true
			}
		default:
			if f, ok := number(v); ok && f == 0 {
				return nil, true
			}
		}
	}
	return nil, false
}

// numberValue is the value of a number made by coercion: a json.Number of
// JavaScript's printing, or for ±Infinity (which Ajv produces from
// "Infinity" or "1e400") a float64, which jsonv encodes as null, as
// JSON.stringify does.
func numberValue(f float64) any {
	switch {
	case !finite(f):
		return f
	case f == 0:
		return numZero // also -0, which JavaScript prints "0"
	case f == 1:
		return numOne
	}
	var buf [32]byte
	return json.Number(jsnum.AppendFormat(buf[:0], f))
}

// isCanonical reports whether s is how JavaScript prints f.
func isCanonical(s string, f float64) bool {
	if len(s) > 24 || f == 0 {
		return false // 0 and -0 have boxed forms already
	}
	var buf [32]byte
	return string(jsnum.AppendFormat(buf[:0], f)) == s
}
