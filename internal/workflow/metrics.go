package workflow

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
)

// Metrics are the engine's Prometheus series: runs by workflow and status,
// step latency, hook deliveries and the queue's depth. No label carries an
// org id beyond what a private app's namespaced workflow name holds.
type Metrics struct {
	runs       *prometheus.CounterVec
	steps      *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
}

// NewMetrics registers the engine's series with reg; depth counts the
// steps waiting to run (read when scraped).
func NewMetrics(reg prometheus.Registerer, depth func(context.Context) (int, error)) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_workflow_runs_total",
			Help: "Workflow runs by workflow and status: running counts starts, the others ends."}, []string{"workflow", "status"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "switchboard_workflow_step_duration_seconds",
			Help: "Time one attempt of a workflow step took to run its action or command.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)},
			[]string{"outcome"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "switchboard_hook_deliveries_total",
			Help: "Hook deliveries by outcome: accepted, duplicate, refused."}, []string{"outcome"}),
	}
	reg.MustRegister(m.runs, m.steps, m.deliveries, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_workflow_queue_depth",
		Help: "Workflow steps waiting to run or to be retried."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := depth(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}))
	return m
}

func (m *Metrics) run(workflow, status string) {
	if m != nil {
		m.runs.WithLabelValues(workflow, status).Inc()
	}
}

func (m *Metrics) step(d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = string(switchboard.ErrorCode(err))
	}
	m.steps.WithLabelValues(outcome).Observe(d.Seconds())
}

func (m *Metrics) delivery(outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(outcome).Inc()
	}
}
