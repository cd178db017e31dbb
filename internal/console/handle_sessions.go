package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/session"
)

type sessionsData struct {
	Sessions []switchboard.Session
	Minted   *session.Minted // shown once
	Server   string
	Commands []string // the org's commands, to choose from
	Form     struct{ Commands, Subject, Origins, TTL string }
}

func (c *Console) sessionsView(r *http.Request, s *signedIn) (view, *sessionsData, error) {
	list, err := c.cfg.Sessions.List(r.Context(), s.p)
	if err != nil {
		return view{}, nil, err
	}
	d := &sessionsData{Sessions: list, Server: c.publicURL(r)}
	cmds, err := c.cfg.Runner.Commands(r.Context(), s.p)
	if err != nil {
		return view{}, nil, err
	}
	for _, x := range cmds {
		d.Commands = append(d.Commands, x.Command.Name)
	}
	d.Form.TTL = "900"
	return view{Title: "Sessions", Notice: notice(r), Data: d}, d, nil
}

func (c *Console) sessionsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	v, _, err := c.sessionsView(r, s)
	if err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "sessions", s, v)
	return nil
}

// sessionMintPost mints a browser session (session.Mint, as POST
// /v1/sessions) to try the SDK with, and shows its token once.
func (c *Console) sessionMintPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	v, d, err := c.sessionsView(r, s)
	if err != nil {
		return err
	}
	d.Form.Commands, d.Form.Subject, d.Form.Origins, d.Form.TTL = r.PostFormValue("commands"), r.PostFormValue("subject"), r.PostFormValue("origins"), r.PostFormValue("ttl")
	req := session.MintRequest{Commands: fields(d.Form.Commands), Origins: fields(d.Form.Origins), Subject: strings.TrimSpace(d.Form.Subject)}
	if t := strings.TrimSpace(d.Form.TTL); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			n = -1 // refused by Mint with its own message
		}
		req.TTLSeconds = n
	}
	m, err := c.cfg.Sessions.Mint(r.Context(), s.p, req)
	if err != nil {
		ev := c.problemOf(w, err)
		if ev.Status >= 500 {
			return err
		}
		v.Error = ev
		c.render(w, r, formStatus, "sessions", s, v)
		return nil
	}
	if v, d, err = c.sessionsView(r, s); err != nil {
		return err
	}
	d.Minted = m
	c.render(w, r, http.StatusCreated, "sessions", s, v)
	return nil
}

func (c *Console) sessionRevokePost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	if err := c.cfg.Sessions.Revoke(r.Context(), s.p, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/sessions?done=revoked", http.StatusSeeOther)
	return nil
}

// fields splits a list written with commas, spaces or newlines.
func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}
