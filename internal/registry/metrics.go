package registry

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics reports the compiled definitions in memory, the compiles
// of stored definitions and the stored secrets that do not open.
func (r *Registry) RegisterMetrics(reg prometheus.Registerer) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_compiled_definitions_bytes",
			Help: "Estimated bytes of the compiled definitions kept by --compiled-cache-bytes."},
			func() float64 { return float64(r.CompiledStats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_compiled_definitions",
			Help: "Compiled definitions in memory: kept by --compiled-cache-bytes, installed by an org in use, or not yet collected."},
			func() float64 { return float64(r.CompiledStats().Live) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "switchboard_definition_compiles_total",
			Help: "Stored definitions compiled because they were not in memory."},
			func() float64 { return float64(r.CompiledStats().Compiles) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "switchboard_unreadable_secrets",
			Help: "Stored secrets that this instance's key cannot open (the runs that use them answer 503; /readyz answers 503)."},
			func() float64 { return float64(r.Unreadable()) }),
	)
}
