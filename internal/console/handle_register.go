package console

import (
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// maxDefinition is the largest definition POST /v1/apps/available takes.
const maxDefinition = 5 << 20

// sourceLine is one line of a submitted definition, with the problems
// found on it.
type sourceLine struct {
	N        int
	Text     string
	Problems []switchboard.Problem
}

type registerData struct {
	Text      string
	Lines     []sourceLine            // the text with each located problem beside its line
	Unlocated []switchboard.Problem   // problems without a line
	Warnings  []switchboard.Problem   // of a registered definition
	App       *switchboard.AppVersion // set once registered
	Created   bool
	Public    bool
}

func (c *Console) registerPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	c.render(w, r, http.StatusOK, "register", s, view{Title: "Register a definition",
		Data: registerData{Public: s.p.Role == switchboard.RoleOperator}})
	return nil
}

// registerPost registers a pasted or uploaded definition with
// registry.Register, as POST /v1/apps/available does (an operator's are
// public apps), and shows every problem at its line and column beside the
// text.
func (c *Console) registerPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	text := r.PostFormValue("definition")
	if f, h, err := r.FormFile("file"); err == nil {
		defer f.Close()
		if h.Size > maxDefinition {
			return switchboard.Errorf(switchboard.CodePayloadTooLarge, "the file is %d bytes; a definition may have at most 5 MiB", h.Size)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxDefinition+1))
		if err != nil {
			return switchboard.Errorf(switchboard.CodeInvalidInput, "the uploaded file could not be read; upload it again")
		}
		if len(b) > 0 {
			text = string(b)
		}
	}
	d := registerData{Text: text, Public: s.p.Role == switchboard.RoleOperator}
	if strings.TrimSpace(text) == "" {
		err := &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "paste a definition or choose a file to upload"}
		c.render(w, r, formStatus, "register", s, view{Title: "Register a definition", Error: c.problemOf(w, err), Data: d})
		return nil
	}
	res, err := c.cfg.Registry.Register(r.Context(), s.p, []byte(text), d.Public)
	if err != nil {
		ev := c.problemOf(w, err)
		if ev.Status >= 500 {
			return err
		}
		d.Lines, d.Unlocated = locate(text, ev.Problems)
		c.render(w, r, formStatus, "register", s, view{Title: "Register a definition", Error: ev, Data: d})
		return nil
	}
	d.App, d.Created, d.Warnings = &res.Version, res.Created, res.Warnings
	d.Text = ""
	c.render(w, r, http.StatusOK, "register", s, view{Title: "Registered " + res.Version.AppID + " " + res.Version.Version, Data: d})
	return nil
}

// locate puts each problem that has a line beside that line of the text.
func locate(text string, problems []switchboard.Problem) ([]sourceLine, []switchboard.Problem) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	out := make([]sourceLine, len(lines))
	for i, l := range lines {
		out[i] = sourceLine{N: i + 1, Text: l}
	}
	var unlocated []switchboard.Problem
	for _, p := range problems {
		if p.Line >= 1 && p.Line <= len(out) {
			out[p.Line-1].Problems = append(out[p.Line-1].Problems, p)
		} else {
			unlocated = append(unlocated, p)
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Problems, func(a, b int) bool { return out[i].Problems[a].Column < out[i].Problems[b].Column })
	}
	return out, unlocated
}
