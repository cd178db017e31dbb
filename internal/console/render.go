package console

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// assets serves the embedded stylesheet, script and icon.
func assets() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}

// pages holds every page's template, compiled once with the layout.
type pages struct {
	t map[string]*template.Template
}

var funcs = template.FuncMap{
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"has": func(p *switchboard.Principal, roles ...string) bool {
		return p != nil && slices.Contains(roles, string(p.Role))
	},
	"join":  strings.Join,
	"query": url.QueryEscape,
	"path":  url.PathEscape,
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", n, err)
		}
		p.t[base] = t
	}
	return p, nil
}

// navItem is one entry of the menu.
type navItem struct {
	Href, Label string
	Active      bool
}

// nav is the menu for a role: the pages it may use.
func (c *Console) nav(p *switchboard.Principal, active string) []navItem {
	if p == nil {
		return nil
	}
	type entry struct {
		href, label string
		roles       []switchboard.Role
	}
	entries := []entry{
		{"/console/apps", "Apps", readers},
		{"/console/register", "Register", writers},
		{"/console/playground", "Playground", members},
		{"/console/audit", "Audit log", auditors},
		{"/console/keys", "Keys", admin},
		{"/console/orgs", "Orgs", operator},
	}
	if c.cfg.Sessions != nil {
		entries = slices.Insert(entries, 5, entry{"/console/sessions", "Sessions", members})
	}
	var out []navItem
	for _, e := range entries {
		if p.Is(e.roles...) {
			out = append(out, navItem{Href: e.href, Label: e.label, Active: e.href == active})
		}
	}
	return out
}

// view is what every page's template gets.
type view struct {
	Title  string
	Nav    []navItem
	P      *switchboard.Principal
	Org    string
	CSRF   string
	Notice string // a confirmation shown at the top
	Error  *errorView
	Data   any
}

type errorView struct {
	Status   int
	Code     string
	Detail   string
	Problems []switchboard.Problem
}

// render writes a page. It executes into a buffer first, so that a
// template error is a clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, s *signedIn, v view) {
	t := c.pages.t[name]
	if s != nil {
		v.P, v.CSRF, v.Org = s.p, s.csrf, s.p.OrgID
		v.Nav = c.nav(s.p, "/console/"+strings.SplitN(strings.TrimPrefix(r.URL.Path, Prefix), "/", 2)[0])
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.log.Error("console template", "page", name, "request_id", w.Header().Get("X-Request-Id"), "err", err)
		http.Error(w, "the page could not be rendered; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// problemOf turns an error into what the error box shows. Anything
// unexpected is logged with the request id and shown without detail.
func (c *Console) problemOf(w http.ResponseWriter, err error) *errorView {
	code := switchboard.ErrorCode(err)
	ev := &errorView{Status: code.Status(), Code: string(code)}
	var se *switchboard.Error
	if code == switchboard.CodeInternal || !asError(err, &se) {
		id := w.Header().Get("X-Request-Id")
		c.log.Error("console", "request_id", id, "err", err)
		ev.Status, ev.Code = http.StatusInternalServerError, string(switchboard.CodeInternal)
		ev.Detail = "an internal error occurred; the server log has the details under request id " + id
		return ev
	}
	ev.Detail, ev.Problems = se.Detail, se.Problems
	return ev
}

// fail writes an error page for a request that could not be served.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *signedIn, err error) {
	ev := c.problemOf(w, err)
	title := http.StatusText(ev.Status)
	c.render(w, r, ev.Status, "error", s, view{Title: title, Error: ev})
}

func queryEscape(s string) string { return url.QueryEscape(s) }

func asError(err error, target **switchboard.Error) bool { return errors.As(err, target) }

// formStatus is the status of a form shown again with its problems (a
// definition that does not validate, a run's input that is not JSON): the
// page itself is what was asked for, and it says what to fix. Refusals (no
// session, a role that may not, a stale CSRF token, no such page) keep
// their 4xx status.
const formStatus = http.StatusOK
