package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/appdef"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// MaxDeliveryBytes caps a hook delivery's body (SPEC 12: over 400 KB is a
// 413).
const MaxDeliveryBytes = 400 << 10

// SignatureHeader carries a web hook's HMAC-SHA256 signature of the body,
// hex, optionally prefixed "sha256=".
const SignatureHeader = "X-Switchboard-Signature"

// Hook is one hook of an installed app with its URL's id; Secret is set
// only when this call made it (it is shown once).
type Hook struct {
	ID               string
	EventName        string
	DisplayEventName string
	Description      string
	Type             string
	Secret           string
	CreatedAt        time.Time
}

// installedApp finds an app installed for the org by its id, bare or
// namespaced.
func (e *Engine) installedApp(ctx context.Context, orgID, name string) (*registry.Installed, error) {
	state, err := e.reg.Org(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, id := range []string{appdef.Namespace(appdef.Bare(name, orgID), orgID), name} {
		if inst := state.App(id); inst != nil {
			return inst, nil
		}
	}
	return nil, &switchboard.Error{Code: switchboard.CodeNotFound,
		Detail: fmt.Sprintf("app %q is not installed for your org (GET /v1/apps/installed lists those that are)", name)}
}

// Hooks lists the hooks of an installed app with their URLs, making the
// URL (and a web hook's secret, returned this once) of any hook that has
// none yet.
func (e *Engine) Hooks(ctx context.Context, p *switchboard.Principal, app string) ([]Hook, error) {
	inst, err := e.installedApp(ctx, p.OrgID, app)
	if err != nil {
		return nil, err
	}
	want := make([]switchboard.HookEndpoint, len(inst.App.Hooks))
	secrets := make([]string, len(inst.App.Hooks))
	for i, h := range inst.App.Hooks {
		want[i] = switchboard.HookEndpoint{ID: newHookID(), OrgID: p.OrgID, AppID: inst.App.ID, EventName: h.EventName, CreatedAt: e.now()}
		if h.Type == appdef.HookWeb {
			secrets[i] = registry.NewSecret("whsec_")
			want[i].Secret = e.cfg.Box.Seal([]byte(secrets[i]), switchboard.HookAAD(p.OrgID, inst.App.ID, h.EventName))
		}
	}
	stored, created, err := e.store.EnsureHooks(ctx, want)
	if err != nil {
		return nil, err
	}
	out := make([]Hook, len(stored))
	for i, h := range inst.App.Hooks {
		out[i] = Hook{ID: stored[i].ID, EventName: h.EventName, DisplayEventName: h.DisplayEventName, Description: h.Description,
			Type: h.Type, CreatedAt: stored[i].CreatedAt}
		if created[i] {
			out[i].Secret = secrets[i]
		}
	}
	return out, nil
}

// newHookID is a hook URL's id: 32 random bytes, so that it cannot be
// guessed.
func newHookID() string { return registry.NewSecret("hk_") }

// RegenerateHook gives an app's hook (named by its event, or by its
// current id) a new URL and, for a web hook, a new secret; the old URL
// stops working at once.
func (e *Engine) RegenerateHook(ctx context.Context, p *switchboard.Principal, app, hook string) (Hook, error) {
	hooks, err := e.Hooks(ctx, p, app)
	if err != nil {
		return Hook{}, err
	}
	inst, _ := e.installedApp(ctx, p.OrgID, app)
	for _, h := range hooks {
		local := strings.TrimPrefix(h.EventName, "kustomer.app."+inst.App.ID+".")
		if hook != h.ID && hook != h.EventName && hook != local {
			continue
		}
		out := h
		out.ID, out.Secret = newHookID(), ""
		var sealed []byte
		if h.Type == appdef.HookWeb {
			out.Secret = registry.NewSecret("whsec_")
			sealed = e.cfg.Box.Seal([]byte(out.Secret), switchboard.HookAAD(p.OrgID, inst.App.ID, h.EventName))
		}
		if _, err := e.store.RegenerateHook(ctx, p.OrgID, inst.App.ID, h.EventName, out.ID, sealed); err != nil {
			return Hook{}, err
		}
		return out, nil
	}
	return Hook{}, &switchboard.Error{Code: switchboard.CodeNotFound,
		Detail: fmt.Sprintf("app %s has no hook %q (GET /v1/apps/%s/hooks lists them)", app, hook, app)}
}

// Delivery is one POST to a hook's URL.
type Delivery struct {
	Body           []byte
	Header         http.Header
	IdempotencyKey string
}

// Delivered is the outcome of a delivery: the event's id, and the runs it
// started (none for a repeated Idempotency-Key).
type Delivered struct {
	EventID   string
	Duplicate bool
	Runs      []string
}

// hookNotFound is the answer for an unknown id, an uninstalled app or a
// hook its installed version no longer has: the same 404 for each.
var hookNotFound = &switchboard.Error{Code: switchboard.CodeNotFound,
	Detail: "no hook has this URL: the app may have been uninstalled or the URL regenerated (GET /v1/apps/{app}/hooks lists the current URLs)"}

// Deliver turns a delivery into a durable event and starts, in the same
// transaction, the enabled workflows whose trigger names its event. It
// returns once all of that has committed.
func (e *Engine) Deliver(ctx context.Context, hookID string, d Delivery) (Delivered, error) {
	ep, err := e.store.HookEndpoint(ctx, hookID)
	if switchboard.IsNotFound(err) {
		e.m.delivery("refused")
		return Delivered{}, hookNotFound
	}
	if err != nil {
		return Delivered{}, err
	}
	state, err := e.reg.Org(ctx, ep.OrgID)
	if err != nil {
		return Delivered{}, err
	}
	inst := state.App(ep.AppID)
	var hook *appdef.Hook
	if inst != nil {
		hook = inst.App.Hook(ep.EventName)
	}
	if hook == nil {
		e.m.delivery("refused")
		return Delivered{}, hookNotFound
	}
	if hook.Type == appdef.HookWeb {
		if err := e.authenticate(ep, d); err != nil {
			e.m.delivery("refused")
			return Delivered{}, err
		}
	}
	data, err := parseBody(d.Body, d.Header.Get("Content-Type"))
	if err != nil {
		e.m.delivery("refused")
		return Delivered{}, err
	}
	now := e.now()
	evID := registry.NewID("evt")
	attrs := jsonv.NewObject(4)
	attrs.Set("data", data)
	attrs.Set("headers", eventHeaders(d.Header))
	attrs.Set("receivedAt", now.UTC().Format(time.RFC3339Nano))
	attrs.Set("hook", ep.ID)
	event := jsonv.NewObject(3)
	event.Set("id", evID)
	event.Set("type", "hook_event")
	event.Set("attributes", attrs)
	enc, err := jsonv.Marshal(event)
	if err != nil {
		return Delivered{}, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the body cannot be stored as JSON", Err: err}
	}
	// The trigger's output, and the workflows to start, are known before
	// the transaction: it only writes.
	var output any = event
	if t := inst.App.Trigger(ep.EventName); t != nil {
		output = t.Render(jsonv.Clone(attrs))
	}
	type start struct {
		inst *registry.Installed
		w    *appdef.Workflow
	}
	var starts []start
	for _, in := range state.Apps() {
		for _, w := range in.App.Workflows {
			if w.Enabled && w.EventName == ep.EventName {
				starts = append(starts, start{in, w})
			}
		}
	}
	out := Delivered{}
	runs := make([]sqlstore.RunStart, len(starts))
	var runErr error // a duplicate delivery answers as such all the same
	for i, s := range starts {
		if runs[i], runErr = e.newRun(s.inst, s.w, jsonv.Clone(output), evID); runErr != nil {
			break
		}
	}
	ev := switchboard.HookEvent{ID: evID, OrgID: ep.OrgID, HookID: ep.ID, IdempotencyKey: d.IdempotencyKey, ReceivedAt: now, Event: enc}
	err = e.store.InTx(ctx, func(tx sqlstore.Tx) error {
		id, dup, err := sqlstore.DuplicateEvent(ctx, tx, ev)
		if err != nil {
			return err
		}
		if dup {
			out.EventID, out.Duplicate = id, true
			return nil
		}
		out.EventID = evID
		if runErr != nil {
			return runErr
		}
		return e.begin(ctx, tx, &ev, runs)
	})
	if err != nil {
		return Delivered{}, err
	}
	if out.Duplicate {
		e.m.delivery("duplicate")
		return out, nil
	}
	e.m.delivery("accepted")
	for _, r := range runs {
		out.Runs = append(out.Runs, r.Run.ID)
		e.started(r.Run)
	}
	return out, nil
}

// authenticate checks a web hook's secret: Authorization: Bearer <secret>,
// or an HMAC-SHA256 of the body keyed with it in X-Switchboard-Signature.
func (e *Engine) authenticate(ep switchboard.HookEndpoint, d Delivery) error {
	refuse := &switchboard.Error{Code: switchboard.CodeUnauthorized,
		Detail: "this web hook needs its secret: send Authorization: Bearer <secret>, or X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the body keyed with the secret> (POST /v1/apps/{app}/hooks/{hook}/regenerate makes a new secret)"}
	if len(ep.Secret) == 0 {
		return refuse
	}
	secret, err := e.cfg.Box.Open(ep.Secret, switchboard.HookAAD(ep.OrgID, ep.AppID, ep.EventName))
	if err != nil {
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: "this hook's secret cannot be opened with the server's key; regenerate the hook", Err: err}
	}
	if auth := d.Header.Get("Authorization"); auth != "" {
		if tok, ok := strings.CutPrefix(auth, "Bearer "); ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), secret) == 1 {
			return nil
		}
		return refuse
	}
	if sig := d.Header.Get(SignatureHeader); sig != "" {
		got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(sig), "sha256="))
		mac := hmac.New(sha256.New, secret)
		mac.Write(d.Body)
		if err == nil && hmac.Equal(got, mac.Sum(nil)) {
			return nil
		}
	}
	return refuse
}

// parseBody reads a delivery's body: JSON, or form data (an object of
// strings, arrays for repeated names); an empty body is null.
func parseBody(body []byte, contentType string) (any, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the form data does not parse: " + err.Error()}
		}
		keys := make([]string, 0, len(vals))
		for k := range vals {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := jsonv.NewObject(len(keys))
		for _, k := range keys {
			if vs := vals[k]; len(vs) == 1 {
				o.Set(k, vs[0])
			} else {
				arr := make([]any, len(vs))
				for i, v := range vs {
					arr[i] = v
				}
				o.Set(k, arr)
			}
		}
		return o, nil
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, nil
	}
	v, err := jsonv.Decode(body)
	if err != nil {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput,
			Detail: "the body is neither JSON nor form data (send Content-Type: application/json or application/x-www-form-urlencoded): " + err.Error()}
	}
	return v, nil
}

// eventHeaders are the delivery's headers as the event keeps them: lower
// case, without the credentials (Authorization, the signature, cookies).
func eventHeaders(h http.Header) *jsonv.Object {
	names := make([]string, 0, len(h))
	for k := range h {
		switch strings.ToLower(k) {
		case "authorization", "cookie", "proxy-authorization", strings.ToLower(SignatureHeader):
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	o := jsonv.NewObject(len(names))
	for _, k := range names {
		o.Set(strings.ToLower(k), strings.Join(h[k], ", "))
	}
	return o
}
