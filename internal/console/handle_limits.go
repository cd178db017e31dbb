package console

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/limit"
)

// limitRow is one rate limit's line on a page, with its form: a command's
// or action's on the app's page, an org's own on the operator's orgs page.
type limitRow struct {
	// Key names the form's fields (their ids) and the row: the canonical
	// command or action name, or the org's id.
	Key string
	// Kind is "command" or "action" ("" for an org's own limit).
	Kind string
	// Set says whether there is a limit; Current describes it.
	Set     bool
	Current string
	// RPS and Burst are the form's values: the stored limit's, or what
	// was submitted when the form is shown again with its problems.
	RPS, Burst string
	// RPSProblem and BurstProblem are shown beside their fields.
	RPSProblem, BurstProblem string
	// ptr is the JSON pointer of this limit in the request body of the
	// REST route (PUT /v1/apps/{app}/limits or /v1/orgs/{org}/limits),
	// which the service's problems use.
	ptr string
}

// newLimitRow describes l (nil: no limit).
func newLimitRow(key, kind, ptr string, l *switchboard.RateLimit) limitRow {
	row := limitRow{Key: key, Kind: kind, Current: "none", ptr: ptr}
	if l != nil && l.RunsPerSecond > 0 {
		row.Set = true
		row.RPS, row.Burst = formatRate(l.RunsPerSecond), strconv.Itoa(l.Burst)
		row.Current = row.RPS + " a second, burst " + row.Burst
	}
	return row
}

func formatRate(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// showSubmitted puts what the form sent, and the problems at this row's
// fields, on the row; it returns the problems that are not at its fields.
func (row *limitRow) showSubmitted(r *http.Request, problems []switchboard.Problem) []switchboard.Problem {
	row.RPS, row.Burst = r.PostFormValue("runsPerSecond"), r.PostFormValue("burst")
	var rest []switchboard.Problem
	for _, p := range problems {
		switch p.Location {
		case row.ptr + "/runsPerSecond":
			row.RPSProblem = joinProblem(row.RPSProblem, p.Message)
		case row.ptr + "/burst":
			row.BurstProblem = joinProblem(row.BurstProblem, p.Message)
		default:
			rest = append(rest, p)
		}
	}
	return rest
}

func joinProblem(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// rateForm reads a limit's form as PUT /v1/apps/{app}/limits and PUT
// /v1/orgs/{org}/limits read {"runsPerSecond", "burst"}, with ptr the
// limit's pointer in such a body: Remove, or a runsPerSecond of 0, is no
// limit (nil); an empty burst is a second's worth of runs; the rate is
// checked by switchboard.ValidateRate, as the API checks it.
func rateForm(op, rps, burst, ptr string) (*limit.Rate, []switchboard.Problem) {
	if op == "remove" {
		return nil, nil
	}
	rps, burst = strings.TrimSpace(rps), strings.TrimSpace(burst)
	if rps == "" {
		return nil, []switchboard.Problem{{Location: ptr + "/runsPerSecond",
			Message: "runsPerSecond is required: the runs a second on average, such as 2 or 0.5 (Remove takes the limit away)"}}
	}
	var problems []switchboard.Problem
	f, err := strconv.ParseFloat(rps, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		problems = append(problems, switchboard.Problem{Location: ptr + "/runsPerSecond",
			Message: "runsPerSecond must be a number, such as 2 or 0.5 (one run every 2 seconds)"})
	}
	b := 0
	if burst != "" {
		if b, err = strconv.Atoi(burst); err != nil {
			problems = append(problems, switchboard.Problem{Location: ptr + "/burst",
				Message: "burst must be a whole number: the runs allowed at once (empty: a second's worth)"})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	if f == 0 {
		return nil, nil
	}
	if burst == "" {
		b = switchboard.DefaultBurst(f)
	}
	if problems := switchboard.ValidateRate(f, b, ptr); len(problems) > 0 {
		return nil, problems
	}
	return &limit.Rate{PerSecond: f, Burst: b}, nil
}

// limitsProblem is the error a limit's form is shown again with: its
// problems beside their fields, the others in the box.
func limitsProblem(problems []switchboard.Problem) *errorView {
	return &errorView{Status: http.StatusBadRequest, Code: string(switchboard.CodeInvalidInput),
		Detail: "the rate limit was not saved; each problem is shown beside its field", Problems: problems}
}

// appLimitRows lists the rate limits of an installed app's commands and
// actions (limit.Service.AppLimits, as GET /v1/apps/{app}/limits).
func (c *Console) appLimitRows(r *http.Request, s *signedIn, d *appData) error {
	_, ls, err := c.cfg.Limits.AppLimits(r.Context(), s.p, d.ID)
	if err != nil {
		return err
	}
	byName := make(map[string]*switchboard.RateLimit, len(ls))
	for i := range ls {
		byName[ls[i].Name] = &ls[i]
	}
	for _, cmd := range d.Def.Commands {
		d.Limits = append(d.Limits, newLimitRow(cmd.Name, "command", appdef.Pointer("", cmd.Name), byName[cmd.Name]))
	}
	for _, a := range d.Def.Actions {
		d.Limits = append(d.Limits, newLimitRow(a.Name, "action", appdef.Pointer("", a.Name), byName[a.Name]))
	}
	return nil
}

// appLimitsPost sets or removes the rate limit of one of an app's
// commands or actions through limit.Service.PutAppLimits, the call PUT
// /v1/apps/{app}/limits makes. A form with problems is shown again with
// each problem beside its field.
func (c *Console) appLimitsPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	d, err := c.appData(r, s, r.PathValue("app"))
	if err != nil {
		return err
	}
	name := r.PostFormValue("name")
	ptr := appdef.Pointer("", name)
	var problems []switchboard.Problem
	if name == "" {
		problems = []switchboard.Problem{{Message: "the form names no command or action; reload the app's page and use the form of one"}}
	} else {
		var rate *limit.Rate
		if rate, problems = rateForm(r.PostFormValue("op"), r.PostFormValue("runsPerSecond"), r.PostFormValue("burst"), ptr); len(problems) == 0 {
			err := c.cfg.Limits.PutAppLimits(r.Context(), s.p, d.ID, map[string]*limit.Rate{name: rate})
			if err == nil {
				done := "limits"
				if rate == nil {
					done = "unlimited"
				}
				http.Redirect(w, r, appURL(d.ID, done)+"#limits", http.StatusSeeOther)
				return nil
			}
			var se *switchboard.Error
			if !asError(err, &se) || se.Code != switchboard.CodeInvalidInput {
				return err
			}
			problems = se.Problems
		}
	}
	for i := range d.Limits {
		if d.Limits[i].Key == name {
			problems = d.Limits[i].showSubmitted(r, problems)
		}
	}
	c.render(w, r, formStatus, "app", s, view{Title: d.Title, Error: limitsProblem(problems), Data: d})
	return nil
}

// orgLimitsPost sets or removes an org's own rate limit through
// limit.Service.PutOrgLimit, the call PUT /v1/orgs/{org}/limits makes.
func (c *Console) orgLimitsPost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	org := r.PathValue("org")
	if _, err := c.cfg.Limits.OrgLimit(r.Context(), org); err != nil {
		return err // no such org: 404
	}
	rate, problems := rateForm(r.PostFormValue("op"), r.PostFormValue("runsPerSecond"), r.PostFormValue("burst"), "")
	if len(problems) == 0 {
		if err := c.cfg.Limits.PutOrgLimit(r.Context(), org, rate); err != nil {
			return err
		}
		done := "limits"
		if rate == nil {
			done = "unlimited"
		}
		http.Redirect(w, r, "/console/orgs?done="+done+"#org-"+url.PathEscape(org), http.StatusSeeOther)
		return nil
	}
	v, d, err := c.orgsView(r, s)
	if err != nil {
		return err
	}
	for i := range d.Orgs {
		if d.Orgs[i].ID == org {
			problems = d.Orgs[i].Limit.showSubmitted(r, problems)
		}
	}
	v.Error = limitsProblem(problems)
	c.render(w, r, formStatus, "orgs", s, v)
	return nil
}
