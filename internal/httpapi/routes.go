package httpapi

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// route is one operation: how it is served and how it is documented.
type route struct {
	method, path string
	doc          op
	handler      http.Handler // nil for an operation served by a dispatcher (see addRoutes)
}

// op documents an operation in the OpenAPI document.
type op struct {
	id      string
	summary string
	tag     string
	roles   []switchboard.Role // nil: no key needed
	req     any                // request: path/query fields tagged, body fields as JSON
	resp    any
	status  int // the success status (200 when 0)
	errs    []int
	rawBody string // a request body described by name rather than by req's fields
}

var (
	operator = []switchboard.Role{switchboard.RoleOperator}
	admin    = []switchboard.Role{switchboard.RoleAdmin}
	members  = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent}
	readers  = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent, switchboard.RoleOperator}
	auditors = []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAuditor}
)

// addRoutes registers every route. This function is the API's table of
// contents: each line names a method, a path, who may call it and the
// handler.
func (s *Server) addRoutes() {
	s.handle("GET /healthz", op{id: "healthz", summary: "Liveness: the process answers", tag: "operations"}, s.handleHealthz())
	s.handle("GET /readyz", op{id: "readyz", summary: "Readiness: the database answers", tag: "operations", errs: []int{503}}, s.handleReadyz())
	s.handle("GET /metrics", op{id: "metrics", summary: "Prometheus metrics", tag: "operations"}, s.handleMetrics())
	s.handle("GET /openapi.json", op{id: "openapi", summary: "This OpenAPI document", tag: "operations"}, s.handleOpenAPI())

	s.handle("POST /v1/orgs", op{id: "createOrg", summary: "Create an org and its first admin key", tag: "orgs",
		roles: operator, req: orgCreateRequest{}, resp: orgCreateResponse{}, status: 201, errs: []int{400, 409}},
		s.auth(operator, handleOrgCreate(s.reg)))

	s.handle("POST /v1/keys", op{id: "createKey", summary: "Create an API key (shown once)", tag: "keys",
		roles: admin, req: keyCreateRequest{}, resp: keyCreateResponse{}, status: 201, errs: []int{400}},
		s.auth(admin, handleKeyCreate(s.reg)))
	s.handle("GET /v1/keys", op{id: "listKeys", summary: "List the org's API keys (never the keys themselves)", tag: "keys",
		roles: admin, resp: keyListResponse{}}, s.auth(admin, handleKeyList(s.reg)))
	s.handle("DELETE /v1/keys/{id}", op{id: "deleteKey", summary: "Revoke an API key at once", tag: "keys",
		roles: admin, req: keyPath{}, status: 204, errs: []int{404}}, s.auth(admin, handleKeyDelete(s.reg)))

	s.handle("POST /v1/apps/available", op{id: "registerApp", summary: "Register a version of an app definition", tag: "apps",
		roles: []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleOperator}, req: appRegisterRequest{}, rawBody: "AppDefinition",
		resp: appVersionResponse{}, status: 201, errs: []int{400, 409, 413}},
		s.auth([]switchboard.Role{switchboard.RoleAdmin, switchboard.RoleOperator}, handleAppRegister(s.reg)))
	s.handle("GET /v1/apps/available", op{id: "listApps", summary: "List the apps the caller can see, latest versions", tag: "apps",
		roles: readers, resp: appListResponse{}}, s.auth(readers, handleAppList(s.reg)))
	s.handle("GET /v1/apps/available/{app}/versions/{version}", op{id: "getAppVersion", summary: "Get one version of an app", tag: "apps",
		roles: readers, req: appVersionPath{}, resp: appVersionResponse{}, errs: []int{404}}, s.auth(readers, handleAppVersionGet(s.reg)))
	s.handle("GET /v1/apps/installed", op{id: "listInstalledApps", summary: "List the org's installed apps", tag: "apps",
		roles: members, resp: installedListResponse{}}, s.auth(members, handleInstalledList(s.reg)))
	s.handle("POST /v1/apps/{app}/install", op{id: "installApp", summary: "Install an app (the latest version unless one is given)", tag: "apps",
		roles: admin, req: installRequest{}, resp: installResponse{}, errs: []int{400, 404}}, s.auth(admin, handleInstall(s.reg)))
	s.handle("DELETE /v1/apps/{app}/install", op{id: "uninstallApp", summary: "Uninstall an app", tag: "apps",
		roles: admin, req: appPath{}, status: 204, errs: []int{404}}, s.auth(admin, handleUninstall(s.reg)))
	s.handle("PUT /v1/apps/{app}/settings", op{id: "putSettings", summary: "Set an app's settings for the org (secrets are write-only)", tag: "settings",
		roles: admin, req: appPath{}, rawBody: "Settings", resp: settingsDoc{}, errs: []int{400, 404}}, s.auth(admin, handleSettingsPut(s.reg)))

	s.handle("POST /v1/commands/{name}/run", op{id: "runCommand", summary: "Run a command", tag: "commands",
		roles: members, req: runCommandRequest{}, resp: runCommandResponse{}, errs: []int{400, 404, 413, 502, 504}},
		s.auth(members, handleCommandRun(s.run)))
	s.handle("GET /v1/commands", op{id: "listCommands", summary: "List the commands of the org's installed apps", tag: "commands",
		roles: members, resp: commandListResponse{}}, s.auth(members, handleCommandList(s.run)))
	s.handle("GET /v1/commands/{name}", op{id: "getCommand", summary: "Get a command by any spelling of its name", tag: "commands",
		roles: members, req: commandPath{}, resp: commandItem{}, errs: []int{404}}, s.auth(members, handleCommandGet(s.run)))
	s.handle("POST /v1/actions/{name}/run", op{id: "runAction", summary: "Run a rest_api workflow action", tag: "actions",
		roles: members, req: runActionRequest{}, resp: runActionResponse{}, errs: []int{400, 404, 413, 502, 504}},
		s.auth(members, handleActionRun(s.run)))
	s.handle("GET /v1/actions", op{id: "listActions", summary: "List the workflow actions of the org's installed apps", tag: "actions",
		roles: members, resp: actionListResponse{}}, s.auth(members, handleActionList(s.run)))
	s.handle("GET /v1/actions/{name}", op{id: "getAction", summary: "Get an action, with its sampleOutputContext", tag: "actions",
		roles: members, req: commandPath{}, resp: actionItem{}, errs: []int{404}}, s.auth(members, handleActionGet(s.run)))
	s.handle("GET /v1/audit-logs", op{id: "listAuditLogs", summary: "List audit entries, newest first", tag: "audit",
		roles: auditors, req: auditQuery{}, resp: auditListResponse{}, errs: []int{400}}, s.auth(auditors, handleAuditList(s.reg, s.run)))

	if s.oauth != nil {
		s.handle("POST /v1/apps/{app}/accounts/{name}/authorize", op{id: "authorizeAccount", summary: "Connect an OAuth 2.0 app account: answers the provider's authorization URL", tag: "accounts",
			roles: admin, req: authorizeRequest{}, resp: authorizeResponse{}, errs: []int{400, 404, 502}}, s.auth(admin, handleAuthorize(s.oauth, false)))
		s.handle("POST /v1/apps/{app}/accounts/authorize", op{id: "authorizeDefaultAccount", summary: "Connect the default app account", tag: "accounts",
			roles: admin, req: authorizeDefaultRequest{}, resp: authorizeResponse{}, errs: []int{400, 404, 502}}, s.auth(admin, handleAuthorize(s.oauth, true)))
		s.handle("DELETE /v1/apps/{app}/accounts/{name}", op{id: "disconnectAccount", summary: "Disconnect an app account (revoking its token when the provider can)", tag: "accounts",
			roles: admin, req: accountPath{}, status: 204, errs: []int{404}}, s.auth(admin, handleAccountDelete(s.oauth)))
		s.handle("GET /v1/apps/{app}/authorize/oauth2/redirect", op{id: "oauthRedirect", summary: "The OAuth 2.0 redirect URI (the state authenticates it)", tag: "accounts",
			req: redirectQuery{}, errs: []int{400}}, handleOAuthRedirect(s.oauth))
		s.doc("GET /v1/apps/{app}/accounts", op{id: "listAccounts", summary: "List an app's accounts: status, scopes, expiry; never a token", tag: "accounts",
			roles: admin, req: appPath{}, resp: accountListResponse{}, errs: []int{404}})
	}

	// GET /v1/apps/available/{app} and GET /v1/apps/{app}/settings both
	// match /v1/apps/available/settings, which the standard mux refuses to
	// register as a conflict; one dispatcher serves both, and each is
	// documented (and labelled in logs and metrics) as its own operation.
	getApp := s.auth(readers, handleAppGet(s.reg))
	getSettings := s.auth(members, handleSettingsGet(s.reg))
	var getAccounts handlerFunc
	if s.oauth != nil {
		getAccounts = s.auth(admin, handleAccountList(s.oauth))
	}
	s.doc("GET /v1/apps/available/{app}", op{id: "getApp", summary: "Get the latest version of an app and the list of its versions", tag: "apps",
		roles: readers, req: appPath{}, resp: appGetResponse{}, errs: []int{404}})
	s.doc("GET /v1/apps/{app}/settings", op{id: "getSettings", summary: "Get an app's settings for the org, secrets redacted", tag: "settings",
		roles: members, req: appPath{}, resp: settingsDoc{}, errs: []int{404}})
	s.mux.Handle("GET /v1/apps/{app}/{sub}", handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		switch app, sub := r.PathValue("app"), r.PathValue("sub"); {
		case app == "available":
			r.SetPathValue("app", sub)
			r.Pattern = "GET /v1/apps/available/{app}"
			return getApp(w, r)
		case sub == "settings":
			r.Pattern = "GET /v1/apps/{app}/settings"
			return getSettings(w, r)
		case sub == "accounts" && getAccounts != nil:
			r.Pattern = "GET /v1/apps/{app}/accounts"
			return getAccounts(w, r)
		default:
			return noRoute(r)
		}
	}))

	s.mux.Handle("/", handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return noRoute(r)
	}))
}

// handle registers a route on the mux and in the OpenAPI document.
func (s *Server) handle(pattern string, doc op, h http.Handler) {
	s.doc(pattern, doc)
	s.mux.Handle(pattern, h)
}

// doc adds an operation to the OpenAPI document only.
func (s *Server) doc(pattern string, doc op) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, route{method: method, path: path, doc: doc})
	s.metrics.add(pattern)
}
