package schema

import (
	"flag"
	"os"
	"testing"
)

// TestMain shortens the fuzzer's minimization of new interesting inputs
// from 60 s to 2 s, unless -fuzzminimizetime is given: while both workers
// minimize, the fuzzer runs nothing else, and with the default a 60 s run
// of FuzzSchema spent most of its time at 0 execs/s.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", "2s"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
