package tmpl

import (
	"math"
	"math/rand"
	"testing"

	"github.com/switchboardhq/switchboard/internal/jsnum"
)

func TestAppendFloat(t *testing.T) {
	vals := []float64{0.1, 1.5, -2.5, 1e21, 1e-7, 1e-6, 123.456, 1e300, -1e-300, 5e-324, math.MaxFloat64,
		0.30000000000000004, 1 << 53, 1<<53 + 2, 9.5e20, 1.25e21, 100, -0.0, math.Inf(1), math.NaN()}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 10000; i++ {
		vals = append(vals, math.Float64frombits(r.Uint64()), r.NormFloat64()*math.Pow(10, float64(r.Intn(60)-30)))
	}
	for _, f := range vals {
		if got, want := string(appendFloat(nil, f)), jsnum.Format(f); got != want {
			t.Errorf("appendFloat(%v) = %q, want %q", f, got, want)
		}
	}
}
