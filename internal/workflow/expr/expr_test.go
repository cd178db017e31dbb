package expr

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

func mustDecode(t testing.TB, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := jsonv.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const testContext = `{"steps": {
	"1": {"orderId": "ord_1", "amount": "12.50", "count": " 42px", "hex": "0x1F", "items": [{"id": "a"}, {"id": "b"}], "nothing": null, "flag": true},
	"refund.v2": {"body": {"status": "REFUNDED", "total": 7}},
	"rJ8MlNtEx": {"statusCode": 200}
}, "error": {"code": "upstream_error", "status": 500, "body": {"message": "boom"}}}`

var testScope = Scope{Steps: []string{"1", "refund.v2", "rJ8MlNtEx"}, Roots: []string{"steps", "error"}}

func TestValues(t *testing.T) {
	ctx := mustDecode(t, testContext)
	tests := []struct {
		name, in string
		want     string // JSON, or "" for absent
	}{
		{"literal number", `5`, `5`},
		{"literal object", `{"a": [1, true, null]}`, `{"a":[1,true,null]}`},
		{"plain string", `"hello"`, `"hello"`},
		{"reference keeps the type", `"/#steps.1.items"`, `[{"id":"a"},{"id":"b"}]`},
		{"reference to a string", `"/#steps.1.orderId"`, `"ord_1"`},
		{"array index", `"/#steps.1.items.1.id"`, `"b"`},
		{"step id with dots", `"/#steps.refund.v2.body.status"`, `"REFUNDED"`},
		{"builder step id", `"/#steps.rJ8MlNtEx.statusCode"`, `200`},
		{"null is present", `"/#steps.1.nothing"`, `null`},
		{"absent reference", `"/#steps.1.missing"`, ``},
		{"absent step", `"/#steps.9.x"`, ``},
		{"error", `"/#error.status"`, `500`},
		{"error body", `"/#error.body.message"`, `"boom"`},
		{"absent member is left out", `{"id": "/#steps.1.orderId", "gone": "/#steps.1.missing"}`, `{"id":"ord_1"}`},
		{"absent element is left out", `["/#steps.1.missing", 1]`, `[1]`},
		{"handlebars", `"order {{steps.1.orderId}}!"`, `"order ord_1!"`},
		{"handlebars absent is empty", `"[{{steps.1.missing}}]"`, `"[]"`},
		{"handlebars number prints as a string", `"{{steps.rJ8MlNtEx.statusCode}}"`, `"200"`},
		{"handlebars escapes", `"{{error.body.message}}<&>"`, `"boom<&>"`},
		{"/# inside a string is text", `"see /#steps.1.orderId"`, `"see /#steps.1.orderId"`},
		{"/# alone is text", `"/#"`, `"/#"`},
		{"parseFloat", `"/#fn:parseFloat,steps.1.amount"`, `12.5`},
		{"parseInt", `"/#fn:parseInt,steps.1.amount"`, `12`},
		{"parseInt stops at junk", `"/#fn:parseInt,steps.1.count"`, `42`},
		{"parseInt hex", `"/#fn:parseInt,steps.1.hex"`, `31`},
		{"parseInt of NaN is absent", `"/#fn:parseInt,steps.1.orderId"`, ``},
		{"parseInt of a number", `"/#fn:parseInt,steps.rJ8MlNtEx.statusCode"`, `200`},
		{"parseInt of absent", `"/#fn:parseInt,steps.1.missing"`, ``},
		{"parseFloat with /# path", `"/#fn:parseFloat,/#steps.1.amount"`, `12.5`},
		{"unknown function is absent", `"/#fn:toUpperCase,steps.1.orderId"`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Diagnostics
			v := Compile(mustDecode(t, tt.in), "/params", testScope, &d)
			if len(d.Problems) > 0 {
				t.Fatalf("problems: %v", d.Problems)
			}
			got, ok := v.Eval(ctx)
			gotS := ""
			if ok {
				gotS = mustJSON(t, got)
			}
			if diff := cmp.Diff(tt.want, gotS); diff != "" {
				t.Errorf("Eval(%s) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestCompileDiagnostics(t *testing.T) {
	tests := []struct {
		name, in       string
		problem, warns bool
	}{
		{"bad template", `"{{#if x}}"`, true, false},
		{"partial refused", `"{{> p}}"`, true, false},
		{"unknown function", `"/#fn:toLowerCase,steps.1.x"`, false, true},
		{"function without path", `"/#fn:parseInt,"`, true, false},
		{"unknown step", `"/#steps.nope.x"`, false, true},
		{"unknown root", `"/#data.id"`, false, true},
		{"fine", `"/#steps.1.x"`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Diagnostics
			Compile(mustDecode(t, tt.in), "/p", testScope, &d)
			if (len(d.Problems) > 0) != tt.problem || (len(d.Warnings) > 0) != tt.warns {
				t.Errorf("problems %v, warnings %v; want problem=%v warning=%v", d.Problems, d.Warnings, tt.problem, tt.warns)
			}
			for _, p := range append(d.Problems, d.Warnings...) {
				if p.Location != "/p" {
					t.Errorf("location %q, want /p", p.Location)
				}
			}
		})
	}
}

func TestConditions(t *testing.T) {
	ctx := mustDecode(t, testContext)
	tests := []struct {
		in   string
		want bool
	}{
		{`{"op": "true", "values": [true]}`, true},
		{`{"op": "true"}`, true},
		{`{"op": "eq", "values": ["/#steps.1.orderId", "ord_1"]}`, true},
		{`{"op": "eq", "values": ["/#steps.1.orderId", "ord_2"]}`, false},
		{`{"op": "eq", "values": ["/#steps.rJ8MlNtEx.statusCode", 200.0]}`, true},
		{`{"op": "eq", "values": ["/#steps.rJ8MlNtEx.statusCode", "200"]}`, false},
		{`{"op": "eq", "values": ["/#steps.1.items", [{"id": "a"}, {"id": "b"}]]}`, true},
		{`{"op": "eq", "values": ["/#steps.1.missing", "/#steps.1.alsoMissing"]}`, true},
		{`{"op": "dne", "values": ["/#steps.1.orderId", "ord_2"]}`, true},
		{`{"op": "dne", "values": ["/#steps.1.missing", "x"]}`, true},
		{`{"op": "exists", "values": ["/#steps.1.orderId"]}`, true},
		{`{"op": "exists", "values": ["/#steps.1.missing"]}`, false},
		{`{"op": "exists", "values": ["/#steps.1.nothing"]}`, false},
		{`{"op": "nexists", "values": ["/#steps.1.missing"]}`, true},
		{`{"op": "gt", "values": ["/#error.status", 499]}`, true},
		{`{"op": "gt", "values": ["/#error.status", 500]}`, false},
		{`{"op": "gte", "values": ["/#error.status", 500]}`, true},
		{`{"op": "lt", "values": ["/#steps.1.amount", 13]}`, true},
		{`{"op": "lte", "values": ["/#steps.1.amount", "12.5"]}`, false},
		{`{"op": "lt", "values": ["abc", "abd"]}`, true},
		{`{"op": "gt", "values": ["/#steps.1.orderId", 1]}`, false},
		{`{"op": "gt", "values": ["/#steps.1.missing", 1]}`, false},
		{`{"op": "contains", "values": ["/#steps.1.orderId", "ord"]}`, true},
		{`{"op": "contains", "values": ["/#steps.1.orderId", "xyz"]}`, false},
		{`{"op": "contains", "values": [["a", "b", "c"], ["c", "a"]]}`, true},
		{`{"op": "contains", "values": [["a", "b"], ["c"]]}`, false},
		{`{"op": "contains", "values": ["/#steps.1.items", [{"id": "b"}]]}`, true},
		{`{"op": "and", "values": [{"op": "exists", "values": ["/#steps.1.orderId"]}, {"op": "eq", "values": ["/#error.code", "upstream_error"]}]}`, true},
		{`{"op": "and", "values": [{"op": "exists", "values": ["/#steps.1.orderId"]}, {"op": "eq", "values": ["/#error.code", "x"]}]}`, false},
		{`{"op": "or", "values": [{"op": "eq", "values": [1, 2]}, {"op": "eq", "values": ["{{steps.1.orderId}}", "ord_1"]}]}`, true},
		{`{"op": "or", "values": [{"op": "eq", "values": [1, 2]}, {"op": "eq", "values": [3, 4]}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var d Diagnostics
			c := CompileCondition(mustDecode(t, tt.in), "/c", testScope, &d)
			if len(d.Problems) > 0 {
				t.Fatalf("problems: %v", d.Problems)
			}
			if got := c.Holds(ctx); got != tt.want {
				t.Errorf("Holds = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionProblems(t *testing.T) {
	for _, in := range []string{
		`{"op": "equals", "values": [1, 1]}`,
		`{"values": [1, 1]}`,
		`{"op": "eq", "values": [1]}`,
		`{"op": "exists", "values": [1, 2]}`,
		`{"op": "and", "values": []}`,
		`{"op": "and", "values": [1]}`,
		`{"op": "eq", "values": "x"}`,
		`"eq"`,
	} {
		t.Run(in, func(t *testing.T) {
			var d Diagnostics
			if c := CompileCondition(mustDecode(t, in), "/c", testScope, &d); c != nil || len(d.Problems) == 0 {
				t.Errorf("CompileCondition(%s) = %v, problems %v; want a problem", in, c, d.Problems)
			}
		})
	}
}

func TestParseNumbers(t *testing.T) {
	ints := map[string]float64{"42": 42, "  -7x": -7, "0x10": 16, "+3.9": 3, "1e3": 1, "\u00a0 12": 12}
	for in, want := range ints {
		if got, ok := ParseInt(in); !ok || got != want {
			t.Errorf("ParseInt(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	floats := map[string]float64{"12.50": 12.5, ".5": 0.5, "5.": 5, "1e3x": 1000, "1e": 1, "-0.25e-2": -0.0025, " 3": 3}
	for in, want := range floats {
		if got, ok := ParseFloat(in); !ok || got != want {
			t.Errorf("ParseFloat(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "abc", "-", ".", "x1"} {
		if _, ok := ParseInt(in); ok {
			t.Errorf("ParseInt(%q) is a number; want NaN", in)
		}
		if _, ok := ParseFloat(in); ok {
			t.Errorf("ParseFloat(%q) is a number; want NaN", in)
		}
	}
}

// FuzzCompile feeds arbitrary JSON to the value and condition compilers:
// they report problems, never panic, and what compiles evaluates.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{`"/#steps.1.a"`, `"/#fn:parseInt,steps.1.a"`, `"{{steps.1.a}}"`, `{"op":"and","values":[{"op":"true"}]}`, `["/#", "/#fn:", {"a": "/#error.x"}]`} {
		f.Add(s)
	}
	ctx := mustDecode(f, testContext)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := jsonv.Decode([]byte(s))
		if err != nil {
			return
		}
		var d Diagnostics
		if val := Compile(v, "", testScope, &d); len(d.Problems) == 0 {
			val.Eval(ctx)
		}
		var d2 Diagnostics
		if c := CompileCondition(v, "", testScope, &d2); c != nil && len(d2.Problems) == 0 {
			c.Holds(ctx)
		}
		if f, ok := ParseFloat(s); ok && f != f {
			t.Errorf("ParseFloat(%q) reported NaN as a number", s)
		}
		ParseInt(s)
	})
}
