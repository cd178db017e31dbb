package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A soak runs a mixed load against one Switchboard for a long time and
// samples its memory and goroutines, to show that nothing grows without
// bound: cached, uncached and audited runs, a run of a command that does not
// exist, a run refused by the path rule, and catalog reads, in turn.
//
//	go run . -soak 10m [-sample 10s] [-soak-warmup 1m] [-concurrency 32]

// soakSample is one reading of the server's /metrics.
type soakSample struct {
	At         time.Duration `json:"at"`
	RSS        float64       `json:"rssBytes"`
	HeapInuse  float64       `json:"heapInuseBytes"`
	Goroutines float64       `json:"goroutines"`
	Requests   int64         `json:"requests"`
	Status5xx  int64         `json:"status5xx"`
}

// soakMix is the requests the workers send in turn, each with the statuses
// it may answer.
type soakRequest struct {
	rq   *request
	want int // the expected status
}

func soak(ctx context.Context, cfg *config, procs *procGroup) error {
	logf("starting the upstream")
	_, upstreamURL, err := procs.start(ctx, "upstream",
		exec.Command(cfg.executable, "upstream"), filepath.Join(cfg.tmp, "upstream.log"), true)
	if err != nil {
		return err
	}
	e := &env{}
	sb, err := startSwitchboard(ctx, cfg, procs, upstreamURL, e, "switchboard", cfg.sbArgs, nil)
	if err != nil {
		return err
	}
	auth := map[string]string{"Authorization": "Bearer " + sb.agentKey}
	var mix []soakRequest
	add := func(method, path, body string, want int) error {
		rq, err := newRequest(sb.url+path, auth, []byte(body))
		if err != nil {
			return err
		}
		rq.method = method
		if method == http.MethodGet {
			rq.body = nil
		}
		mix = append(mix, soakRequest{rq: rq, want: want})
		return nil
	}
	for _, r := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", cachedPath, runBody, 200},
		{"POST", cachedPath, runBody, 200},
		{"POST", uncachedPath, runBody, 200},
		{"POST", auditedPath, runBody, 200},
		{"POST", "/v1/commands/bench.nosuch/run", runBody, 404},
		{"POST", uncachedPath, `{"args":{"store":"acme&admin=1"}}`, 400},
		{"GET", "/v1/commands", "", 200},
		{"GET", "/v1/apps/installed", "", 200},
	} {
		if err := add(r.method, r.path, r.body, r.want); err != nil {
			return err
		}
	}

	var total, fivexx, unexpected atomic.Int64
	var firstErr atomic.Value
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	tr := loadTransport(cfg.Concurrency)
	defer tr.CloseIdleConnections()
	var wg sync.WaitGroup
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := w; loadCtx.Err() == nil; i++ {
				m := mix[i%len(mix)]
				resp, err := tr.RoundTrip(m.rq.httpRequest(loadCtx))
				if err != nil {
					if loadCtx.Err() == nil {
						unexpected.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				buf.Reset()
				buf.ReadFrom(resp.Body)
				resp.Body.Close()
				total.Add(1)
				if resp.StatusCode >= 500 {
					fivexx.Add(1)
				}
				if resp.StatusCode != m.want {
					unexpected.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s %s: %d, want %d: %s", m.rq.method, m.rq.url.Path, resp.StatusCode, m.want, snippet(buf.Bytes())))
				}
			}
		}()
	}

	logf("soaking for %s: %d workers, sampling every %s (the first %s are warm-up)", cfg.soak, cfg.Concurrency, cfg.soakSample, cfg.soakWarmup)
	fmt.Printf("%8s  %10s  %10s  %10s  %12s  %6s\n", "at", "RSS MiB", "heap MiB", "goroutines", "requests", "5xx")
	start := time.Now()
	var samples []soakSample
	tick := time.NewTicker(cfg.soakSample)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			stopLoad()
			wg.Wait()
			return ctx.Err()
		case <-tick.C:
		}
		s, err := scrape(ctx, sb.url)
		if err != nil {
			return err
		}
		s.At, s.Requests, s.Status5xx = time.Since(start).Round(time.Second), total.Load(), fivexx.Load()
		samples = append(samples, s)
		fmt.Printf("%8s  %10.1f  %10.1f  %10.0f  %12d  %6d\n", s.At, s.RSS/(1<<20), s.HeapInuse/(1<<20), s.Goroutines, s.Requests, s.Status5xx)
		if err := procs.exited(); err != nil {
			return err
		}
		if time.Since(start) >= cfg.soak {
			break
		}
	}
	stopLoad()
	wg.Wait()

	// Growth: the last quarter's peak against the first sample after the
	// warm-up.
	var base *soakSample
	for i := range samples {
		if samples[i].At >= cfg.soakWarmup {
			base = &samples[i]
			break
		}
	}
	if base == nil {
		return fmt.Errorf("the soak ended before its warm-up: run longer than -soak-warmup %s", cfg.soakWarmup)
	}
	var peakRSS, peakHeap, peakG float64
	for _, s := range samples[len(samples)*3/4:] {
		peakRSS, peakHeap, peakG = max(peakRSS, s.RSS), max(peakHeap, s.HeapInuse), max(peakG, s.Goroutines)
	}
	last := samples[len(samples)-1]
	secs := last.At.Seconds()
	fmt.Printf("\n%d requests in %s (%.0f/s), %d answered 5xx, %d unexpected\n", last.Requests, last.At, float64(last.Requests)/secs, fivexx.Load(), unexpected.Load())
	if v := firstErr.Load(); v != nil {
		fmt.Printf("first unexpected answer: %s\n", v)
	}
	fmt.Printf("after the warm-up (at %s): RSS %.1f MiB -> peak of the last quarter %.1f MiB (%+.1f%%)\n", base.At, base.RSS/(1<<20), peakRSS/(1<<20), 100*(peakRSS/base.RSS-1))
	fmt.Printf("                         heap %.1f MiB -> %.1f MiB (%+.1f%%); goroutines %.0f -> %.0f\n", base.HeapInuse/(1<<20), peakHeap/(1<<20), 100*(peakHeap/base.HeapInuse-1), base.Goroutines, peakG)
	if fivexx.Load() > 0 || unexpected.Load() > 0 || peakRSS > 1.1*base.RSS {
		return fmt.Errorf("the soak did not hold: %d 5xx, %d unexpected answers, RSS growth %+.1f%% (the bound is 10%%)", fivexx.Load(), unexpected.Load(), 100*(peakRSS/base.RSS-1))
	}
	return nil
}

// scrape reads RSS, heap in use and goroutines from Switchboard's /metrics.
func scrape(ctx context.Context, base string) (soakSample, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return soakSample{}, fmt.Errorf("read /metrics: %w", err)
	}
	defer resp.Body.Close()
	var s soakSample
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "process_resident_memory_bytes":
			s.RSS = v
		case "go_memstats_heap_inuse_bytes":
			s.HeapInuse = v
		case "go_goroutines":
			s.Goroutines = v
		}
	}
	if s.RSS == 0 {
		fmt.Fprintln(os.Stderr, "bench: /metrics has no process_resident_memory_bytes")
	}
	return s, sc.Err()
}
