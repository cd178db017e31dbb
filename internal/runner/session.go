package runner

import (
	"fmt"
	"maps"

	"github.com/switchboardhq/switchboard"
)

// A session principal (SPEC 10) runs only the commands of its scope, with
// its pinned args; anything else of the org it does not even see.

// inScope answers not found for a command outside p's session, exactly as
// for a name that does not exist.
func inScope(p *switchboard.Principal, res Resolved, name string) error {
	if p.Session == nil || p.Session.Allows(res.Inst.AppID, res.Command.Name) {
		return nil
	}
	return &switchboard.Error{Code: switchboard.CodeNotFound,
		Detail: fmt.Sprintf("command %q not found among the commands of this session", name)}
}

// pinArgs returns req with the session's pinned args, refusing a run that
// tries to give one of them another value.
func pinArgs(s *switchboard.SessionScope, req *CommandRequest) (*CommandRequest, error) {
	var problems []switchboard.Problem
	for k, v := range req.Args {
		if pinned, ok := s.Args[k]; ok && pinned != v {
			problems = append(problems, switchboard.Problem{Location: "/args/" + k,
				Message: fmt.Sprintf("%s is pinned by the session; leave it out", k)})
		}
	}
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: "the run overrides args that the session pins", Problems: problems}
	}
	out := *req
	out.Args = make(map[string]string, len(req.Args)+len(s.Args))
	maps.Copy(out.Args, req.Args)
	maps.Copy(out.Args, s.Args)
	return &out, nil
}

func sessionID(p *switchboard.Principal) string {
	if p.Session == nil {
		return ""
	}
	return p.Session.ID
}

func sessionSubject(p *switchboard.Principal) string {
	if p.Session == nil {
		return ""
	}
	return p.Session.Subject
}
