package limit

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxHold bounds how long an upstream's Retry-After keeps runs from
// calling it: a typo or a hostile value of days would otherwise stop a
// command until someone noticed.
const MaxHold = time.Hour

// ParseRetryAfter reads a Retry-After value (RFC 9110 10.2.3): a number of
// seconds, or an HTTP date, which is read against now. It reports false
// for a value that is neither, or that has passed; a longer wait than
// MaxHold is MaxHold.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && allDigits(v) {
				return MaxHold, true
			}
			return 0, false
		}
		if n == 0 {
			return 0, false
		}
		if n >= uint64(MaxHold/time.Second) {
			return MaxHold, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d <= 0 {
		return 0, false
	}
	return min(d, MaxHold), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Holds remembers, per (org, command or action), until when an upstream
// asked not to be called (its Retry-After on a 429 or 503). Held per
// instance: each instance learns it from its own calls. Safe for
// concurrent use.
type Holds struct {
	m sync.Map // holdKey -> int64 (unix µs)
}

type holdKey struct{ org, name string }

// Hold keeps runs of name for org from calling until until.
func (h *Holds) Hold(org, name string, until time.Time) {
	h.m.Store(holdKey{org, name}, until.UnixMicro())
}

// Until reports how long runs of name for org must still wait (0 when
// they may call).
func (h *Holds) Until(org, name string, now time.Time) time.Duration {
	k := holdKey{org, name}
	v, ok := h.m.Load(k)
	if !ok {
		return 0
	}
	d := micros(v.(int64) - now.UnixMicro())
	if d <= 0 {
		h.m.CompareAndDelete(k, v)
		return 0
	}
	return d
}
