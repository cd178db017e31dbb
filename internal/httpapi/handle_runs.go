package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// runCommandRequest documents the body of a command run.
type runCommandRequest struct {
	Name    string            `path:"name" json:"-" description:"The command's name in any of its spellings: kustomer.app.<app>.<name>, <app>.app.<name> or <app>.<name>"`
	Body    any               `json:"body,omitempty" description:"The request body; every string in it is a Handlebars template"`
	Headers map[string]string `json:"headers,omitempty" description:"Headers to send; values are Handlebars templates that may use the command's appSettings, such as Bearer {{authToken}}"`
	Args    map[string]string `json:"args,omitempty" description:"Values of the command's permitted args"`
	URLArgs map[string]string `json:"urlArgs,omitempty" description:"A synonym of args, as the Cards SDK sends it"`
}

// runCommandResponse documents SPEC 4.7's answer.
type runCommandResponse struct {
	Status        int               `json:"status" description:"The upstream's status"`
	Headers       map[string]string `json:"headers"`
	Body          any               `json:"body" description:"The upstream's body: a JSON value, or the text"`
	Cache         string            `json:"cache" enum:"none,miss,hit,stale"`
	CacheFallback bool              `json:"cacheFallback,omitempty" description:"Set when a stale response is served in Cache Fallback Mode"`
}

var runMembers = []string{"body", "headers", "args", "urlArgs"}

// decodeRunRequest reads {"body", "headers", "args" | "urlArgs"}.
func decodeRunRequest(w http.ResponseWriter, r *http.Request) (*runner.CommandRequest, error) {
	v, err := decodeValue(w, r, MaxRunBytes)
	if err != nil {
		return nil, err
	}
	req := &runner.CommandRequest{}
	obj, ok := v.(*jsonv.Object)
	if !ok {
		if v == nil {
			return req, nil
		}
		return nil, invalidInput("", `the run request must be an object: {"body": ..., "headers": {...}, "args": {...}}`)
	}
	var problems []switchboard.Problem
	for _, m := range obj.Members {
		switch m.Key {
		case "body":
			req.Body, req.HasBody = m.Value, m.Value != nil
		case "headers":
			hs, ok := m.Value.(*jsonv.Object)
			if !ok && m.Value != nil {
				problems = append(problems, switchboard.Problem{Location: "/headers", Message: "headers must be an object of header names and string values"})
				continue
			}
			if hs == nil {
				continue
			}
			for _, h := range hs.Members {
				s, ok := h.Value.(string)
				if !ok {
					problems = append(problems, switchboard.Problem{Location: "/headers/" + escapePointer(h.Key), Message: "a header value must be a string"})
					continue
				}
				req.Headers = append(req.Headers, runner.Header{Name: h.Key, Value: s})
			}
		case "args", "urlArgs":
			as, ok := m.Value.(*jsonv.Object)
			if !ok && m.Value != nil {
				problems = append(problems, switchboard.Problem{Location: "/" + m.Key, Message: m.Key + " must be an object of arg names and string values"})
				continue
			}
			if as == nil {
				continue
			}
			if req.Args == nil {
				req.Args = make(map[string]string, len(as.Members))
			}
			for _, a := range as.Members {
				s, ok := runner.ArgString(a.Value)
				if !ok {
					problems = append(problems, switchboard.Problem{Location: "/" + m.Key + "/" + escapePointer(a.Key), Message: "an arg value must be a string (numbers and booleans are printed as JavaScript prints them)"})
					continue
				}
				req.Args[a.Key] = s
			}
		default:
			msg := fmt.Sprintf("%s is not a member of a run request (its members are body, headers, args and urlArgs)", m.Key)
			problems = append(problems, switchboard.Problem{Location: "/" + escapePointer(m.Key), Message: msg})
		}
	}
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the run request is not valid", Problems: problems}
	}
	return req, nil
}

func escapePointer(s string) string {
	return jsonPointerReplacer.Replace(s)
}

// writeAnswer writes a run's document in two writes, so that a cached
// document is never copied.
func writeAnswer(w http.ResponseWriter, a runner.Answer) {
	tail := a.Tail()
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(a.Doc) + len(tail))}
	if a.RetryAfter != "" {
		h["Retry-After"] = []string{a.RetryAfter} // the upstream's, while it lasts (SPEC 13)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.Doc)
	_, _ = io.WriteString(w, tail)
}

var jsonAPIContentType = []string{"application/vnd.api+json"}

// wantsEnvelope reports whether a run asks for the seed platform's
// command_run_response document (SPEC 4.7).
func wantsEnvelope(r *http.Request) bool {
	accept := r.Header["Accept"]
	for _, a := range accept {
		if strings.Contains(a, "application/vnd.api+json") {
			return true
		}
	}
	return false
}

func handleCommandRun(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		req, err := decodeRunRequest(w, r)
		if err != nil {
			return err
		}
		req.Envelope = wantsEnvelope(r)
		out, err := run.RunCommand(r.Context(), p, r.PathValue("name"), req)
		if err != nil {
			return err
		}
		if req.Envelope {
			h := w.Header()
			h["Content-Type"] = jsonAPIContentType
			h["Content-Length"] = []string{strconv.Itoa(len(out.Envelope))}
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out.Envelope)
			return nil
		}
		writeAnswer(w, out)
		return nil
	}
}

// commandItem describes a runnable command.
type commandItem struct {
	Name       string          `json:"name"`
	App        string          `json:"app"`
	Version    string          `json:"version"`
	Definition json.RawMessage `json:"definition" description:"The command's canonical definition"`
}

type commandListResponse struct {
	Items []commandItem `json:"items"`
}

type commandPath struct {
	Name string `path:"name"`
}

func handleCommandList(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		cmds, err := run.Commands(r.Context(), p)
		if err != nil {
			return err
		}
		out := commandListResponse{Items: make([]commandItem, 0, len(cmds))}
		for _, c := range cmds {
			def, _ := jsonv.Marshal(c.Command.Definition)
			out.Items = append(out.Items, commandItem{Name: c.Command.Name, App: c.Inst.AppID, Version: c.Inst.Version, Definition: def})
		}
		encode(w, http.StatusOK, out)
		return nil
	}
}

func handleCommandGet(run *runner.Runner) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		c, err := run.Command(r.Context(), p, r.PathValue("name"))
		if err != nil {
			return err
		}
		def, _ := jsonv.Marshal(c.Command.Definition)
		encode(w, http.StatusOK, commandItem{Name: c.Command.Name, App: c.Inst.AppID, Version: c.Inst.Version, Definition: def})
		return nil
	}
}
