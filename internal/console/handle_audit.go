package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

type auditData struct {
	Command, Event, Since, Until string
	// SinceInput and UntilInput are the filters as a datetime-local input
	// takes them (no zone); a time with a zone is shown by the script.
	SinceInput, UntilInput string
	Entries                []switchboard.AuditEntry
	Next                   string // the next page's URL, "" on the last
	First                  string // the first page's URL, when not on it
}

// auditPage lists the org's audit log (registry.AuditEntries, as GET
// /v1/audit-logs does), newest first, 50 a page, with the same filters.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	q := r.URL.Query()
	d := auditData{Command: strings.TrimSpace(q.Get("command")), Event: q.Get("event"), Since: q.Get("since"), Until: q.Get("until")}
	d.SinceInput, d.UntilInput = localInput(d.Since), localInput(d.Until)
	f := switchboard.AuditFilter{Limit: 50, Cursor: q.Get("cursor")}
	var problems []switchboard.Problem
	for _, x := range []struct {
		name, v string
		t       *time.Time
	}{{"since", d.Since, &f.Since}, {"until", d.Until, &f.Until}} {
		if x.v == "" {
			continue
		}
		t, err := parseTime(x.v)
		if err != nil {
			problems = append(problems, switchboard.Problem{Location: "/" + x.name, Message: "must be a time such as 2026-11-23T10:00 (UTC) or 2026-11-23T10:00:00+01:00"})
			continue
		}
		*x.t = t
	}
	switch d.Event {
	case "", switchboard.AuditRun, switchboard.AuditFallbackOn, switchboard.AuditFallbackOff:
		f.Event = d.Event
	default:
		problems = append(problems, switchboard.Problem{Location: "/event", Message: "must be run, fallback_on or fallback_off"})
	}
	if len(problems) > 0 {
		ev := c.problemOf(w, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the filters are not valid", Problems: problems})
		c.render(w, r, formStatus, "audit", s, view{Title: "Audit log", Error: ev, Data: d})
		return nil
	}
	if d.Command != "" {
		f.Name = c.cfg.Runner.CanonicalName(r.Context(), s.p, d.Command)
	}
	entries, next, err := c.cfg.Registry.AuditEntries(r.Context(), s.p, f)
	if err != nil {
		return err
	}
	d.Entries = entries
	base := url.Values{}
	for k, v := range map[string]string{"command": d.Command, "event": d.Event, "since": d.Since, "until": d.Until} {
		if v != "" {
			base.Set(k, v)
		}
	}
	if next != "" {
		nq := url.Values{}
		for k, v := range base {
			nq[k] = v
		}
		nq.Set("cursor", next)
		d.Next = "/console/audit?" + nq.Encode()
	}
	if f.Cursor != "" {
		d.First = "/console/audit?" + base.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", s, view{Title: "Audit log", Data: d})
	return nil
}

// parseTime reads RFC 3339, or the datetime-local form of a browser
// (no zone: UTC).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	_, err := time.Parse(time.RFC3339, v)
	return time.Time{}, err
}

// localInput is v when a datetime-local input can show it (no zone), else
// "".
func localInput(v string) string {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, v); err == nil {
			return v
		}
	}
	return ""
}
