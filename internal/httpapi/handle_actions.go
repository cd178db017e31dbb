package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/runner"
)

type runActionRequest struct {
	Name  string `path:"name" json:"-" description:"The action's name in any of its spellings"`
	Input any    `json:"input,omitempty" description:"The action's input, converted and checked by its inputSchema"`
}

type runActionResponse struct {
	Output any `json:"output" description:"The outputTemplate rendered against {body, response}, then converted and filtered by the outputSchema"`
}

type actionItem struct {
	Name                string          `json:"name"`
	App                 string          `json:"app"`
	Version             string          `json:"version"`
	Description         string          `json:"description,omitempty"`
	SampleOutputContext json.RawMessage `json:"sampleOutputContext,omitempty" description:"What a step yields, for a workflow builder"`
	Definition          json.RawMessage `json:"definition"`
}

type actionListResponse struct {
	Items []actionItem `json:"items"`
}

func actionItemOf(res runner.Resolved) actionItem {
	def, _ := jsonv.Marshal(res.Action.Definition)
	it := actionItem{Name: res.Action.Name, App: res.Inst.AppID, Version: res.Inst.Version, Description: res.Action.Description, Definition: def}
	if res.Action.SampleOutput != nil {
		it.SampleOutputContext, _ = jsonv.Marshal(res.Action.SampleOutput)
	}
	return it
}

func handleActionRun(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		input, err := decodeInput(w, r, "an action run request", `{"input": {...}}`)
		if err != nil {
			return err
		}
		out, err := run.RunAction(r.Context(), p, r.PathValue("name"), input, "")
		if err != nil {
			return err
		}
		body, err := jsonv.Marshal(jsonvObject("output", out))
		if err != nil {
			return err
		}
		writeRaw(w, http.StatusOK, body)
		return nil
	}
}

// decodeInput decodes a run request whose only member is input (what,
// such as "an action run request", and its shape, for the problems) and
// returns the input, nil when the body is empty or the member is absent.
func decodeInput(w http.ResponseWriter, r *http.Request, what, shape string) (any, error) {
	v, err := decodeValue(w, r, MaxRunBytes)
	if err != nil || v == nil {
		return nil, err
	}
	obj, ok := v.(*jsonv.Object)
	if !ok {
		return nil, invalidInput("", "the run request must be an object: "+shape)
	}
	var input any
	for _, m := range obj.Members {
		if m.Key != "input" {
			return nil, invalidInput("/"+escapePointer(m.Key), m.Key+" is not a member of "+what+" (its only member is input)")
		}
		input = m.Value
	}
	return input, nil
}

func jsonvObject(key string, v any) *jsonv.Object {
	o := jsonv.NewObject(1)
	o.Set(key, v)
	return o
}

func handleActionList(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		acts, err := run.Actions(r.Context(), p)
		if err != nil {
			return err
		}
		out := actionListResponse{Items: make([]actionItem, 0, len(acts))}
		for _, a := range acts {
			out.Items = append(out.Items, actionItemOf(a))
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleActionGet(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		a, err := run.Action(r.Context(), p, r.PathValue("name"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, actionItemOf(a))
		return nil
	}
}
