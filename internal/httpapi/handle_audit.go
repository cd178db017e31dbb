package httpapi

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// auditQuery documents the audit log's filters.
type auditQuery struct {
	Command string    `query:"command" description:"Only entries of this command (any spelling of its name)"`
	Event   string    `query:"event" enum:"run,fallback_on,fallback_off" description:"Only entries of this event"`
	Since   time.Time `query:"since" description:"RFC 3339; entries at or after"`
	Until   time.Time `query:"until" description:"RFC 3339; entries before"`
	Limit   int       `query:"limit" minimum:"1" maximum:"1000" description:"Page size, 50 by default"`
	Cursor  string    `query:"cursor" description:"The nextCursor of the previous page"`
}

type auditActor struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type auditItem struct {
	ID         string            `json:"id"`
	Time       time.Time         `json:"time"`
	Org        string            `json:"org"`
	Actor      auditActor        `json:"actor" description:"The key of the run; for fallback_on and fallback_off, of the run whose live call turned fallback mode on or off"`
	Event      string            `json:"event" enum:"run,fallback_on,fallback_off" description:"A run, or Cache Fallback Mode turning on or off for one of the command's cache keys (recorded whether or not the command has auditLogging)"`
	Kind       string            `json:"kind" enum:"command,action"`
	Command    string            `json:"command" description:"The command's (or action's) canonical name"`
	Args       map[string]string `json:"args" description:"The run's args; empty for actions and for fallback events"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Status     int               `json:"status" description:"The status answered (a stale answer's is the cached one); for fallback events, the upstream's; 0 when it did not answer"`
	DurationMs int64             `json:"durationMs"`
	Cache      string            `json:"cache" description:"none, miss, hit or stale; empty for fallback events"`
	Error      string            `json:"error" description:"The error code when the run failed, or when the upstream failed and a stale answer was served (upstream_error for a status of 400 or more), or why fallback mode turned on"`
	// UpstreamStatus is set when the upstream answered a status other than
	// the one served.
	UpstreamStatus int `json:"upstreamStatus,omitempty" description:"The upstream's status when a stale answer was served instead; absent when it did not answer or was the one served"`
	// Session is the browser session a run was made with (its actor is the
	// key that minted it).
	Session *auditSession `json:"session,omitempty" description:"The session the run was made with; absent for a run made with a key"`
	// Via is the protocol the run came through when not the REST API.
	Via string `json:"via,omitempty" description:"mcp for a run made through the MCP endpoint (a tools/call); absent for the REST API"`
}

type auditSession struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
}

type auditListResponse struct {
	Items      []auditItem `json:"items"`
	NextCursor string      `json:"nextCursor,omitempty"`
}

func handleAuditList(reg *registry.Registry, run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		q := r.URL.Query()
		f := switchboard.AuditFilter{Cursor: q.Get("cursor"), Limit: 50}
		var problems []switchboard.Problem
		// Percent-decoding yields any bytes: ones that are not UTF-8 are
		// refused, never looked up (or replaced with U+FFFD).
		for _, k := range []string{"command", "event", "since", "until", "limit", "cursor"} {
			for _, v := range q[k] {
				if !utf8.ValidString(v) {
					problems = append(problems, switchboard.Problem{Location: "/" + k, Message: "invalid UTF-8 in a string: percent-encoded bytes must be UTF-8"})
					break
				}
			}
		}
		if len(problems) > 0 {
			return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the audit log query has invalid UTF-8", Problems: problems}
		}
		for _, k := range []string{"since", "until"} {
			if v := q.Get(k); v != "" {
				t, err := time.Parse(time.RFC3339Nano, v)
				if err != nil {
					problems = append(problems, switchboard.Problem{Location: "/" + k, Message: "must be an RFC 3339 time such as 2026-11-23T10:00:00Z"})
				} else if k == "since" {
					f.Since = t
				} else {
					f.Until = t
				}
			}
		}
		switch v := q.Get("event"); v {
		case "", switchboard.AuditRun, switchboard.AuditFallbackOn, switchboard.AuditFallbackOff,
			switchboard.AuditWorkflowRun, switchboard.AuditWorkflowStep:
			f.Event = v
		default:
			problems = append(problems, switchboard.Problem{Location: "/event", Message: "must be run, fallback_on, fallback_off, workflow_run or workflow_step"})
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				problems = append(problems, switchboard.Problem{Location: "/limit", Message: "must be a whole number from 1 to 1000"})
			}
			f.Limit = n
		}
		if len(problems) > 0 {
			return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the audit log query is not valid", Problems: problems}
		}
		if c := q.Get("command"); c != "" {
			f.Name = run.CanonicalName(r.Context(), p, c)
		}
		entries, next, err := reg.AuditEntries(r.Context(), p, f)
		if err != nil {
			return err
		}
		out := auditListResponse{Items: make([]auditItem, 0, len(entries)), NextCursor: next}
		for _, e := range entries {
			args := e.Args
			if args == nil {
				args = map[string]string{}
			}
			event := e.Event
			if event == "" {
				event = switchboard.AuditRun
			}
			out.Items = append(out.Items, auditItem{ID: e.ID, Time: e.Time, Org: e.OrgID, Actor: auditActor{ID: e.ActorID, Name: e.ActorName},
				Event: event, Kind: e.Kind, Command: e.Name, Args: args, Method: e.Method, URL: e.URL, Status: e.Status, DurationMs: e.DurationMs,
				Cache: e.Cache, Error: e.Error, UpstreamStatus: e.UpstreamStatus, Via: e.Via})
			if e.SessionID != "" {
				out.Items[len(out.Items)-1].Session = &auditSession{ID: e.SessionID, Subject: e.Subject}
			}
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}
