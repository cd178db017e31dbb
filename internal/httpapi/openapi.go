package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/swaggest/jsonschema-go"
	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/buildinfo"
)

// buildOpenAPI generates the OpenAPI 3.1 document from the route table, so
// that the document and the served routes cannot drift apart. The reflector
// describes the schemas of the request and response structs; finishOpenAPI
// then adds what a reader needs beside them: descriptions, examples, the
// problems each operation can answer, servers and security.
func (s *Server) buildOpenAPI(version string) ([]byte, error) {
	if version == "" {
		version = buildinfo.Unversioned
	}
	ref := openapi31.NewReflector()
	ref.DefaultOptions = append(ref.DefaultOptions,
		jsonschema.InterceptDefName(schemaName),
		jsonschema.InterceptProp(requireUnlessOmitted),
		jsonschema.InterceptSchema(codeEnum))
	ref.Spec.Info.WithTitle("Switchboard").WithVersion(version).
		WithDescription(apiDescription)
	ref.Spec.SetHTTPBearerTokenSecurity("bearer", "API key or session token",
		"Authorization: Bearer <key>: an API key (sbk_..., or the operator key), or for the routes that say so a browser session token (sbs_...). Each operation names the roles that may call it.")
	for _, rt := range s.routes {
		oc, err := ref.NewOperationContext(rt.method, rt.path)
		if err != nil {
			return nil, fmt.Errorf("openapi %s %s: %w", rt.method, rt.path, err)
		}
		d := rt.doc
		oc.SetID(d.id)
		oc.SetSummary(d.summary)
		if d.tag != "" {
			oc.SetTags(d.tag)
		}
		if len(d.roles) > 0 {
			oc.AddSecurity("bearer")
		}
		if d.req != nil {
			oc.AddReqStructure(d.req)
		}
		if d.rawBody != "" {
			oc.AddReqStructure(rawBodies[d.rawBody], openapi.WithContentType("application/json"))
		}
		status := d.status
		if status == 0 {
			status = http.StatusOK
		}
		if d.resp != nil {
			oc.AddRespStructure(d.resp, openapi.WithHTTPStatus(status))
		} else {
			oc.AddRespStructure(nil, openapi.WithHTTPStatus(status))
		}
		for _, code := range problemStatuses(rt) {
			oc.AddRespStructure(problem{}, openapi.WithHTTPStatus(code), openapi.WithContentType(problemContentType))
		}
		if err := ref.AddOperation(oc); err != nil {
			return nil, fmt.Errorf("openapi %s %s: %w", rt.method, rt.path, err)
		}
	}
	raw, err := json.Marshal(ref.Spec)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := finishOpenAPI(doc, s.routes); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

const problemContentType = "application/problem+json"

const apiDescription = "A self-hostable apps platform: register app definitions, keep each org's settings and secrets, " +
	"and run commands and workflow actions through the platform, which injects the secrets into the outbound requests " +
	"so that no caller ever holds them.\n\n" +
	"Every /v1 route but GET /v1/version needs `Authorization: Bearer <key>`. Every error is an RFC 9457 problem " +
	"document (`application/problem+json`) whose `code` is one of a closed set, each documented under its own anchor " +
	"of the `type` URL. The Model Context Protocol endpoint, /mcp, speaks its own protocol and is described there."

// problemStatuses lists the problem statuses an operation can answer: its
// own, 401 and 403 for one that needs a key, 400, 413 and 503 for one that
// reads a body (a body that is not JSON, too large, or more bodies than the
// server reads at once), and for every one 431 (a request head over
// MaxHeaderBytes) and 500.
func problemStatuses(rt route) []int {
	set := map[int]bool{http.StatusRequestHeaderFieldsTooLarge: true, http.StatusInternalServerError: true}
	for _, c := range rt.doc.errs {
		set[c] = true
	}
	if len(rt.doc.roles) > 0 {
		set[http.StatusUnauthorized], set[http.StatusForbidden] = true, true
	}
	if hasBody(rt) {
		set[http.StatusBadRequest], set[http.StatusRequestEntityTooLarge], set[http.StatusServiceUnavailable] = true, true, true
	}
	out := make([]int, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Ints(out)
	return out
}

// hasBody reports whether an operation reads a request body.
func hasBody(rt route) bool {
	if rt.doc.rawBody != "" {
		return true
	}
	if rt.doc.req == nil || rt.method == http.MethodGet || rt.method == http.MethodDelete || rt.method == http.MethodOptions {
		return false
	}
	t := reflect.TypeOf(rt.doc.req)
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("json"); tag != "" && tag != "-" {
			return true
		}
	}
	return false
}

// schemaName names a schema as a reader of the API knows it: RunResult,
// Problem, App. A type the table does not name gets its Go name without
// the package prefix, capitalized.
func schemaName(t reflect.Type, def string) string {
	if n, ok := schemaNames[t.PkgPath()+"."+t.Name()]; ok {
		return n
	}
	if t.Name() == "" {
		return def
	}
	n := t.Name()
	return strings.ToUpper(n[:1]) + n[1:]
}

// requireUnlessOmitted marks a property required when its struct field is
// always written: a json tag without omitempty or omitzero. Request
// structs mark their optional members omitempty.
func requireUnlessOmitted(p jsonschema.InterceptPropParams) error {
	if !p.Processed || p.ParentSchema == nil {
		return nil
	}
	tag, ok := p.Field.Tag.Lookup("json")
	if !ok || tag == "-" || strings.Contains(tag, ",omitempty") || strings.Contains(tag, ",omitzero") {
		return nil
	}
	if !slices.Contains(p.ParentSchema.Required, p.Name) {
		p.ParentSchema.Required = append(p.ParentSchema.Required, p.Name)
	}
	return nil
}

var codeType = reflect.TypeOf(switchboard.Code(""))

// codeEnum makes every error code property an enum of the closed set.
func codeEnum(p jsonschema.InterceptSchemaParams) (bool, error) {
	if !p.Processed || !p.Value.IsValid() || p.Value.Type() != codeType {
		return false, nil
	}
	codes := switchboard.Codes()
	slices.Sort(codes)
	enum := make([]any, len(codes))
	for i, c := range codes {
		enum[i] = string(c)
	}
	p.Schema.Enum = enum
	p.Schema.WithDescription("One of a closed set; docs/errors.md describes each and what to do about it")
	return false, nil
}

// rawBodies document request bodies that handlers read as raw JSON.
var rawBodies = map[string]any{
	"AppDefinition": appDefinitionDoc{},
	"Settings":      settingsDoc{},
	"AppLimits":     appLimitsBody{},
	"RunCommand":    nil,
}

// appDefinitionDoc documents an app definition (the validator in
// internal/appdef is the authority; this is the reader's map).
type appDefinitionDoc struct {
	App      string                            `json:"app" required:"true" pattern:"^[a-z][a-z0-9_-]{0,63}$"`
	Version  string                            `json:"version" required:"true" description:"Semantic version; each new version must be greater than the last"`
	Title    string                            `json:"title" required:"true"`
	Settings map[string]map[string]settingDecl `json:"settings,omitempty" description:"settings.<category>.<name>"`
	Commands []commandDoc                      `json:"commands,omitempty"`
	Actions  []actionDoc                       `json:"actions,omitempty"`
	Auth     map[string]any                    `json:"auth,omitempty" description:"An OAuth 2.0 client"`
}

type settingDecl struct {
	Type         string `json:"type" enum:"string,number,boolean,secret" required:"true"`
	DefaultValue any    `json:"defaultValue,omitempty"`
	Required     bool   `json:"required,omitempty"`
	Description  string `json:"description,omitempty"`
	Hidden       bool   `json:"hidden,omitempty"`
}

type settingRefDoc struct {
	Key string `json:"key" description:"<app>.<category>.<name>"`
}

type commandDoc struct {
	Name           string                   `json:"name" required:"true"`
	DisplayName    string                   `json:"displayName,omitempty"`
	PermittedArgs  []string                 `json:"permittedArgs,omitempty"`
	URL            string                   `json:"url" required:"true" description:"A Handlebars template of permitted args"`
	HTTPMethod     string                   `json:"httpMethod" required:"true" enum:"get,post,put,patch,delete"`
	AuditLogging   bool                     `json:"auditLogging,omitempty"`
	CacheSeconds   int                      `json:"cacheSeconds,omitempty" minimum:"15" maximum:"600"`
	AppSettings    map[string]settingRefDoc `json:"appSettings,omitempty"`
	AppAccountName string                   `json:"appAccountName,omitempty"`
	InputSchema    map[string]any           `json:"inputSchema,omitempty"`
	OutputSchema   map[string]any           `json:"outputSchema,omitempty"`
}

type actionDoc struct {
	Name                string                   `json:"name" required:"true"`
	Description         string                   `json:"description,omitempty" maxLength:"4096"`
	Type                string                   `json:"type" required:"true" enum:"rest_api"`
	AppSettings         map[string]settingRefDoc `json:"appSettings,omitempty"`
	AppAccountName      string                   `json:"appAccountName,omitempty"`
	InputTemplate       map[string]any           `json:"inputTemplate" required:"true"`
	OutputTemplate      any                      `json:"outputTemplate,omitempty"`
	SampleOutputContext any                      `json:"sampleOutputContext,omitempty"`
	InputSchema         map[string]any           `json:"inputSchema,omitempty"`
	OutputSchema        map[string]any           `json:"outputSchema,omitempty"`
}
