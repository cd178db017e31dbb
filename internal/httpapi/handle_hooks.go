package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

type hookPath struct {
	HookID string `path:"hookId" description:"The hook URL's unguessable id (GET /v1/apps/{app}/hooks)"`
}

type hookDeliveryResponse struct {
	ID        string   `json:"id" description:"The event's id"`
	Type      string   `json:"type" description:"hook_event"`
	Duplicate bool     `json:"duplicate,omitempty" description:"The Idempotency-Key was seen within 24 hours: this is that event"`
	Runs      []string `json:"runs" description:"The workflow runs the event started"`
}

type hookItem struct {
	ID               string    `json:"id"`
	URL              string    `json:"url" description:"Where to POST events"`
	EventName        string    `json:"eventName"`
	DisplayEventName string    `json:"displayEventName,omitempty"`
	Description      string    `json:"description,omitempty"`
	Type             string    `json:"type" description:"form (no authentication) or web (the hook's secret as a bearer token or an HMAC-SHA256 signature)"`
	Secret           string    `json:"secret,omitempty" description:"A web hook's secret, shown only when it is made"`
	CreatedAt        time.Time `json:"createdAt"`
}

type hookListResponse struct {
	Items []hookItem `json:"items"`
}

type hookRegeneratePath struct {
	App  string `path:"app"`
	Hook string `path:"hook" description:"The hook's event name (local or canonical) or its current id"`
}

func hookItemOf(base string, h workflow.Hook) hookItem {
	return hookItem{ID: h.ID, URL: base + "/v1/hooks/" + h.ID, EventName: h.EventName, DisplayEventName: h.DisplayEventName,
		Description: h.Description, Type: h.Type, Secret: h.Secret, CreatedAt: h.CreatedAt}
}

// handleHookDeliver receives an event: 202 once it (and the runs it
// starts) is durable. The hook's id authenticates a form hook; a web hook
// also needs its secret.
func handleHookDeliver(e *workflow.Engine) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := readBody(w, r, workflow.MaxDeliveryBytes)
		if switchboard.ErrorCode(err) == switchboard.CodePayloadTooLarge {
			return &switchboard.Error{Code: switchboard.CodePayloadTooLarge, Detail: "a hook's event is at most 400 KB; send a smaller body (or a reference to the data)"}
		}
		if err != nil {
			return err
		}
		d, err := e.Deliver(r.Context(), r.PathValue("hookId"), workflow.Delivery{Body: body, Header: r.Header,
			IdempotencyKey: r.Header.Get("Idempotency-Key")})
		if err != nil {
			return err
		}
		runs := d.Runs
		if runs == nil {
			runs = []string{}
		}
		encode(w, http.StatusAccepted, hookDeliveryResponse{ID: d.EventID, Type: "hook_event", Duplicate: d.Duplicate, Runs: runs})
		return nil
	}
}

func handleHookList(e *workflow.Engine, base func(*http.Request) string) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		hooks, err := e.Hooks(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		out := hookListResponse{Items: make([]hookItem, 0, len(hooks))}
		for _, h := range hooks {
			out.Items = append(out.Items, hookItemOf(base(r), h))
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleHookRegenerate(e *workflow.Engine, base func(*http.Request) string) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		h, err := e.RegenerateHook(r.Context(), p, r.PathValue("app"), r.PathValue("hook"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, hookItemOf(base(r), h))
		return nil
	}
}
