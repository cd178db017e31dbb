package mock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
)

// problems returns Load's problems as "pointer: message" lines.
func problems(t *testing.T, src string) []string {
	t.Helper()
	m, err := Load([]byte(src))
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("Load = %v, %v; want an *InvalidError", m, err)
	}
	if m != nil {
		t.Errorf("Load returned a mock with its error")
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Location+": "+p.Message)
	}
	return out
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"not JSON", `{"routes": [`, []string{": not valid JSON: unexpected EOF"}},
		{"not an object", `[]`, []string{`: must be an object: {"routes": [...]}`}},
		{"no routes", `{}`, []string{": routes is missing: a fixtures file lists its routes"}},
		{"routes not an array", `{"routes": {}}`, []string{"/routes: must be an array of routes"}},
		{"no route", `{"routes": []}`, []string{"/routes: must list at least one route"}},
		{"an unknown top-level member", `{"routes": [{"path": "/"}], "route": 1}`,
			[]string{`/route: "route" is not a member of the fixtures (routes, settings, cases)`}},
		{"a route not an object", `{"routes": ["/orders"]}`, []string{"/routes/0: must be an object with a path"}},
		{"a typo in a route", `{"routes": [{"path": "/", "staus": 404}]}`,
			[]string{`/routes/0/staus: "staus" is not a member of a route (method, host, path, status, headers, body)`}},
		{"no path", `{"routes": [{"method": "GET"}]}`,
			[]string{"/routes/0: path is missing: a route matches a path such as /orders/{id}"}},
		{"paths", `{"routes": [
			{"path": 1}, {"path": "orders"}, {"path": "/o?x=1"}, {"path": "/o/x{id}"}, {"path": "/o/{1d}"},
			{"path": "/{rest...}/x"}, {"path": "/%zz"}, {"path": "/{a}/{a}"}, {"path": "/{}"}]}`,
			[]string{
				"/routes/0/path: must be a string such as /orders/{id}",
				"/routes/1/path: must start with /, as in /orders/{id}",
				"/routes/2/path: must be a path only: the query is matched by no pattern (echo it with {{query.name}})",
				`/routes/3/path: segment 2 ("x{id}"): a {name} must be a whole part`,
				`/routes/4/path: segment 2 ("{1d}"): "1d" is not a name (letters, digits and _, not first a digit)`,
				`/routes/5/path: segment 1 ("{rest...}"): {rest...} must be the last segment`,
				`/routes/6/path: segment 1 ("%zz"): bad percent-encoding`,
				"/routes/7: {a} is captured twice: the captures of host and path are all {{path.name}}",
				`/routes/8/path: segment 1 ("{}"): "" is not a name (letters, digits and _, not first a digit)`,
			}},
		{"hosts", `{"routes": [
			{"host": "", "path": "/"}, {"host": "shop.example.com:443", "path": "/"}, {"host": "a..b", "path": "/"},
			{"host": "{x...}.example.com", "path": "/"}, {"host": "sh*p.example.com", "path": "/"},
			{"host": "{id}.example.com", "path": "/{id}"}, {"host": 7, "path": "/"}]}`,
			[]string{
				"/routes/0/host: must not be empty: leave host out to match every host",
				"/routes/1/host: must be a host name pattern without scheme, port or path, as in {store}.example.com",
				"/routes/2/host: label 2 is empty",
				`/routes/3/host: label 1 ("{x"): a {name} must be a whole part`,
				`/routes/4/host: label 1 ("sh*p"): '*' is not a letter, digit, - or _`,
				"/routes/5: {id} is captured twice: the captures of host and path are all {{path.name}}",
				"/routes/6/host: must be a string such as {store}.example.com",
			}},
		{"methods", `{"routes": [{"method": "", "path": "/"}, {"method": "GET /", "path": "/"}, {"method": 1, "path": "/"}]}`,
			[]string{
				"/routes/0/method: must be an HTTP method such as GET or POST (leave it out to match any)",
				"/routes/1/method: must be an HTTP method such as GET or POST (leave it out to match any)",
				"/routes/2/method: must be an HTTP method such as GET or POST (leave it out to match any)",
			}},
		{"statuses", `{"routes": [{"path": "/", "status": 600}, {"path": "/", "status": 99}, {"path": "/", "status": 200.5},
			{"path": "/", "status": "200"}, {"path": "/", "status": 204, "body": ""}, {"path": "/", "status": 599}]}`,
			[]string{
				"/routes/0/status: must be 100..599",
				"/routes/1/status: must be 100..599",
				"/routes/2/status: must be an integer 100..599",
				"/routes/3/status: must be an integer 100..599",
				"/routes/4/body: a 204 answer has no body",
			}},
		{"headers", `{"routes": [{"path": "/", "headers": []}, {"path": "/", "headers": {"X a": "1", "X-N": 1,
			"content-length": "3", "X-T": "{{#if x}}", "a/b": "", "X-OK": "{{x}}"}}]}`,
			[]string{
				`/routes/0/headers: must be an object of header names and values, as {"X-Request-Id": "r-1"}`,
				`/routes/1/headers/X a: "X a" is not a header name`,
				"/routes/1/headers/X-N: must be a string",
				"/routes/1/headers/content-length: content-length is set by the mock from the body",
				"/routes/1/headers/X-T: template: line 1, column 1 of the string: unclosed block {{#if x}}",
				`/routes/1/headers/a~1b: "a/b" is not a header name`,
			}},
		{"bodies", `{"routes": [{"path": "/", "body": "{{"}, {"path": "/", "body": {"a": ["ok", "{{/x}}"], "b~c": "{{#each}}"}}]}`,
			[]string{
				"/routes/0/body: template: line 1, column 3 of the string: unexpected end of template, expected a name or a literal",
				"/routes/1/body/a/1: template: line 1, column 1 of the string: closing tag {{/x}} without an opening block",
				"/routes/1/body/b~0c: template: line 1, column 1 of the string: unclosed block {{#each}}",
			}},
		{"every problem of every route at once", `{"routes": [{"path": "x", "status": 0}, {"path": "/"}, {"method": "", "headers": 1}]}`,
			[]string{
				"/routes/0/path: must start with /, as in /orders/{id}",
				"/routes/0/status: must be 100..599",
				"/routes/2/method: must be an HTTP method such as GET or POST (leave it out to match any)",
				"/routes/2: path is missing: a route matches a path such as /orders/{id}",
				`/routes/2/headers: must be an object of header names and values, as {"X-Request-Id": "r-1"}`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, problems(t, tc.src)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadProblemPositions(t *testing.T) {
	t.Parallel()
	src := "{\n  \"routes\": [\n    {\"path\": \"/\"},\n    {\"path\": \"/\",\n     \"status\": 700}\n  ]\n}\n"
	_, err := Load([]byte(src))
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("Load = %v, want an *InvalidError", err)
	}
	want := []switchboard.Problem{{Message: "must be 100..599", Location: "/routes/1/status", Line: 5, Column: 6}}
	if diff := cmp.Diff(want, ie.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "invalid fixtures: /routes/1/status: must be 100..599"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	_, err = Load([]byte("{\n  \"routes\": [}\n"))
	if !errors.As(err, &ie) || len(ie.Problems) != 1 || ie.Problems[0].Line != 2 || ie.Problems[0].Column != 14 {
		t.Errorf("malformed JSON = %v, want one problem at 2:14", err)
	}
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	m := mustLoad(t, `{"routes": [{"path": "/a"}, {"method": "delete", "host": "{s}.Example.com", "path": "/b/{id}", "status": 201}]}`)
	want := []string{"ANY /a", "DELETE {s}.Example.com/b/{id}"}
	if diff := cmp.Diff(want, m.Routes()); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	if m.routes[0].status != 200 || m.routes[0].method != "" || m.routes[0].host != nil || m.routes[0].hasBody {
		t.Errorf("defaults: %+v", m.routes[0])
	}
}

func TestLoadShippedFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "mocks", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(data); err != nil {
				t.Errorf("Load: %v", err)
			}
		})
	}
	if n == 0 {
		t.Fatal("no fixtures in testdata/mocks")
	}
}
