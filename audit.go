package switchboard

import "time"

// Audit events: what an entry records.
const (
	// AuditRun is one run of a command with auditLogging, or of an action.
	AuditRun = "run"
	// AuditFallbackOn is Cache Fallback Mode turning on for a cache key,
	// after the live call of the run by ActorID failed; Status and Error
	// say how.
	AuditFallbackOn = "fallback_on"
	// AuditFallbackOff is Cache Fallback Mode turning off for a cache key:
	// a live call answered below 400.
	AuditFallbackOff = "fallback_off"
	// AuditWorkflowRun is a workflow run's end (or its cancel by a key):
	// Args name the run and its status, Error the code that failed it.
	AuditWorkflowRun = "workflow_run"
	// AuditWorkflowStep is one step of a run finishing: Args name the run,
	// the step and its status.
	AuditWorkflowStep = "workflow_step"
)

// AuditEntry records one run of a command with auditLogging, or of an
// action, or fallback mode turning on or off for one of a command's cache
// keys (whether or not the command has auditLogging). It never holds
// headers or bodies.
type AuditEntry struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	OrgID      string            `json:"org"`
	ActorID    string            `json:"-"`
	ActorName  string            `json:"-"`
	Event      string            `json:"event"` // AuditRun, AuditFallbackOn or AuditFallbackOff
	Kind       string            `json:"kind"`  // "command" or "action"
	Name       string            `json:"command"`
	Args       map[string]string `json:"args"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Status     int               `json:"status"`
	DurationMs int64             `json:"durationMs"`
	Cache      string            `json:"cache"`
	Error      string            `json:"error"`
	// UpstreamStatus is the status the upstream answered when it is not
	// Status: a stale response served because the live call failed has the
	// cached Status and the upstream's here (0 when the upstream did not
	// answer; Error then has the code).
	UpstreamStatus int `json:"upstreamStatus,omitempty"`
	// SessionID and Subject are the session a run was made with, and its
	// subject (empty for a run made with a key).
	SessionID string `json:"-"`
	Subject   string `json:"-"`
	// Via is the protocol a run came through when it is not the REST API:
	// "mcp" for a tools/call (SPEC 14); empty otherwise.
	Via string `json:"via,omitempty"`
}

// AuditFilter selects audit entries: all fields are optional.
type AuditFilter struct {
	Name   string
	Event  string
	Since  time.Time
	Until  time.Time
	Limit  int
	Cursor string
}
