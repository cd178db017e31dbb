package client

import (
	"context"
	"net/url"
)

// Rate is a rate limit (SPEC 13): RunsPerSecond on average, Burst at once.
type Rate struct {
	RunsPerSecond float64 `json:"runsPerSecond"`
	Burst         int     `json:"burst,omitempty"`
}

// OrgLimit is an org's own rate limit; Rate is nil when it has none.
type OrgLimit struct {
	Org  string
	Rate *Rate
}

type orgLimitDoc struct {
	Org           string   `json:"org"`
	RunsPerSecond *float64 `json:"runsPerSecond"`
	Burst         *int     `json:"burst"`
}

func (d orgLimitDoc) limit() *OrgLimit {
	out := &OrgLimit{Org: d.Org}
	if d.RunsPerSecond != nil {
		out.Rate = &Rate{RunsPerSecond: *d.RunsPerSecond}
		if d.Burst != nil {
			out.Rate.Burst = *d.Burst
		}
	}
	return out
}

// OrgLimit returns an org's own rate limit (operator key).
func (c *Client) OrgLimit(ctx context.Context, org string) (*OrgLimit, error) {
	var d orgLimitDoc
	_, err := c.do(ctx, "GET", "/v1/orgs/"+url.PathEscape(org)+"/limits", nil, nil, &d)
	return d.limit(), err
}

// PutOrgLimit sets an org's own rate limit, or removes it when rate is nil
// (operator key).
func (c *Client) PutOrgLimit(ctx context.Context, org string, rate *Rate) (*OrgLimit, error) {
	var body any = map[string]any{"runsPerSecond": nil}
	if rate != nil {
		body = rate
	}
	var d orgLimitDoc
	_, err := c.do(ctx, "PUT", "/v1/orgs/"+url.PathEscape(org)+"/limits", nil, body, &d)
	return d.limit(), err
}

// AppLimits are the rate limits of an app's commands and actions, by
// canonical name.
type AppLimits struct {
	App    string          `json:"app"`
	Limits map[string]Rate `json:"limits"`
}

// AppLimits returns the rate limits of an installed app's commands and
// actions (admin key).
func (c *Client) AppLimits(ctx context.Context, app string) (*AppLimits, error) {
	var out AppLimits
	_, err := c.do(ctx, "GET", "/v1/apps/"+url.PathEscape(app)+"/limits", nil, nil, &out)
	return &out, err
}

// PutAppLimits sets the rate limits of the commands and actions named (any
// spelling), removing those whose rate is nil, and returns all of the
// app's (admin key).
func (c *Client) PutAppLimits(ctx context.Context, app string, limits map[string]*Rate) (*AppLimits, error) {
	var out AppLimits
	_, err := c.do(ctx, "PUT", "/v1/apps/"+url.PathEscape(app)+"/limits", nil, limits, &out)
	return &out, err
}
