package registry

import "github.com/prometheus/client_golang/prometheus"

// RegisterMetrics reports the compiled definitions in memory as gauges and
// the compiles of stored definitions as a counter.
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
	)
}
