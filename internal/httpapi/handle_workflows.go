package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

type workflowItem struct {
	Name        string          `json:"name"`
	App         string          `json:"app"`
	Version     string          `json:"version"`
	Description string          `json:"description,omitempty"`
	Enabled     bool            `json:"enabled"`
	EventName   string          `json:"eventName,omitempty" description:"The event whose deliveries start it (none: it starts only by hand)"`
	Steps       []string        `json:"steps" description:"Its step ids, the trigger (1) first"`
	Definition  json.RawMessage `json:"definition" description:"As registered, meta and the editor's other keys included"`
}

type workflowListResponse struct {
	Items []workflowItem `json:"items"`
}

type workflowRunRequest struct {
	Name  string `path:"name" json:"-" description:"The workflow's name in any spelling"`
	Input any    `json:"input,omitempty" description:"Stands in for the trigger's output at steps.1"`
}

type workflowRunPath struct {
	ID string `path:"id"`
}

type workflowRunsQuery struct {
	Workflow string `query:"workflow"`
	Status   string `query:"status" enum:"running,succeeded,failed,canceled"`
	Since    string `query:"since" description:"RFC 3339"`
	Limit    int    `query:"limit" minimum:"1" maximum:"500"`
	Cursor   string `query:"cursor"`
}

type workflowStepDoc struct {
	Seq        int             `json:"seq" description:"Execution order: a step a loop visits twice appears twice"`
	ID         string          `json:"id"`
	Status     string          `json:"status" enum:"queued,retrying,succeeded,failed,canceled"`
	Params     json.RawMessage `json:"params,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      json.RawMessage `json:"error,omitempty" description:"{code, status, body, detail}: what /#error reads in error cases"`
	Attempts   int             `json:"attempts"`
	QueuedAt   time.Time       `json:"queuedAt"`
	StartedAt  *time.Time      `json:"startedAt,omitempty"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
}

type workflowRunDoc struct {
	ID         string            `json:"id"`
	Workflow   string            `json:"workflow"`
	App        string            `json:"app"`
	AppVersion string            `json:"appVersion"`
	Event      string            `json:"event,omitempty" description:"The hook event that started it"`
	Status     string            `json:"status" enum:"running,succeeded,failed,canceled"`
	Input      json.RawMessage   `json:"input" description:"The trigger's output: steps.1"`
	Error      json.RawMessage   `json:"error,omitempty"`
	StartedAt  time.Time         `json:"startedAt"`
	FinishedAt *time.Time        `json:"finishedAt,omitempty"`
	Steps      []workflowStepDoc `json:"steps,omitempty"`
}

type workflowRunListResponse struct {
	Items      []workflowRunDoc `json:"items"`
	NextCursor string           `json:"nextCursor,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func rawOrNull(b []byte) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func runDoc(r switchboard.WorkflowRun, steps []switchboard.WorkflowStep) workflowRunDoc {
	d := workflowRunDoc{ID: r.ID, Workflow: r.Workflow, App: r.AppID, AppVersion: r.AppVersion, Event: r.EventID, Status: r.Status,
		Input: rawOrNull(r.Input), StartedAt: r.StartedAt, FinishedAt: optTime(r.FinishedAt)}
	if len(r.Error) > 0 {
		d.Error = r.Error
	}
	for _, s := range steps {
		sd := workflowStepDoc{Seq: s.Seq, ID: s.StepID, Status: s.Status, Attempts: s.Attempts, QueuedAt: s.QueuedAt,
			StartedAt: optTime(s.StartedAt), FinishedAt: optTime(s.FinishedAt)}
		if len(s.Params) > 0 {
			sd.Params = s.Params
		}
		if len(s.Output) > 0 {
			sd.Output = s.Output
		}
		if len(s.Error) > 0 {
			sd.Error = s.Error
		}
		d.Steps = append(d.Steps, sd)
	}
	return d
}

func handleWorkflowList(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		list, err := e.Workflows(r.Context(), p.OrgID)
		if err != nil {
			return err
		}
		out := workflowListResponse{Items: make([]workflowItem, 0, len(list))}
		for _, it := range list {
			def := json.RawMessage("null")
			if d, ok := findDefinition(it); ok {
				def = d
			}
			out.Items = append(out.Items, workflowItem{Name: it.Workflow.Name, App: it.App.AppID, Version: it.App.Version,
				Description: it.Workflow.Description, Enabled: it.Workflow.Enabled, EventName: it.Workflow.EventName,
				Steps: it.Workflow.StepIDs(), Definition: def})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

// findDefinition is a workflow's part of its app's canonical definition.
func findDefinition(it workflow.Installed) (json.RawMessage, bool) {
	ws, _ := it.App.App.Definition.Get("workflows")
	arr, _ := ws.([]any)
	for _, e := range arr {
		if n, _ := jsonv.Get(e, "name"); n == it.Workflow.Name {
			b, err := jsonv.Marshal(e)
			return b, err == nil
		}
	}
	return nil, false
}

func handleWorkflowRunStart(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		input, err := decodeInput(w, r, "a workflow run request", `{"input": ...}`)
		if err != nil {
			return err
		}
		run, err := e.StartRun(r.Context(), p, r.PathValue("name"), input)
		if err != nil {
			return err
		}
		encode(w, http.StatusAccepted, runDoc(run, nil))
		return nil
	}
}

func handleWorkflowRunList(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		q := r.URL.Query()
		f := switchboard.RunFilter{Workflow: q.Get("workflow"), Cursor: q.Get("cursor")}
		var problems []switchboard.Problem
		for _, k := range []string{"workflow", "status", "since", "limit", "cursor"} {
			if !utf8.ValidString(q.Get(k)) {
				problems = append(problems, switchboard.Problem{Location: "/" + k, Message: "invalid UTF-8 in a string: percent-encoded bytes must be UTF-8"})
			}
		}
		switch s := q.Get("status"); s {
		case "", switchboard.RunRunning, switchboard.RunSucceeded, switchboard.RunFailed, switchboard.RunCanceled:
			f.Status = s
		default:
			problems = append(problems, switchboard.Problem{Location: "/status", Message: "must be running, succeeded, failed or canceled"})
		}
		if s := q.Get("since"); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				problems = append(problems, switchboard.Problem{Location: "/since", Message: "must be an RFC 3339 time such as 2026-11-23T10:00:00Z"})
			}
			f.Since = t
		}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 500 {
				problems = append(problems, switchboard.Problem{Location: "/limit", Message: "must be a whole number from 1 to 500"})
			}
			f.Limit = n
		}
		if len(problems) > 0 {
			return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the run history query is not valid", Problems: problems}
		}
		runs, next, err := e.Runs(r.Context(), p, f)
		if err != nil {
			return err
		}
		out := workflowRunListResponse{Items: make([]workflowRunDoc, 0, len(runs)), NextCursor: next}
		for _, run := range runs {
			out.Items = append(out.Items, runDoc(run, nil))
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleWorkflowRunGet(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		run, steps, err := e.GetRun(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, runDoc(run, steps))
		return nil
	}
}

func handleWorkflowRunCancel(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		run, err := e.Cancel(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, runDoc(run, nil))
		return nil
	}
}

func handleWorkflowRunRetry(e *workflow.Engine) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		run, err := e.Retry(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		encode(w, http.StatusAccepted, runDoc(run, nil))
		return nil
	}
}
