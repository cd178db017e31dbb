// Package apptest runs the cases of a fixtures file against an app
// definition offline: each case runs through a whole Switchboard instance
// (internal/server: registration, settings, the runner's templates, URL
// rules, schemas and output templates), whose every outbound request goes
// to a local upstream that answers from the recorded responses or the
// file's routes, and is compared with what the case expects. With Record,
// the local upstream forwards each request to the live upstream instead and
// keeps its answer, secrets scrubbed, in the file. `switchboard apps test`
// is its command; docs/apptest.md describes the format.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/server"
)

// Options says what to test and how.
type Options struct {
	// Definition is the app definition, as registered.
	Definition []byte
	// File is the fixtures file, FixturesPath where it lives (for messages
	// and for Save).
	File         *File
	FixturesPath string
	// Record runs every case against the live upstream and keeps each
	// response in File (the caller saves it).
	Record bool
	// LiveSettings are the settings the live upstream needs (Record only):
	// {"<category>": {"<name>": value}}, laid over each case's own. They
	// are never written to the file.
	LiveSettings *jsonv.Object
	// AllowPrivateNetworks lets a recording reach an upstream on loopback
	// or a private network.
	AllowPrivateNetworks bool
	// UpstreamTimeout bounds each call to the live upstream (Record only;
	// 0: outbound's default).
	UpstreamTimeout time.Duration
	// Out receives the report: a line per case, a diff per failure.
	Out io.Writer
	// Only runs the cases whose name contains it ("" runs all).
	Only string
}

// Result counts the cases.
type Result struct {
	Passed, Failed, Recorded int
}

// Run runs the cases of o.File. It returns an error when the run could not
// be made at all (a definition that does not register is one); failing
// cases are counted in Result and reported to o.Out.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	up, err := startUpstream()
	if err != nil {
		return nil, fmt.Errorf("start the local upstream: %w", err)
	}
	defer up.Close()
	var live *outbound.Client
	if o.Record {
		live = outbound.New(outbound.Config{AllowPrivateNetworks: o.AllowPrivateNetworks, Timeout: o.UpstreamTimeout})
		defer live.CloseIdleConnections()
	}
	opKey := operatorKey()
	in, dir, err := newInstance(ctx, up, opKey)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	defer in.Close()
	t := &tester{o: o, in: in, up: up, live: live, operator: opKey}
	res := &Result{}
	for i, c := range o.File.Cases {
		if o.Only != "" && !strings.Contains(c.Name, o.Only) {
			continue
		}
		ok, err := t.runCase(ctx, i, c)
		if err != nil {
			return res, err
		}
		if ok {
			res.Passed++
		} else {
			res.Failed++
		}
		if t.recorded {
			res.Recorded++
		}
	}
	return res, nil
}

// newInstance builds an instance on a fresh SQLite database in a temporary
// directory, whose outbound client sends everything to up and trusts up's
// CA.
func newInstance(ctx context.Context, up *upstream, opKey string) (*server.Instance, string, error) {
	dir, err := os.MkdirTemp("", "switchboard-apptest-")
	if err != nil {
		return nil, "", err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	in, err := server.New(ctx, server.Config{
		Data:        dir,
		Addr:        "127.0.0.1:0",
		CacheBytes:  16 << 20,
		OperatorKey: opKey,
		SecretKeys:  [][]byte{secret},
		Outbound:    &outbound.Config{AllowPrivateNetworks: true, DialAddr: up.Addr(), RootCAs: up.ca.pool},
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start an instance to test on: %w", err)
	}
	return in, dir, nil
}

func operatorKey() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "sbo_apptest_" + hex.EncodeToString(b)
}

type tester struct {
	o    Options
	in   *server.Instance
	up   *upstream
	live *outbound.Client
	// operator is the instance's operator key, which creates the orgs.
	operator string
	liveErr  error  // the live upstream's failure in the case being recorded
	recorded bool   // whether the case being recorded kept a response
	app      string // the bare app id, once registered
}

// call sends one request to the instance's API, as a client would.
func (t *tester) call(ctx context.Context, method, path, key string, body []byte) (int, any, error) {
	req := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	t.in.Handler.ServeHTTP(rec, req)
	var doc any
	if rec.Body.Len() > 0 {
		var err error
		if doc, err = jsonv.Decode(rec.Body.Bytes()); err != nil {
			doc = rec.Body.String()
		}
	}
	return rec.Code, doc, nil
}

func (t *tester) mustCall(ctx context.Context, what, method, path, key string, body any, want int) (any, error) {
	b, err := marshal(body)
	if err != nil {
		return nil, err
	}
	status, doc, err := t.call(ctx, method, path, key, b)
	if err != nil {
		return nil, err
	}
	if status != want {
		return doc, &setupError{what: what, status: status, doc: doc}
	}
	return doc, nil
}

// setupError is a step before the run that the instance refused: the
// definition does not register, a setting does not take.
type setupError struct {
	what   string
	status int
	doc    any
}

func (e *setupError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d", e.what, e.status)
	if d, _ := jsonv.Get(e.doc, "detail"); d != nil {
		fmt.Fprintf(&b, " %v", d)
	}
	if errs, ok := jsonv.Get(e.doc, "errors"); ok {
		list, _ := errs.([]any)
		for _, p := range list {
			loc, _ := jsonv.Get(p, "location")
			msg, _ := jsonv.Get(p, "message")
			line, _ := jsonv.Get(p, "line")
			col, _ := jsonv.Get(p, "column")
			if line != nil {
				fmt.Fprintf(&b, "\n  %v:%v %v: %v", line, col, loc, msg)
			} else {
				fmt.Fprintf(&b, "\n  %v: %v", loc, msg)
			}
		}
	}
	return b.String()
}

// runCase runs one case in an org of its own (so that no case sees
// another's settings or cached answers) and reports it.
func (t *tester) runCase(ctx context.Context, i int, c *Case) (bool, error) {
	org := "case" + strconv.Itoa(i)
	created, err := t.mustCall(ctx, "create an org", "POST", "/v1/orgs", t.operator,
		map[string]any{"id": org, "name": "apps test case " + strconv.Itoa(i)}, http.StatusCreated)
	if err != nil {
		return false, err
	}
	key, _ := jsonv.Get(created, "adminKey")
	admin, _ := key.(string)
	reg, err := t.mustCallAny(ctx, "register the definition", "POST", "/v1/apps/available", admin, t.o.Definition)
	if err != nil {
		return false, err
	}
	if t.app == "" {
		id, _ := jsonv.Get(reg, "app")
		s, _ := id.(string)
		t.app = appdef.Bare(s, org)
	}
	settings := c.Settings
	if t.o.Record && t.o.LiveSettings != nil {
		settings = overlay(settings, t.o.LiveSettings)
	}
	var secrets []secret
	if settings.Len() > 0 {
		if _, err := t.mustCall(ctx, "set the case's settings", "PUT", "/v1/apps/"+t.app+"/settings", admin, settings, http.StatusOK); err != nil {
			var se *setupError
			if !errors.As(err, &se) {
				return false, caseError(t.o.FixturesPath, c, err)
			}
			// The instance refused the settings (a number for a boolean):
			// the case fails, the others run.
			fmt.Fprintf(t.o.Out, "FAIL %s (%s %s)\n    %s\n", c.Name, place(t.o.FixturesPath, c), c.Pointer,
				strings.ReplaceAll(se.Error(), "\n", "\n    "))
			return false, nil
		}
	}
	if secrets, err = t.secrets(ctx, admin, settings, c.Settings); err != nil {
		return false, err
	}

	answer := t.replay(c, secrets)
	if t.o.Record {
		answer = t.record(c, secrets)
	}
	t.liveErr, t.recorded = nil, false
	t.up.begin(answer)
	status, doc, err := t.run(ctx, admin, c)
	got := t.up.end()
	if err != nil {
		return false, err
	}
	var mismatches []Mismatch
	mismatches = append(mismatches, checkRequest(c, got, secrets)...)
	switch {
	case status >= 300 && c.Expect.Problem == nil:
		mismatches = append(mismatches, Mismatch{Part: "answer", Want: "an answer", Got: fmt.Sprintf("a %d refusal (%s)", status, show(jsonvGet(doc, "code")))})
	case status >= 300:
		mismatches = append(mismatches, matchProblem(c.Expect.Problem, doc)...)
	case c.Expect.Problem != nil:
		mismatches = append(mismatches, Mismatch{Part: "problem", Want: show(c.Expect.Problem), Got: "an answer: " + show(doc)})
	case c.Expect.Answer != nil:
		mismatches = append(mismatches, matchDocument("answer", c.Expect.Answer, doc)...)
	}
	t.report(c, mismatches, got, secrets, status, doc)
	return len(mismatches) == 0, nil
}

// mustCallAny is mustCall for a registration, which answers 201 for a new
// version and 200 for one registered before.
func (t *tester) mustCallAny(ctx context.Context, what, method, path, key string, raw []byte) (any, error) {
	status, doc, err := t.call(ctx, method, path, key, raw)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return doc, &setupError{what: what, status: status, doc: doc}
	}
	return doc, nil
}

func caseError(file string, c *Case, err error) error {
	return fmt.Errorf("%s: case %q (%s): %w", place(file, c), c.Name, c.Pointer, err)
}

func place(file string, c *Case) string {
	if c.Line > 0 {
		return fmt.Sprintf("%s:%d:%d", file, c.Line, c.Column)
	}
	return file
}

// run runs the case's command or action as a client would, trying the
// name as given and then with the app's id before it.
func (t *tester) run(ctx context.Context, key string, c *Case) (int, any, error) {
	name, kind := c.Command, "commands"
	body := jsonv.NewObject(3)
	if c.Action != "" {
		name, kind = c.Action, "actions"
		if c.Input != nil {
			body.Set("input", c.Input)
		}
	} else {
		if c.Args != nil {
			body.Set("args", c.Args)
		}
		if c.Headers != nil {
			body.Set("headers", c.Headers)
		}
		if c.HasBody {
			body.Set("body", c.Body)
		}
	}
	b, err := marshal(body)
	if err != nil {
		return 0, nil, err
	}
	var status int
	var doc any
	for _, n := range []string{name, t.app + "." + name} {
		if status, doc, err = t.call(ctx, "POST", "/v1/"+kind+"/"+url.PathEscape(n)+"/run", key, b); err != nil {
			return 0, nil, err
		}
		if code, _ := jsonv.Get(doc, "code"); status != http.StatusNotFound || code != string(switchboard.CodeNotFound) {
			break
		}
	}
	return status, doc, nil
}

// report prints a case's outcome: one line when it passed, the line, each
// mismatch and what happened when it failed.
func (t *tester) report(c *Case, ms []Mismatch, got []*captured, secrets []secret, status int, doc any) {
	verb := "ok  "
	if t.recorded {
		verb = "rec "
	}
	if len(ms) == 0 {
		fmt.Fprintf(t.o.Out, "%s %s\n", verb, c.Name)
		return
	}
	fmt.Fprintf(t.o.Out, "FAIL %s (%s %s)\n", c.Name, place(t.o.FixturesPath, c), c.Pointer)
	for _, m := range ms {
		fmt.Fprintf(t.o.Out, "    %s\n", m)
	}
	fmt.Fprintf(t.o.Out, "    the run answered %d: %s\n", status, show(doc))
	for _, r := range got {
		fmt.Fprintf(t.o.Out, "    the upstream received: %s %s\n", r.Method, hideSecrets(r.URL, secrets))
	}
	if t.liveErr != nil {
		fmt.Fprintf(t.o.Out, "    the live upstream: %v\n", t.liveErr)
	}
}

// secret is a secret setting's value and the name it is shown as.
type secret struct {
	name  string // "<category>.<name>"
	value string
}

// secrets finds which of the settings are secret, as the instance decides
// it (declared secret, or read through appSettings), and their values in
// every set given (the case's own and, when recording, the live ones).
func (t *tester) secrets(ctx context.Context, key string, sets ...*jsonv.Object) ([]secret, error) {
	doc, err := t.mustCall(ctx, "read the settings", "GET", "/v1/apps/"+t.app+"/settings", key, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var out []secret
	jsonv.Range(doc, func(cat string, names any) bool {
		jsonv.Range(names, func(name string, v any) bool {
			if s, _ := jsonv.Get(v, "secret"); s != true {
				return true
			}
			for _, set := range sets {
				cv, _ := set.Get(cat)
				if sv, ok := jsonv.Get(cv, name); ok && sv != nil {
					if s := valueString(sv); s != "" {
						out = append(out, secret{name: cat + "." + name, value: s})
					}
				}
			}
			return true
		})
		return true
	})
	// The longest first, so that a secret inside another is not replaced
	// in part.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].value) > len(out[j].value) })
	return out, nil
}

func jsonvGet(v any, key string) any {
	x, _ := jsonv.Get(v, key)
	return x
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// overlay returns base with top's values laid over it, except where base
// says null: a case that unsets a setting tests what happens without it,
// live or not.
func overlay(base, top *jsonv.Object) *jsonv.Object {
	out := jsonv.Clone(base).(*jsonv.Object)
	for _, cat := range top.Members {
		into, _ := out.Get(cat.Key)
		io, ok := into.(*jsonv.Object)
		if !ok {
			io = jsonv.NewObject(0)
			out.Set(cat.Key, io)
		}
		jsonv.Range(cat.Value, func(k string, v any) bool {
			if was, set := io.Get(k); !set || was != nil {
				io.Set(k, v)
			}
			return true
		})
	}
	return out
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok {
		return b, nil
	}
	return jsonv.Marshal(v)
}
