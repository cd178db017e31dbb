package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/client"
)

// scaleFacts is what the scale case held while its targets were measured,
// and the memory its cached answers took.
type scaleFacts struct {
	Orgs           int     `json:"orgs"`     // besides the bench org
	Commands       int     `json:"commands"` // besides the bench app's
	Entries        int     `json:"entries"`  // cached answers besides bench.cached's
	CacheEntries   int64   `json:"cacheEntries"`
	SetupSeconds   float64 `json:"setupSeconds"`
	FillSeconds    float64 `json:"fillSeconds"`
	HeapBefore     uint64  `json:"heapBefore"` // HeapAlloc after a GC, before the fill
	HeapAfter      uint64  `json:"heapAfter"`  // the same after it
	BytesPerEntry  float64 `json:"bytesPerEntry"`
	AnswerBytes    int     `json:"answerBytes"` // a cache hit's answer
	GoalPerEntry   float64 `json:"goalPerEntry"`
	MemoryVerdict  string  `json:"memoryVerdict"`
	InProcessCache bool    `json:"inProcessCache"` // false with --redis-url
}

// startScale starts a second Switchboard with the bench org and app, then
// adds -scale-orgs orgs holding -scale-commands commands between them (an
// app each, an agent key each, its setting set), and fills its cache with
// -scale-entries answers spread over those orgs and commands. It measures
// the heap (after a collection, through --debug-addr) before and after the
// fill.
func startScale(ctx context.Context, cfg *config, procs *procGroup, upstreamURL string, e *env) (*switchboard, *scaleFacts, error) {
	debugAddr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	args := cfg.scaleArgs
	if args == "" {
		args = cfg.sbArgs
	}
	sb, err := startSwitchboard(ctx, cfg, procs, upstreamURL, e, "switchboard-scale", args, []string{"--debug-addr", debugAddr})
	if err != nil {
		return nil, nil, err
	}
	f := &scaleFacts{Orgs: cfg.scaleOrgs, InProcessCache: !strings.Contains(args, "redis")}
	perOrg := max(1, cfg.scaleCommands/max(1, cfg.scaleOrgs))
	f.Commands = perOrg * cfg.scaleOrgs
	entriesPerOrg := max(1, cfg.scaleEntries/max(1, cfg.scaleOrgs))
	f.Entries = entriesPerOrg * cfg.scaleOrgs

	logf("scale: creating %d orgs with %d commands each", cfg.scaleOrgs, perOrg)
	start := time.Now()
	def, err := json.Marshal(scaleApp(upstreamURL, perOrg))
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, cfg.scaleOrgs)
	if err := parallel(ctx, 8, cfg.scaleOrgs, func(ctx context.Context, i int) error {
		org, err := sb.operator.CreateOrg(ctx, "", fmt.Sprintf("scale %d", i))
		if err != nil {
			return fmt.Errorf("create org %d: %w", i, err)
		}
		admin := sb.operator.WithKey(org.AdminKey)
		if _, err := admin.RegisterApp(ctx, def, false); err != nil {
			return fmt.Errorf("register the scale app in org %d: %w", i, err)
		}
		if _, err := admin.PutSettings(ctx, "scale", client.Settings{"default": {"authToken": benchToken}}); err != nil {
			return fmt.Errorf("set the scale app's token in org %d: %w", i, err)
		}
		k, err := admin.CreateKey(ctx, "scale-agent", "agent")
		if err != nil {
			return fmt.Errorf("create an agent key in org %d: %w", i, err)
		}
		keys[i] = k.Key
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("scale: %w%s", err, tailFile(sb.logPath, 5))
	}
	// One refused run in each org loads what a run of it needs (the org's
	// state, its compiled app, its key) without caching anything, so that
	// the heap grows by the cached answers alone during the fill.
	tr := loadTransport(16)
	defer tr.CloseIdleConnections()
	if err := parallel(ctx, 16, cfg.scaleOrgs, func(ctx context.Context, i int) error {
		rq, err := newRequest(sb.url+"/v1/commands/scale.c0/run", map[string]string{"Authorization": "Bearer " + keys[i]},
			[]byte(`{"args":{"not-permitted":"x"}}`))
		if err != nil {
			return err
		}
		resp, body, err := send(ctx, tr, rq)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusBadRequest {
			return fmt.Errorf("a run with an arg that is not permitted answered %s, not 400: %s", resp.Status, snippet(body))
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("scale: load the orgs: %w", err)
	}
	f.SetupSeconds = time.Since(start).Seconds()

	if f.HeapBefore, err = heapAfterGC(ctx, debugAddr); err != nil {
		return nil, nil, err
	}
	logf("scale: filling the cache with %d answers (%d a org)", f.Entries, entriesPerOrg)
	start = time.Now()
	var misses atomic.Int64
	if err := parallel(ctx, 16, f.Entries, func(ctx context.Context, i int) error {
		org, j := i/entriesPerOrg, i%entriesPerOrg
		rq, err := newRequest(fmt.Sprintf("%s/v1/commands/scale.c%d/run", sb.url, j%perOrg),
			map[string]string{"Authorization": "Bearer " + keys[org]},
			[]byte(`{"body":{"foo":12},"headers":{"Authorization":"Bearer {{authToken}}"},"args":{"store":"s`+strconv.Itoa(j)+`"}}`))
		if err != nil {
			return err
		}
		rq.wantBody = []string{`"status":200`, `"cache":"miss"`}
		var buf bytes.Buffer
		if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
			return fmt.Errorf("fill run %d (org %d): %w", i, org, err)
		}
		misses.Add(1)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("scale: %w", err)
	}
	f.FillSeconds = time.Since(start).Seconds()
	if f.HeapAfter, err = heapAfterGC(ctx, debugAddr); err != nil {
		return nil, nil, err
	}

	// The size of one of those answers, as a hit.
	rq, err := newRequest(sb.url+"/v1/commands/scale.c0/run", map[string]string{"Authorization": "Bearer " + keys[0]},
		[]byte(`{"body":{"foo":12},"headers":{"Authorization":"Bearer {{authToken}}"},"args":{"store":"s0"}}`))
	if err != nil {
		return nil, nil, err
	}
	rq.wantBody = []string{`"cache":"hit"`}
	var buf bytes.Buffer
	if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
		return nil, nil, fmt.Errorf("scale: a filled answer is not a hit: %w", err)
	}
	f.AnswerBytes = buf.Len()
	f.CacheEntries = metricValue(ctx, sb.url, "switchboard_cache_entries")
	f.BytesPerEntry = (float64(f.HeapAfter) - float64(f.HeapBefore)) / float64(f.Entries)
	f.GoalPerEntry = float64(2*f.AnswerBytes + 200)
	switch {
	case !f.InProcessCache:
		f.MemoryVerdict = "n/a (the cache is in Redis)"
	case f.BytesPerEntry < f.GoalPerEntry:
		f.MemoryVerdict = "PASS"
	default:
		f.MemoryVerdict = "MISS"
	}
	e.note("switchboard-scale: %d orgs with %d commands and %d cached answers besides the bench org (set up in %.0fs, filled in %.0fs); %d cache entries",
		f.Orgs, f.Commands, f.Entries, f.SetupSeconds, f.FillSeconds, f.CacheEntries)
	return sb, f, nil
}

// scaleApp is the app of each scale org: n cached commands of the bench
// command's shape.
func scaleApp(upstreamURL string, n int) map[string]any {
	bench := appDefinition(upstreamURL)["commands"].([]any)[0].(map[string]any)
	var cmds []any
	for i := range n {
		c := map[string]any{}
		for k, v := range bench {
			c[k] = v
		}
		c["name"] = fmt.Sprintf("c%d", i)
		c["appSettings"] = map[string]any{"authToken": map[string]any{"key": "scale.default.authToken"}}
		cmds = append(cmds, c)
	}
	return map[string]any{"app": "scale", "version": "1.0.0", "title": "Scale", "commands": cmds}
}

// parallel calls fn for 0..n-1 on workers goroutines; the first error
// stops it.
func parallel(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return err
	}
	return ctx.Err()
}

// heapAfterGC is the server's HeapAlloc right after a collection: the heap
// profile endpoint with gc=1 collects first and prints the MemStats.
func heapAfterGC(ctx context.Context, debugAddr string) (uint64, error) {
	var v uint64
	for range 2 { // the second after the first one's garbage is gone
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+debugAddr+"/debug/pprof/heap?gc=1&debug=1", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, fmt.Errorf("read the heap of switchboard-scale: %w", err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		v = 0
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
				v, _ = strconv.ParseUint(strings.TrimSpace(n), 10, 64)
			}
		}
		resp.Body.Close()
		if v == 0 {
			return 0, fmt.Errorf("the heap profile of switchboard-scale has no HeapAlloc line")
		}
	}
	return v, nil
}

// metricValue is the value of an unlabelled metric at /metrics; -1 when it
// is not there.
func metricValue(ctx context.Context, base, name string) int64 {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return -1
}
