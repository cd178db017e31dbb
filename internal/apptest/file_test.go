package apptest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProblems(t *testing.T) {
	for _, tt := range []struct {
		name, file string
		want       []string
	}{
		{"not JSON", `{"cases": [}`, []string{"1:12 : not valid JSON: invalid character '}' at start of value"}},
		{"no cases", `{"routes": [{"path": "/"}]}`, []string{"1:1 : cases is missing: a fixtures file for apps test lists its cases"}},
		{"typo", "{\"cases\": [\n {\"name\": \"a\", \"command\": \"x\", \"expekt\": {}}]}",
			[]string{`2:32 /cases/0/expekt: "expekt" is not a member of a case (name, command, action, args, headers, body, input, settings, expect, response)`}},
		{"both", `{"cases": [{"name": "a", "command": "x", "action": "y"}]}`,
			[]string{"1:12 /cases/0: names both a command and an action: a case runs one of them"}},
		{"input of a command", `{"cases": [{"name": "a", "command": "x", "input": {}}]}`,
			[]string{"1:42 /cases/0/input: a command takes args, headers and a body, not an input"}},
		{"same name", `{"cases": [{"name": "a", "command": "x"}, {"name": "a", "action": "y"}]}`,
			[]string{`1:44 /cases/1/name: "a" is also the name of /cases/0: each case needs a name of its own`}},
		{"answer and problem", `{"cases": [{"name": "a", "command": "x", "expect": {"answer": {}, "problem": {}}}]}`,
			[]string{"1:42 /cases/0/expect: expects both an answer and a problem: a run has one or the other"}},
		{"bad status", `{"cases": [{"name": "a", "command": "x", "response": {"status": 99}}]}`,
			[]string{"1:55 /cases/0/response/status: must be an integer 100..599"}},
		{"bad route", `{"routes": [{"path": "nope"}], "cases": [{"name": "a", "command": "x"}]}`,
			[]string{"1:14 /routes/0/path: must start with /, as in /orders/{id}"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *InvalidError", err)
			}
			var got []string
			for _, p := range ie.Problems {
				got = append(got, fmt.Sprintf("%d:%d %s: %s", p.Line, p.Column, p.Location, p.Message))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got)\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"cases": [{"name": "a", "command": "x", "args": {"a": "1"}, "expect": {"request": null, "problem": {"code": "x"}}}]}`))
	f.Add([]byte(`{"settings": {"d": {"t": "x"}}, "cases": [{"name": "a", "action": "y", "input": {}, "response": {"status": 200, "headers": {"A": "b"}, "body": "x"}}]}`))
	f.Add([]byte(`{"routes": [{"path": "/{x}"}], "cases": [{"name": "b", "command": "z", "settings": {"c": {"n": null}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			var ie *InvalidError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 {
				t.Fatalf("an error that is not a list of problems: %v", err)
			}
			return
		}
		if len(file.Cases) == 0 {
			t.Fatal("a valid file with no cases")
		}
		for _, c := range file.Cases {
			if c.Name == "" || (c.Command == "") == (c.Action == "") {
				t.Fatalf("a case that should not pass: %+v", c)
			}
		}
	})
}
