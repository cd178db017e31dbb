package console

import (
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
)

type orgsData struct {
	Created  *switchboard.Org
	AdminKey string // shown once
	Public   []switchboard.AppSummary
	Orgs     []orgRow
	More     bool // more orgs than the page lists
	// Limits says whether the orgs' rate limits are shown.
	Limits bool
}

// orgRow is an org and its own rate limit.
type orgRow struct {
	switchboard.Org
	Limit limitRow
}

// maxOrgs is how many orgs the page lists, newest first.
const maxOrgs = 200

func (c *Console) orgsView(r *http.Request, s *signedIn) (view, *orgsData, error) {
	apps, err := c.cfg.Registry.Apps(r.Context(), s.p)
	if err != nil {
		return view{}, nil, err
	}
	d := &orgsData{Public: apps}
	if c.cfg.Orgs != nil {
		orgs, err := c.cfg.Orgs.Orgs(r.Context(), maxOrgs+1)
		if err != nil {
			return view{}, nil, err
		}
		d.More = len(orgs) > maxOrgs
		orgs = orgs[:min(len(orgs), maxOrgs)]
		// Every org's own limit in one read (limit.Service.OrgLimits).
		var limits map[string]switchboard.RateLimit
		if c.cfg.Limits != nil {
			d.Limits = true
			if limits, err = c.cfg.Limits.OrgLimits(r.Context()); err != nil {
				return view{}, nil, err
			}
		}
		for _, o := range orgs {
			row := orgRow{Org: o}
			if l, ok := limits[o.ID]; ok {
				row.Limit = newLimitRow(o.ID, "", "", &l)
			} else {
				row.Limit = newLimitRow(o.ID, "", "", nil)
			}
			d.Orgs = append(d.Orgs, row)
		}
	}
	return view{Title: "Orgs", Data: d}, d, nil
}

func (c *Console) orgsPage(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	v, _, err := c.orgsView(r, s)
	if err != nil {
		return err
	}
	v.Notice = notice(r)
	c.render(w, r, http.StatusOK, "orgs", s, v)
	return nil
}

// orgCreatePost creates an org (registry.CreateOrg, as POST /v1/orgs) and
// shows its admin key once.
func (c *Console) orgCreatePost(w http.ResponseWriter, r *http.Request, s *signedIn) error {
	v, d, err := c.orgsView(r, s)
	if err != nil {
		return err
	}
	org, key, err := c.cfg.Registry.CreateOrg(r.Context(), strings.TrimSpace(r.PostFormValue("id")), strings.TrimSpace(r.PostFormValue("name")))
	if err != nil {
		ev := c.problemOf(w, err)
		if ev.Status >= 500 {
			return err
		}
		v.Error = ev
		c.render(w, r, formStatus, "orgs", s, v)
		return nil
	}
	if v, d, err = c.orgsView(r, s); err != nil {
		return err
	}
	d.Created, d.AdminKey = &org, key
	c.render(w, r, http.StatusCreated, "orgs", s, v)
	return nil
}
