// Package runner runs commands and workflow actions: it resolves the name,
// checks args, renders templates with the org's settings, converts bodies
// against schemas, refuses any URL whose origin the definition did not aim
// at, calls the upstream through the outbound client, serves and refreshes
// the response cache, redacts secrets and writes the audit log.
package runner

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/limit"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Config holds a Runner's dependencies.
type Config struct {
	Registry *registry.Registry
	// Store is where the audit log is written.
	Store    switchboard.AuditStore
	Outbound *outbound.Client
	Log      *slog.Logger
	Now      func() time.Time
	// TemplateCacheSize bounds the compiled header and body templates kept
	// (they arrive with each run). Default 10000.
	TemplateCacheSize int
	// Cache keeps responses of commands with cacheSeconds; nil runs every
	// command uncached.
	Cache switchboard.Cache
	// Metrics counts cache outcomes (NewMetrics); nil counts nowhere.
	Metrics *Metrics
	// Accounts gives the access tokens of OAuth 2.0 app accounts; nil
	// fails every run that names an appAccountName.
	Accounts Accounts
	// Limits are the rate limits, the cap on runs in flight and the
	// upstreams' Retry-After (SPEC 13); nil runs without limits.
	Limits *limit.Limits
}

// Accounts gives access tokens of app accounts (internal/oauth.Manager).
type Accounts interface {
	// Token returns a current access token (account_disconnected when the
	// account must be connected again).
	Token(ctx context.Context, inst *registry.Installed, name string) (string, error)
	// Refresh returns a new token after an upstream refused failed.
	Refresh(ctx context.Context, inst *registry.Installed, name, failed string) (string, error)
}

// Runner is safe for concurrent use.
type Runner struct {
	reg   *registry.Registry
	out   *outbound.Client
	log   *slog.Logger
	now   func() time.Time
	tmpls *tmpl.Cache
	audit *auditWriter
	store switchboard.AuditStore

	cache    switchboard.Cache
	metrics  *Metrics
	accounts Accounts
	flight   flightGroup
	limits   *limit.Limits

	cacheLogMu    sync.Mutex
	cacheLoggedAt time.Time
}

// New returns a Runner. Close it to flush the audit log.
func New(cfg Config) *Runner {
	r := &Runner{reg: cfg.Registry, out: cfg.Outbound, log: cfg.Log, now: cfg.Now, store: cfg.Store, cache: cfg.Cache, metrics: cfg.Metrics, accounts: cfg.Accounts, limits: cfg.Limits}
	if r.metrics == nil {
		r.metrics = NewMetrics(prometheus.NewRegistry())
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	n := cfg.TemplateCacheSize
	if n <= 0 {
		n = 10000
	}
	r.tmpls = tmpl.NewCache(n)
	r.audit = newAuditWriter(cfg.Store)
	return r
}

// Close waits for queued audit entries to be written.
func (r *Runner) Close() { r.audit.Close() }

// Resolved is a command found by one of its spellings, with the installed
// app it belongs to.
type Resolved struct {
	Inst    *registry.Installed
	Command *appdef.Command
	Action  *appdef.Action
}

// resolve finds the command or action a caller means by name, among the apps
// installed for the caller's org: each spelling of SPEC 2, the app id bare
// or namespaced, the caller's private app before a public one.
func (r *Runner) resolve(ctx context.Context, p *switchboard.Principal, name string, action bool) (Resolved, error) {
	state, err := r.reg.Org(ctx, p.OrgID)
	if err != nil {
		return Resolved{}, err
	}
	if res, ok := state.Resolved(name, action); ok {
		return Resolved(res), nil
	}
	for _, rn := range appdef.ParseRunName(name) {
		for _, id := range []string{appdef.Namespace(appdef.Bare(rn.App, p.OrgID), p.OrgID), rn.App} {
			inst := state.App(id)
			if inst == nil {
				continue
			}
			if action {
				if a := inst.App.Action(rn.Local); a != nil {
					res := Resolved{Inst: inst, Action: a}
					state.Remember(name, action, registry.Resolution(res))
					return res, nil
				}
				continue
			}
			if c := inst.App.Command(rn.Local); c != nil {
				res := Resolved{Inst: inst, Command: c}
				state.Remember(name, action, registry.Resolution(res))
				return res, nil
			}
		}
	}
	what := "command"
	if action {
		what = "action"
	}
	return Resolved{}, &switchboard.Error{Code: switchboard.CodeNotFound,
		Detail: fmt.Sprintf("%s %q not found among the apps installed for your org (names look like kustomer.app.<app>.<name>, <app>.app.<name> or <app>.<name>)", what, name)}
}
