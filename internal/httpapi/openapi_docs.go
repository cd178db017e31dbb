package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// opDoc is what the OpenAPI document says of an operation beyond its
// schemas: what it does, and a realistic example of its request body and of
// its success answer (JSON text, or plain text for respType). Every
// operation of the route table has one, keyed by its op id
// (TestOpenAPIOperationsDocumented says which lack one): a new route adds
// one line here.
type opDoc struct {
	desc     string
	req      string // the request body's example (JSON), for an operation that reads one
	resp     string // the success answer's example: JSON, or text of respType
	respType string // the success answer's media type when it is not JSON
	// page marks an operation that a browser is sent to: it answers its
	// errors as an HTML page (the problem's detail in words), and it may
	// redirect.
	page bool
}

var opDocs = map[string]opDoc{
	"healthz": {desc: "Answers 200 while the process runs; it checks nothing else. For a load balancer's liveness probe.",
		resp: `{"status":"ok"}`},
	"readyz": {desc: "Answers 200 when this instance can serve: its database answers and its secret key opens the stored secrets. Otherwise 503 with a problem that says what to fix. For a load balancer's readiness probe.",
		resp: `{"status":"ready"}`},
	"metrics": {desc: "Prometheus metrics in the text exposition format: requests by route and status, run latency, cache results, fallback state, upstream calls. Label values never hold a secret.",
		respType: "text/plain; version=0.0.4", resp: "# HELP switchboard_http_requests_total HTTP requests by route, method and status.\n# TYPE switchboard_http_requests_total counter\nswitchboard_http_requests_total{method=\"POST\",route=\"POST /v1/commands/{name}/run\",status=\"200\"} 42\n"},
	"openapi": {desc: "This document, generated from the route table that serves the requests, so that the two cannot disagree.",
		resp: `{"openapi":"3.1.0","info":{"title":"Switchboard","version":"v1.4.0"},"paths":{}}`},
	"getVersion": {desc: "The server's build: its module version, the commit and time it was built from and its Go toolchain. It needs no key, so that a client can say which server it talks to before it signs in (`switchboard version`).",
		resp: `{"version":"v1.4.0","commit":"4802ae5abcdef0123456789abcdef0123456789a","buildTime":"2026-12-01T11:44:40Z","goVersion":"go1.26.8"}`},
	"sdkScript": {desc: "The browser SDK, one dependency-free file that loads as a classic script (it defines `window.Switchboard`) or as an ES module. `Switchboard.connect({server, token})` runs commands with a session token.",
		respType: "text/javascript; charset=utf-8", resp: "(function (global) {\n  \"use strict\";\n  // Switchboard browser SDK\n  global.Switchboard = { connect: connect, kustomer: kustomer };\n})(globalThis);\n"},
	"sdkModule": {desc: "The browser SDK as an ES module with named exports (`import {connect} from \"/sdk/v1/switchboard.mjs\"`).",
		respType: "text/javascript; charset=utf-8", resp: "export function connect(options) { /* ... */ }\nexport function kustomer(sb) { /* ... */ }\n"},
	"sdkTypes": {desc: "The TypeScript declarations of the browser SDK.",
		respType: "application/typescript; charset=utf-8", resp: "export interface RunDocument { status: number; headers: Record<string, string>; body: unknown; cache: \"none\" | \"miss\" | \"hit\" | \"stale\"; }\n"},

	"createOrg": {desc: "Creates an org (a tenant) and its first admin key, which the answer shows this once. The id is 1 to 64 of [a-z0-9], random when omitted; an id in use answers 409.",
		req: `{"id":"acme","name":"Acme Corp"}`, resp: `{"id":"acme","name":"Acme Corp","adminKey":"sbk_3q8ZkC1pV0yq7m2T9xWbR4nL6sD5fH8jK0aE2uG7iO"}`},

	"createKey": {desc: "Creates an API key of the caller's org with one role (admin, agent or auditor). The key is shown in this answer only; the server keeps its hash.",
		req: `{"name":"ci","role":"agent"}`, resp: `{"id":"key_5f2a9c1e","name":"ci","role":"agent","key":"sbk_Vn3cX8bQ1rT6yU0wE4mK9pL2sA7dF5gH3jZ1xC8vB","createdAt":"2026-12-01T12:00:00Z"}`},
	"listKeys": {desc: "Lists the org's live API keys: id, name, role and creation time, never the keys themselves.",
		resp: `{"items":[{"id":"key_5f2a9c1e","name":"ci","role":"agent","createdAt":"2026-12-01T12:00:00Z"}]}`},
	"deleteKey": {desc: "Revokes a key at once, on every instance within a second; the sessions it minted stop working too."},

	"registerApp": {desc: "Registers a version of an app definition. An admin key registers a private app of its org (its id namespaced with the org's, and installed at once); the operator key with ?visibility=public registers a public app. Every problem of the definition is reported at once with its JSON pointer, line and column (400 invalid_definition). The same version again with the same definition answers 200; with another, 409; a version lower than the latest, 400. What will not stop the definition from working comes back as warnings.",
		req:  `{"app":"ecommstore","version":"1.0.0","title":"E-commerce store","settings":{"default":{"authToken":{"type":"secret","required":true}}},"commands":[{"name":"store.lookupOrder","displayName":"Look up an order","permittedArgs":["order"],"url":"https://api.example-store.com/orders/{{order}}","httpMethod":"get","cacheSeconds":15,"appSettings":{"authToken":{"key":"ecommstore.default.authToken"}}}]}`,
		resp: `{"app":"ecommstore_acme","version":"1.0.0","visibility":"private","definition":{"app":"ecommstore_acme","version":"1.0.0","title":"E-commerce store","commands":[{"name":"kustomer.app.ecommstore_acme.store.lookupOrder","permittedArgs":["order"],"url":"https://api.example-store.com/orders/{{order}}","httpMethod":"get","cacheSeconds":15}]}}`},
	"listApps": {desc: "Lists the apps the caller can see, each at its latest version: the org's private apps and every public app.",
		resp: `{"items":[{"app":"ecommstore_acme","version":"1.0.0","title":"E-commerce store","visibility":"private"}]}`},
	"getApp": {desc: "Gets the latest version of an app, its canonical definition and the list of its versions. The app is named bare (ecommstore) or namespaced (ecommstore_acme).",
		resp: `{"app":"ecommstore_acme","version":"1.1.0","visibility":"private","definition":{"app":"ecommstore_acme","version":"1.1.0","title":"E-commerce store"},"title":"E-commerce store","versions":[{"version":"1.0.0","createdAt":"2026-11-30T09:00:00Z"},{"version":"1.1.0","createdAt":"2026-12-01T12:00:00Z"}]}`},
	"getAppVersion": {desc: "Gets one registered version of an app with its canonical definition.",
		resp: `{"app":"ecommstore_acme","version":"1.0.0","visibility":"private","definition":{"app":"ecommstore_acme","version":"1.0.0","title":"E-commerce store"}}`},
	"listInstalledApps": {desc: "Lists the apps installed for the caller's org, with the version installed; only their commands and actions can run.",
		resp: `{"items":[{"app":"ecommstore_acme","version":"1.0.0","title":"E-commerce store","visibility":"private","installedAt":"2026-12-01T12:00:00Z"}]}`},
	"installApp": {desc: "Installs an app for the caller's org, at its latest version unless one is given; installing again moves the org to that version.",
		req: `{"version":"1.0.0"}`, resp: `{"app":"shipping","version":"1.0.0","installedAt":"2026-12-01T12:00:00Z"}`},
	"uninstallApp": {desc: "Uninstalls an app: its commands and actions stop running for the org at once. Its settings are kept for a later install."},
	"putSettings": {desc: "Sets setting values of an app for the caller's org, as {category: {name: value}}, each checked against its declared type (null removes a value). Secrets are encrypted at rest and the answer, like every other, shows them only as {secret: true, set: true}.",
		req: `{"default":{"authToken":"s3cr3t-token","region":"eu"}}`, resp: `{"default":{"authToken":{"secret":true,"set":true},"region":"eu"}}`},
	"getSettings": {desc: "Gets every setting of an app for the caller's org, defaults filled in and each secret replaced by {secret: true, set: true|false}; required settings with no value are listed under missing.",
		resp: `{"default":{"authToken":{"secret":true,"set":false},"region":"eu"},"missing":["default.authToken"]}`},

	"runCommand": {desc: "Runs a command: renders its URL, headers and body with the args and the org's settings (secrets injected server-side), checks the body against its inputSchema, calls the upstream and answers its status, headers and body, converted by the outputSchema. The answer is 200 whenever the upstream answered, whatever its status; `cache` says whether the response cache served it (stale in Cache Fallback Mode). An upstream that cannot be reached or times out answers 502 or 504; a setting without a value 424; a rate limit 429 with Retry-After; too many runs in flight to one upstream 503. With `Accept: application/vnd.api+json` the answer takes the seed platform's JSON:API envelope. A session token may run the commands it lists.",
		req:  `{"args":{"order":"ord_1001"},"headers":{"Authorization":"Bearer {{authToken}}"},"body":{"reason":"damaged"}}`,
		resp: `{"status":200,"headers":{"content-type":"application/json"},"body":{"id":"ord_1001","status":"PAID","total":37.5},"cache":"miss"}`},
	"listCommands": {desc: "Lists the commands of the org's installed apps, each with its canonical name, app, version and definition.",
		resp: `{"items":[{"name":"kustomer.app.ecommstore_acme.store.lookupOrder","app":"ecommstore_acme","version":"1.0.0","definition":{"name":"kustomer.app.ecommstore_acme.store.lookupOrder","url":"https://api.example-store.com/orders/{{order}}","httpMethod":"get"}}]}`},
	"getCommand": {desc: "Gets one command by any spelling of its name. A session token may read the commands it lists.",
		resp: `{"name":"kustomer.app.ecommstore_acme.store.lookupOrder","app":"ecommstore_acme","version":"1.0.0","definition":{"name":"kustomer.app.ecommstore_acme.store.lookupOrder","permittedArgs":["order"],"url":"https://api.example-store.com/orders/{{order}}","httpMethod":"get","cacheSeconds":15}}`},
	"preflightRunCommand": {desc: "Answers a browser's CORS preflight for a run from any origin: a session token is a bearer token, never a cookie, so any page may send one (a session that lists origins refuses the others when it is used)."},
	"preflightGetCommand": {desc: "Answers a browser's CORS preflight for reading a command with a session token, from any origin."},

	"createSession": {desc: "Mints a session token for a browser page: the commands it may run (every name spelling, or <app>.*), args pinned for every run, the page origins that may use it, a subject for the audit log and a lifetime (900 s by default, at most 3600). The token is shown in this answer only. A session never does more than the key that minted it.",
		req:  `{"commands":["ecommstore.store.lookupOrder"],"args":{"store":"acme"},"origins":["https://desk.example.com"],"subject":"agent-42","ttlSeconds":900}`,
		resp: `{"id":"ses_7d3f0a2b","token":"sbs_Zx8cV1bN4mQ7wE0rT3yU6iO9pA2sD5fG8hJ1kL4","expiresAt":"2026-12-01T12:15:00Z","commands":["kustomer.app.ecommstore_acme.store.lookupOrder"],"origins":["https://desk.example.com"]}`},
	"listSessions": {desc: "Lists the live sessions the caller may see (an agent key: those it minted), never their tokens.",
		resp: `{"items":[{"id":"ses_7d3f0a2b","keyId":"key_5f2a9c1e","commands":["kustomer.app.ecommstore_acme.store.lookupOrder"],"args":{"store":"acme"},"origins":["https://desk.example.com"],"subject":"agent-42","createdAt":"2026-12-01T12:00:00Z","expiresAt":"2026-12-01T12:15:00Z"}]}`},
	"deleteSession": {desc: "Revokes a session: its token stops working on every instance within a second."},

	"runAction": {desc: "Runs a rest_api workflow action: converts and checks the input with its inputSchema, renders its inputTemplate with the input and the org's settings, calls the upstream, and answers the outputTemplate rendered against the response. An upstream status of 400 or more answers 502 upstream_error with the upstream's status and body.",
		req: `{"input":{"orderId":"ord_1001","querystring":"refund=full"}}`, resp: `{"output":{"order":"ord_1001","status":"REFUNDED","statusCode":200}}`},
	"listActions": {desc: "Lists the workflow actions of the org's installed apps.",
		resp: `{"items":[{"name":"kustomer.app.ecommflows_acme.store.refundOrder","app":"ecommflows_acme","version":"1.0.0","description":"Refund an order","definition":{"name":"kustomer.app.ecommflows_acme.store.refundOrder","type":"rest_api"}}]}`},
	"getAction": {desc: "Gets one workflow action by any spelling of its name, with its sampleOutputContext for a workflow builder.",
		resp: `{"name":"kustomer.app.ecommflows_acme.store.refundOrder","app":"ecommflows_acme","version":"1.0.0","description":"Refund an order","sampleOutputContext":{"order":"ord_1001","status":"REFUNDED"},"definition":{"name":"kustomer.app.ecommflows_acme.store.refundOrder","type":"rest_api","inputTemplate":{"uri":"https://api.example-store.com/orders/{{orderId}}/refund","method":"post"}}}`},
	"listAuditLogs": {desc: "Lists the org's audit entries, newest first, a page at a time (follow nextCursor): every run of a command with auditLogging and of every action, and Cache Fallback Mode turning on or off. Never a header, a body or a secret.",
		resp: `{"items":[{"id":"aud_01JE2","time":"2026-12-01T12:00:00Z","org":"acme","actor":{"id":"key_5f2a9c1e","name":"ci"},"event":"run","kind":"command","command":"kustomer.app.ecommstore_acme.store.lookupOrder","args":{"order":"ord_1001"},"method":"GET","url":"https://api.example-store.com/orders/ord_1001","status":200,"durationMs":84,"cache":"miss","error":""}],"nextCursor":"eyJ0IjoiMjAyNi0xMi0wMVQxMjowMDowMFoifQ"}`},

	"authorizeAccount": {desc: "Starts connecting an OAuth 2.0 app account of the given name: answers the provider's authorization URL to open in a browser (state bound to the org, app and account, single use, 10 minutes, PKCE S256). A client-credentials client connects at once and answers the account.",
		req: `{"returnUrl":"https://console.example.com/apps/crm"}`, resp: `{"authorizationUrl":"https://auth.example-crm.com/authorize?client_id=abc&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&response_type=code&state=st_9f8e7d","expiresAt":"2026-12-01T12:10:00Z"}`},
	"authorizeDefaultAccount": {desc: "Starts connecting the app's default OAuth 2.0 account, as authorizeAccount does for a named one.",
		req: `{"returnUrl":"https://console.example.com/apps/crm"}`, resp: `{"authorizationUrl":"https://auth.example-crm.com/authorize?client_id=abc&response_type=code&state=st_1a2b3c","expiresAt":"2026-12-01T12:10:00Z"}`},
	"disconnectAccount": {desc: "Disconnects an app account, revoking its token at the provider when the definition names a revocation URL; its commands then answer 424 account_disconnected."},
	"oauthRedirect": {page: true, desc: "The OAuth 2.0 redirect URI that the provider sends the browser back to: the single-use state authenticates it, the code is exchanged for tokens, and the browser is sent on to the returnUrl (or shown a page saying the account is connected).",
		respType: "text/html; charset=utf-8", resp: "<!doctype html><title>Connected</title><p>The account default of crm is connected. You can close this page.</p>\n"},
	"listAccounts": {desc: "Lists an app's OAuth 2.0 accounts for the org: status, scopes, expiry and last refresh; never a token.",
		resp: `{"items":[{"name":"default","status":"connected","scopes":["read","write"],"expiresAt":"2026-12-01T13:00:00Z","lastRefreshedAt":"2026-12-01T12:00:00Z","connectedAt":"2026-11-30T09:00:00Z"}]}`},

	"getOrgLimits": {desc: "Gets an org's own rate limit: the runs a second that all its runs which call an upstream share, and the burst. Both are null when the org has none. Cache hits are not counted.",
		resp: `{"org":"acme","runsPerSecond":100,"burst":200}`},
	"putOrgLimits": {desc: "Sets an org's own rate limit (GCRA: runsPerSecond on average, burst at once); null or 0 removes it. Every instance applies it within a second; beyond it a run answers 429 rate_limited with Retry-After and the RateLimit-Policy and RateLimit headers, without calling the upstream.",
		req: `{"runsPerSecond":100,"burst":200}`, resp: `{"org":"acme","runsPerSecond":100,"burst":200}`},
	"getAppLimits": {desc: "Gets the rate limits of an installed app's commands and actions, by canonical name.",
		resp: `{"app":"ecommstore_acme","limits":{"kustomer.app.ecommstore_acme.store.refundOrder":{"runsPerSecond":2,"burst":5}}}`},
	"putAppLimits": {desc: "Sets rate limits of an installed app's commands and actions: each member names one (any spelling) and gives its runsPerSecond and burst, or null to remove its limit; members left out keep theirs. All or none are written.",
		req: `{"refundOrder":{"runsPerSecond":2,"burst":5},"lookupOrder":null}`, resp: `{"app":"ecommstore_acme","limits":{"kustomer.app.ecommstore_acme.store.refundOrder":{"runsPerSecond":2,"burst":5}}}`},
	"deliverHook": {desc: "Delivers an event to a hook: the body (JSON, or form data for a form hook) becomes the event's attributes.data, and each enabled workflow whose trigger names the hook's event starts a run. A web hook also needs its secret, as a bearer token or an HMAC-SHA256 signature of the body. The answer is 202 once the event and its runs are committed; an Idempotency-Key seen within 24 hours answers that event again. At most 400 KB. The hook's id in the URL is its credential: an uninstalled app's hook answers 404.",
		resp: `{"id":"evt_01JE3K9QD7","type":"hook_event","runs":["run_01JE3K9QF2"]}`},
	"listHooks": {desc: "Lists the hooks of an installed app, one per event it declares, with the URL to POST events to. A web hook's secret is shown only in the answer that made it (here, the first listing after the install, or a regenerate).",
		resp: `{"items":[{"id":"hk_Zq4mT8vB2xN6cR1s","url":"https://switchboard.example.com/v1/hooks/hk_Zq4mT8vB2xN6cR1s","eventName":"kustomer.app.ecommflows_acme.order-update","displayEventName":"Order update","description":"The store posts an order when it changes","type":"form","createdAt":"2026-12-01T12:00:00Z"}]}`},
	"regenerateHook": {desc: "Gives a hook a new URL, and a web hook a new secret (shown in this answer only); the old URL stops working at once, on every instance.",
		resp: `{"id":"hk_Zq4mT8vB2xN6cR1s","url":"https://switchboard.example.com/v1/hooks/hk_Zq4mT8vB2xN6cR1s","eventName":"kustomer.app.ecommflows_acme.order-update","displayEventName":"Order update","description":"The store posts an order when it changes","type":"form","createdAt":"2026-12-01T12:00:00Z"}`},
	"listWorkflows": {desc: "Lists the workflows of the org's installed apps: whether they are enabled, the event that starts them and their step ids, with the definition as registered (the editor's meta kept).",
		resp: `{"items":[{"name":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","version":"1.0.0","description":"Refund an order when it is cancelled","enabled":true,"eventName":"kustomer.app.ecommflows_acme.order-update","steps":["1","refund","notify"],"definition":{"name":"refundOnCancel","trigger":{"eventName":"order-update","transitions":[{"target":"refund"}]},"steps":[{"id":"refund","action":"store.refundOrder","params":{"orderId":"/#steps.1.orderId"}}]}}]}`},
	"startWorkflowRun": {desc: "Starts a run of a workflow by hand, with input standing in for the trigger's output (steps.1); it runs as a hook's event would, a step at a time, and answers 202 with the run as queued.",
		req: `{"input":{"orderId":"ord_1001"}}`, resp: `{"id":"run_01JE3K9QF2","workflow":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","appVersion":"1.0.0","status":"running","input":{"orderId":"ord_1001"},"startedAt":"2026-12-01T12:00:00Z"}`},
	"listWorkflowRuns": {desc: "Lists the org's workflow runs, newest first, a page at a time (follow nextCursor), by workflow, status and start time.",
		resp: `{"items":[{"id":"run_01JE3K9QF2","workflow":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","appVersion":"1.0.0","status":"running","input":{"orderId":"ord_1001"},"startedAt":"2026-12-01T12:00:00Z"}],"nextCursor":"eyJ0IjoiMjAyNi0xMi0wMVQxMjowMDowMFoifQ"}`},
	"getWorkflowRun": {desc: "Gets a run with each step it went through: params, output, status, attempts and timings, and the error an error case read.",
		resp: `{"id":"run_01JE3K9QF2","workflow":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","appVersion":"1.0.0","event":"evt_01JE3K9QD7","status":"succeeded","input":{"orderId":"ord_1001"},"startedAt":"2026-12-01T12:00:00Z","finishedAt":"2026-12-01T12:00:00.21Z","steps":[{"seq":1,"id":"refund","status":"succeeded","params":{"orderId":"ord_1001"},"output":{"order":"ord_1001","status":"REFUNDED"},"attempts":1,"queuedAt":"2026-12-01T12:00:00.01Z","startedAt":"2026-12-01T12:00:00.02Z","finishedAt":"2026-12-01T12:00:00.11Z"},{"seq":2,"id":"notify","status":"succeeded","params":{"body":{"order":"ord_1001"}},"output":{"status":200,"headers":{"content-type":"application/json"},"body":{"sent":true},"cache":"none"},"attempts":1,"queuedAt":"2026-12-01T12:00:00.11Z","startedAt":"2026-12-01T12:00:00.12Z","finishedAt":"2026-12-01T12:00:00.21Z"}]}`},
	"cancelWorkflowRun": {desc: "Cancels a running run: the steps not started are not, a step in flight finishes but starts no other. A run that already ended answers 409.",
		resp: `{"id":"run_01JE3K9QF2","workflow":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","appVersion":"1.0.0","status":"canceled","input":{"orderId":"ord_1001"},"startedAt":"2026-12-01T12:00:00Z","finishedAt":"2026-12-01T12:00:05Z"}`},
	"retryWorkflowRun": {desc: "Retries a failed or cancelled run from the step where it stopped, with the outputs of the steps before it; the step's upstream sees the same Idempotency-Key. A running or succeeded run answers 409.",
		resp: `{"id":"run_01JE3K9QF2","workflow":"kustomer.app.ecommflows_acme.workflow.refundOnCancel","app":"ecommflows_acme","appVersion":"1.0.0","status":"running","input":{"orderId":"ord_1001"},"startedAt":"2026-12-01T12:00:00Z"}`},
}

// schemaNames names the schemas of the API's types (package path and Go
// name) as its readers know them.
var schemaNames = map[string]string{
	pkg + ".problem":                     "Problem",
	root + ".Problem":                    "ProblemError",
	pkg + ".runCommandRequest":           "RunRequest",
	pkg + ".runCommandResponse":          "RunResult",
	pkg + ".runActionRequest":            "ActionRunRequest",
	pkg + ".runActionResponse":           "ActionRunResult",
	pkg + ".appVersionResponse":          "App",
	pkg + ".appGetResponse":              "AppWithVersions",
	pkg + ".appSummary":                  "AppSummary",
	pkg + ".appListResponse":             "AppList",
	pkg + ".versionItem":                 "AppVersionRef",
	pkg + ".installRequest":              "InstallRequest",
	pkg + ".installResponse":             "Installation",
	pkg + ".installedItem":               "InstalledApp",
	pkg + ".installedListResponse":       "InstalledAppList",
	pkg + ".appDefinitionDoc":            "AppDefinition",
	pkg + ".commandDoc":                  "CommandDefinition",
	pkg + ".actionDoc":                   "ActionDefinition",
	pkg + ".settingDecl":                 "SettingDeclaration",
	pkg + ".settingRefDoc":               "SettingReference",
	pkg + ".settingsDoc":                 "Settings",
	pkg + ".orgCreateRequest":            "OrgCreateRequest",
	pkg + ".orgCreateResponse":           "Org",
	pkg + ".keyCreateRequest":            "KeyCreateRequest",
	pkg + ".keyCreateResponse":           "CreatedKey",
	pkg + ".keyItem":                     "Key",
	pkg + ".keyListResponse":             "KeyList",
	pkg + ".commandItem":                 "Command",
	pkg + ".commandListResponse":         "CommandList",
	pkg + ".actionItem":                  "Action",
	pkg + ".actionListResponse":          "ActionList",
	pkg + ".auditItem":                   "AuditEntry",
	pkg + ".auditActor":                  "AuditActor",
	pkg + ".auditSession":                "AuditSession",
	pkg + ".auditListResponse":           "AuditList",
	pkg + ".sessionCreateRequest":        "SessionCreateRequest",
	pkg + ".sessionCreateResponse":       "CreatedSession",
	pkg + ".sessionItem":                 "Session",
	pkg + ".sessionListResponse":         "SessionList",
	pkg + ".authorizeRequest":            "AuthorizeRequest",
	pkg + ".authorizeDefaultRequest":     "AuthorizeDefaultRequest",
	pkg + ".authorizeResponse":           "Authorization",
	pkg + ".accountListResponse":         "AccountList",
	root + "/internal/oauth.AccountInfo": "Account",
	pkg + ".buildResponse":               "Version",
	pkg + ".orgLimitsRequest":            "OrgLimitsRequest",
	pkg + ".orgLimitsDoc":                "OrgLimits",
	pkg + ".appLimitsDoc":                "AppLimits",
	pkg + ".rateDoc":                     "RateLimit",
	pkg + ".hookDeliveryResponse":        "HookDelivery",
	pkg + ".hookItem":                    "Hook",
	pkg + ".hookListResponse":            "HookList",
	pkg + ".workflowItem":                "Workflow",
	pkg + ".workflowListResponse":        "WorkflowList",
	pkg + ".workflowRunRequest":          "WorkflowRunRequest",
	pkg + ".workflowStepDoc":             "WorkflowStep",
	pkg + ".workflowRunDoc":              "WorkflowRun",
	pkg + ".workflowRunListResponse":     "WorkflowRunList",
	root + ".Code":                       "ErrorCode",
}

const (
	root = "github.com/switchboardhq/switchboard"
	pkg  = root + "/internal/httpapi"
)

// tagDocs describes the document's tags, in the order a reader meets them.
var tagDocs = []struct{ name, desc string }{
	{"apps", "App definitions: register versions, list them, install them for an org"},
	{"settings", "Each org's settings of an app; secrets are write-only"},
	{"commands", "Commands: named server-side HTTP requests, run with the org's settings"},
	{"actions", "Workflow actions: reusable rest_api steps"},
	{"sessions", "Browser session tokens for the JavaScript SDK, and their CORS preflights"},
	{"accounts", "OAuth 2.0 app accounts"},
	{"audit", "The audit log"},
	{"keys", "API keys of an org"},
	{"orgs", "Orgs (tenants), for the operator"},
	{"operations", "Health, readiness, metrics, version and this document"},
	{"sdk", "The browser SDK's files"},
}

// problemDetails are realistic details of each code, for the examples of
// the problem answers.
var problemDetails = map[switchboard.Code]string{
	switchboard.CodeUnauthorized:        "a valid API key is required: send it as Authorization: Bearer <key>",
	switchboard.CodeForbidden:           "this route needs an admin key; the key's role is agent",
	switchboard.CodeNotFound:            `no app "shipping": list the apps you can see with GET /v1/apps/available`,
	switchboard.CodeConflict:            "version 1.0.0 of ecommstore_acme is already registered with another definition: increment the version",
	switchboard.CodeInvalidDefinition:   "the definition has 2 problems; each is listed with its location",
	switchboard.CodeInvalidInput:        "the run request is not valid",
	switchboard.CodePayloadTooLarge:     "the request body is over 1 MiB; send a smaller body",
	switchboard.CodeRateLimited:         "over the org's limit of 10 runs per second; retry after 1 s",
	switchboard.CodeUpstreamUnreachable: "api.example-store.com did not accept a connection: check the command's URL and that the upstream is up",
	switchboard.CodeUpstreamError:       "the upstream answered 500",
	switchboard.CodeUpstreamTimeout:     "api.example-store.com did not answer within 10s (--upstream-timeout)",
	switchboard.CodeAccountDisconnected: "the app account default of crm_acme needs to be connected again: POST /v1/apps/crm/accounts/default/authorize",
	switchboard.CodeSettingMissing:      "the setting default.authToken of ecommstore_acme has no value: set it with PUT /v1/apps/ecommstore/settings or switchboard settings set ecommstore default.authToken=-",
	switchboard.CodeUpstreamForbidden:   "the upstream 10.0.0.7 is on a private network, which this server refuses: start it with --allow-private-networks to allow it",
	switchboard.CodeUnavailable:         "the server is reading as many request bodies as it may at once; retry after 1 s",
	switchboard.CodeInternal:            "an internal error occurred; the server logged it with the request id",
}

// problemErrors are example located problems of the codes that carry them.
var problemErrors = map[switchboard.Code][]switchboard.Problem{
	switchboard.CodeInvalidDefinition: {
		{Message: `comands is not a property of an app definition; did you mean "commands"?`, Location: "/comands", Line: 1, Column: 45},
		{Message: `version must be a semantic version such as 1.0.0 or 1.2.0-beta.1; got "1.0"`, Location: "/version", Line: 1, Column: 17},
	},
	switchboard.CodeInvalidInput: {
		{Message: "the value of order goes into the path of the URL, so it may not contain '/'", Location: "/args/order"},
	},
}

// finishOpenAPI adds to the reflected document what its schemas cannot
// say: servers, tags, each operation's description and security, and an
// example of every request body and answer.
func finishOpenAPI(doc map[string]any, routes []route) error {
	doc["servers"] = []any{
		map[string]any{"url": "http://127.0.0.1:8080", "description": "switchboard serve on this machine (its default --addr); use your server's URL"},
	}
	tags := make([]any, len(tagDocs))
	for i, t := range tagDocs {
		tags[i] = map[string]any{"name": t.name, "description": t.desc}
	}
	doc["tags"] = tags
	info := doc["info"].(map[string]any)
	info["license"] = map[string]any{"name": "Switchboard's license", "url": "https://github.com/switchboardhq/switchboard"}
	info["contact"] = map[string]any{"name": "Switchboard", "url": "https://github.com/switchboardhq/switchboard"}
	if comps, ok := doc["components"].(map[string]any); ok {
		schemas, _ := comps["schemas"].(map[string]any)
		if st, ok := schemas["Settings"].(map[string]any); ok {
			st["description"] = "{category: {name: value}}; in an answer, each secret is {secret: true, set: true|false}, and missing lists the required settings without a value"
			st["properties"] = map[string]any{"missing": map[string]any{"type": "array", "items": map[string]any{"type": "string"},
				"description": "In an answer: the required settings (category.name) that have no value and no default, which runs that use them refuse with setting_missing"}}
		}
	}
	paths := doc["paths"].(map[string]any)
	shared := map[string]any{} // components.responses
	defer func() {
		if comps, ok := doc["components"].(map[string]any); ok {
			comps["responses"] = shared
		}
	}()
	for _, rt := range routes {
		item, _ := paths[rt.path].(map[string]any)
		o, _ := item[strings.ToLower(rt.method)].(map[string]any)
		if o == nil {
			return fmt.Errorf("openapi: %s is not in the document", rt.pattern)
		}
		d := opDocs[rt.doc.id]
		desc := d.desc
		if desc == "" {
			desc = rt.doc.summary + "."
		}
		if len(rt.doc.roles) > 0 {
			desc += "\n\nRoles: " + roleList(rt.doc.roles) + "."
			if rt.doc.sessions {
				desc += " A session token (sbs_...) may call it for its own commands."
			}
		} else {
			desc += "\n\nNo key needed."
			o["security"] = []any{}
		}
		o["description"] = desc
		if body, ok := o["requestBody"].(map[string]any); ok {
			// A body is required when it has required members or is a
			// document of its own (a definition, settings).
			body["required"] = rt.doc.rawBody != "" || bodyHasRequired(doc, body)
			if d.req != "" {
				if err := setExample(body, "application/json", d.req); err != nil {
					return fmt.Errorf("openapi %s: request example: %w", rt.doc.id, err)
				}
			}
		}
		responses := o["responses"].(map[string]any)
		for status, r := range responses {
			resp := r.(map[string]any)
			code, _ := strconv.Atoi(status)
			if code >= 400 && d.page {
				resp["description"] = http.StatusText(code) + ": a page that says why the account was not connected and what to do"
				resp["content"] = map[string]any{"text/html; charset=utf-8": map[string]any{"schema": map[string]any{"type": "string"},
					"example": "<!doctype html><title>The account was not connected</title><p>the authorization request expired or was already used: connect the account again.</p>\n"}}
				continue
			}
			if code >= 400 {
				// One shared answer per status, with an example of each
				// code it carries.
				name := "Problem" + status
				if _, ok := shared[name]; !ok {
					resp["description"] = problemDescription(code)
					setProblemExamples(resp, code)
					shared[name] = resp
				}
				responses[status] = map[string]any{"$ref": "#/components/responses/" + name}
				continue
			}
			if d.resp == "" {
				continue
			}
			if d.respType != "" {
				resp["content"] = map[string]any{d.respType: map[string]any{"schema": map[string]any{"type": "string"}, "example": d.resp}}
				continue
			}
			if resp["content"] == nil {
				// An answer documented by its example alone: a small
				// object such as {"status": "ok"}.
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
			}
			if err := setExample(resp, "application/json", d.resp); err != nil {
				return fmt.Errorf("openapi %s: answer example: %w", rt.doc.id, err)
			}
		}
		if d.page {
			responses["302"] = map[string]any{"description": "Found: the account is connected; the browser goes on to the returnUrl given when authorizing",
				"headers": map[string]any{"Location": map[string]any{"description": "The returnUrl", "schema": map[string]any{"type": "string", "format": "uri"}}}}
		}
		if rt.doc.id == "runCommand" {
			addJSONAPIAnswer(responses)
		}
	}
	return nil
}

// bodyHasRequired reports whether a request body's JSON schema (a
// component) has required members.
func bodyHasRequired(doc, body map[string]any) bool {
	content, _ := body["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	schema, _ := mt["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	c, _ := schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
	req, _ := c["required"].([]any)
	return len(req) > 0
}

// setExample sets the example of a request body's or answer's media type.
func setExample(holder map[string]any, mediaType, example string) error {
	var v any
	dec := json.NewDecoder(strings.NewReader(example))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	content, _ := holder["content"].(map[string]any)
	mt, _ := content[mediaType].(map[string]any)
	if mt == nil {
		return fmt.Errorf("no %s content to hold the example", mediaType)
	}
	mt["example"] = v
	return nil
}

// statusCodes are the statuses answered with a code whose own status is
// another (withStatus).
var statusCodes = map[int][]switchboard.Code{
	http.StatusRequestHeaderFieldsTooLarge: {switchboard.CodeInvalidInput},
}

// statusDetails are the examples' details of those statuses.
var statusDetails = map[int]string{
	http.StatusRequestHeaderFieldsTooLarge: "the request line and header fields (70312 bytes) exceed the limit of 64 KiB; send large data in the body",
}

// codesOf lists the codes answered with status, in order.
func codesOf(status int) []switchboard.Code {
	if cs, ok := statusCodes[status]; ok {
		return cs
	}
	var out []switchboard.Code
	for _, c := range switchboard.Codes() {
		if c.Status() == status {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// problemDescription says which codes an error status carries.
func problemDescription(status int) string {
	codes := codesOf(status)
	if len(codes) == 0 {
		return http.StatusText(status) + ": a problem document"
	}
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = string(c)
	}
	return http.StatusText(status) + ": a problem document with code " + strings.Join(names, " or ")
}

// setProblemExamples gives an error answer one example per code it can
// carry.
func setProblemExamples(resp map[string]any, status int) {
	content, _ := resp["content"].(map[string]any)
	mt, _ := content[problemContentType].(map[string]any)
	if mt == nil {
		return
	}
	codes := codesOf(status)
	examples := map[string]any{}
	for _, c := range codes {
		p := problem{Type: ProblemTypeBase + string(c), Title: titles[c], Status: status, Detail: problemDetails[c], Code: c, Errors: problemErrors[c]}
		if d, ok := statusDetails[status]; ok {
			p.Detail, p.Errors = d, nil
		}
		var v any
		b, _ := json.Marshal(p)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		_ = dec.Decode(&v)
		examples[string(c)] = map[string]any{"summary": titles[c], "value": v}
	}
	mt["examples"] = examples
}

// addJSONAPIAnswer documents the seed platform's envelope of a run's
// answer, which Accept: application/vnd.api+json asks for.
func addJSONAPIAnswer(responses map[string]any) {
	ok, _ := responses["200"].(map[string]any)
	content, _ := ok["content"].(map[string]any)
	if content == nil {
		return
	}
	var example any
	_ = json.Unmarshal([]byte(`{"data":{"type":"command_run_response","attributes":{"commandId":"kustomer.app.ecommstore_acme.store.lookupOrder","statusCode":200,"args":{"order":"ord_1001"},"url":"https://api.example-store.com/orders/ord_1001","requestHeaders":{"Authorization":"[redacted]"},"responseHeaders":{"content-type":"application/json"},"responseBody":{"id":"ord_1001","status":"PAID","total":37.5},"cacheFallback":false},"relationships":{}}}`), &example)
	content["application/vnd.api+json"] = map[string]any{
		"schema": map[string]any{
			"type":        "object",
			"description": "The seed platform's envelope of a run, for code written against it",
			"required":    []any{"data"},
			"properties": map[string]any{"data": map[string]any{
				"type":     "object",
				"required": []any{"type", "attributes", "relationships"},
				"properties": map[string]any{
					"type": map[string]any{"type": "string", "enum": []any{"command_run_response"}},
					"attributes": map[string]any{"type": "object", "required": []any{"commandId", "statusCode", "url", "cacheFallback"},
						"properties": map[string]any{
							"commandId":       map[string]any{"type": "string", "description": "The command's canonical name"},
							"statusCode":      map[string]any{"type": "integer", "description": "The upstream's status"},
							"args":            map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
							"url":             map[string]any{"type": "string", "description": "The rendered URL"},
							"requestHeaders":  map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "The rendered headers, each secret value replaced by [redacted]"},
							"responseHeaders": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
							"responseBody":    map[string]any{"description": "The upstream's body: a JSON value, or the text"},
							"cacheFallback":   map[string]any{"type": "boolean", "description": "Set when a stale response is served in Cache Fallback Mode"},
						}},
					"relationships": map[string]any{"type": "object"},
				},
			}},
		},
		"example": example,
	}
}
