package server

import (
	"context"
	"log/slog"

	"github.com/switchboardhq/switchboard/internal/limit"
)

// openLimits builds the limits of SPEC 13: the configured rate limits held
// in memory (following the registry's change feed), counted in Redis when
// the instance has one (shared by every instance) or in process, and the
// cap on runs in flight per org and upstream host.
func (in *Instance) openLimits(ctx context.Context, cfg *Config, log *slog.Logger) (*limit.Limits, error) {
	policies := limit.NewPolicies(in.Store, in.Registry, log)
	if err := policies.Load(ctx); err != nil {
		return nil, err
	}
	m := limit.NewMetrics(in.Metrics)
	var limiter limit.Limiter
	if cfg.RedisURL != "" {
		rl, err := limit.NewRedis(cfg.RedisURL, limit.RedisOptions{Prefix: cfg.RedisPrefix, Log: log, Degraded: m.Degraded, Local: m.Local})
		if err != nil {
			return nil, err
		}
		in.closers = append(in.closers, rl.Close)
		limiter = rl
	}
	return limit.New(limit.Config{Policies: policies, Limiter: limiter, MaxInflight: cfg.MaxInflightPerUpstream, Now: cfg.Now, Metrics: m}), nil
}
