package appdef

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"github.com/switchboardhq/switchboard/internal/jsonv"
)

// Hash returns a digest of a JSON value that ignores member order, so that
// the same definition submitted with its members in another order is the
// same registration.
func Hash(v any) string {
	h := sha256.New()
	var write func(v any)
	write = func(v any) {
		switch x := v.(type) {
		case *jsonv.Object:
			keys := make([]string, 0, len(x.Members))
			for _, m := range x.Members {
				keys = append(keys, m.Key)
			}
			sort.Strings(keys)
			h.Write([]byte{'{'})
			for _, k := range keys {
				b, _ := jsonv.Marshal(k)
				h.Write(b)
				h.Write([]byte{':'})
				val, _ := x.Get(k)
				write(val)
				h.Write([]byte{','})
			}
			h.Write([]byte{'}'})
		case []any:
			h.Write([]byte{'['})
			for _, e := range x {
				write(e)
				h.Write([]byte{','})
			}
			h.Write([]byte{']'})
		default:
			b, _ := jsonv.Marshal(x)
			h.Write(b)
		}
	}
	write(v)
	return hex.EncodeToString(h.Sum(nil))
}
