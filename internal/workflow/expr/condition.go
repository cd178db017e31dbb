package expr

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Condition is a compiled transition condition (SPEC 12). A nil Condition
// (a transition without one) always holds.
type Condition struct {
	op     string
	values []*Value
	nested []*Condition
}

// Ops lists the operators and how many values each takes (-1: one or more
// nested conditions; -2: any).
var Ops = map[string]int{
	"true": -2, "eq": 2, "dne": 2, "exists": 1, "nexists": 1,
	"gt": 2, "gte": 2, "lt": 2, "lte": 2, "contains": 2,
	"and": -1, "or": -1,
}

// CompileCondition compiles {"op", "values"} found at ptr.
func CompileCondition(v any, ptr string, sc Scope, d *Diagnostics) *Condition {
	obj, ok := v.(*jsonv.Object)
	if !ok {
		d.fail(ptr, "a condition must be an object {\"op\", \"values\"}")
		return nil
	}
	for _, m := range obj.Members {
		if m.Key != "op" && m.Key != "values" {
			d.warn(Pointer(ptr, m.Key), "%s is not a property this platform interprets for a condition; it is kept as given", m.Key)
		}
	}
	opv, _ := obj.Get("op")
	op, _ := opv.(string)
	arity, known := Ops[op]
	if !known {
		d.fail(Pointer(ptr, "op"), "op must be one of true, eq, dne, exists, nexists, gt, gte, lt, lte, contains, and, or; got %s", describe(opv))
		return nil
	}
	c := &Condition{op: op}
	vals, has := obj.Get("values")
	arr, isArr := vals.([]any)
	if has && !isArr {
		d.fail(Pointer(ptr, "values"), "values must be an array")
		return nil
	}
	switch {
	case arity == -2:
		return c
	case arity == -1:
		if len(arr) == 0 {
			d.fail(Pointer(ptr, "values"), "%s needs one or more nested conditions in values", op)
			return nil
		}
		for i, e := range arr {
			n := CompileCondition(e, Pointer(Pointer(ptr, "values"), i), sc, d)
			if n == nil {
				return nil
			}
			c.nested = append(c.nested, n)
		}
	default:
		if len(arr) != arity {
			d.fail(Pointer(ptr, "values"), "%s takes %d value(s) in values, not %d", op, arity, len(arr))
			return nil
		}
		for i, e := range arr {
			c.values = append(c.values, Compile(e, Pointer(Pointer(ptr, "values"), i), sc, d))
		}
	}
	return c
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return `"` + s + `"`
	}
	if v == nil {
		return "nothing"
	}
	return "a non-string"
}

// Holds evaluates the condition against ctx; each value is resolved first.
func (c *Condition) Holds(ctx any) bool {
	if c == nil {
		return true
	}
	switch c.op {
	case "true":
		return true
	case "and":
		for _, n := range c.nested {
			if !n.Holds(ctx) {
				return false
			}
		}
		return true
	case "or":
		for _, n := range c.nested {
			if n.Holds(ctx) {
				return true
			}
		}
		return false
	}
	a, aok := c.values[0].Eval(ctx)
	switch c.op {
	case "exists":
		return aok && a != nil
	case "nexists":
		return !aok || a == nil
	}
	b, bok := c.values[1].Eval(ctx)
	switch c.op {
	case "eq":
		return aok == bok && (!aok || Equal(a, b))
	case "dne":
		return !(aok == bok && (!aok || Equal(a, b)))
	case "contains":
		return aok && bok && contain(a, b)
	}
	if !aok || !bok {
		return false
	}
	r, ok := compare(a, b)
	if !ok {
		return false
	}
	switch c.op {
	case "gt":
		return r > 0
	case "gte":
		return r >= 0
	case "lt":
		return r < 0
	case "lte":
		return r <= 0
	}
	return false
}

// Equal reports whether two JSON values are equal: numbers by value,
// objects member by member whatever their order, arrays element by element.
func Equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if !jsonv.IsObject(a) || !jsonv.IsObject(b) {
		return false
	}
	na, nb := 0, 0
	eq := true
	jsonv.Range(a, func(k string, va any) bool {
		na++
		vb, ok := jsonv.Get(b, k)
		eq = ok && Equal(va, vb)
		return eq
	})
	if !eq {
		return false
	}
	jsonv.Range(b, func(string, any) bool { nb++; return true })
	return na == nb
}

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

// compare orders two values as JavaScript's relational operators do for
// JSON values: two strings by their UTF-16 code units (for the common case,
// byte order), anything else as numbers (a string read with +s, a boolean
// as 0 or 1, null as 0); NaN compares with nothing.
func compare(a, b any) (int, bool) {
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		return strings.Compare(sa, sb), true
	}
	fa, ok1 := toNumber(a)
	fb, ok2 := toNumber(b)
	if !ok1 || !ok2 || math.IsNaN(fa) || math.IsNaN(fb) {
		return 0, false
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func toNumber(v any) (float64, bool) {
	if f, ok := number(v); ok {
		return f, true
	}
	switch x := v.(type) {
	case nil:
		return 0, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case string:
		return jsnum.Parse(x)
	}
	return 0, false
}

// contain: a string contains a string; an array contains every element of
// an array (or the one value given).
func contain(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && strings.Contains(x, y)
	case []any:
		want, ok := b.([]any)
		if !ok {
			want = []any{b}
		}
		for _, w := range want {
			found := false
			for _, e := range x {
				if Equal(e, w) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return false
}

// Always reports whether the condition holds whatever the context: none at
// all, or op "true".
func (c *Condition) Always() bool { return c == nil || c.op == "true" }
