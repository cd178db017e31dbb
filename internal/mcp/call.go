package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// callCommand runs a command through the runner, as POST
// /v1/commands/{name}/run does. An upstream status of 400 or more, or a
// refusal, is a result with IsError, never a protocol error.
func (h *Handler) callCommand(ctx context.Context, p *switchboard.Principal, name string, raw json.RawMessage) *sdk.CallToolResult {
	req, err := commandRequest(raw)
	if err != nil {
		return h.failed(p, err)
	}
	ans, err := h.run.RunCommand(ctx, p, name, req)
	if err != nil {
		return h.failed(p, err)
	}
	doc := ans.Bytes()
	var st struct {
		Status int `json:"status"`
	}
	_ = json.Unmarshal(doc, &st)
	return result(doc, st.Status >= 400)
}

// callAction runs a workflow action through the runner, as POST
// /v1/actions/{name}/run does.
func (h *Handler) callAction(ctx context.Context, p *switchboard.Principal, name string, raw json.RawMessage) *sdk.CallToolResult {
	var input any
	if len(raw) > 0 {
		v, err := jsonv.DecodeStrict(raw)
		if err != nil {
			return h.failed(p, invalid("", "the arguments are not valid JSON"))
		}
		input = v
	}
	out, err := h.run.RunAction(ctx, p, name, input, Via)
	if err != nil {
		return h.failed(p, err)
	}
	doc, err := jsonv.Marshal(out)
	if err != nil {
		return h.failed(p, switchboard.Internal(err))
	}
	return result(doc, false)
}

// commandRequest reads a command tool's arguments: {"args", "body",
// "headers"}, as a run request of the REST route.
func commandRequest(raw json.RawMessage) (*runner.CommandRequest, error) {
	req := &runner.CommandRequest{Via: Via}
	if len(raw) == 0 {
		return req, nil
	}
	v, err := jsonv.DecodeStrict(raw)
	if err != nil {
		return nil, invalid("", "the arguments are not valid JSON")
	}
	obj, ok := v.(*jsonv.Object)
	if !ok {
		if v == nil {
			return req, nil
		}
		return nil, invalid("", `the arguments must be an object: {"args": {...}, "body": ..., "headers": {...}}`)
	}
	var problems []switchboard.Problem
	for _, m := range obj.Members {
		switch m.Key {
		case "body":
			req.Body, req.HasBody = m.Value, m.Value != nil
		case "headers":
			jsonv.Range(m.Value, func(k string, val any) bool {
				s, ok := val.(string)
				if !ok {
					problems = append(problems, switchboard.Problem{Location: "/headers/" + k, Message: "a header value must be a string"})
					return true
				}
				req.Headers = append(req.Headers, runner.Header{Name: k, Value: s})
				return true
			})
		case "args":
			jsonv.Range(m.Value, func(k string, val any) bool {
				s, ok := runner.ArgString(val)
				if !ok {
					problems = append(problems, switchboard.Problem{Location: "/args/" + k, Message: "an arg value must be a string"})
					return true
				}
				if req.Args == nil {
					req.Args = map[string]string{}
				}
				req.Args[k] = s
				return true
			})
		default:
			problems = append(problems, switchboard.Problem{Location: "/" + m.Key,
				Message: m.Key + " is not a member of a command's arguments (its members are args, body and headers)"})
		}
	}
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the tool's arguments are not valid", Problems: problems}
	}
	return req, nil
}

func invalid(loc, msg string) error {
	return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: msg, Problems: []switchboard.Problem{{Location: loc, Message: msg}}}
}

// result carries doc as structuredContent and as JSON text.
func result(doc []byte, isError bool) *sdk.CallToolResult {
	return &sdk.CallToolResult{
		Content:           []sdk.Content{&sdk.TextContent{Text: string(doc)}},
		StructuredContent: json.RawMessage(doc),
		IsError:           isError,
	}
}

// failed is the result of a refused or failed run: the problem document
// the REST route would answer. An unexpected error is logged, never sent.
func (h *Handler) failed(p *switchboard.Principal, err error) *sdk.CallToolResult {
	var e *switchboard.Error
	if !errors.As(err, &e) {
		e = switchboard.Internal(err)
	}
	if e.Code == switchboard.CodeInternal {
		h.log.Error("mcp: internal error", "org", p.OrgID, "err", err)
		e = &switchboard.Error{Code: switchboard.CodeInternal, Detail: "an internal error occurred; the server log has the details"}
	}
	status := e.Code.Status()
	doc := map[string]any{
		"type":   problemTypeBase + string(e.Code),
		"title":  http.StatusText(status),
		"status": status,
		"code":   e.Code,
	}
	for k, v := range e.Extra {
		doc[k] = v
	}
	if e.Detail != "" {
		doc["detail"] = e.Detail
	}
	if len(e.Problems) > 0 {
		doc["errors"] = e.Problems
	}
	b, err := json.Marshal(doc)
	if err != nil {
		b = fmt.Appendf(nil, `{"code":%q,"status":%d}`, e.Code, status)
	}
	return result(b, true)
}

// problemTypeBase is httpapi.ProblemTypeBase (which this package cannot
// import).
const problemTypeBase = "https://github.com/switchboardhq/switchboard/blob/main/docs/errors.md#"
