package console

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/runner"
)

// Via is what the audit log records for a run made in the playground.
const Via = "console"

type runnable struct {
	Kind, Name, App string
	Args            []string
}

type header struct{ Name, Value string }

type answer struct {
	Status        int
	Headers       []header
	Body          string // pretty-printed JSON, or the text
	Cache         string
	CacheFallback bool
	Problem       *errorView // Switchboard refused, or the upstream failed
}

type playgroundData struct {
	Runnables           []runnable
	Kind, Name          string
	Args, Headers, Body string
	Selected            *runnable
	Answer              *answer
	Curl, CLI, SDK      string
	Ran                 bool
}

func (c *Console) runnables(r *http.Request, s *signedIn) ([]runnable, error) {
	cmds, err := c.cfg.Runner.Commands(r.Context(), s.p)
	if err != nil {
		return nil, err
	}
	acts, err := c.cfg.Runner.Actions(r.Context(), s.p)
	if err != nil {
		return nil, err
	}
	var out []runnable
	for _, x := range cmds {
		out = append(out, runnable{Kind: "command", Name: x.Command.Name, App: x.Inst.AppID, Args: x.Command.Args})
	}
	for _, x := range acts {
		out = append(out, runnable{Kind: "action", Name: x.Action.Name, App: x.Inst.AppID})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind == "command"
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func (c *Console) playgroundPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	list, err := c.runnables(r, s)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := playgroundData{Runnables: list, Kind: q.Get("kind"), Name: q.Get("name")}
	d.pick()
	if d.Selected != nil && d.Selected.Kind == "command" && len(d.Selected.Args) > 0 {
		d.Args = strings.Join(d.Selected.Args, "=\n") + "="
	}
	c.render(w, r, http.StatusOK, "playground", s, view{Title: "Playground", Data: d})
	return nil
}

// pick selects the runnable the form names, or the first one.
func (d *playgroundData) pick() {
	for i := range d.Runnables {
		x := &d.Runnables[i]
		if x.Name == d.Name && (d.Kind == "" || x.Kind == d.Kind) {
			d.Selected = x
			break
		}
	}
	if d.Selected == nil && d.Name == "" && len(d.Runnables) > 0 {
		d.Selected = &d.Runnables[0]
	}
	if d.Selected != nil {
		d.Kind, d.Name = d.Selected.Kind, d.Selected.Name
	}
}

// playgroundPost runs a command or an action through the runner, exactly
// as the REST routes do (runner.RunCommand, runner.RunAction), and shows
// its answer with the equivalent curl, CLI and SDK calls. The audit log
// records such a run with via "console".
func (c *Console) playgroundPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	list, err := c.runnables(r, s)
	if err != nil {
		return err
	}
	d := playgroundData{Runnables: list, Kind: r.PostFormValue("kind"), Name: strings.TrimSpace(r.PostFormValue("name")),
		Args: r.PostFormValue("args"), Headers: r.PostFormValue("headers"), Body: r.PostFormValue("body"), Ran: true}
	if d.Kind != "action" {
		d.Kind = "command"
	}
	d.pick()
	if d.Name == "" {
		return switchboard.Errorf(switchboard.CodeInvalidInput, "choose a command or an action to run")
	}
	var problems []switchboard.Problem
	args := parseLines(d.Args, "=", "/args", &problems)
	headers := parseLines(d.Headers, ":", "/headers", &problems)
	var body any
	hasBody := strings.TrimSpace(d.Body) != ""
	if hasBody {
		v, err := jsonv.Decode([]byte(d.Body))
		if err != nil {
			p := switchboard.Problem{Location: "/body", Message: "the body is not valid JSON: " + err.Error()}
			if se, ok := err.(*jsonv.SyntaxError); ok {
				p.Message, p.Line, p.Column = "the body is not valid JSON: "+se.Msg, se.Line, se.Column
			}
			problems = append(problems, p)
		}
		body = v
	}
	status := http.StatusOK
	if len(problems) > 0 {
		ev := c.problemOf(w, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the run was not sent: fix each problem listed", Problems: problems})
		d.Answer = &answer{Problem: ev}
		status = formStatus
	} else if d.Kind == "action" {
		d.Answer, err = c.runAction(r, s, d.Name, body)
	} else {
		req := &runner.CommandRequest{Body: body, HasBody: hasBody, Via: Via}
		for _, h := range headers {
			req.Headers = append(req.Headers, runner.Header{Name: h[0], Value: h[1]})
		}
		if len(args) > 0 {
			req.Args = make(map[string]string, len(args))
			for _, a := range args {
				req.Args[a[0]] = a[1]
			}
		}
		d.Answer, err = c.runCommand(r, s, d.Name, req)
	}
	if err != nil {
		ev := c.problemOf(w, err)
		if ev.Status >= 500 && ev.Code == string(switchboard.CodeInternal) {
			return err
		}
		d.Answer = &answer{Problem: ev}
	}
	d.Curl, d.CLI, d.SDK = snippets(c.publicURL(r), d.Kind, d.Name, args, headers, d.Body)
	c.render(w, r, status, "playground", s, view{Title: "Playground", Data: d})
	return nil
}

func (c *Console) runCommand(r *http.Request, s *signedIn, name string, req *runner.CommandRequest) (*answer, error) {
	a, err := c.cfg.Runner.RunCommand(r.Context(), s.p, name, req)
	if err != nil {
		return nil, err
	}
	doc, err := jsonv.Decode(a.Bytes())
	if err != nil {
		return nil, switchboard.Internal(err)
	}
	obj, _ := doc.(*jsonv.Object)
	out := &answer{Cache: a.Cache, CacheFallback: a.Fallback}
	if a.Fallback {
		out.Cache = runner.CacheStale
	}
	if v, ok := obj.Get("status"); ok {
		if n, ok := v.(json.Number); ok {
			s, _ := strconv.Atoi(n.String())
			out.Status = s
		}
	}
	if hs, ok := obj.Get("headers"); ok {
		jsonv.Range(hs, func(k string, v any) bool {
			sv, _ := v.(string)
			out.Headers = append(out.Headers, header{Name: k, Value: sv})
			return true
		})
	}
	if b, ok := obj.Get("body"); ok {
		out.Body = pretty(b)
	}
	return out, nil
}

func (c *Console) runAction(r *http.Request, s *signedIn, name string, input any) (*answer, error) {
	out, err := c.cfg.Runner.RunAction(r.Context(), s.p, name, input, Via)
	if err != nil {
		return nil, err
	}
	return &answer{Status: http.StatusOK, Body: pretty(out), Cache: runner.CacheNone}, nil
}

// pretty prints a JSON value indented, keeping its member order and exact
// numbers; a string (a text body) prints as it is.
func pretty(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := jsonv.Marshal(v)
	if err != nil {
		return ""
	}
	if s, err := indent(b); err == nil {
		return s
	}
	return string(b)
}

// parseLines reads "name<sep>value" lines (args as name=value, headers as
// Name: value), skipping blank ones.
func parseLines(text, sep, loc string, problems *[]switchboard.Problem) [][2]string {
	var out [][2]string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, sep)
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			*problems = append(*problems, switchboard.Problem{Location: loc, Line: i + 1,
				Message: "write one per line as NAME" + sep + "VALUE"})
			continue
		}
		if sep == ":" {
			v = strings.TrimSpace(v)
		}
		out = append(out, [2]string{k, v})
	}
	return out
}
