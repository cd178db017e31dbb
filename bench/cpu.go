package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on Linux
// everywhere that matters.
const clockTicks = 100

// cpuSample is the machine's CPU time so far and the part of it that the
// benchmark's own processes used, in clock ticks. It tells how much other
// work shared the machine during a measurement.
type cpuSample struct {
	at    time.Time
	busy  float64 // every CPU's non-idle time, steal excluded
	steal float64 // time the hypervisor gave to others
	ours  float64 // the harness and every process group it started
	ok    bool    // false where /proc is not there
	// The CPU time of each process group of pgids, and of the harness
	// itself (the load generator), in clock ticks.
	byPgid map[int]float64
	self   float64
}

// sampleCPU reads /proc/stat and the stat of every process of the harness:
// itself and the members of the process groups in pgids.
func sampleCPU(pgids map[int]bool) cpuSample {
	s := cpuSample{at: time.Now(), byPgid: map[int]float64{}}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return s
	}
	v := func(i int) float64 { n, _ := strconv.ParseFloat(f[i], 64); return n }
	// user nice system idle iowait irq softirq steal
	s.busy = v(1) + v(2) + v(3) + v(6) + v(7)
	s.steal = v(8)
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ... utime(14) stime(15): comm may hold
		// spaces, so split after its closing parenthesis.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		rest := strings.Fields(string(b[i+1:]))
		if len(rest) < 13 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:strings.IndexByte(string(b), ' ')])))
		pgrp, _ := strconv.Atoi(rest[2])
		if pid != self && !pgids[pgrp] {
			continue
		}
		ut, _ := strconv.ParseFloat(rest[11], 64)
		st, _ := strconv.ParseFloat(rest[12], 64)
		s.ours += ut + st
		if pid == self {
			s.self += ut + st
		} else {
			s.byPgid[pgrp] += ut + st
		}
	}
	s.ok = true
	return s
}

// othersCPU is the average number of CPUs that processes outside the
// benchmark kept busy between two samples, and the CPUs stolen by the
// hypervisor; both -1 when unknown.
func othersCPU(a, b cpuSample) (others, steal float64) {
	secs := b.at.Sub(a.at).Seconds()
	if !a.ok || !b.ok || secs <= 0 {
		return -1, -1
	}
	others = ((b.busy - a.busy) - (b.ours - a.ours)) / clockTicks / secs
	steal = (b.steal - a.steal) / clockTicks / secs
	return max(others, 0), steal
}

// quietCPUs is how many CPUs other processes may keep busy for the machine
// to count as quiet.
const quietCPUs = 0.25

// waitQuiet waits, up to maxWait, until processes outside the benchmark
// keep less than quietCPUs busy over one second, so that a measurement
// starts on an otherwise idle machine where possible. It gives up silently
// where /proc cannot tell.
func waitQuiet(ctx context.Context, maxWait time.Duration, pgids map[int]bool) error {
	if maxWait <= 0 {
		return nil
	}
	deadline := time.Now().Add(maxWait)
	logged := false
	for {
		a := sampleCPU(pgids)
		if !sleepUntil(ctx, time.Now().Add(time.Second)) {
			return ctx.Err()
		}
		others, _ := othersCPU(a, sampleCPU(pgids))
		if others < quietCPUs {
			return nil
		}
		if time.Now().After(deadline) {
			logf("other processes still keep %.2f CPUs busy after %s; measuring anyway", others, maxWait)
			return nil
		}
		if !logged {
			logf("waiting up to %s for other processes to leave the CPUs (they keep %.2f busy)", maxWait, others)
			logged = true
		}
	}
}

// cpuPerRequest is the CPU time, in microseconds, that the process group
// pgid (0: the harness itself) used between two samples for each of n
// requests; -1 when unknown.
func cpuPerRequest(a, b cpuSample, pgid int, n int64) float64 {
	if !a.ok || !b.ok || n <= 0 {
		return -1
	}
	ticks := b.self - a.self
	if pgid != 0 {
		ticks = b.byPgid[pgid] - a.byPgid[pgid]
	}
	return ticks / clockTicks * 1e6 / float64(n)
}
