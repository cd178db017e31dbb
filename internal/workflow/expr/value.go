// Package expr compiles and evaluates the values and conditions of workflows
// (SPEC 12): literals; "/#steps.<id>.<path>" and "/#error.<path>"
// references that keep the JSON type of what they point at and leave a param
// out when it is absent; "/#fn:parseInt,<path>" and "/#fn:parseFloat,<path>"
// conversions with JavaScript's rules; any other string a Handlebars
// template. Everything is compiled once, at registration.
package expr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// refPrefix marks a string that is a reference; it counts only as the start
// of a whole string.
const refPrefix = "/#"

// fnPrefix marks a conversion function.
const fnPrefix = "fn:"

type kind uint8

const (
	kLit kind = iota
	kRef
	kFn
	kTmpl
	kArray
	kObject
	kAbsent // a function this platform does not implement: always absent
)

// Value is a compiled value. The zero Value is the literal null. It is
// immutable and safe for concurrent use.
type Value struct {
	kind  kind
	lit   any
	path  []string
	fn    string
	tmpl  *tmpl.Template
	elems []*Value
	keys  []string
}

// Scope tells the compiler what a value may refer to.
type Scope struct {
	// Steps are the workflow's step ids ("1" is the trigger), so that an id
	// holding dots is still read as one id.
	Steps []string
	// Roots are the names a "/#" reference may start with ("steps", and
	// "error" inside error cases); a reference to another root is a
	// warning and always absent. Empty means any root (a trigger's
	// outputTemplate, read against the event's attributes).
	Roots []string
}

// Diagnostics collects the problems (errors) and warnings of a compilation,
// each located by a JSON pointer.
type Diagnostics struct {
	Problems []switchboard.Problem
	Warnings []switchboard.Problem
}

func (d *Diagnostics) fail(ptr, format string, args ...any) {
	d.Problems = append(d.Problems, switchboard.Problem{Location: ptr, Message: fmt.Sprintf(format, args...)})
}

func (d *Diagnostics) warn(ptr, format string, args ...any) {
	d.Warnings = append(d.Warnings, switchboard.Problem{Location: ptr, Message: fmt.Sprintf(format, args...)})
}

// Pointer joins a JSON pointer and a member name or index.
func Pointer(base string, tok any) string {
	switch t := tok.(type) {
	case int:
		return base + "/" + strconv.Itoa(t)
	case string:
		return base + "/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return base
}

// Compile compiles a decoded JSON value (the jsonv forms) found at ptr.
func Compile(v any, ptr string, sc Scope, d *Diagnostics) *Value {
	return compile(v, ptr, sc, d, 0)
}

func compile(v any, ptr string, sc Scope, d *Diagnostics, depth int) *Value {
	if depth > jsonv.MaxDepth {
		d.fail(ptr, "the value nests too deeply")
		return &Value{}
	}
	switch x := v.(type) {
	case string:
		return compileString(x, ptr, sc, d)
	case []any:
		out := &Value{kind: kArray, elems: make([]*Value, len(x))}
		for i, e := range x {
			out.elems[i] = compile(e, Pointer(ptr, i), sc, d, depth+1)
		}
		return out
	case *jsonv.Object:
		out := &Value{kind: kObject, elems: make([]*Value, len(x.Members)), keys: make([]string, len(x.Members))}
		for i, m := range x.Members {
			out.keys[i] = m.Key
			out.elems[i] = compile(m.Value, Pointer(ptr, m.Key), sc, d, depth+1)
		}
		return out
	}
	return &Value{kind: kLit, lit: v}
}

func compileString(s, ptr string, sc Scope, d *Diagnostics) *Value {
	rest, isRef := strings.CutPrefix(s, refPrefix)
	if !isRef || rest == "" {
		if !strings.Contains(s, "{{") {
			return &Value{kind: kLit, lit: s}
		}
		t, err := tmpl.Parse(s)
		if err != nil {
			var te *tmpl.Error
			if errors.As(err, &te) {
				d.Problems = append(d.Problems, switchboard.Problem{Location: ptr, Message: fmt.Sprintf("template: %s (line %d, column %d of the string)", te.Message, te.Line, te.Column)})
			} else {
				d.fail(ptr, "template: %v", err)
			}
			return &Value{}
		}
		return &Value{kind: kTmpl, tmpl: t}
	}
	if f, ok := strings.CutPrefix(rest, fnPrefix); ok {
		name, arg, _ := strings.Cut(f, ",")
		switch name {
		case "parseInt", "parseFloat":
			if strings.TrimSpace(arg) == "" {
				d.fail(ptr, "%q needs a path after the comma, as in /#fn:%s,steps.1.amount", s, name)
				return &Value{}
			}
			return &Value{kind: kFn, fn: name, path: splitPath(strings.TrimPrefix(strings.TrimSpace(arg), refPrefix), sc, ptr, d)}
		default:
			d.warn(ptr, "the function %q is not implemented by this platform (parseInt and parseFloat are); the value is always absent", name)
			return &Value{kind: kAbsent}
		}
	}
	return &Value{kind: kRef, path: splitPath(rest, sc, ptr, d)}
}

// splitPath splits a reference's dot path, reading a step id that holds dots
// as one segment.
func splitPath(p string, sc Scope, ptr string, d *Diagnostics) []string {
	root, rest, _ := strings.Cut(p, ".")
	if len(sc.Roots) > 0 && !contains(sc.Roots, root) {
		d.warn(ptr, "the reference /#%s reads %q, which is not part of a step's context (%s); it is always absent", p, root, strings.Join(sc.Roots, ", "))
	}
	if root == "steps" && rest != "" {
		best := ""
		for _, id := range sc.Steps {
			if (rest == id || strings.HasPrefix(rest, id+".")) && len(id) > len(best) {
				best = id
			}
		}
		if best == "" {
			id, _, _ := strings.Cut(rest, ".")
			if len(sc.Steps) > 0 {
				d.warn(ptr, "the reference /#%s names step %q, which this workflow does not have; it is always absent", p, id)
			}
			best = id
		}
		out := []string{"steps", best}
		if tail := strings.TrimPrefix(rest[len(best):], "."); tail != "" {
			out = append(out, strings.Split(tail, ".")...)
		}
		return out
	}
	return strings.Split(p, ".")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Eval evaluates the value against ctx; ok is false when it is absent (a
// reference to nothing), so that the caller leaves it out.
func (v *Value) Eval(ctx any) (any, bool) {
	if v == nil {
		return nil, false
	}
	switch v.kind {
	case kLit:
		return jsonv.Clone(v.lit), true
	case kRef:
		x, ok := Lookup(ctx, v.path)
		if !ok {
			return nil, false
		}
		return jsonv.Clone(x), true
	case kFn:
		x, ok := Lookup(ctx, v.path)
		if !ok {
			return nil, false
		}
		return convert(v.fn, x)
	case kTmpl:
		s, err := v.tmpl.Render(ctx)
		if err != nil {
			return "", true
		}
		return s, true
	case kArray:
		out := make([]any, 0, len(v.elems))
		for _, e := range v.elems {
			if x, ok := e.Eval(ctx); ok {
				out = append(out, x)
			}
		}
		return out, true
	case kObject:
		out := jsonv.NewObject(len(v.elems))
		for i, e := range v.elems {
			if x, ok := e.Eval(ctx); ok {
				out.Set(v.keys[i], x)
			}
		}
		return out, true
	}
	return nil, false
}

// Lookup follows a path of member names (and array indexes) from v.
func Lookup(v any, path []string) (any, bool) {
	for _, seg := range path {
		switch x := v.(type) {
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) || strconv.Itoa(i) != seg {
				return nil, false
			}
			v = x[i]
		default:
			var ok bool
			if v, ok = jsonv.Get(x, seg); !ok {
				return nil, false
			}
		}
	}
	return v, true
}

// convert applies parseInt or parseFloat as JavaScript does: the value is
// made a string first (String(x)), leading white space is skipped, and the
// longest prefix that reads as a number counts. NaN and the infinities have
// no JSON form and are absent.
func convert(fn string, x any) (any, bool) {
	s := jsString(x)
	var f float64
	var ok bool
	if fn == "parseInt" {
		f, ok = ParseInt(s)
	} else {
		f, ok = ParseFloat(s)
	}
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false
	}
	return json.Number(jsnum.Format(f)), true
}

// jsString is String(x) for a JSON value.
func jsString(x any) string {
	switch t := x.(type) {
	case nil:
		return "null"
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case json.Number:
		return jsnum.FormatNumber(t)
	case float64:
		return jsnum.Format(t)
	case int:
		return strconv.Itoa(t)
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if e != nil {
				parts[i] = jsString(e)
			}
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// jsSpace is JavaScript's StrWhiteSpaceChar set (WhiteSpace and
// LineTerminator).
func jsSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// ParseInt is JavaScript's parseInt(s) without a radix: a sign, then "0x"
// for hexadecimal, then as many digits as there are; false (NaN) with none.
func ParseInt(s string) (float64, bool) {
	s = strings.TrimLeftFunc(s, jsSpace)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10.0
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	var f float64
	n := 0
	for _, c := range []byte(s) {
		var dgt int
		switch {
		case c >= '0' && c <= '9':
			dgt = int(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			dgt = int(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			dgt = int(c-'A') + 10
		default:
			goto done
		}
		f = f*base + float64(dgt)
		n++
	}
done:
	if n == 0 {
		return math.NaN(), false
	}
	if base == 10 && n > 15 {
		// Long decimal runs: let the float parser round as JavaScript does.
		digits := s[:n]
		if g, err := strconv.ParseFloat(digits, 64); err == nil {
			f = g
		}
	}
	if neg {
		f = -f
	}
	return f, true
}

// ParseFloat is JavaScript's parseFloat(s): the longest prefix (after white
// space) that is a decimal literal or Infinity; false (NaN) with none.
func ParseFloat(s string) (float64, bool) {
	s = strings.TrimLeftFunc(s, jsSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		frac := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
			frac++
		}
		if digits > 0 || frac > 0 {
			i = j
			digits += frac
		}
	}
	if digits == 0 {
		return math.NaN(), false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > j {
			i = k
		}
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return f, true // ±Inf or 0, as JavaScript rounds
		}
		return math.NaN(), false
	}
	return f, true
}
