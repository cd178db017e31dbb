package jsnum

import (
	"encoding/json"
	"math"
	"testing"
)

// The expectations below were printed by Node.js 20 (String(n) and String(+s)).
func TestFormat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {0.1, "0.1"},
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {123456789012345680000, "123456789012345680000"},
		{1e-6, "0.000001"}, {1e-7, "1e-7"}, {1.2345e-7, "1.2345e-7"}, {-1.5e300, "-1.5e+300"},
		{9007199254740992, "9007199254740992"}, {9007199254740994, "9007199254740994"},
		{123e-20, "1.23e-18"}, {5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{100, "100"}, {1.0 / 3, "0.3333333333333333"}, {-2.5e-5, "-0.000025"}, {4.35, "4.35"},
		{12345678.9, "12345678.9"}, {math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.0", "1"}, {"1e2", "100"}, {"-0", "0"}, {"12", "12"}, {"012", "12"},
		{"12345678901234567890", "12345678901234567000"}, {"1e400", "Infinity"}, {"0.10", "0.1"},
	}
	for _, tt := range tests {
		if got := FormatNumber(json.Number(tt.in)); got != tt.want {
			t.Errorf("FormatNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct{ in, want string }{
		{" 12 ", "12"}, {"0x10", "16"}, {"0X1f", "31"}, {"0o17", "15"}, {"0b101", "5"}, {"-0x10", "NaN"},
		{"1e3", "1000"}, {"1e", "NaN"}, {"", "0"}, {".5", "0.5"}, {"5.", "5"}, {"+5", "5"}, {"-5", "-5"},
		{"+-5", "NaN"}, {"Infinity", "Infinity"}, {"-Infinity", "-Infinity"}, {"+Infinity", "Infinity"},
		{"inf", "NaN"}, {"NaN", "NaN"}, {"1_000", "NaN"}, {"\u00a012\u2028", "12"}, {"\ufeff7", "7"},
		{"12abc", "NaN"}, {"0x", "NaN"}, {"1.2.3", "NaN"}, {"  ", "0"}, {"00012", "12"}, {"-.5e-2", "-0.005"},
		{"0xFFFFFFFFFFFFFFFFFF", "4.722366482869645e+21"}, {"1e400", "Infinity"}, {"-1e400", "-Infinity"},
		{"1e-400", "0"}, {"0x1g", "NaN"}, {"0b2", "NaN"}, {"1e+5", "100000"}, {".", "NaN"}, {"e5", "NaN"},
	}
	for _, tt := range tests {
		f, ok := Parse(tt.in)
		got := "NaN"
		if ok {
			got = Format(f)
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{" 12 ", "0x10", "1e21", "-.5e-2", "Infinity", "\u00a0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := Parse(s)
		if !ok {
			return
		}
		// Whatever parses prints, and the printing parses back to the same number.
		back, ok := Parse(Format(v))
		if !ok || (back != v && !(math.IsNaN(back) && math.IsNaN(v))) {
			t.Fatalf("Parse(Format(%v)) = %v, %v", v, back, ok)
		}
	})
}

func BenchmarkFormat(b *testing.B) {
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = AppendFormat(buf[:0], 12345.678)
	}
}
