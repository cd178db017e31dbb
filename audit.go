package switchboard

import "time"

// AuditEntry records one run of a command with auditLogging, or of an action.
// It never holds headers or bodies.
type AuditEntry struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	OrgID      string            `json:"org"`
	ActorID    string            `json:"-"`
	ActorName  string            `json:"-"`
	Kind       string            `json:"kind"` // "command" or "action"
	Name       string            `json:"command"`
	Args       map[string]string `json:"args"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Status     int               `json:"status"`
	DurationMs int64             `json:"durationMs"`
	Cache      string            `json:"cache"`
	Error      string            `json:"error"`
}

// AuditFilter selects audit entries: all fields are optional.
type AuditFilter struct {
	Name   string
	Since  time.Time
	Until  time.Time
	Limit  int
	Cursor string
}
