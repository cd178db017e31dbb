package console

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// FuzzSafeNext: wherever the sign-in form says to go next, the browser
// stays on the console's own pages of this origin.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/console/apps", "//evil.com", "/console//evil.com", "/console/\\evil.com", "https://evil.com/console/", "/console/%2F%2Fevil", "/console/apps\r\nSet-Cookie: x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, Prefix) || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("safeNext(%q) = %q leaves the console", next, got)
		}
	})
}

// FuzzParseLines: the playground's args and headers are read without
// panicking, every pair has a name, and a problem names its line.
func FuzzParseLines(f *testing.F) {
	for _, s := range []string{"a=1\nb=2", "Authorization: Bearer {{t}}", "=x", "\n\n", "x"} {
		f.Add(s, "=")
		f.Add(s, ":")
	}
	f.Fuzz(func(t *testing.T, text, sep string) {
		if sep != "=" && sep != ":" {
			return
		}
		var problems []switchboard.Problem
		pairs := parseLines(text, sep, "/args", &problems)
		for _, p := range pairs {
			if p[0] == "" || strings.TrimSpace(p[0]) != p[0] {
				t.Fatalf("parseLines(%q) gave the name %q", text, p[0])
			}
		}
		lines := strings.Count(text, "\n") + 1
		for _, p := range problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("parseLines(%q): problem at line %d of %d", text, p.Line, lines)
			}
		}
	})
}

// FuzzParseTime: an audit filter's time parses or is refused, never
// panics.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-23T10:00", "2026-11-23T10:00:00+01:00", "2026-11-23", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := parseTime(s); err == nil && tm.Equal(time.Time{}) && s != "0001-01-01" && !strings.HasPrefix(s, "0001-01-01") {
			t.Fatalf("parseTime(%q) = the zero time without an error", s)
		}
	})
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"kustomer.app.shop.get": "kustomer.app.shop.get",
		"order=42":              "order=42",
		"it's":                  `'it'\''s'`,
		"a b":                   "'a b'",
		"$HOME":                 "'$HOME'",
		"":                      "''",
		`{"a":1}`:               `'{"a":1}'`,
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzRateForm: a limit's form is read without panicking; what it accepts
// is a limit the API accepts too, and every problem is at one of its two
// fields.
func FuzzRateForm(f *testing.F) {
	for _, s := range [][3]string{{"set", "2", "5"}, {"set", "0.5", ""}, {"set", "0", "0"}, {"remove", "x", "y"},
		{"", "NaN", "1"}, {"set", "Inf", ""}, {"set", "1e400", "1"}, {"set", "0x1p-2", "1"}, {"set", " 3 ", "9999999999999999999"}, {"set", "", ""}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, op, rps, burst string) {
		const ptr = "/kustomer.app.shop.get"
		rate, problems := rateForm(op, rps, burst, ptr)
		if rate != nil && len(problems) > 0 {
			t.Fatalf("rateForm(%q, %q, %q) gave a rate and problems", op, rps, burst)
		}
		if rate != nil {
			if ps := switchboard.ValidateRate(rate.PerSecond, rate.Burst, ptr); len(ps) > 0 {
				t.Fatalf("rateForm(%q, %q, %q) = %+v, which the API refuses: %v", op, rps, burst, *rate, ps)
			}
		}
		if op == "remove" && (rate != nil || len(problems) > 0) {
			t.Fatalf("Remove gave %+v, %v", rate, problems)
		}
		for _, p := range problems {
			if p.Location != ptr+"/runsPerSecond" && p.Location != ptr+"/burst" {
				t.Fatalf("rateForm(%q, %q, %q): a problem at %q", op, rps, burst, p.Location)
			}
		}
	})
}
