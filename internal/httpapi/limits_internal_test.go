package httpapi

import (
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// FuzzDecodeRate: whatever a PUT of limits holds, decodeRate answers a
// valid rate, no limit, or an invalid_input problem; never anything else.
func FuzzDecodeRate(f *testing.F) {
	for _, s := range []string{`{"runsPerSecond": 1, "burst": 2}`, `{"runsPerSecond": null}`, `null`, `{"runsPerSecond": 0}`,
		`{"runsPerSecond": 1e309}`, `{"runsPerSecond": -0}`, `{"burst": 3}`, `[]`, `{"runsPerSecond": 0.00001}`, `{"runsPerSecond": 2.5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := jsonv.DecodeStrict([]byte(s))
		if err != nil {
			return
		}
		rate, err := decodeRate(v, "/x")
		if err != nil {
			if switchboard.ErrorCode(err) != switchboard.CodeInvalidInput {
				t.Fatalf("decodeRate(%s) = %v, want invalid_input", s, err)
			}
			return
		}
		if rate != nil && len(switchboard.ValidateRate(rate.PerSecond, rate.Burst, "")) > 0 {
			t.Fatalf("decodeRate(%s) = %+v, which is not a valid rate", s, rate)
		}
	})
}
