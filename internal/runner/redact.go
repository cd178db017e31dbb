package runner

import (
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Redacted replaces a secret value wherever it appears in what a run
// returns or records.
const Redacted = "[redacted]"

// redactor replaces secrets in strings: the non-empty secret values of an
// installed app, longest first (registry.Installed.Secrets), so that a
// secret containing another is replaced whole.
type redactor []string

func (r redactor) empty() bool { return len(r) == 0 }

// String returns s with every secret replaced.
func (r redactor) String(s string) string {
	if r.empty() {
		return s
	}
	for _, sec := range r {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

// Value replaces secrets in every string and member name of a JSON value,
// in place where it can, and returns the value.
func (r redactor) Value(v any) any {
	if r.empty() {
		return v
	}
	switch x := v.(type) {
	case string:
		return r.String(x)
	case []any:
		for i, e := range x {
			x[i] = r.Value(e)
		}
	case *jsonv.Object:
		for i := range x.Members {
			m := &x.Members[i]
			m.Value = r.Value(m.Value)
			if k := r.String(m.Key); k != m.Key {
				// Rebuild: a renamed key invalidates the object's index.
				out := jsonv.NewObject(len(x.Members))
				for _, mm := range x.Members {
					out.Set(r.String(mm.Key), r.Value(mm.Value))
				}
				return out
			}
		}
	}
	return v
}
