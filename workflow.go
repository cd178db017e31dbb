package switchboard

import "time"

// HookEndpoint is the URL of one hook of an installed app (SPEC 12):
// POST /v1/hooks/{ID}. ID is unguessable; a web hook also has a secret,
// sealed at rest.
type HookEndpoint struct {
	ID        string
	OrgID     string
	AppID     string
	EventName string
	// Secret is the sealed per-hook secret of a web hook (nil for a form
	// hook, or before one is made).
	Secret    []byte
	CreatedAt time.Time
}

// HookEvent is an event a hook received, durable before the delivery is
// answered.
type HookEvent struct {
	ID             string
	OrgID          string
	HookID         string
	IdempotencyKey string // "" when the delivery sent none
	ReceivedAt     time.Time
	// Event is the encoded event document: {"id", "type": "hook_event",
	// "attributes": {"data", "headers", "receivedAt", "hook"}}.
	Event []byte
}

// Run and step statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCanceled  = "canceled"

	StepQueued    = "queued"
	StepRetrying  = "retrying"
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepCanceled  = "canceled"
)

// WorkflowRun is one run of a workflow.
type WorkflowRun struct {
	ID         string
	OrgID      string
	Workflow   string // canonical name
	AppID      string
	AppVersion string
	EventID    string // "" for a run started by hand
	Status     string
	// Input is the trigger's output (steps.1), encoded.
	Input []byte
	// Error is the encoded problem that failed the run (nil otherwise).
	Error      []byte
	StartedAt  time.Time
	FinishedAt time.Time // zero while running
}

// WorkflowStep is one execution of a step of a run: a step that a loop
// visits twice has two, told apart by Seq.
type WorkflowStep struct {
	RunID  string
	Seq    int
	OrgID  string
	StepID string
	Status string
	// Params, Output and Error are encoded JSON (nil when there is none).
	Params     []byte
	Output     []byte
	Error      []byte
	Attempts   int
	QueuedAt   time.Time
	StartedAt  time.Time
	FinishedAt time.Time
}

// RunFilter selects workflow runs: all fields are optional.
type RunFilter struct {
	Workflow string
	Status   string
	Since    time.Time
	Limit    int
	Cursor   string
}
