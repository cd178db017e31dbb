package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// targetNames are the targets in the order each run measures them.
var targetNames = []string{
	"direct",
	"floor-cached",
	"floor-client",
	"floor-handler",
	"floor-proxy",
	"nginx-cache",
	"nginx-proxy",
	"sb-cached",
	"sb-uncached",
	"sb-audited",
	"sb-uncached-128",
	"sb-audited-128",
	"sb-scale-cached",
	"sb-scale-uncached",
}

// targetConcurrency is the number of workers of the targets that do not
// use -concurrency.
var targetConcurrency = map[string]int{
	"sb-uncached-128": 128,
	"sb-audited-128":  128,
}

// scaleTargets are measured on a second Switchboard instance that holds
// -scale-orgs orgs, -scale-commands commands and -scale-entries cached
// answers besides the bench org.
var scaleTargets = []string{"sb-scale-cached", "sb-scale-uncached"}

// targetDescriptions say what each target is, for the report.
var targetDescriptions = map[string]string{
	"direct":            "the upstream itself: POST of the run's inner body",
	"floor-cached":      "the floor of a cached run: decodes the run body, hashes the key, returns stored bytes",
	"floor-client":      "the floor of a live run: one shared http.Client, client.Get of the upstream, body written back",
	"floor-handler":     "bare net/http handler: decodes the run request, answers Switchboard's stored cache-hit bytes",
	"floor-proxy":       "bare httputil.ReverseProxy in front of the upstream",
	"nginx-cache":       "nginx caching POSTs (key: URI and body), every answer a HIT",
	"nginx-proxy":       "nginx proxying to the upstream, keep-alive pool of 64",
	"sb-cached":         "Switchboard, command with cacheSeconds 600: every run a cache hit",
	"sb-uncached":       "Switchboard, the same command without a cache: every run calls the upstream",
	"sb-audited":        "Switchboard, uncached with auditLogging: every run writes a durable audit entry",
	"sb-uncached-128":   "sb-uncached with 128 workers",
	"sb-audited-128":    "sb-audited with 128 workers",
	"sb-scale-cached":   "sb-cached on an instance that also holds the scale case's orgs, commands and cached answers",
	"sb-scale-uncached": "sb-uncached on that instance",
}

// The run request every Switchboard-shaped target receives, and the body
// the direct target sends (the run's inner body).
const (
	runBody      = `{"body":{"foo":12},"headers":{"Authorization":"Bearer {{authToken}}"},"args":{"store":"acme"}}`
	directBody   = `{"foo":12}`
	benchToken   = "bench-token"
	cachedPath   = "/v1/commands/bench.cached/run"
	uncachedPath = "/v1/commands/bench.uncached/run"
	auditedPath  = "/v1/commands/bench.audited/run"
)

// target is one thing measured: a request and its checks.
type target struct {
	name        string
	rq          *request
	concurrency int // workers; 0: -concurrency
}

// targetServer is the process that serves each target.
func targetServer(name string) string {
	switch {
	case name == "direct":
		return "upstream"
	case strings.HasPrefix(name, "nginx-"):
		return "nginx"
	case strings.HasPrefix(name, "sb-scale-"):
		return "switchboard-scale"
	case strings.HasPrefix(name, "sb-"):
		return "switchboard"
	}
	return name // the floors
}

// workers is how many closed-loop workers load t.
func (t *target) workers(cfg *config) int {
	if t.concurrency > 0 {
		return t.concurrency
	}
	return cfg.Concurrency
}

// env is what setup started: the targets to measure, in order, and what it
// verified or skipped along the way.
type env struct {
	targets      []*target
	notes        []string
	nginxVersion string
	scale        *scaleFacts // nil unless a scale target is measured
}

func (e *env) targetNames() []string {
	var names []string
	for _, t := range e.targets {
		names = append(names, t.name)
	}
	return names
}

func (e *env) note(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	e.notes = append(e.notes, s)
	logf("%s", s)
}

// setup starts the servers the selected targets need, prepares Switchboard,
// and builds and verifies each target's request.
func setup(ctx context.Context, cfg *config, procs *procGroup) (*env, error) {
	e := &env{}
	want := func(names ...string) bool {
		for _, n := range names {
			if slices.Contains(cfg.Targets, n) {
				return true
			}
		}
		return false
	}
	reqs := map[string]*request{}

	logf("starting the upstream")
	_, upstreamURL, err := procs.start(ctx, "upstream",
		exec.Command(cfg.executable, "upstream"), filepath.Join(cfg.tmp, "upstream.log"), true)
	if err != nil {
		return nil, err
	}
	if want("direct") {
		if reqs["direct"], err = newRequest(upstreamURL+"/orders?store=acme",
			map[string]string{"Authorization": "Bearer " + benchToken}, []byte(directBody)); err != nil {
			return nil, err
		}
		reqs["direct"].wantBody = []string{`"refunded":true`}
	}

	// Every Switchboard-shaped target gets the same request as Switchboard
	// itself: path, agent key and run body.
	agentKey := "sbk_not-switchboard"
	if want("sb-cached", "sb-uncached", "sb-audited", "sb-uncached-128", "sb-audited-128", "floor-handler") {
		sb, err := startSwitchboard(ctx, cfg, procs, upstreamURL, e, "switchboard", cfg.sbArgs, nil)
		if err != nil {
			return nil, err
		}
		agentKey = sb.agentKey
		auth := map[string]string{"Authorization": "Bearer " + agentKey}
		for name, path := range map[string]string{"sb-cached": cachedPath, "sb-uncached": uncachedPath, "sb-audited": auditedPath,
			"sb-uncached-128": uncachedPath, "sb-audited-128": auditedPath} {
			rq, err := newRequest(sb.url+path, auth, []byte(runBody))
			if err != nil {
				return nil, err
			}
			rq.wantBody = []string{`"status":200`, `"refunded":true`, `"cache":"none"`}
			if name == "sb-cached" {
				rq.wantBody[2] = `"cache":"hit"`
			}
			reqs[name] = rq
		}
		if want("floor-handler") {
			answer := filepath.Join(cfg.tmp, "floor-handler-answer.json")
			if err := os.WriteFile(answer, sb.cachedAnswer, 0o644); err != nil {
				return nil, fmt.Errorf("write the floor handler's answer: %w", err)
			}
			logf("starting floor-handler")
			_, u, err := procs.start(ctx, "floor-handler",
				exec.Command(cfg.executable, "floor-handler", "-body-file", answer),
				filepath.Join(cfg.tmp, "floor-handler.log"), true)
			if err != nil {
				return nil, err
			}
			if reqs["floor-handler"], err = newRequest(u+cachedPath, auth, []byte(runBody)); err != nil {
				return nil, err
			}
			reqs["floor-handler"].wantBody = []string{`"status":200`, `"refunded":true`, `"cache":"hit"`}
			e.note("floor-handler answers the %d bytes Switchboard answered for a cache hit", len(sb.cachedAnswer))
		}
	}
	auth := map[string]string{"Authorization": "Bearer " + agentKey}

	if want(scaleTargets...) {
		sb, facts, err := startScale(ctx, cfg, procs, upstreamURL, e)
		if err != nil {
			return nil, err
		}
		e.scale = facts
		sauth := map[string]string{"Authorization": "Bearer " + sb.agentKey}
		if reqs["sb-scale-cached"], err = newRequest(sb.url+cachedPath, sauth, []byte(runBody)); err != nil {
			return nil, err
		}
		reqs["sb-scale-cached"].wantBody = []string{`"status":200`, `"refunded":true`, `"cache":"hit"`}
		if reqs["sb-scale-uncached"], err = newRequest(sb.url+uncachedPath, sauth, []byte(runBody)); err != nil {
			return nil, err
		}
		reqs["sb-scale-uncached"].wantBody = []string{`"status":200`, `"refunded":true`, `"cache":"none"`}
	}

	// The floors of the issue: the same run request as Switchboard's.
	if want("floor-cached") {
		logf("starting floor-cached")
		_, u, err := procs.start(ctx, "floor-cached", exec.Command(cfg.executable, "floor-cached"),
			filepath.Join(cfg.tmp, "floor-cached.log"), true)
		if err != nil {
			return nil, err
		}
		if reqs["floor-cached"], err = newRequest(u+cachedPath, auth, []byte(runBody)); err != nil {
			return nil, err
		}
		reqs["floor-cached"].wantBody = []string{`"status":200`, `"cache":"hit"`}
	}
	if want("floor-client") {
		logf("starting floor-client")
		_, u, err := procs.start(ctx, "floor-client",
			exec.Command(cfg.executable, "floor-client", "-upstream", upstreamURL+"/orders?store=acme"),
			filepath.Join(cfg.tmp, "floor-client.log"), true)
		if err != nil {
			return nil, err
		}
		if reqs["floor-client"], err = newRequest(u+uncachedPath, auth, []byte(runBody)); err != nil {
			return nil, err
		}
		reqs["floor-client"].wantBody = []string{`"refunded":true`}
	}

	if want("floor-proxy") {
		logf("starting floor-proxy")
		_, u, err := procs.start(ctx, "floor-proxy",
			exec.Command(cfg.executable, "floor-proxy", "-upstream", upstreamURL),
			filepath.Join(cfg.tmp, "floor-proxy.log"), true)
		if err != nil {
			return nil, err
		}
		if reqs["floor-proxy"], err = newRequest(u+uncachedPath, auth, []byte(runBody)); err != nil {
			return nil, err
		}
		reqs["floor-proxy"].wantBody = []string{`"refunded":true`}
	}

	if want("nginx-cache", "nginx-proxy") {
		ng, err := startNginx(ctx, cfg, procs, upstreamURL, e)
		if err != nil {
			return nil, err
		}
		if ng != nil {
			e.nginxVersion = ng.version
			if reqs["nginx-cache"], err = newRequest(ng.cacheURL+cachedPath, auth, []byte(runBody)); err != nil {
				return nil, err
			}
			reqs["nginx-cache"].wantBody = []string{`"refunded":true`}
			if err := primeNginxCache(ctx, reqs["nginx-cache"], e); err != nil {
				return nil, err
			}
			reqs["nginx-cache"].wantHeader = [2]string{"X-Cache-Status", "HIT"}
			if reqs["nginx-proxy"], err = newRequest(ng.proxyURL+uncachedPath, auth, []byte(runBody)); err != nil {
				return nil, err
			}
			reqs["nginx-proxy"].wantBody = []string{`"refunded":true`}
		}
	}

	tr := loadTransport(1)
	defer tr.CloseIdleConnections()
	for _, name := range cfg.Targets {
		rq := reqs[name]
		if rq == nil {
			continue // skipped, with a note
		}
		if err := verify(ctx, tr, rq); err != nil {
			return nil, fmt.Errorf("%s does not answer as expected: %w", name, err)
		}
		e.targets = append(e.targets, &target{name: name, rq: rq, concurrency: targetConcurrency[name]})
	}
	if len(e.targets) == 0 {
		return nil, fmt.Errorf("none of the targets %s can be measured here", strings.Join(cfg.Targets, ", "))
	}
	return e, nil
}

// measureTarget measures one target with a fresh transport, and checks that
// it answers as expected just before and just after. A failed check makes
// the result FAILED.
func measureTarget(ctx context.Context, cfg *config, t *target, procs *procGroup) (result, error) {
	pgids := procs.pgids()
	if err := waitQuiet(ctx, cfg.quiet, pgids); err != nil {
		return result{}, err
	}
	workers := t.workers(cfg)
	tr := loadTransport(workers)
	defer tr.CloseIdleConnections()
	if strings.HasSuffix(t.name, "-cached") && strings.HasPrefix(t.name, "sb-") {
		// A whole benchmark outlasts the command's cacheSeconds (600): the
		// first run after that refreshes the entry ("cache":"miss"), as it
		// should, and every run after it is a hit again.
		_, _, _ = send(ctx, tr, t.rq)
	}
	if err := verify(ctx, tr, t.rq); err != nil {
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		return result{Target: t.name, Failed: true, FirstError: "check before the measurement: " + err.Error(),
			OthersCPU: -1, StealCPU: -1, ServerCPUus: -1, UpstreamCPUus: -1, LoadCPUus: -1}, nil
	}
	res, before, after, err := measureSampled(ctx, tr, t.rq, workers, cfg.Warmup, cfg.Duration,
		func() cpuSample { return sampleCPU(pgids) })
	if err != nil {
		return result{}, err
	}
	res.ServerCPUus = cpuPerRequest(before, after, procs.pgidOf(targetServer(t.name)), res.OK)
	res.UpstreamCPUus = -1
	if t.name != "direct" {
		res.UpstreamCPUus = cpuPerRequest(before, after, procs.pgidOf("upstream"), res.OK)
	}
	res.LoadCPUus = cpuPerRequest(before, after, 0, res.OK)
	res.Target = t.name
	res.Workers = workers
	if err := verify(ctx, tr, t.rq); err != nil {
		if ctx.Err() != nil {
			return result{}, ctx.Err()
		}
		res.Failed = true
		res.FirstError = "check after the measurement: " + err.Error()
	}
	// Let connections close and background work settle before the next
	// target.
	time.Sleep(200 * time.Millisecond)
	return res, nil
}
