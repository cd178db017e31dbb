package switchboard

import (
	"fmt"
	"math"
)

// RateLimit is a rate limit of SPEC 13: RunsPerSecond runs a second on
// average, Burst of them at once. An org's own limit (set by the operator)
// has empty AppID and Name; a command's or action's (set by the org's
// admin) has its app's stored id and its canonical name.
type RateLimit struct {
	OrgID         string
	AppID         string
	Name          string
	RunsPerSecond float64
	Burst         int
}

// MaxRunsPerSecond and MaxBurst bound a rate limit.
const (
	MaxRunsPerSecond = 1_000_000
	MaxBurst         = 1_000_000
)

// ValidateRate checks runsPerSecond and burst, with ptr the JSON pointer of
// the limit in what the caller sent; it returns each problem.
func ValidateRate(runsPerSecond float64, burst int, ptr string) []Problem {
	var out []Problem
	if math.IsNaN(runsPerSecond) || runsPerSecond <= 0 || runsPerSecond > MaxRunsPerSecond {
		out = append(out, Problem{Location: ptr + "/runsPerSecond",
			Message: fmt.Sprintf("runsPerSecond must be a number above 0 and at most %d (0.5 is one run every 2 seconds)", MaxRunsPerSecond)})
	} else if runsPerSecond < 1.0/86400 {
		out = append(out, Problem{Location: ptr + "/runsPerSecond", Message: "runsPerSecond must allow at least one run a day (1/86400)"})
	}
	if burst < 1 || burst > MaxBurst {
		out = append(out, Problem{Location: ptr + "/burst",
			Message: fmt.Sprintf("burst must be an integer from 1 to %d: the runs allowed at once", MaxBurst)})
	}
	return out
}

// DefaultBurst is the burst of a limit given without one: a second's worth
// of runs, at least one.
func DefaultBurst(runsPerSecond float64) int {
	b := int(math.Ceil(runsPerSecond))
	return max(b, 1)
}

// ChangeLimits is the change of an org's rate limits (Ref: the app id, ""
// for the org's own limit).
const ChangeLimits ChangeKind = "limits"
