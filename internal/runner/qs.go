package runner

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard/internal/jsnum"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// stringifyQuery encodes an object as npm qs's stringify does by default,
// which is what Node's request library sends for qs and form: nested objects
// as a[b]=c, arrays as a[0]=x, keys and values percent-encoded per RFC 3986
// (space as %20), null as an empty value, empty arrays and objects left
// out.
func stringifyQuery(v any) string {
	var b strings.Builder
	jsonv.Range(v, func(k string, val any) bool {
		appendQuery(&b, k, val)
		return true
	})
	return b.String()
}

func appendQuery(b *strings.Builder, key string, v any) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			appendQuery(b, key+"["+strconv.Itoa(i)+"]", e)
		}
		return
	case *jsonv.Object, map[string]any, map[string]string:
		jsonv.Range(x, func(k string, val any) bool {
			appendQuery(b, key+"["+k+"]", val)
			return true
		})
		return
	}
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	b.WriteString(encodeRFC3986(key))
	b.WriteByte('=')
	b.WriteString(encodeRFC3986(primitiveString(v)))
}

// primitiveString prints a JSON primitive as JavaScript's String does, and
// null as the empty string (as qs does).
func primitiveString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case tmpl.Opaque:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return jsnum.FormatNumber(x)
	case float64:
		return jsnum.Format(x)
	}
	b, _ := jsonv.Marshal(v)
	return string(b)
}

// encodeRFC3986 percent-encodes everything but A-Z a-z 0-9 - . _ ~.
func encodeRFC3986(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
