package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	switchboard "github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// goldenCase is one case of testdata/golden.json, written by
// testdata/gen/gen.js from real Ajv.
type goldenCase struct {
	name      string
	schema    any
	data      string
	valid     bool
	after     any
	errors    []ajvError
	divergent string
}

type ajvError struct {
	instancePath string
	keyword      string
	params       any
	message      string
}

func loadGolden(t testing.TB) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	// jsonv keeps the schemas' member order, which is the order in which
	// Ajv saw them (gen.js writes them with JSON.stringify).
	doc, err := jsonv.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	get := func(v any, key string) any { x, _ := jsonv.Get(v, key); return x }
	var cases []goldenCase
	for _, c := range get(doc, "cases").([]any) {
		gc := goldenCase{
			name:   get(c, "name").(string),
			schema: get(c, "schema"),
			data:   get(c, "data").(string),
			valid:  get(c, "valid").(bool),
			after:  get(c, "after"),
		}
		if d, ok := get(c, "divergent").(string); ok {
			gc.divergent = d
		}
		for _, e := range get(c, "errors").([]any) {
			gc.errors = append(gc.errors, ajvError{
				instancePath: get(e, "instancePath").(string),
				keyword:      get(e, "keyword").(string),
				params:       get(e, "params"),
				message:      get(e, "message").(string),
			})
		}
		cases = append(cases, gc)
	}
	return cases
}

// expectedProblem maps an Ajv error to the Problem Input reports: required
// and additionalProperties errors point at the member, not at the object.
func expectedProblem(t *testing.T, base string, e ajvError) switchboard.Problem {
	loc := base + e.instancePath
	switch e.keyword {
	case "type", "false schema":
	case "required":
		name, _ := jsonv.Get(e.params, "missingProperty")
		loc += "/" + escape(name.(string))
	case "additionalProperties":
		name, _ := jsonv.Get(e.params, "additionalProperty")
		loc += "/" + escape(name.(string))
	default:
		t.Errorf("golden error with keyword %q, which the subset does not have", e.keyword)
	}
	return switchboard.Problem{Message: e.message, Location: loc}
}

func TestGolden(t *testing.T) {
	cases := loadGolden(t)
	if len(cases) < 300 {
		t.Fatalf("golden.json has %d cases, want at least 300", len(cases))
	}
	const base = "/body"
	var passed, skipped int
	for _, c := range cases {
		if c.divergent != "" {
			skipped++
			t.Logf("skipped divergent case %s: %s", c.name, c.divergent)
			continue
		}
		s, probs := Compile(c.schema, "/schema")
		if len(probs) > 0 {
			t.Errorf("%s: Compile: %v", c.name, probs)
			continue
		}
		data, err := jsonv.Decode([]byte(c.data))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, problems := s.Input(data, base)
		ok := true
		if (len(problems) == 0) != c.valid {
			t.Errorf("%s: valid = %v, Ajv says %v (problems %v)", c.name, len(problems) == 0, c.valid, problems)
			ok = false
		}
		if d := jsDiff(got, c.after, ""); d != "" {
			t.Errorf("%s: converted data differs from Ajv's: %s", c.name, d)
			ok = false
		}
		var want []switchboard.Problem
		for _, e := range c.errors {
			want = append(want, expectedProblem(t, base, e))
		}
		if !sameProblems(problems, want, hasArrayIndexKey(data)) {
			t.Errorf("%s: problems (-ajv +got):\n%s", c.name, cmp.Diff(want, problems))
			ok = false
		}
		if ok {
			passed++
		}
	}
	t.Logf("%d golden cases agree with Ajv, %d divergent cases skipped", passed, skipped)
}

// sameProblems compares in order, except where JavaScript's member order
// differs from the data's: JavaScript enumerates array-index names first,
// in numeric order, so Ajv's additionalProperties errors come in that order.
func sameProblems(got, want []switchboard.Problem, anyOrder bool) bool {
	if len(got) != len(want) {
		return false
	}
	if anyOrder {
		got = append([]switchboard.Problem(nil), got...)
		want = append([]switchboard.Problem(nil), want...)
		less := func(p []switchboard.Problem) func(i, j int) bool {
			return func(i, j int) bool {
				if p[i].Location != p[j].Location {
					return p[i].Location < p[j].Location
				}
				return p[i].Message < p[j].Message
			}
		}
		sort.Slice(got, less(got))
		sort.Slice(want, less(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func hasArrayIndexKey(v any) bool {
	found := false
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case *jsonv.Object:
			for _, m := range x.Members {
				found = found || isArrayIndex(m.Key)
				walk(m.Value)
			}
		}
	}
	walk(v)
	return found
}

// isArrayIndex reports whether JavaScript treats name as an array index
// (a canonical integer below 2^32-1), which it enumerates before other
// member names.
func isArrayIndex(name string) bool {
	n, err := strconv.ParseUint(name, 10, 64)
	return err == nil && n < 1<<32-1 && strconv.FormatUint(n, 10) == name
}

// jsOrder returns the members of o in JavaScript's enumeration order.
func jsOrder(members []jsonv.Member) []jsonv.Member {
	out := make([]jsonv.Member, 0, len(members))
	var idx []jsonv.Member
	for _, m := range members {
		if isArrayIndex(m.Key) {
			idx = append(idx, m)
		} else {
			out = append(out, m)
		}
	}
	sort.SliceStable(idx, func(i, j int) bool {
		a, _ := strconv.ParseUint(idx[i].Key, 10, 64)
		b, _ := strconv.ParseUint(idx[j].Key, 10, 64)
		return a < b
	})
	return append(idx, out...)
}

// jsNumber returns JavaScript's printing of a number value, and whether v
// is one.
func jsNumber(v any) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		return jsnum.FormatNumber(x), true
	case float64:
		return jsnum.Format(x), true
	case int:
		return jsnum.Format(float64(x)), true
	}
	return "", false
}

// jsDiff compares our value got with Ajv's want (as gen.js wrote it) as
// JavaScript values: numbers by their JavaScript printing, objects in
// JavaScript's member order. It returns "" when they are equal.
func jsDiff(got, want any, at string) string {
	if w, ok := want.(*jsonv.Object); ok && len(w.Members) == 1 && w.Members[0].Key == "$nonFinite" {
		g, ok := jsNumber(got)
		if !ok || g != w.Members[0].Value.(string) {
			return fmt.Sprintf("%s: got %#v, want %s", at, got, w.Members[0].Value)
		}
		return ""
	}
	switch w := want.(type) {
	case nil, bool, string:
		if got != want {
			return fmt.Sprintf("%s: got %#v, want %#v", at, got, want)
		}
	case json.Number:
		g, ok := jsNumber(got)
		if f, isFloat := got.(float64); isFloat && !math.IsInf(f, 0) {
			ok = false // only ±Infinity is made a float64
		}
		if !ok || g != string(w) {
			return fmt.Sprintf("%s: got %#v, want number %s", at, got, w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %#v, want array of %d", at, got, len(w))
		}
		for i := range w {
			if d := jsDiff(g[i], w[i], at+"/"+strconv.Itoa(i)); d != "" {
				return d
			}
		}
	case *jsonv.Object:
		g, ok := got.(*jsonv.Object)
		if !ok || g.Len() != w.Len() {
			return fmt.Sprintf("%s: got %#v, want object of %d", at, got, w.Len())
		}
		gm := jsOrder(g.Members)
		for i, m := range w.Members {
			if gm[i].Key != m.Key {
				keys := make([]string, len(gm))
				for j := range gm {
					keys[j] = gm[j].Key
				}
				return fmt.Sprintf("%s: member %d is %q, want %q (members %s)", at, i, gm[i].Key, m.Key, strings.Join(keys, ","))
			}
			if d := jsDiff(gm[i].Value, m.Value, at+"/"+m.Key); d != "" {
				return d
			}
		}
	default:
		return fmt.Sprintf("%s: unexpected golden value %#v", at, want)
	}
	return ""
}
