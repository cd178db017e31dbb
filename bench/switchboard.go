package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/client"
)

// switchboard is the Switchboard server under test, set up for the runs.
type switchboard struct {
	url          string
	agentKey     string
	cachedAnswer []byte // the bytes of a cache hit of bench.cached
	operator     *client.Client
	logPath      string
}

// startSwitchboard builds (unless -switchboard names a binary) and starts
// Switchboard on a fresh SQLite database in the temporary directory,
// creates an org, registers the bench app against upstreamURL, sets its
// token, creates an agent key, and warms and checks the commands. name
// names the process (its log and data directory), sbArgs are the extra
// flags of the command line and extra further ones.
func startSwitchboard(ctx context.Context, cfg *config, procs *procGroup, upstreamURL string, e *env, name, sbArgs string, extra []string) (*switchboard, error) {
	bin := cfg.sbBinary
	if bin == "" {
		var err error
		if bin, err = buildSwitchboard(ctx, cfg, e); err != nil {
			return nil, err
		}
		cfg.sbBinary = bin // built once for every instance
	}
	data := filepath.Join(cfg.tmp, name+"-data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, fmt.Errorf("create Switchboard's data directory: %w", err)
	}
	operatorKey := "sbo_bench_" + randomHex(24)
	// The 128-worker targets keep 128 runs of one org in flight to one
	// upstream: above serve's default cap of runs in flight per upstream
	// (64, which answers 503 beyond it), so the harness raises the cap;
	// the cap itself is tested in internal/httpapi.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--allow-private-networks", "--log-format", "json",
		"--max-inflight-per-upstream", "1024"}
	args = append(args, strings.Fields(sbArgs)...)
	args = append(args, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(envWithout("SWITCHBOARD_"), "SWITCHBOARD_OPERATOR_KEY="+operatorKey)
	if strings.Contains(sbArgs, "--database-url") {
		// PostgreSQL needs the secret key from the environment (no key
		// file): a fresh one, as the database is the harness's.
		cmd.Env = append(cmd.Env, "SWITCHBOARD_SECRET_KEY="+randomHex(32))
	}
	logPath := filepath.Join(cfg.tmp, name+".log")
	logf("starting %s (logs: JSON, to a file)", name)
	_, url, err := procs.start(ctx, name, cmd, logPath, true)
	if err != nil {
		return nil, err
	}
	sb := &switchboard{url: url, logPath: logPath}

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	op := client.New(url, operatorKey, nil)
	sb.operator = op
	org, err := op.CreateOrg(ctx, "", "bench")
	if err != nil {
		return nil, fmt.Errorf("Switchboard: create the bench org: %w", err)
	}
	admin := op.WithKey(org.AdminKey)
	def, err := json.Marshal(appDefinition(upstreamURL))
	if err != nil {
		return nil, err
	}
	app, err := admin.RegisterApp(ctx, def, false)
	if err != nil {
		return nil, fmt.Errorf("Switchboard: register the bench app: %w", err)
	}
	for _, w := range app.Warnings {
		logf("Switchboard: warning about the bench app: %s at %s", w.Message, w.Location)
	}
	if _, err := admin.PutSettings(ctx, "bench", client.Settings{"default": {"authToken": benchToken}}); err != nil {
		return nil, fmt.Errorf("Switchboard: set the bench app's token: %w", err)
	}
	key, err := admin.CreateKey(ctx, "bench-agent", "agent")
	if err != nil {
		return nil, fmt.Errorf("Switchboard: create an agent key: %w", err)
	}
	sb.agentKey = key.Key

	// Warm the cached command, then take the bytes of a hit.
	rq, err := newRequest(url+cachedPath, map[string]string{"Authorization": "Bearer " + sb.agentKey}, []byte(runBody))
	if err != nil {
		return nil, err
	}
	tr := loadTransport(1)
	defer tr.CloseIdleConnections()
	var buf bytes.Buffer
	rq.wantBody = []string{`"status":200`, `"cache":"miss"`}
	if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
		return nil, fmt.Errorf("Switchboard: first run of bench.cached: %w%s", err, tailFile(logPath, 5))
	}
	rq.wantBody = []string{`"status":200`, `"cache":"hit"`}
	if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
		return nil, fmt.Errorf("Switchboard: second run of bench.cached: %w", err)
	}
	sb.cachedAnswer = bytes.Clone(buf.Bytes())
	e.note(`%s: bench.cached's first run answered "cache":"miss", the second "cache":"hit": %s`, name, buf.Bytes())

	// One audited run, then its entry must be in the audit log.
	rq.url.Path = auditedPath
	rq.wantBody = []string{`"status":200`, `"cache":"none"`}
	if _, err := roundTrip(ctx, tr, rq, &buf); err != nil {
		return nil, fmt.Errorf("Switchboard: a run of bench.audited: %w", err)
	}
	entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("Switchboard: read the audit log: %w", err)
	}
	found := ""
	for _, en := range entries {
		if strings.HasSuffix(en.Command, ".audited") {
			found = en.Command
			break
		}
	}
	if found == "" {
		return nil, fmt.Errorf("Switchboard: the run of bench.audited left no audit entry (%d entries)", len(entries))
	}
	e.note("%s: a run of bench.audited wrote an audit entry for %s before answering", name, found)
	return sb, nil
}

// buildSwitchboard builds cmd/switchboard of the repository into the
// temporary directory.
func buildSwitchboard(ctx context.Context, cfg *config, e *env) (string, error) {
	repo, err := filepath.Abs(cfg.repo)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(repo, "cmd", "switchboard")); err != nil {
		return "", fmt.Errorf("-repo %s is not the Switchboard repository (no cmd/switchboard); pass -repo or -switchboard", repo)
	}
	bin := filepath.Join(cfg.tmp, "switchboard")
	logf("building Switchboard from %s", repo)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/switchboard")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build Switchboard (go build ./cmd/switchboard in %s): %w\n%s", repo, err, out)
	}
	rev := "unknown commit"
	if out, err := exec.Command("git", "-C", repo, "rev-parse", "--short", "HEAD").Output(); err == nil {
		rev = "commit " + strings.TrimSpace(string(out))
		if out, err := exec.Command("git", "-C", repo, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(out)) > 0 {
			rev += " with uncommitted changes"
		}
	}
	e.note("Switchboard built from %s", rev)
	return bin, nil
}

// appDefinition is the bench app: the same command cached, uncached, and
// uncached with audit logging.
func appDefinition(upstreamURL string) map[string]any {
	command := func(name string, extra map[string]any) map[string]any {
		c := map[string]any{
			"name":          name,
			"permittedArgs": []string{"store"},
			"url":           upstreamURL + "/orders?store={{store}}",
			"httpMethod":    "post",
			"appSettings":   map[string]any{"authToken": map[string]any{"key": "bench.default.authToken"}},
			"inputSchema": map[string]any{
				"type":                 "object",
				"properties":           map[string]any{"foo": map[string]any{"type": "string"}},
				"additionalProperties": false,
				"required":             []string{"foo"},
			},
			"outputSchema": map[string]any{
				"type":                 "object",
				"properties":           map[string]any{"foo": map[string]any{"type": "string"}},
				"additionalProperties": true,
			},
		}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	return map[string]any{
		"app":     "bench",
		"version": "1.0.0",
		"title":   "Bench",
		"commands": []any{
			command("cached", map[string]any{"cacheSeconds": 600}),
			command("uncached", nil),
			command("audited", map[string]any{"auditLogging": true}),
		},
	}
}

// envWithout is the harness's environment less the variables with prefix.
func envWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
