package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report is everything a benchmark found, printed as text and as JSON.
type report struct {
	Config struct {
		Duration    string   `json:"duration"`
		Warmup      string   `json:"warmup"`
		Concurrency int      `json:"concurrency"`
		Runs        int      `json:"runs"`
		Targets     []string `json:"targets"`
		QuietWait   string   `json:"quietWait"`
	} `json:"config"`
	Date    time.Time   `json:"date"`
	Machine machine     `json:"machine"`
	Notes   []string    `json:"notes"`
	Summary []summary   `json:"summary"`
	Ratios  []ratio     `json:"ratios"`
	Scale   *scaleFacts `json:"scale,omitempty"`
	Runs    [][]result  `json:"runs"`
}

// summary is one target over all runs: the median of each figure.
type summary struct {
	Target      string    `json:"target"`
	Description string    `json:"description"`
	RPS         float64   `json:"rps"`
	P50ms       float64   `json:"p50Ms"`
	P99ms       float64   `json:"p99Ms"`
	RunsRPS     []float64 `json:"runsRps"`
	Workers     int       `json:"workers"`
	// Medians over the runs of the CPU a success took (microseconds): the
	// target's server, the upstream, the load generator; -1 unknown.
	ServerCPUus   float64 `json:"serverCpuUs"`
	UpstreamCPUus float64 `json:"upstreamCpuUs"`
	LoadCPUus     float64 `json:"loadCpuUs"`
	OthersCPU     float64 `json:"othersCpu"` // median over runs; -1 unknown
	Errors        int64   `json:"errors"`    // over all runs
	Failed        bool    `json:"failed"`    // some run failed
	FailReason    string  `json:"failReason,omitempty"`
}

// ratio compares the median requests/s of two targets.
type ratio struct {
	Name    string   `json:"name"`
	Value   *float64 `json:"value"`          // nil when either side is missing or failed
	Goal    float64  `json:"goal,omitempty"` // 0: a reference, no goal
	Verdict string   `json:"verdict"`        // PASS, MISS, n/a, or "" for a reference
}

// machine is where the benchmark ran.
type machine struct {
	CPUModel   string `json:"cpuModel"`
	NumCPU     int    `json:"numCPU"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"goVersion"`
	OS         string `json:"os"`
	Kernel     string `json:"kernel"`
	Memory     string `json:"memory"`
	Nginx      string `json:"nginx,omitempty"`
}

// ratioSpecs are the ratios reported, the ones with a goal first.
var ratioSpecs = []struct {
	num, den string
	goal     float64
}{
	{"sb-cached", "floor-cached", 0.95},
	{"sb-uncached", "floor-client", 0.95},
	{"sb-audited", "sb-uncached", 0.90},
	{"sb-audited-128", "sb-uncached-128", 0.90},
	{"sb-scale-cached", "floor-cached", 0.95},
	{"sb-scale-uncached", "floor-client", 0.95},
	{"sb-cached", "floor-handler", 0},
	{"sb-uncached", "floor-proxy", 0},
	{"sb-scale-cached", "sb-cached", 0},
	{"sb-scale-uncached", "sb-uncached", 0},
	{"sb-cached", "nginx-cache", 0},
	{"sb-uncached", "nginx-proxy", 0},
	{"sb-cached", "direct", 0},
	{"sb-uncached", "direct", 0},
	{"sb-audited", "direct", 0},
}

func newReport(cfg *config, e *env, runs [][]result) *report {
	r := &report{Date: time.Now().UTC().Truncate(time.Second), Notes: e.notes, Runs: runs, Scale: e.scale}
	r.Config.Duration = cfg.Duration.String()
	r.Config.Warmup = cfg.Warmup.String()
	r.Config.Concurrency = cfg.Concurrency
	r.Config.Runs = cfg.Runs
	r.Config.Targets = e.targetNames()
	r.Config.QuietWait = cfg.quiet.String()
	r.Machine = describeMachine()
	r.Machine.Nginx = e.nginxVersion

	byName := map[string]*summary{}
	for _, t := range e.targets {
		s := summary{Target: t.name, Description: targetDescriptions[t.name]}
		var rps, p50, p99, others, srv, up, load []float64
		for _, round := range runs {
			for _, res := range round {
				if res.Target != t.name {
					continue
				}
				s.RunsRPS = append(s.RunsRPS, res.RPS)
				s.Workers = res.Workers
				s.Errors += res.errors()
				if res.Failed && !s.Failed {
					s.Failed = true
					s.FailReason = res.errorSummary()
				}
				rps, p50, p99 = append(rps, res.RPS), append(p50, res.P50ms), append(p99, res.P99ms)
				others = append(others, res.OthersCPU)
				srv, up, load = append(srv, res.ServerCPUus), append(up, res.UpstreamCPUus), append(load, res.LoadCPUus)
			}
		}
		s.OthersCPU = median(others)
		s.ServerCPUus, s.UpstreamCPUus, s.LoadCPUus = median(srv), median(up), median(load)
		if !s.Failed {
			s.RPS, s.P50ms, s.P99ms = median(rps), median(p50), median(p99)
		}
		r.Summary = append(r.Summary, s)
	}
	for i := range r.Summary {
		byName[r.Summary[i].Target] = &r.Summary[i]
	}
	for _, spec := range ratioSpecs {
		rt := ratio{Name: spec.num + " / " + spec.den, Goal: spec.goal}
		num, den := byName[spec.num], byName[spec.den]
		switch {
		case num == nil || den == nil:
			rt.Verdict = "n/a (not measured)"
		case num.Failed || den.Failed:
			rt.Verdict = "n/a (FAILED target)"
		default:
			v := num.RPS / den.RPS
			rt.Value = &v
			switch {
			case spec.goal == 0:
				rt.Verdict = ""
			case v >= spec.goal:
				rt.Verdict = "PASS"
			default:
				rt.Verdict = "MISS"
			}
		}
		r.Ratios = append(r.Ratios, rt)
	}
	return r
}

// print writes the report: the table, the checks, the machine, then the
// ratios.
func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nSwitchboard benchmark, %s\n", r.Date.Format(time.RFC3339))
	fmt.Fprintf(w, "Closed loop: %d workers on keep-alive connections over loopback; per target and run %s warm-up, then %s measured.\n",
		r.Config.Concurrency, r.Config.Warmup, r.Config.Duration)
	fmt.Fprintf(w, "Only 2xx answers that pass the target's checks count; figures are the median of %d run(s).\n", r.Config.Runs)
	fmt.Fprintf(w, "others' CPU: CPUs kept busy by processes outside the benchmark during the measurement (median; 0 = otherwise idle);\n")
	fmt.Fprintf(w, "each measurement waited up to %s for them to keep less than %.2f busy.\n", r.Config.QuietWait, quietCPUs)
	fmt.Fprintf(w, "srv us, up us, load us: CPU time (user+system, /proc) of the target's server, of the upstream and of the load generator\n")
	fmt.Fprintf(w, "for each counted answer, in microseconds (median of the runs).\n\n")

	fmt.Fprintf(w, "%-17s %7s %11s %10s %10s %8s %12s %8s %8s %8s   %s\n", "target", "workers", "requests/s", "p50 ms", "p99 ms", "errors", "others' CPU",
		"srv us", "up us", "load us", "requests/s of each run")
	for _, s := range r.Summary {
		var runs []string
		for _, v := range s.RunsRPS {
			runs = append(runs, fmt.Sprintf("%.0f", v))
		}
		if s.Failed {
			fmt.Fprintf(w, "%-17s %7d %11s %10s %10s %8d %12s %8s %8s %8s   %s\n", s.Target, s.Workers, "FAILED", "-", "-", s.Errors, cpu(s.OthersCPU),
				"-", "-", "-", strings.Join(runs, " "))
			fmt.Fprintf(w, "%17s FAILED: %s\n", "", s.FailReason)
			continue
		}
		fmt.Fprintf(w, "%-17s %7d %11.0f %10.3f %10.3f %8d %12s %8s %8s %8s   %s\n", s.Target, s.Workers, s.RPS, s.P50ms, s.P99ms, s.Errors, cpu(s.OthersCPU),
			micros(s.ServerCPUus), micros(s.UpstreamCPUus), micros(s.LoadCPUus), strings.Join(runs, " "))
	}

	fmt.Fprintf(w, "\nTargets:\n")
	for _, s := range r.Summary {
		fmt.Fprintf(w, "  %-17s %s\n", s.Target, s.Description)
	}
	fmt.Fprintf(w, "\nChecks:\n")
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	fmt.Fprintf(w, "  - each target answered as expected just before and just after each measurement\n")

	m := r.Machine
	fmt.Fprintf(w, "\nMachine: %s; runtime.NumCPU() %d, GOMAXPROCS %d; %s memory; %s %s %s", m.CPUModel, m.NumCPU, m.GOMAXPROCS, m.Memory, m.OS, m.Kernel, m.GoVersion)
	if m.Nginx != "" {
		fmt.Fprintf(w, "; %s", m.Nginx)
	}
	fmt.Fprintf(w, "\nThe load generator, the servers and the upstream share these CPUs.\n")

	fmt.Fprintf(w, "\nRatios of median requests/s:\n")
	pass, miss := 0, 0
	for _, rt := range r.Ratios {
		value := "-"
		if rt.Value != nil {
			value = fmt.Sprintf("%.3f", *rt.Value)
		}
		goal := "reference"
		if rt.Goal > 0 {
			goal = fmt.Sprintf("goal >= %.2f", rt.Goal)
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-36s %7s   %-14s %s", rt.Name, value, goal, rt.Verdict), " "))
		switch rt.Verdict {
		case "PASS":
			pass++
		case "MISS":
			miss++
		}
	}
	goals := countGoals()
	if sc := r.Scale; sc != nil {
		fmt.Fprintf(w, "\nMemory per cached entry (scale case, %d answers of %d bytes): heap %.1f MiB -> %.1f MiB after a GC each\n",
			sc.Entries, sc.AnswerBytes, float64(sc.HeapBefore)/(1<<20), float64(sc.HeapAfter)/(1<<20))
		fmt.Fprintf(w, "  %-36s %7.0f   %-14s %s\n", "bytes of heap per cached entry", sc.BytesPerEntry,
			fmt.Sprintf("goal < %.0f", sc.GoalPerEntry), sc.MemoryVerdict)
		goals++
		switch sc.MemoryVerdict {
		case "PASS":
			pass++
		case "MISS":
			miss++
		}
	}
	fmt.Fprintf(w, "Goals: %d PASS, %d MISS, %d not measurable.\n", pass, miss, goals-pass-miss)
}

// micros prints a CPU time per request; "?" when unknown.
func micros(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", v)
}

func cpu(v float64) string {
	if v < 0 {
		return "?"
	}
	return fmt.Sprintf("%.2f", v)
}

func countGoals() int {
	n := 0
	for _, s := range ratioSpecs {
		if s.goal > 0 {
			n++
		}
	}
	return n
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write the JSON results: %w", err)
	}
	logf("wrote %s", path)
	return nil
}

// median of values; 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func describeMachine() machine {
	m := machine{
		CPUModel:   "unknown CPU",
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
	}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPUModel = v
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		if _, err := fmt.Sscanf(v, "%d kB", &kb); err == nil {
			m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return m
}

// procField is the value of the first "name : value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
