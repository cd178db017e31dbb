package apptest

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Mismatch is one difference between what a case expects and what its run
// did: where (what part, and a JSON pointer into it), and both sides as
// JSON.
type Mismatch struct {
	Part    string // "request", "answer" or "problem"
	Pointer string
	Want    string
	Got     string // "nothing" when absent
}

func (m Mismatch) String() string {
	where := m.Part
	if m.Pointer != "" {
		where += " " + m.Pointer
	}
	return where + ":\n      - want " + m.Want + "\n      + got  " + m.Got
}

// How expectations match (docs/apptest.md): the members an expectation
// gives are checked and the others are not; "headers" are checked by the
// names given, in any case, a null name meaning "absent"; every other
// member (a body, an output, a status, a URL) must be equal, its objects
// member for member and its numbers by value. A problem is matched more
// loosely, being prose: each object by the members given, "detail" by a
// part of it.

type matcher struct {
	part string
	out  []Mismatch
}

func (m *matcher) miss(ptr string, want, got any, gotOK bool) {
	g := "nothing"
	if gotOK {
		g = show(got)
	}
	m.out = append(m.out, Mismatch{Part: m.part, Pointer: ptr, Want: show(want), Got: g})
}

// matchDocument checks an expected request or answer against what
// happened.
func matchDocument(part string, want, got any) []Mismatch {
	m := &matcher{part: part}
	jsonv.Range(want, func(k string, wv any) bool {
		ptr := appdef.Pointer("", k)
		gv, ok := jsonv.Get(got, k)
		switch {
		case k == "headers" && ok:
			m.headers(ptr, wv, gv)
		case !ok:
			m.miss(ptr, wv, nil, false)
		default:
			m.exact(ptr, wv, gv)
		}
		return true
	})
	return m.out
}

func (m *matcher) headers(ptr string, want, got any) {
	if !jsonv.IsObject(want) {
		m.exact(ptr, want, got)
		return
	}
	jsonv.Range(want, func(k string, wv any) bool {
		var gv any
		found := false
		jsonv.Range(got, func(gk string, v any) bool {
			if strings.EqualFold(gk, k) {
				gv, found = v, true
				return false
			}
			return true
		})
		hp := appdef.Pointer(ptr, strings.ToLower(k))
		switch {
		case wv == nil && found:
			m.miss(hp, label("absent"), gv, true)
		case wv == nil:
		case !found:
			m.miss(hp, wv, nil, false)
		default:
			m.exact(hp, wv, gv)
		}
		return true
	})
}

// exact checks that got equals want, naming each member or element that
// differs.
func (m *matcher) exact(ptr string, want, got any) {
	switch w := want.(type) {
	case *jsonv.Object:
		if !jsonv.IsObject(got) {
			m.miss(ptr, want, got, true)
			return
		}
		for _, mem := range w.Members {
			mp := appdef.Pointer(ptr, mem.Key)
			gv, ok := jsonv.Get(got, mem.Key)
			if !ok {
				m.miss(mp, mem.Value, nil, false)
				continue
			}
			m.exact(mp, mem.Value, gv)
		}
		jsonv.Range(got, func(k string, gv any) bool {
			if _, ok := w.Get(k); !ok {
				m.out = append(m.out, Mismatch{Part: m.part, Pointer: appdef.Pointer(ptr, k), Want: "nothing", Got: show(gv)})
			}
			return true
		})
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			m.miss(ptr, want, got, true)
			return
		}
		for i := range w {
			m.exact(appdef.Pointer(ptr, strconv.Itoa(i)), w[i], g[i])
		}
	default:
		if !scalarEqual(want, got) {
			m.miss(ptr, want, got, true)
		}
	}
}

// matchProblem checks an expected refusal: objects by the members given,
// arrays element by element, detail by a part of it.
func matchProblem(want, got any) []Mismatch {
	m := &matcher{part: "problem"}
	m.loose("", want, got)
	return m.out
}

func (m *matcher) loose(ptr string, want, got any) {
	switch w := want.(type) {
	case *jsonv.Object:
		if !jsonv.IsObject(got) {
			m.miss(ptr, want, got, true)
			return
		}
		for _, mem := range w.Members {
			mp := appdef.Pointer(ptr, mem.Key)
			gv, ok := jsonv.Get(got, mem.Key)
			if !ok {
				m.miss(mp, mem.Value, nil, false)
				continue
			}
			if ws, isStr := mem.Value.(string); isStr && mem.Key == "detail" {
				if gs, _ := gv.(string); !strings.Contains(gs, ws) {
					m.miss(mp, label("a detail containing "+show(ws)), gv, true)
				}
				continue
			}
			m.loose(mp, mem.Value, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			m.miss(ptr, want, got, true)
			return
		}
		for i := range w {
			m.loose(appdef.Pointer(ptr, strconv.Itoa(i)), w[i], g[i])
		}
	default:
		if !scalarEqual(want, got) {
			m.miss(ptr, want, got, true)
		}
	}
}

// scalarEqual compares two JSON scalars, numbers by their value (1.0 is 1).
func scalarEqual(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		x, ok1 := new(big.Rat).SetString(string(an))
		y, ok2 := new(big.Rat).SetString(string(bn))
		if ok1 && ok2 {
			return x.Cmp(y) == 0
		}
		return an == bn
	}
	if aok || bok {
		return false
	}
	switch a.(type) {
	case *jsonv.Object, []any:
		return false
	}
	return a == b
}

// label is a description printed as it is, not as JSON.
type label string

// show is v as compact JSON, cut short when long.
func show(v any) string {
	if l, ok := v.(label); ok {
		return string(l)
	}
	b, err := jsonv.Marshal(v)
	if err != nil {
		return "?"
	}
	const max = 400
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
