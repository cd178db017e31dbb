package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/limit"
)

// rateDoc is one rate limit (SPEC 13).
type rateDoc struct {
	RunsPerSecond float64 `json:"runsPerSecond" description:"Runs a second on average; 0.5 is one run every 2 seconds"`
	Burst         int     `json:"burst" description:"Runs allowed at once (default: a second's worth, at least 1)"`
}

type orgLimitPath struct {
	Org string `path:"org"`
}

// appLimitsBody documents the body of PUT /v1/apps/{app}/limits: by
// command or action name, a rate, or null to remove its limit (a schema the
// reflector cannot derive from a Go map).
type appLimitsBody map[string]*rateDoc

func (appLimitsBody) JSONSchemaBytes() ([]byte, error) {
	return []byte(`{"type":"object","description":"By command or action name (any spelling): its limit, or null to remove it",` +
		`"additionalProperties":{"type":["object","null"],"properties":{` +
		`"runsPerSecond":{"type":"number","description":"Runs a second on average; 0 removes the limit"},` +
		`"burst":{"type":"integer","description":"Runs allowed at once (default: a second's worth, at least 1)"}},` +
		`"required":["runsPerSecond"]}}`), nil
}

// orgLimitsRequest documents PUT /v1/orgs/{org}/limits.
type orgLimitsRequest struct {
	Org           string   `path:"org" json:"-"`
	RunsPerSecond *float64 `json:"runsPerSecond" description:"Runs a second on average; null or 0 removes the org's limit"`
	Burst         int      `json:"burst,omitempty" description:"Runs allowed at once (default: a second's worth, at least 1)"`
}

// orgLimitsDoc is an org's own limit; its members are null when it has
// none.
type orgLimitsDoc struct {
	Org           string   `json:"org"`
	RunsPerSecond *float64 `json:"runsPerSecond"`
	Burst         *int     `json:"burst"`
}

// appLimitsDoc is the limits of an app's commands and actions, by
// canonical name.
type appLimitsDoc struct {
	App    string             `json:"app"`
	Limits map[string]rateDoc `json:"limits" description:"By canonical command or action name"`
}

func orgLimitsResponse(orgID string, l *switchboard.RateLimit) orgLimitsDoc {
	d := orgLimitsDoc{Org: orgID}
	if l != nil {
		rps, b := l.RunsPerSecond, l.Burst
		d.RunsPerSecond, d.Burst = &rps, &b
	}
	return d
}

func handleOrgLimitsGet(svc *limit.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		org := r.PathValue("org")
		l, err := svc.OrgLimit(r.Context(), org)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, orgLimitsResponse(org, l))
		return nil
	}
}

func handleOrgLimitsPut(svc *limit.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		v, err := decodeValue(w, r, MaxSmallBytes)
		if err != nil {
			return err
		}
		rate, err := decodeRate(v, "")
		if err != nil {
			return err
		}
		org := r.PathValue("org")
		if err := svc.PutOrgLimit(r.Context(), org, rate); err != nil {
			return err
		}
		l, err := svc.OrgLimit(r.Context(), org)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, orgLimitsResponse(org, l))
		return nil
	}
}

func appLimitsResponse(app string, ls []switchboard.RateLimit) appLimitsDoc {
	d := appLimitsDoc{App: app, Limits: make(map[string]rateDoc, len(ls))}
	for _, l := range ls {
		d.Limits[l.Name] = rateDoc{RunsPerSecond: l.RunsPerSecond, Burst: l.Burst}
	}
	return d
}

func handleAppLimitsGet(svc *limit.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		app, ls, err := svc.AppLimits(r.Context(), p, r.PathValue("app"))
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, appLimitsResponse(app, ls))
		return nil
	}
}

func handleAppLimitsPut(svc *limit.Service) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) error {
		v, err := decodeValue(w, r, MaxSmallBytes)
		if err != nil {
			return err
		}
		obj, ok := v.(*jsonv.Object)
		if !ok {
			return invalidInput("", `the body must be an object of command or action names and limits: {"refundOrder": {"runsPerSecond": 1, "burst": 5}} (null removes one)`)
		}
		set := make(map[string]*limit.Rate, len(obj.Members))
		var problems []switchboard.Problem
		for _, m := range obj.Members {
			rate, err := decodeRate(m.Value, appdef.Pointer("", m.Key))
			if err != nil {
				if se, ok := err.(*switchboard.Error); ok {
					problems = append(problems, se.Problems...)
					continue
				}
				return err
			}
			set[m.Key] = rate
		}
		if len(problems) > 0 {
			return &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the limits are not valid; each problem has its location", Problems: problems}
		}
		name := r.PathValue("app")
		if err := svc.PutAppLimits(r.Context(), p, name, set); err != nil {
			return err
		}
		app, ls, err := svc.AppLimits(r.Context(), p, name)
		if err != nil {
			return err
		}
		encode(w, http.StatusOK, appLimitsResponse(app, ls))
		return nil
	}
}

// decodeRate reads {"runsPerSecond", "burst"} at ptr; null, or a
// runsPerSecond of null or 0, is no limit (nil).
func decodeRate(v any, ptr string) (*limit.Rate, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(*jsonv.Object)
	if !ok {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "a limit must be an object",
			Problems: []switchboard.Problem{{Location: ptr, Message: `a limit is {"runsPerSecond": <number>, "burst": <integer>}, or null to remove it`}}}
	}
	var problems []switchboard.Problem
	rps, burst := math.NaN(), 0
	hasRPS, hasBurst := false, false
	for _, m := range obj.Members {
		switch m.Key {
		case "runsPerSecond":
			if m.Value == nil {
				return nil, nil
			}
			n, ok := m.Value.(json.Number)
			f, err := strconv.ParseFloat(string(n), 64)
			if !ok || err != nil {
				problems = append(problems, switchboard.Problem{Location: ptr + "/runsPerSecond", Message: "runsPerSecond must be a number"})
				continue
			}
			rps, hasRPS = f, true
		case "burst":
			n, ok := m.Value.(json.Number)
			b, err := strconv.Atoi(string(n))
			if !ok || err != nil {
				problems = append(problems, switchboard.Problem{Location: ptr + "/burst", Message: "burst must be an integer"})
				continue
			}
			burst, hasBurst = b, true
		default:
			problems = append(problems, switchboard.Problem{Location: appdef.Pointer(ptr, m.Key), Message: m.Key + " is not a member of a limit (its members are runsPerSecond and burst)"})
		}
	}
	if len(problems) == 0 {
		if !hasRPS {
			problems = append(problems, switchboard.Problem{Location: ptr + "/runsPerSecond", Message: "runsPerSecond is required (null removes the limit)"})
		} else if rps == 0 {
			return nil, nil
		} else {
			if !hasBurst {
				burst = switchboard.DefaultBurst(rps)
			}
			problems = switchboard.ValidateRate(rps, burst, ptr)
		}
	}
	if len(problems) > 0 {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the limit is not valid; each problem has its location", Problems: problems}
	}
	return &limit.Rate{PerSecond: rps, Burst: burst}, nil
}
