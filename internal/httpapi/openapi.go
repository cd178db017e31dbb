package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"
)

// buildOpenAPI generates the OpenAPI 3.1 document from the route table, so
// that the document and the served routes cannot drift apart.
func (s *Server) buildOpenAPI(version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	ref := openapi31.NewReflector()
	ref.Spec.Info.WithTitle("Switchboard").WithVersion(version).
		WithDescription("A self-hostable apps platform: register app definitions, keep each org's settings and secrets, " +
			"and run commands and workflow actions through the platform. Every error is an RFC 9457 problem document.")
	ref.Spec.SetHTTPBearerTokenSecurity("bearer", "API key", "Authorization: Bearer <key>. Each route names the roles that may call it.")
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
			oc.SetDescription("Roles: " + roleList(d.roles) + ".")
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
		errs := d.errs
		if len(d.roles) > 0 {
			errs = append([]int{401, 403}, errs...)
		}
		for _, code := range errs {
			oc.AddRespStructure(problem{}, openapi.WithHTTPStatus(code), openapi.WithContentType("application/problem+json"))
		}
		if err := ref.AddOperation(oc); err != nil {
			return nil, fmt.Errorf("openapi %s %s: %w", rt.method, rt.path, err)
		}
	}
	doc, err := json.MarshalIndent(ref.Spec, "", "  ")
	if err != nil {
		return nil, err
	}
	return doc, nil
}

// rawBodies document request bodies that handlers read as raw JSON.
var rawBodies = map[string]any{
	"AppDefinition": appDefinitionDoc{},
	"Settings":      settingsDoc{},
	"AppLimits":     map[string]rateDoc{},
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
