package tmpl

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Values are the jsonv forms (nil, bool, string, json.Number, float64, int,
// int64, []any, *jsonv.Object, map[string]any, map[string]string), plus
// Scopes, []string, and three values of the package's own: undefined,
// nullContext and *frame (a @data frame). The functions here give them
// JavaScript's semantics, as handlebars.js sees them.

// Scopes is a root context made of several objects: a root-level name is
// looked up in each in turn and the first that has it wins. It lets a caller
// combine, say, a request's arguments and its settings without building a
// merged map for each render. Within a template it behaves as one object.
type Scopes []any

// Opaque is a string that templates may print but not look into: it has no
// length, no characters by index and no other property, and lookup cannot
// use it as a key. Secrets are passed as Opaque, so that a template written
// by a caller (a run's header or body) can send a secret whole to the
// upstream the definition names, but cannot take it apart, for example to
// have an echoing upstream return it a character at a time.
type Opaque string

// undefinedType is JavaScript's undefined: what a missing property reads as.
// It differs from null (Go nil) only where handlebars turns a value into a
// property key: {{lookup obj missing}} reads obj["undefined"].
type undefinedType struct{}

var undefined any = undefinedType{}

// nullContext stands for handlebars' container.nullContext, the empty object
// that a built-in helper receives as `this` when the context is null.
var nullContext = &jsonv.Object{}

// frame is handlebars' @data frame: the root frame holds @root, and each
// iteration of #each makes a child frame with @key, @index, @first, @last
// and @_parent.
type frame struct {
	parent      *frame
	root        any
	iter        bool
	key         any
	index       int
	first, last bool
	nextFree    *frame // the renderer's free list
}

func (f *frame) own(name string) (any, bool) {
	switch name {
	case "root":
		return f.root, true
	}
	if !f.iter {
		return nil, false
	}
	switch name {
	case "_parent":
		return f.parent, true
	case "key":
		return f.key, true
	case "index":
		return f.index, true
	case "first":
		return f.first, true
	case "last":
		return f.last, true
	}
	return nil, false
}

func (f *frame) keys() []string {
	if !f.iter {
		return []string{"root"}
	}
	return []string{"root", "_parent", "key", "index", "first", "last"}
}

func isNullish(v any) bool {
	switch v.(type) {
	case nil, undefinedType:
		return true
	}
	return false
}

// truthy is JavaScript's ToBoolean.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil, undefinedType:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case Opaque:
		return x != ""
	case json.Number:
		return !isZeroNumber(x)
	case float64:
		return x != 0 && !math.IsNaN(x)
	case float32:
		return x != 0 && x == x
	case int:
		return x != 0
	case int64:
		return x != 0
	case int32:
		return x != 0
	case uint64:
		return x != 0
	}
	return true // objects and arrays, even empty ones
}

func isZeroNumber(n json.Number) bool {
	f := jsnum.Float(n)
	return f == 0 || math.IsNaN(f)
}

// isNumber reports whether v is a JavaScript number, and whether it is zero.
func isNumber(v any) (num, zero bool) {
	switch x := v.(type) {
	case json.Number:
		return true, isZeroNumber(x)
	case float64:
		return true, x == 0
	case float32:
		return true, x == 0
	case int:
		return true, x == 0
	case int64:
		return true, x == 0
	case int32:
		return true, x == 0
	case uint64:
		return true, x == 0
	}
	return false, false
}

// isEmpty is handlebars' Utils.isEmpty: falsy but not the number 0, or an
// empty array.
func isEmpty(v any) bool {
	if !truthy(v) {
		num, zero := isNumber(v)
		return !(num && zero)
	}
	n, ok := arrayLen(v)
	return ok && n == 0
}

func arrayLen(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case []string:
		return len(x), true
	}
	return 0, false
}

func arrayAt(v any, i int) any {
	switch x := v.(type) {
	case []any:
		return x[i]
	case []string:
		return x[i]
	}
	return undefined
}

// isObject reports whether v is a JavaScript object that is not an array.
func isObject(v any) bool {
	switch v.(type) {
	case *jsonv.Object, map[string]any, map[string]string, Scopes, *frame:
		return true
	}
	return false
}

// own returns the own property name of v, as handlebars' lookupProperty
// sees it: members of objects, "length" and indexes of arrays and strings.
// Properties inherited from prototypes (constructor, __proto__, toString)
// are not own, and handlebars 4.6+ refuses them by default.
func own(v any, name string) (any, bool) {
	switch x := v.(type) {
	case *jsonv.Object:
		return x.Get(name)
	case map[string]any:
		r, ok := x[name]
		return r, ok
	case map[string]string:
		r, ok := x[name]
		return r, ok
	case Scopes:
		return ownInScopes(x, name, 0)
	case *frame:
		if x == nil {
			return nil, false
		}
		return x.own(name)
	case []any, []string:
		n, _ := arrayLen(v)
		if name == "length" {
			return n, true
		}
		if i, ok := arrayIndex(name); ok && i < n {
			return arrayAt(v, i), true
		}
	case string:
		if name == "length" {
			return utf16Len(x), true
		}
		if i, ok := arrayIndex(name); ok {
			return utf16At(x, i)
		}
	}
	return nil, false
}

// maxScopesDepth bounds Scopes nested in Scopes, which only Go code can
// build (and could build as a cycle).
const maxScopesDepth = 8

func ownInScopes(x Scopes, name string, depth int) (any, bool) {
	for _, s := range x {
		if inner, ok := s.(Scopes); ok {
			if depth < maxScopesDepth {
				if r, ok := ownInScopes(inner, name, depth+1); ok {
					return r, true
				}
			}
			continue
		}
		if isObject(s) {
			if r, ok := own(s, name); ok {
				return r, true
			}
		}
	}
	return nil, false
}

// lookupProp is handlebars' lookupProperty: own properties only.
func lookupProp(v any, name string) any {
	if r, ok := own(v, name); ok {
		return r
	}
	return undefined
}

// lookupKey is lookupProperty(obj, key) with a key of any type, converted
// as JavaScript converts property keys (undefined becomes "undefined").
func lookupKey(obj, key any) any {
	if n, ok := arrayLen(obj); ok {
		// Fast path for {{lookup list @index}}: no string conversion.
		i := -1
		switch k := key.(type) {
		case int:
			i = k
		case float64:
			if k >= 0 && k == math.Trunc(k) && k < 1<<31 {
				i = int(k)
			}
		}
		if i >= 0 {
			if i < n {
				return arrayAt(obj, i)
			}
			return undefined
		}
	}
	switch k := key.(type) {
	case string:
		return lookupProp(obj, k)
	case Opaque:
		return undefined // a secret is never a key: no guessing by lookup
	}
	return lookupProp(obj, toJSString(key))
}

// arrayIndex parses a canonical array index: "0" or digits without a leading
// zero, below 2^32-1.
func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= math.MaxUint32 {
		return 0, false
	}
	return n, true
}

func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// utf16At returns the UTF-16 code unit at index i as a string, as
// JavaScript's str[i]. Half of a surrogate pair cannot be represented in
// UTF-8 and becomes U+FFFD (which is also what it becomes in JSON output).
func utf16At(s string, i int) (any, bool) {
	n := 0
	for _, r := range s {
		units := 1
		if r >= 0x10000 {
			units = 2
		}
		if i < n+units {
			if units == 2 {
				return "\uFFFD", true
			}
			return string(r), true
		}
		n += units
	}
	return nil, false
}

// rangeObject calls fn for each own enumerable property of the object v in
// JavaScript's order (Object.keys): integer-like keys ascending, then the
// others in insertion order. Go maps have no insertion order: their other
// keys come sorted.
func rangeObject(v any, fn func(key string, val any) bool) {
	switch x := v.(type) {
	case *jsonv.Object:
		hasIndex := false
		for _, m := range x.Members {
			if _, ok := arrayIndex(m.Key); ok {
				hasIndex = true
				break
			}
		}
		if !hasIndex {
			for _, m := range x.Members {
				if !fn(m.Key, m.Value) {
					return
				}
			}
			return
		}
	case *frame:
		for _, k := range x.keys() {
			val, _ := x.own(k)
			if !fn(k, val) {
				return
			}
		}
		return
	}
	for _, k := range objectKeys(v) {
		val, _ := own(v, k)
		if !fn(k, val) {
			return
		}
	}
}

// objectKeys returns Object.keys(v) for an object v.
func objectKeys(v any) []string {
	var keys []string
	switch x := v.(type) {
	case *jsonv.Object:
		keys = make([]string, 0, len(x.Members))
		for _, m := range x.Members {
			keys = append(keys, m.Key)
		}
		return jsKeyOrder(keys, false)
	case map[string]any:
		keys = make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return jsKeyOrder(keys, true)
	case map[string]string:
		keys = make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return jsKeyOrder(keys, true)
	case Scopes:
		seen := map[string]bool{}
		var collect func(x Scopes, depth int)
		collect = func(x Scopes, depth int) {
			for _, s := range x {
				if inner, ok := s.(Scopes); ok {
					if depth < maxScopesDepth {
						collect(inner, depth+1)
					}
					continue
				}
				if !isObject(s) {
					continue
				}
				for _, k := range objectKeys(s) {
					if !seen[k] {
						seen[k] = true
						keys = append(keys, k)
					}
				}
			}
		}
		collect(x, 0)
		return jsKeyOrder(keys, false)
	case *frame:
		return x.keys()
	}
	return nil
}

// jsKeyOrder puts integer-like keys first, in numeric order, keeping the
// order of the others (or sorting them, for Go maps).
func jsKeyOrder(keys []string, sortOthers bool) []string {
	var idx, other []string
	for _, k := range keys {
		if _, ok := arrayIndex(k); ok {
			idx = append(idx, k)
		} else {
			other = append(other, k)
		}
	}
	slices.SortFunc(idx, func(a, b string) int {
		x, _ := arrayIndex(a)
		y, _ := arrayIndex(b)
		return x - y
	})
	if sortOthers {
		slices.Sort(other)
	}
	return append(idx, other...)
}

// looseEqual is JavaScript's == on values, which handlebars uses to decide
// whether a block's context is a new level for ../ paths.
func looseEqual(a, b any) bool {
	an, bn := isNullish(a), isNullish(b)
	if an || bn {
		return an && bn
	}
	ao, bo := isObjectOrArray(a), isObjectOrArray(b)
	switch {
	case ao && bo:
		return sameObject(a, b)
	case ao:
		a = toJSString(a)
	case bo:
		b = toJSString(b)
	}
	// Both are primitives now: bool, string or number.
	if x, ok := a.(bool); ok {
		a = boolNumber(x)
	}
	if x, ok := b.(bool); ok {
		b = boolNumber(x)
	}
	as, aIsStr := a.(string)
	bs, bIsStr := b.(string)
	if aIsStr && bIsStr {
		return as == bs
	}
	return toNumber(a) == toNumber(b) // NaN never equals
}

func boolNumber(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func toNumber(v any) float64 {
	switch x := v.(type) {
	case string:
		f, ok := jsnum.Parse(x)
		if !ok {
			return math.NaN()
		}
		return f
	case json.Number:
		return jsnum.Float(x)
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint64:
		return float64(x)
	}
	return math.NaN()
}

func isObjectOrArray(v any) bool {
	if _, ok := arrayLen(v); ok {
		return true
	}
	return isObject(v)
}

// sameObject is object identity.
func sameObject(a, b any) bool {
	switch x := a.(type) {
	case *jsonv.Object:
		y, ok := b.(*jsonv.Object)
		return ok && x == y
	case *frame:
		y, ok := b.(*frame)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	case []string:
		y, ok := b.([]string)
		return ok && len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	case Scopes:
		y, ok := b.(Scopes)
		return ok && len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && *(*unsafe.Pointer)(unsafe.Pointer(&x)) == *(*unsafe.Pointer)(unsafe.Pointer(&y))
	case map[string]string:
		y, ok := b.(map[string]string)
		return ok && *(*unsafe.Pointer)(unsafe.Pointer(&x)) == *(*unsafe.Pointer)(unsafe.Pointer(&y))
	}
	return false
}

// maxPrintDepth bounds the nesting of arrays that printing follows, so that
// a cyclic []any built in Go cannot recurse forever (JavaScript prints a
// cycle as "").
const maxPrintDepth = 512

// toJSString is JavaScript's String(v).
func toJSString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	switch v.(type) {
	case nil:
		return "null"
	case undefinedType:
		return "undefined"
	}
	return string(appendValue(nil, v, false, 0))
}

// appendValue appends v as handlebars prints it: nullish as "", numbers as
// JavaScript prints them, arrays joined with ",", objects as
// "[object Object]"; HTML-escaped when escape is set.
func appendValue(dst []byte, v any, escape bool, depth int) []byte {
	switch x := v.(type) {
	case string:
		if escape {
			return appendEscaped(dst, x)
		}
		return append(dst, x...)
	case Opaque:
		if escape {
			return appendEscaped(dst, string(x))
		}
		return append(dst, x...)
	case nil, undefinedType:
		return dst
	case bool:
		if x {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case json.Number:
		return appendNumber(dst, x)
	case float64:
		return appendFloat(dst, x)
	case float32:
		return appendFloat(dst, float64(x))
	case int:
		return appendInt(dst, int64(x))
	case int64:
		return appendInt(dst, x)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case uint64:
		return appendFloat(dst, float64(x))
	case []any:
		if depth >= maxPrintDepth {
			return dst
		}
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e, escape, depth+1)
		}
		return dst
	case []string:
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendValue(dst, e, escape, depth+1)
		}
		return dst
	}
	return append(dst, "[object Object]"...)
}

func appendInt(dst []byte, x int64) []byte {
	if x > -(1<<53) && x < 1<<53 {
		return strconv.AppendInt(dst, x, 10)
	}
	return appendFloat(dst, float64(x)) // as the double JavaScript would hold
}

// appendNumber prints a JSON number as String(JSON.parse(n)) would.
func appendNumber(dst []byte, n json.Number) []byte { return jsnum.AppendNumber(dst, n) }

// escapes maps the characters handlebars' escapeExpression replaces to
// their entities.
var escapes = [256]string{
	'&': "&amp;", '<': "&lt;", '>': "&gt;", '"': "&quot;",
	'\'': "&#x27;", '`': "&#x60;", '=': "&#x3D;",
}

// appendEscaped is handlebars' escapeExpression.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		if rep := escapes[s[i]]; rep != "" {
			dst = append(dst, s[last:i]...)
			dst = append(dst, rep...)
			last = i + 1
		}
	}
	return append(dst, s[last:]...)
}

// Escape returns s escaped as {{x}} escapes it (handlebars'
// escapeExpression).
func Escape(s string) string { return string(appendEscaped(nil, s)) }

// appendFloat prints a double as JavaScript's Number::toString does.
func appendFloat(dst []byte, f float64) []byte { return jsnum.AppendFormat(dst, f) }
