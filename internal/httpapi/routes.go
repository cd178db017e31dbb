package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/sdk"
)

// route is one operation: how it is served and how it is documented.
type route struct {
	pattern      string // as given to the mux: "GET /v1/keys"
	method, path string
	doc          op // doc.roles is both what the document shows and what auth enforces
}

// op documents an operation in the OpenAPI document.
type op struct {
	id      string
	summary string
	tag     string
	roles   []switchboard.Role // who may call it; nil: no key needed
	req     any                // request: path/query fields tagged, body fields as JSON
	resp    any
	status  int // the success status (200 when 0)
	errs    []int
	rawBody string // a request body described by name rather than by req's fields
	// sessions marks the routes a session token may call (SPEC 10); they
	// answer CORS requests from any origin.
	sessions bool
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
// handler. Who may call a route is written once, in its op: handle wraps
// the handler in auth with op.roles, so the OpenAPI document and the check
// cannot disagree.
func (s *Server) addRoutes() {
	s.handleOpen("GET /healthz", op{id: "healthz", summary: "Liveness: the process answers", tag: "operations"}, s.handleHealthz())
	s.handleOpen("GET /readyz", op{id: "readyz", summary: "Readiness: the database answers and this instance's secret key opens the stored secrets", tag: "operations", errs: []int{503}}, s.handleReadyz())
	s.handleOpen("GET /metrics", op{id: "metrics", summary: "Prometheus metrics", tag: "operations"}, s.handleMetrics())
	s.handleOpen("GET /openapi.json", op{id: "openapi", summary: "This OpenAPI document", tag: "operations"}, s.handleOpenAPI())
	s.handleOpen("GET /v1/version", op{id: "getVersion", summary: "The server's version, commit and build time", tag: "operations", resp: buildResponse{}}, handleVersion(s.version))
	s.handleOpen("GET /sdk/v1/switchboard.js", op{id: "sdkScript", summary: "The browser SDK, as a classic script or an ES module (defines globalThis.Switchboard)", tag: "sdk"}, handleSDKFile(sdk.JS, javascriptType))
	s.handleOpen("GET /sdk/v1/switchboard.mjs", op{id: "sdkModule", summary: "The browser SDK as an ES module with named exports", tag: "sdk"}, handleSDKFile(sdk.MJS, javascriptType))
	s.handleOpen("GET /sdk/v1/switchboard.d.ts", op{id: "sdkTypes", summary: "The browser SDK's TypeScript declarations", tag: "sdk"}, handleSDKFile(sdk.DTS, typescriptType))

	s.handle("POST /v1/orgs", op{id: "createOrg", summary: "Create an org and its first admin key", tag: "orgs",
		roles: operator, req: orgCreateRequest{}, resp: orgCreateResponse{}, status: 201, errs: []int{400, 409}},
		handleOrgCreate(s.reg))

	s.handle("POST /v1/keys", op{id: "createKey", summary: "Create an API key (shown once)", tag: "keys",
		roles: admin, req: keyCreateRequest{}, resp: keyCreateResponse{}, status: 201, errs: []int{400}},
		handleKeyCreate(s.reg))
	s.handle("GET /v1/keys", op{id: "listKeys", summary: "List the org's API keys (never the keys themselves)", tag: "keys",
		roles: admin, resp: keyListResponse{}}, handleKeyList(s.reg))
	s.handle("DELETE /v1/keys/{id}", op{id: "deleteKey", summary: "Revoke an API key at once", tag: "keys",
		roles: admin, req: keyPath{}, status: 204, errs: []int{404}}, handleKeyDelete(s.reg))

	s.handle("POST /v1/apps/available", op{id: "registerApp", summary: "Register a version of an app definition", tag: "apps",
		roles: []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleOperator}, req: appRegisterRequest{}, rawBody: "AppDefinition",
		resp: appVersionResponse{}, status: 201, errs: []int{400, 409, 413}},
		handleAppRegister(s.reg))
	s.handle("GET /v1/apps/available", op{id: "listApps", summary: "List the apps the caller can see, latest versions", tag: "apps",
		roles: readers, resp: appListResponse{}}, handleAppList(s.reg))
	s.handle("GET /v1/apps/available/{app}/versions/{version}", op{id: "getAppVersion", summary: "Get one version of an app", tag: "apps",
		roles: readers, req: appVersionPath{}, resp: appVersionResponse{}, errs: []int{404}}, handleAppVersionGet(s.reg))
	s.handle("GET /v1/apps/installed", op{id: "listInstalledApps", summary: "List the org's installed apps", tag: "apps",
		roles: members, resp: installedListResponse{}}, handleInstalledList(s.reg))
	s.handle("POST /v1/apps/{app}/install", op{id: "installApp", summary: "Install an app (the latest version unless one is given)", tag: "apps",
		roles: admin, req: installRequest{}, resp: installResponse{}, errs: []int{400, 404}}, handleInstall(s.reg))
	s.handle("DELETE /v1/apps/{app}/install", op{id: "uninstallApp", summary: "Uninstall an app", tag: "apps",
		roles: admin, req: appPath{}, status: 204, errs: []int{404}}, handleUninstall(s.reg))
	s.handle("PUT /v1/apps/{app}/settings", op{id: "putSettings", summary: "Set an app's settings for the org (secrets are write-only)", tag: "settings",
		roles: admin, req: appPath{}, rawBody: "Settings", resp: settingsDoc{}, errs: []int{400, 404}}, handleSettingsPut(s.reg))

	s.handle("POST /v1/commands/{name}/run", op{id: "runCommand", summary: "Run a command (a key, or a session token for its commands)", tag: "commands",
		roles: members, sessions: true, req: runCommandRequest{}, resp: runCommandResponse{}, errs: []int{400, 404, 413, 424, 429, 502, 503, 504}},
		handleCommandRun(s.run))
	s.handle("GET /v1/commands", op{id: "listCommands", summary: "List the commands of the org's installed apps", tag: "commands",
		roles: members, resp: commandListResponse{}}, handleCommandList(s.run))
	s.handle("GET /v1/commands/{name}", op{id: "getCommand", summary: "Get a command by any spelling of its name (a key, or a session token for its commands)", tag: "commands",
		roles: members, sessions: true, req: commandPath{}, resp: commandItem{}, errs: []int{404}}, handleCommandGet(s.run))
	s.handleOpen("OPTIONS /v1/commands/{name}/run", op{id: "preflightRunCommand", summary: "CORS preflight of a run from a page with a session token", tag: "sessions", req: commandPath{}, status: 204}, handlePreflight())
	s.handleOpen("OPTIONS /v1/commands/{name}", op{id: "preflightGetCommand", summary: "CORS preflight of a command's description", tag: "sessions", req: commandPath{}, status: 204}, handlePreflight())

	if s.sessions != nil {
		s.handle("POST /v1/sessions", op{id: "createSession", summary: "Mint a session token for a browser: its commands, pinned args, origins, subject and lifetime", tag: "sessions",
			roles: members, req: sessionCreateRequest{}, resp: sessionCreateResponse{}, status: 201, errs: []int{400}}, handleSessionCreate(s.sessions))
		s.handle("GET /v1/sessions", op{id: "listSessions", summary: "List the live sessions the caller may see (never their tokens)", tag: "sessions",
			roles: members, resp: sessionListResponse{}}, handleSessionList(s.sessions))
		s.handle("DELETE /v1/sessions/{id}", op{id: "deleteSession", summary: "Revoke a session on every instance", tag: "sessions",
			roles: members, req: sessionPath{}, status: 204, errs: []int{404}}, handleSessionDelete(s.sessions))
	}
	s.handle("POST /v1/actions/{name}/run", op{id: "runAction", summary: "Run a rest_api workflow action", tag: "actions",
		roles: members, req: runActionRequest{}, resp: runActionResponse{}, errs: []int{400, 404, 413, 424, 429, 502, 503, 504}},
		handleActionRun(s.run))
	s.handle("GET /v1/actions", op{id: "listActions", summary: "List the workflow actions of the org's installed apps", tag: "actions",
		roles: members, resp: actionListResponse{}}, handleActionList(s.run))
	s.handle("GET /v1/actions/{name}", op{id: "getAction", summary: "Get an action, with its sampleOutputContext", tag: "actions",
		roles: members, req: commandPath{}, resp: actionItem{}, errs: []int{404}}, handleActionGet(s.run))
	s.handle("GET /v1/audit-logs", op{id: "listAuditLogs", summary: "List audit entries, newest first", tag: "audit",
		roles: auditors, req: auditQuery{}, resp: auditListResponse{}, errs: []int{400}}, handleAuditList(s.reg, s.run))

	s.handleMCP("/mcp", op{id: "mcp", summary: "The Model Context Protocol (Streamable HTTP): the caller's commands and actions as tools (a key, or a session token for its commands)", tag: "mcp", roles: members})

	var getAccounts handlerFunc // served by the dispatcher of GET /v1/apps/{app}/{sub}, below
	var getHooks handlerFunc    // likewise

	if s.flows != nil {
		s.handleOpen("POST /v1/hooks/{hookId}", op{id: "deliverHook", summary: "Deliver an event to a hook (JSON or form data; a web hook also needs its secret): 202 once it is durable", tag: "workflows",
			req: hookPath{}, rawBody: "HookEvent", resp: hookDeliveryResponse{}, status: 202, errs: []int{400, 401, 404, 413}}, handleHookDeliver(s.flows))
		getHooks = s.operation("GET /v1/apps/{app}/hooks", op{id: "listHooks", summary: "List an installed app's hooks with their URLs (a new web hook's secret is shown once)", tag: "workflows",
			roles: admin, req: appPath{}, resp: hookListResponse{}, errs: []int{404}}, handleHookList(s.flows, s.baseURL))
		s.handle("POST /v1/apps/{app}/hooks/{hook}/regenerate", op{id: "regenerateHook", summary: "Give a hook a new URL (and a web hook a new secret, shown once); the old URL stops working", tag: "workflows",
			roles: admin, req: hookRegeneratePath{}, resp: hookItem{}, errs: []int{404}}, handleHookRegenerate(s.flows, s.baseURL))
		s.handle("GET /v1/workflows", op{id: "listWorkflows", summary: "List the workflows of the org's installed apps", tag: "workflows",
			roles: members, resp: workflowListResponse{}}, handleWorkflowList(s.flows))
		s.handle("POST /v1/workflows/{name}/runs", op{id: "startWorkflowRun", summary: "Start a run by hand: input stands in for the trigger's output (steps.1)", tag: "workflows",
			roles: members, req: workflowRunRequest{}, resp: workflowRunDoc{}, status: 202, errs: []int{400, 404}}, handleWorkflowRunStart(s.flows))
		s.handle("GET /v1/workflow-runs", op{id: "listWorkflowRuns", summary: "List the org's workflow runs, newest first", tag: "workflows",
			roles: auditors, req: workflowRunsQuery{}, resp: workflowRunListResponse{}, errs: []int{400}}, handleWorkflowRunList(s.flows))
		s.handle("GET /v1/workflow-runs/{id}", op{id: "getWorkflowRun", summary: "Get a run: trigger output, and each step's params, output, status, attempts and timings", tag: "workflows",
			roles: auditors, req: workflowRunPath{}, resp: workflowRunDoc{}, errs: []int{404}}, handleWorkflowRunGet(s.flows))
		s.handle("POST /v1/workflow-runs/{id}/cancel", op{id: "cancelWorkflowRun", summary: "Cancel a running run", tag: "workflows",
			roles: admin, req: workflowRunPath{}, resp: workflowRunDoc{}, errs: []int{404, 409}}, handleWorkflowRunCancel(s.flows))
		s.handle("POST /v1/workflow-runs/{id}/retry", op{id: "retryWorkflowRun", summary: "Retry a failed or cancelled run from the step where it stopped", tag: "workflows",
			roles: admin, req: workflowRunPath{}, resp: workflowRunDoc{}, status: 202, errs: []int{404, 409}}, handleWorkflowRunRetry(s.flows))
	}

	var getAppLimits handlerFunc // served by the same dispatcher

	if s.limits != nil {
		s.handle("GET /v1/orgs/{org}/limits", op{id: "getOrgLimits", summary: "Get an org's own rate limit (null when it has none)", tag: "limits",
			roles: operator, req: orgLimitPath{}, resp: orgLimitsDoc{}, errs: []int{404}}, handleOrgLimitsGet(s.limits))
		s.handle("PUT /v1/orgs/{org}/limits", op{id: "putOrgLimits", summary: "Set an org's own rate limit: runs a second and burst (null removes it)", tag: "limits",
			roles: operator, req: orgLimitsRequest{}, resp: orgLimitsDoc{}, errs: []int{400, 404}}, handleOrgLimitsPut(s.limits))
		s.handle("PUT /v1/apps/{app}/limits", op{id: "putAppLimits", summary: "Set rate limits of an installed app's commands and actions (null removes one)", tag: "limits",
			roles: admin, req: appPath{}, rawBody: "AppLimits", resp: appLimitsDoc{}, errs: []int{400, 404}}, handleAppLimitsPut(s.limits))
		getAppLimits = s.operation("GET /v1/apps/{app}/limits", op{id: "getAppLimits", summary: "Get the rate limits of an installed app's commands and actions", tag: "limits",
			roles: admin, req: appPath{}, resp: appLimitsDoc{}, errs: []int{404}}, handleAppLimitsGet(s.limits))
	}

	if s.oauth != nil {
		s.handle("POST /v1/apps/{app}/accounts/{name}/authorize", op{id: "authorizeAccount", summary: "Connect an OAuth 2.0 app account: answers the provider's authorization URL", tag: "accounts",
			roles: admin, req: authorizeRequest{}, resp: authorizeResponse{}, errs: []int{400, 404, 502}}, handleAuthorize(s.oauth, false))
		s.handle("POST /v1/apps/{app}/accounts/authorize", op{id: "authorizeDefaultAccount", summary: "Connect the default app account", tag: "accounts",
			roles: admin, req: authorizeDefaultRequest{}, resp: authorizeResponse{}, errs: []int{400, 404, 502}}, handleAuthorize(s.oauth, true))
		s.handle("DELETE /v1/apps/{app}/accounts/{name}", op{id: "disconnectAccount", summary: "Disconnect an app account (revoking its token when the provider can)", tag: "accounts",
			roles: admin, req: accountPath{}, status: 204, errs: []int{404}}, handleAccountDelete(s.oauth))
		s.handleOpen("GET /v1/apps/{app}/authorize/oauth2/redirect", op{id: "oauthRedirect", summary: "The OAuth 2.0 redirect URI (the state authenticates it)", tag: "accounts",
			req: redirectQuery{}, errs: []int{400}}, handleOAuthRedirect(s.oauth))
		getAccounts = s.operation("GET /v1/apps/{app}/accounts", op{id: "listAccounts", summary: "List an app's accounts: status, scopes, expiry; never a token", tag: "accounts",
			roles: admin, req: appPath{}, resp: accountListResponse{}, errs: []int{404}}, handleAccountList(s.oauth))
	}

	// GET /v1/apps/available/{app} and GET /v1/apps/{app}/settings both
	// match /v1/apps/available/settings, which the standard mux refuses to
	// register as a conflict; one dispatcher serves both, and each is
	// documented (and labelled in logs and metrics) as its own operation,
	// with its own roles.
	getApp := s.operation("GET /v1/apps/available/{app}", op{id: "getApp", summary: "Get the latest version of an app and the list of its versions", tag: "apps",
		roles: readers, req: appPath{}, resp: appGetResponse{}, errs: []int{404}}, handleAppGet(s.reg))
	getSettings := s.operation("GET /v1/apps/{app}/settings", op{id: "getSettings", summary: "Get an app's settings for the org, secrets redacted", tag: "settings",
		roles: members, req: appPath{}, resp: settingsDoc{}, errs: []int{404}}, handleSettingsGet(s.reg))
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
		case sub == "limits" && getAppLimits != nil:
			r.Pattern = "GET /v1/apps/{app}/limits"
			return getAppLimits(w, r)
		case sub == "hooks" && getHooks != nil:
			r.Pattern = "GET /v1/apps/{app}/hooks"
			return getHooks(w, r)
		default:
			return s.noRoute(r)
		}
	}))

	if s.console != nil {
		// The console routes its own pages (internal/console); its requests
		// are logged and counted as one route.
		s.metrics.add(consolePattern)
		s.mux.Handle(consolePattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.console.ServeHTTP(w, r)
			r.Pattern = consolePattern
		}))
	}

	s.mux.Handle("/", handlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return s.noRoute(r)
	}))
}

// consolePattern is where the web console is mounted.
const consolePattern = "/console/"

// handle registers a route that needs a key: h runs once auth has checked
// the key's role against doc.roles.
func (s *Server) handle(pattern string, doc op, h authedFunc) {
	s.mux.Handle(pattern, s.operation(pattern, doc, h))
}

// handleOpen registers a route that needs no key, such as /healthz or the
// OAuth redirect (which its state authenticates).
func (s *Server) handleOpen(pattern string, doc op, h http.Handler) {
	if doc.roles != nil {
		panic("httpapi: " + pattern + " names roles but is registered without auth; use handle")
	}
	s.doc(pattern, doc)
	s.mux.Handle(pattern, h)
}

// operation documents a route that needs a key and returns h wrapped in
// auth with the route's own roles, for handle or for a dispatcher that
// serves several operations on one mux pattern.
func (s *Server) operation(pattern string, doc op, h authedFunc) handlerFunc {
	if len(doc.roles) == 0 {
		// auth with no roles refuses every key; a route open to all is
		// registered with handleOpen.
		panic("httpapi: " + pattern + " needs a key but names no roles")
	}
	s.doc(pattern, doc)
	if doc.sessions {
		return s.cors(s.auth(doc.roles, true, h))
	}
	return s.auth(doc.roles, false, h)
}

// doc adds an operation to the route table, which the OpenAPI document and
// the metrics are built from.
func (s *Server) doc(pattern string, doc op) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, route{pattern: pattern, method: method, path: path, doc: doc})
	s.metrics.add(pattern)
}

// allowed lists the methods of the documented routes whose path matches
// path, for the Allow header of a 405. It runs only for requests that no
// route matched, so a walk of the table is cheap enough.
func (s *Server) allowed(path string) []string {
	var out []string
	for _, rt := range s.routes {
		if matchPath(rt.path, path) && !slices.Contains(out, rt.method) {
			out = append(out, rt.method)
		}
	}
	return out
}

// matchPath reports whether a request path matches a route's path pattern,
// whose {name} segments match any one non-empty segment.
func matchPath(pattern, path string) bool {
	for {
		p, prest, pmore := strings.Cut(strings.TrimPrefix(pattern, "/"), "/")
		q, qrest, qmore := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if q == "" {
				return false
			}
		} else if p != q {
			return false
		}
		if !pmore || !qmore {
			return pmore == qmore
		}
		pattern, path = "/"+prest, "/"+qrest
	}
}

// baseURL is where callers reach this server, for the URLs it hands out.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return strings.TrimSuffix(s.publicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
