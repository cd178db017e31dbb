// Package jsnum converts between numbers and strings exactly as JavaScript
// does. Handlebars prints values and Ajv coerces them with JavaScript's rules,
// not Go's: String(1e21) is "1e+21", +" 12 " is 12 and +"0x10" is 16, while
// Go's strconv accepts "inf" and "1_0" and prints 1e21 as "1e+21" but 1e20 as
// "1e+20" where JavaScript prints "100000000000000000000".
package jsnum

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format returns the string JavaScript's String(f) gives
// (Number::toString, ECMA-262 6.1.6.1.20).
func Format(f float64) string {
	return string(AppendFormat(nil, f))
}

// AppendFormat appends Format(f) to dst.
func AppendFormat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	case f == 0:
		return append(dst, '0') // -0 prints as "0" too
	}
	// Integers below 2^53 are the common case: print them directly.
	if f == math.Trunc(f) && math.Abs(f) < 1e21 && math.Abs(f) < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	// Shortest round-trip digits: "d.ddddde±xx".
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	ei := bytes.IndexByte(e, 'e')
	var dbuf [24]byte
	digits := append(dbuf[:0], e[0])
	if ei > 1 {
		digits = append(digits, e[2:ei]...) // skip the '.'
	}
	x := 0
	neg := e[ei+1] == '-'
	for _, c := range e[ei+2:] {
		x = x*10 + int(c-'0')
	}
	if neg {
		x = -x
	}
	k := len(digits)
	n := x + 1 // the position of the decimal point relative to the digits
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits...)
		for i := 0; i < n-k; i++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:]...)
	case -6 < n && n <= 0:
		dst = append(dst, "0."...)
		for i := 0; i < -n; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// FormatNumber returns the JavaScript printing of a JSON number as
// JSON.parse would have read it: "1.0" is "1", "1e2" is "100".
func FormatNumber(n json.Number) string {
	if isPlainInt(string(n)) {
		return string(n)
	}
	return string(AppendNumber(nil, n))
}

// AppendNumber appends FormatNumber(n) to dst without allocating. Text that
// is not a number at all is appended as given.
func AppendNumber(dst []byte, n json.Number) []byte {
	s := string(n)
	if isPlainInt(s) {
		return append(dst, s...)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: JSON.parse gives ±Infinity, as ParseFloat does.
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return append(dst, s...)
		}
	}
	return AppendFormat(dst, f)
}

// isPlainInt reports whether s is an integer literal that JavaScript prints
// unchanged: no sign other than a leading '-', no leading zero, and at most
// 15 digits so that it is exact in a double.
func isPlainInt(s string) bool {
	d := s
	if strings.HasPrefix(d, "-") {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 15 || (d[0] == '0' && len(d) > 1) || d == "0" && s != "0" {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// Float returns the double that JSON.parse gives for a JSON number.
func Float(n json.Number) float64 {
	f, _ := strconv.ParseFloat(string(n), 64) // ErrRange yields ±Inf, as JavaScript
	return f
}

// Parse returns +s as JavaScript evaluates it (StringToNumber, ECMA-262
// 7.1.4.1.1), and false where JavaScript gives NaN. Note that JavaScript maps
// a string of only white space to 0; callers that must refuse "" check it
// themselves, as Ajv does.
func Parse(s string) (float64, bool) {
	s = trimJSSpace(s)
	if s == "" {
		return 0, true
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			return parseRadix(s[2:], base)
		}
	}
	if !isDecimalLiteral(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true // ±Infinity or 0, as JavaScript rounds
		}
		return 0, false
	}
	return f, true
}

func parseRadix(digits string, base int) (float64, bool) {
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'a' && c <= 'f':
			v = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = int(c-'A') + 10
		default:
			return 0, false
		}
		if v >= base {
			return 0, false
		}
	}
	if len(digits) <= 12 {
		u, err := strconv.ParseUint(digits, base, 64)
		if err != nil {
			return 0, false
		}
		return float64(u), true
	}
	var z big.Int
	if _, ok := z.SetString(digits, base); !ok {
		return 0, false
	}
	f, _ := new(big.Float).SetInt(&z).Float64() // rounds to nearest even, as JavaScript
	return f, true
}

// isDecimalLiteral checks StrDecimalLiteral: [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
func isDecimalLiteral(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		intDigits++
	}
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			fracDigits++
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		expDigits := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			expDigits++
		}
		if expDigits == 0 {
			return false
		}
	}
	return i == len(s)
}

// trimJSSpace removes JavaScript's StrWhiteSpaceChar from both ends:
// WhiteSpace (TAB, VT, FF, ZWNBSP and every Zs character) and LineTerminator
// (LF, CR, LS, PS).
func trimJSSpace(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !isJSSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0xA0, 0xFEFF, 0x2028, 0x2029:
		return true
	}
	return r > 0x7f && unicode.Is(unicode.Zs, r)
}
