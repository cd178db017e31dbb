// Package workflow runs the workflows of installed apps (SPEC 12) on River,
// a durable job engine that runs on both stores: each step of a run is one
// job, and a step's result, the next step's job and its own job's
// completion commit in one store transaction. Hooks turn deliveries into
// durable events that start the workflows whose trigger names them; runs
// can also be started, cancelled and retried through the API.
package workflow

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/runner"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// Store is what the engine keeps: hooks, events, runs and steps, and the
// transactions that River's jobs commit in.
type Store interface {
	switchboard.WorkflowStore
	// InTx runs fn in a write transaction whose Driver() is the driver's
	// own (River inserts and completes jobs in it).
	InTx(ctx context.Context, fn func(sqlstore.Tx) error) error
	// StartRuns stores a hook's event and the runs it starts in tx
	// (sqlstore.Store.StartRuns).
	StartRuns(ctx context.Context, tx sqlstore.Tx, ev *switchboard.HookEvent, starts []sqlstore.RunStart) error
	// EndStep records a finished step with what follows it in tx
	// (sqlstore.Store.EndStep).
	EndStep(ctx context.Context, tx sqlstore.Tx, e sqlstore.StepEnd) (done, ended bool, err error)
	RecordAttempt(ctx context.Context, runID string, seq, attempts int, problem []byte) error
	StaleRuns(ctx context.Context, before time.Time, limit int) ([]switchboard.WorkflowRun, error)
	QueueDepth(ctx context.Context) (int, error)
}

// Defaults of Config.
const (
	DefaultRunTimeout        = 5 * time.Minute
	DefaultRetryBase         = time.Second
	DefaultFetchCooldown     = time.Millisecond
	DefaultFetchPollInterval = 20 * time.Millisecond
	DefaultWorkers           = 100
)

// Config holds an Engine's dependencies and its tuning.
type Config struct {
	Store    Store
	Driver   Driver
	Registry *registry.Registry
	Runner   *runner.Runner
	// Box seals the secrets of web hooks.
	Box *secretbox.Box
	Log *slog.Logger
	Now func() time.Time
	// Metrics, when set, counts runs and steps (NewMetrics).
	Metrics *Metrics

	// RunTimeout fails a run that has not finished this long after it
	// started (--workflow-run-timeout; default 5 minutes).
	RunTimeout time.Duration
	// RetryBase is the first retry's delay; each further one doubles it.
	RetryBase time.Duration
	// StepTimeout bounds one attempt of a step (River's JobTimeout;
	// default twice the upstream timeout plus 10 s: a call, an OAuth
	// refresh and its retry).
	StepTimeout time.Duration
	// RescueAfter is how long a step's job may stay running before River
	// takes its worker for dead (a killed instance) and runs it again
	// (default StepTimeout + 30 s).
	RescueAfter time.Duration
	// FetchCooldown and FetchPollInterval tune River's fetching (see
	// docs/decisions.md, "River's fetch timing").
	FetchCooldown     time.Duration
	FetchPollInterval time.Duration
	// Workers bounds the steps one instance runs at once.
	Workers int
	// UpstreamTimeout is the outbound client's timeout, for StepTimeout's
	// default.
	UpstreamTimeout time.Duration
	// Committed, when set, is called once a step's transaction (its
	// result, what follows it and its job's completion) has committed,
	// with the run's id and the step's seq: measurements time the hand-off
	// to the next step from there, as River's floor does.
	Committed func(run string, seq int)
}

// Engine runs workflows. Start it with Run.
type Engine struct {
	cfg   Config
	store Store
	reg   *registry.Registry
	run   *runner.Runner
	log   *slog.Logger
	now   func() time.Time
	q     queue
	m     *Metrics
}

// New builds an engine and its River client; nothing runs until Run.
func New(cfg Config) (*Engine, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RunTimeout <= 0 {
		cfg.RunTimeout = DefaultRunTimeout
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = 10 * time.Second
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 2*cfg.UpstreamTimeout + 10*time.Second
	}
	if cfg.RescueAfter <= cfg.StepTimeout {
		cfg.RescueAfter = cfg.StepTimeout + 30*time.Second
	}
	if cfg.FetchCooldown <= 0 {
		cfg.FetchCooldown = DefaultFetchCooldown
	}
	if cfg.FetchPollInterval <= 0 {
		cfg.FetchPollInterval = DefaultFetchPollInterval
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	e := &Engine{cfg: cfg, store: cfg.Store, reg: cfg.Registry, run: cfg.Runner, log: cfg.Log, now: cfg.Now, m: cfg.Metrics}
	workers := river.NewWorkers()
	river.AddWorker(workers, &stepWorker{e: e})
	q, err := cfg.Driver(&river.Config{
		FetchCooldown:        cfg.FetchCooldown,
		FetchPollInterval:    cfg.FetchPollInterval,
		JobTimeout:           cfg.StepTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		MaxAttempts:          maxAttempts,
		Logger:               quiet(cfg.Log),
		Queues:               map[string]river.QueueConfig{queueName: {MaxWorkers: cfg.Workers}},
		Workers:              workers,
	})
	if err != nil {
		return nil, fmt.Errorf("workflow engine: %w", err)
	}
	e.q = q
	return e, nil
}

// quiet passes River's warnings and errors on, not its info lines (each
// start, stop and leadership change).
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{log.Handler(), slog.LevelWarn})
}

type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{h.Handler.WithAttrs(a), h.min}
}

func (h levelHandler) WithGroup(n string) slog.Handler {
	return levelHandler{h.Handler.WithGroup(n), h.min}
}

// Run works steps and sweeps timed-out runs until ctx ends, then stops
// River, letting the steps in flight finish.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.q.start(ctx); err != nil {
		return fmt.Errorf("start the workflow engine: %w", err)
	}
	t := time.NewTicker(sweepEvery(e.cfg.RunTimeout))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := e.q.stop(sctx); err != nil && !errors.Is(err, context.Canceled) {
				e.log.Warn("stop the workflow engine", "err", err)
			}
			return nil
		case <-t.C:
			e.sweep(ctx)
		}
	}
}

func sweepEvery(timeout time.Duration) time.Duration {
	return min(max(timeout/10, 100*time.Millisecond), 10*time.Second)
}

// sweep fails the runs that outlived the run timeout (SPEC 12): those
// waiting for a retry, or whose step's instance died.
func (e *Engine) sweep(ctx context.Context) {
	runs, err := e.store.StaleRuns(ctx, e.now().Add(-e.cfg.RunTimeout), 100)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("sweep timed-out workflow runs", "err", err)
		}
		return
	}
	for _, r := range runs {
		p := timeoutProblem(e.cfg.RunTimeout)
		err := e.store.InTx(ctx, func(tx sqlstore.Tx) error {
			done, err := sqlstore.FinishRun(ctx, tx, r.OrgID, r.ID, switchboard.RunFailed, p, e.now())
			if err != nil || !done {
				return err
			}
			if err := sqlstore.CancelSteps(ctx, tx, r.ID, e.now()); err != nil {
				return err
			}
			return sqlstore.AppendAuditTx(ctx, tx, []switchboard.AuditEntry{e.runEntry(r, switchboard.RunFailed, "timeout")})
		})
		if err != nil {
			e.log.Warn("fail a timed-out workflow run", "run", r.ID, "err", err)
			continue
		}
		e.m.run(r.Workflow, switchboard.RunFailed)
	}
}

func timeoutProblem(d time.Duration) []byte {
	o := jsonv.NewObject(3)
	o.Set("code", "timeout")
	o.Set("status", 504)
	o.Set("detail", fmt.Sprintf("the run did not finish within %s of its start (--workflow-run-timeout)", d))
	b, _ := jsonv.Marshal(o)
	return b
}

// backoff is the delay before the retry that follows attempt.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.cfg.RetryBase
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return d
}

// principal is who a workflow's steps run as: the org, under the
// workflow's name, with the agent role that runs commands and actions.
func principal(orgID, workflow string) *switchboard.Principal {
	return &switchboard.Principal{OrgID: orgID, KeyID: "workflow", KeyName: "workflow " + workflow, Role: switchboard.RoleAgent}
}

// findWorkflow finds an installed workflow of an org by any spelling of its
// name.
func (e *Engine) findWorkflow(ctx context.Context, orgID, name string) (*registry.Installed, *appdef.Workflow, error) {
	state, err := e.reg.Org(ctx, orgID)
	if err != nil {
		return nil, nil, err
	}
	for _, rn := range appdef.ParseRunName(name) {
		for _, id := range []string{appdef.Namespace(appdef.Bare(rn.App, orgID), orgID), rn.App} {
			if inst := state.App(id); inst != nil {
				if w := inst.App.Workflow(rn.Local); w != nil {
					return inst, w, nil
				}
			}
		}
	}
	return nil, nil, &switchboard.Error{Code: switchboard.CodeNotFound,
		Detail: fmt.Sprintf("workflow %q not found among the apps installed for your org (names look like kustomer.app.<app>.<name> or <app>.<name>; GET /v1/workflows lists them)", name)}
}

// Workflows lists the workflows of the org's installed apps.
func (e *Engine) Workflows(ctx context.Context, orgID string) ([]Installed, error) {
	state, err := e.reg.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	var out []Installed
	for _, inst := range state.Apps() {
		for _, w := range inst.App.Workflows {
			out = append(out, Installed{App: inst, Workflow: w})
		}
	}
	return out, nil
}

// Installed is a workflow with the installed app it belongs to.
type Installed struct {
	App      *registry.Installed
	Workflow *appdef.Workflow
}

var auditSeq atomic.Uint64

func auditID(t time.Time) string {
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("aud_%013x%06x%x", t.UnixMicro(), auditSeq.Add(1)&0xffffff, rnd)
}

// Audit events of workflows.
const (
	AuditRunFinished  = switchboard.AuditWorkflowRun
	AuditStepFinished = switchboard.AuditWorkflowStep
)

func (e *Engine) runEntry(r switchboard.WorkflowRun, status, code string) switchboard.AuditEntry {
	now := e.now()
	return switchboard.AuditEntry{ID: auditID(now), Time: now.UTC(), OrgID: r.OrgID, ActorID: "workflow", ActorName: "workflow " + r.Workflow,
		Event: AuditRunFinished, Kind: "workflow", Name: r.Workflow, Args: map[string]string{"run": r.ID, "status": status},
		DurationMs: now.Sub(r.StartedAt).Milliseconds(), Cache: runner.CacheNone, Error: code, Via: "workflow"}
}

// FetchCooldown is River's FetchCooldown as configured.
func (e *Engine) FetchCooldown() time.Duration { return e.cfg.FetchCooldown }

// FetchPollInterval is River's FetchPollInterval as configured.
func (e *Engine) FetchPollInterval() time.Duration { return e.cfg.FetchPollInterval }
