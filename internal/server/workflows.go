package server

import (
	"log/slog"
	"time"

	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/postgres"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/workflow"
)

// WorkflowConfig tunes the workflow engine; zero values take
// internal/workflow's defaults.
type WorkflowConfig struct {
	// RunTimeout fails a run not finished this long after it started
	// (--workflow-run-timeout).
	RunTimeout time.Duration
	// RetryBase is the first retry's delay (then doubled each time).
	RetryBase time.Duration
	// StepTimeout bounds one attempt of a step; RescueAfter is when River
	// takes a step whose instance died for lost and runs it again.
	StepTimeout, RescueAfter time.Duration
	// FetchCooldown and FetchPollInterval tune River's fetching.
	FetchCooldown, FetchPollInterval time.Duration
	// Workers bounds the steps the instance runs at once.
	Workers int
	// Committed is workflow.Config.Committed (measurements only).
	Committed func(run string, seq int)
}

// newWorkflows builds the workflow engine on the instance's store: River
// on the SQLite writer, or on the PostgreSQL pool.
func newWorkflows(in *Instance, box *secretbox.Box, _ *outbound.Client, log *slog.Logger) (*workflow.Engine, error) {
	var driver workflow.Driver
	var store workflow.Store
	switch s := in.Store.(type) {
	case *sqlstore.Store:
		driver, store = workflow.SQLite(s.DB()), s
	case *postgres.Store:
		driver, store = workflow.Postgres(s.Pool()), s
	default:
		return nil, nil
	}
	wc := in.cfg.Workflows
	return workflow.New(workflow.Config{Store: store, Driver: driver, Registry: in.Registry, Runner: in.Runner, Box: box, Log: log,
		Now: in.cfg.Now, Metrics: workflow.NewMetrics(in.Metrics, store.QueueDepth),
		RunTimeout: wc.RunTimeout, RetryBase: wc.RetryBase, StepTimeout: wc.StepTimeout, RescueAfter: wc.RescueAfter,
		FetchCooldown: wc.FetchCooldown, FetchPollInterval: wc.FetchPollInterval, Workers: wc.Workers,
		UpstreamTimeout: in.cfg.UpstreamTimeout, Committed: wc.Committed})
}
