package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/apitest"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the code")

// openAPIFile is the committed document.
var openAPIFile = filepath.Join("..", "..", "docs", "openapi.json")

// servedOpenAPI is the document a server with every optional part serves.
func servedOpenAPI(t *testing.T) []byte {
	t.Helper()
	e := apitest.New(t, apitest.Options{})
	resp, err := http.Get(e.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /openapi.json: %d %v", resp.StatusCode, err)
	}
	return b
}

// The committed docs/openapi.json is what the code generates. After a
// change to a route, refresh it with
//
//	go test ./internal/httpapi -run TestOpenAPI -update
func TestOpenAPIDrift(t *testing.T) {
	got := servedOpenAPI(t)
	if *update {
		if err := os.WriteFile(openAPIFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatalf("%v: generate it with go test ./internal/httpapi -run TestOpenAPI -update", err)
	}
	if !bytes.Equal(want, got) {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
		i := 0
		for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Errorf("docs/openapi.json differs from the generated document from line %d:\n  committed: %s\n  generated: %s\n"+
			"refresh it with: go test ./internal/httpapi -run TestOpenAPI -update", i+1, line(wl), line(gl))
	}
}

// The document is what its readers and tools expect: schema names without
// Go package prefixes, the error code an enum of the closed set, every
// operation described (not only its roles) with an example of its request
// and of every answer, security [] on the public ones, servers, and no
// operation that needs a key without 401 and 403 or a run without the
// statuses a run can answer.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	type response struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Example  any            `json:"example"`
			Examples map[string]any `json:"examples"`
		} `json:"content"`
	}
	var doc struct {
		Servers    []struct{ URL string } `json:"servers"`
		Components struct {
			Responses map[string]response `json:"responses"`
			Schemas   map[string]struct {
				Required   []string                   `json:"required"`
				Enum       []string                   `json:"enum"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
		Paths map[string]map[string]struct {
			OperationID string            `json:"operationId"`
			Description string            `json:"description"`
			Security    *[]map[string]any `json:"security"`
			RequestBody *struct {
				Content map[string]struct {
					Example any `json:"example"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]response `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(servedOpenAPI(t), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Error("the document names no server")
	}
	prefixed := regexp.MustCompile(`^(Httpapi|Switchboard|Oauth|Registry|Runner)[A-Z]`)
	for name := range doc.Components.Schemas {
		if prefixed.MatchString(name) {
			t.Errorf("schema %s is named after its Go package", name)
		}
	}
	for _, name := range []string{"RunResult", "RunRequest", "Problem", "App", "AppDefinition", "AuditEntry", "Session", "Key", "Org", "Version"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("no schema %s", name)
		}
	}
	var codes []string
	for _, c := range switchboard.Codes() {
		codes = append(codes, string(c))
	}
	slices.Sort(codes)
	if got := doc.Components.Schemas["ErrorCode"].Enum; strings.Join(got, ",") != strings.Join(codes, ",") {
		t.Errorf("ErrorCode enum = %v, want %v", got, codes)
	}
	for schema, want := range map[string][]string{
		"Problem":   {"type", "title", "status", "code"},
		"RunResult": {"status", "headers", "body", "cache"},
		"Org":       {"id", "name", "adminKey"},
		"Version":   {"version", "goVersion"},
	} {
		got := strings.Join(doc.Components.Schemas[schema].Required, ",")
		for _, p := range want {
			if !strings.Contains(","+got+",", ","+p+",") {
				t.Errorf("schema %s: %s is not required (required: %s)", schema, p, got)
			}
		}
	}
	if r := doc.Components.Schemas["RunRequest"].Required; len(r) != 0 {
		t.Errorf("RunRequest requires %v; every member of a run request is optional", r)
	}
	for path, ops := range doc.Paths {
		for method, o := range ops {
			where := strings.ToUpper(method) + " " + path + " (" + o.OperationID + ")"
			desc, roles, _ := strings.Cut(o.Description, "\n\n")
			if len(desc) < 40 || strings.HasPrefix(desc, "Roles:") {
				t.Errorf("%s: the description %q does not say what the operation does: add it to opDocs in openapi_docs.go", where, o.Description)
			}
			public := strings.HasPrefix(roles, "No key needed")
			if public && (o.Security == nil || len(*o.Security) != 0) {
				t.Errorf("%s: a public operation without security: []", where)
			}
			if !public {
				if o.Security == nil || len(*o.Security) == 0 {
					t.Errorf("%s: needs a key but names no security", where)
				}
				for _, s := range []string{"401", "403"} {
					if _, ok := o.Responses[s]; !ok {
						t.Errorf("%s: needs a key but does not declare %s", where, s)
					}
				}
			}
			if o.RequestBody != nil {
				for ct, mt := range o.RequestBody.Content {
					if mt.Example == nil {
						t.Errorf("%s: the %s request body has no example: add req to its opDocs entry", where, ct)
					}
				}
			}
			for status, r := range o.Responses {
				if r.Ref != "" {
					shared, ok := doc.Components.Responses[strings.TrimPrefix(r.Ref, "#/components/responses/")]
					if !ok {
						t.Errorf("%s: %s refers to %s, which is not in the document", where, status, r.Ref)
					}
					r = shared
				}
				for ct, mt := range r.Content {
					if mt.Example == nil && len(mt.Examples) == 0 {
						t.Errorf("%s: the %s %s answer has no example: add resp to its opDocs entry", where, status, ct)
					}
				}
				if status == "200" && len(r.Content) == 0 && method != "options" {
					t.Errorf("%s: the 200 answer has no content", where)
				}
			}
			if strings.HasSuffix(path, "/run") && method == "post" {
				for _, s := range []string{"400", "403", "404", "413", "424", "429", "502", "503", "504"} {
					if _, ok := o.Responses[s]; !ok {
						t.Errorf("%s: a run can answer %s, which is not declared", where, s)
					}
				}
			}
		}
	}
}
