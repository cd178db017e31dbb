package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Workflow is a workflow of an installed app.
type Workflow struct {
	Name        string          `json:"name"`
	App         string          `json:"app"`
	Version     string          `json:"version"`
	Description string          `json:"description,omitempty"`
	Enabled     bool            `json:"enabled"`
	EventName   string          `json:"eventName,omitempty"`
	Steps       []string        `json:"steps"`
	Definition  json.RawMessage `json:"definition"`
}

// WorkflowStep is one execution of a step of a run.
type WorkflowStep struct {
	Seq        int             `json:"seq"`
	ID         string          `json:"id"`
	Status     string          `json:"status"`
	Params     json.RawMessage `json:"params,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      json.RawMessage `json:"error,omitempty"`
	Attempts   int             `json:"attempts"`
	QueuedAt   time.Time       `json:"queuedAt"`
	StartedAt  *time.Time      `json:"startedAt,omitempty"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
}

// WorkflowRun is a run of a workflow; Steps are filled by WorkflowRun.
type WorkflowRun struct {
	ID         string          `json:"id"`
	Workflow   string          `json:"workflow"`
	App        string          `json:"app"`
	AppVersion string          `json:"appVersion"`
	Event      string          `json:"event,omitempty"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input"`
	Error      json.RawMessage `json:"error,omitempty"`
	StartedAt  time.Time       `json:"startedAt"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
	Steps      []WorkflowStep  `json:"steps,omitempty"`
}

// Finished reports whether the run has ended.
func (r *WorkflowRun) Finished() bool { return r.Status != "running" }

// RunQuery selects runs; all fields are optional.
type RunQuery struct {
	Workflow string
	Status   string
	Since    time.Time
	Limit    int
	Cursor   string
}

// Hook is a hook of an installed app; Secret is set only when it was just
// made.
type Hook struct {
	ID               string    `json:"id"`
	URL              string    `json:"url"`
	EventName        string    `json:"eventName"`
	DisplayEventName string    `json:"displayEventName,omitempty"`
	Description      string    `json:"description,omitempty"`
	Type             string    `json:"type"`
	Secret           string    `json:"secret,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
}

// Delivered is a hook's answer to a delivery.
type Delivered struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Duplicate bool     `json:"duplicate,omitempty"`
	Runs      []string `json:"runs"`
}

// Workflows lists the workflows of the org's installed apps.
func (c *Client) Workflows(ctx context.Context) ([]Workflow, error) {
	var out struct {
		Items []Workflow `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/v1/workflows", nil, nil, &out)
	return out.Items, err
}

// StartRun starts a workflow by hand with input as the trigger's output.
func (c *Client) StartRun(ctx context.Context, name string, input any) (*WorkflowRun, error) {
	var out WorkflowRun
	_, err := c.do(ctx, http.MethodPost, "/v1/workflows/"+url.PathEscape(name)+"/runs", nil, map[string]any{"input": input}, &out)
	return &out, err
}

// WorkflowRuns lists runs newest first, with the next page's cursor.
func (c *Client) WorkflowRuns(ctx context.Context, q RunQuery) ([]WorkflowRun, string, error) {
	v := url.Values{}
	if q.Workflow != "" {
		v.Set("workflow", q.Workflow)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	return page[WorkflowRun](ctx, c, "/v1/workflow-runs", v, q.Since, time.Time{}, q.Limit, q.Cursor)
}

// WorkflowRun returns a run with its steps.
func (c *Client) WorkflowRun(ctx context.Context, id string) (*WorkflowRun, error) {
	var out WorkflowRun
	_, err := c.do(ctx, http.MethodGet, "/v1/workflow-runs/"+url.PathEscape(id), nil, nil, &out)
	return &out, err
}

// CancelRun cancels a running run.
func (c *Client) CancelRun(ctx context.Context, id string) (*WorkflowRun, error) {
	var out WorkflowRun
	_, err := c.do(ctx, http.MethodPost, "/v1/workflow-runs/"+url.PathEscape(id)+"/cancel", nil, nil, &out)
	return &out, err
}

// RetryRun retries a failed or cancelled run from where it stopped.
func (c *Client) RetryRun(ctx context.Context, id string) (*WorkflowRun, error) {
	var out WorkflowRun
	_, err := c.do(ctx, http.MethodPost, "/v1/workflow-runs/"+url.PathEscape(id)+"/retry", nil, nil, &out)
	return &out, err
}

// Hooks lists an installed app's hooks with their URLs.
func (c *Client) Hooks(ctx context.Context, app string) ([]Hook, error) {
	var out struct {
		Items []Hook `json:"items"`
	}
	_, err := c.do(ctx, http.MethodGet, "/v1/apps/"+url.PathEscape(app)+"/hooks", nil, nil, &out)
	return out.Items, err
}

// RegenerateHook gives a hook (by event name or id) a new URL and secret.
func (c *Client) RegenerateHook(ctx context.Context, app, hook string) (*Hook, error) {
	var out Hook
	_, err := c.do(ctx, http.MethodPost, "/v1/apps/"+url.PathEscape(app)+"/hooks/"+url.PathEscape(hook)+"/regenerate", nil, nil, &out)
	return &out, err
}
