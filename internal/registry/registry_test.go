package registry_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/registry"
	"github.com/switchboardhq/switchboard/internal/secretbox"
	"github.com/switchboardhq/switchboard/internal/sqlite"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

const operatorKey = "registry-test-operator-key"

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// operator is the principal that Authenticate gives the operator key.
var operator = &switchboard.Principal{KeyID: "operator", KeyName: "operator", Role: switchboard.RoleOperator}

// mustRegistry returns a started Registry on its own SQLite database.
func mustRegistry(t *testing.T) (*registry.Registry, switchboard.Store) {
	t.Helper()
	r, store := newRegistry(t)
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r, store
}

// newRegistry returns a Registry on its own SQLite database, not started
// (listeners are registered before Start).
func newRegistry(t *testing.T) (*registry.Registry, switchboard.Store) {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	box, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return registry.New(registry.Config{Store: store, Box: box, OperatorKey: operatorKey, Now: func() time.Time { return testNow }}), store
}

// mustOrg creates an org and returns its admin principal and key.
func mustOrg(t *testing.T, r *registry.Registry, id string) (*switchboard.Principal, string) {
	t.Helper()
	_, key, err := r.CreateOrg(t.Context(), id, "")
	if err != nil {
		t.Fatalf("create org %q: %v", id, err)
	}
	p, err := r.Authenticate(key)
	if err != nil {
		t.Fatalf("authenticate the admin key of %q: %v", id, err)
	}
	return p, key
}

// mustRegister registers a definition for p and returns the stored version.
func mustRegister(t *testing.T, r *registry.Registry, p *switchboard.Principal, def []byte, public bool) switchboard.AppVersion {
	t.Helper()
	reg, err := r.Register(t.Context(), p, def, public)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	return reg.Version
}

func mustReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonv.Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code switchboard.Code) {
	t.Helper()
	if got := switchboard.ErrorCode(err); got != code {
		t.Fatalf("error = %v, want code %q", err, code)
	}
}

func TestCreateOrgAuthenticate(t *testing.T) {
	t.Parallel()
	r, _ := mustRegistry(t)
	ctx := t.Context()
	_, adminKey := mustOrg(t, r, "acme")

	t.Run("create", func(t *testing.T) {
		tests := []struct {
			name, id, orgName string
			wantCode          switchboard.Code
			want              switchboard.Org // ID "" means any random id
		}{
			{name: "named", id: "beta", orgName: "Beta Inc", want: switchboard.Org{ID: "beta", Name: "Beta Inc", CreatedAt: testNow}},
			{name: "name defaults to id", id: "gamma", want: switchboard.Org{ID: "gamma", Name: "gamma", CreatedAt: testNow}},
			{name: "random id", want: switchboard.Org{CreatedAt: testNow}},
			{name: "invalid id", id: "Acme!", wantCode: switchboard.CodeInvalidInput},
			{name: "taken id", id: "acme", wantCode: switchboard.CodeConflict},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				org, key, err := r.CreateOrg(ctx, tt.id, tt.orgName)
				if tt.wantCode != "" {
					wantCode(t, err, tt.wantCode)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tt.want.ID == "" {
					if !switchboard.ValidOrgID(org.ID) {
						t.Fatalf("random org id %q is not valid", org.ID)
					}
					tt.want.ID, tt.want.Name = org.ID, org.ID
				}
				if diff := cmp.Diff(tt.want, org); diff != "" {
					t.Errorf("org (-want +got):\n%s", diff)
				}
				p, err := r.Authenticate(key)
				if err != nil {
					t.Fatalf("the new admin key: %v", err)
				}
				if p.OrgID != org.ID || p.Role != switchboard.RoleAdmin || p.KeyName != "admin" {
					t.Errorf("principal = %+v", p)
				}
			})
		}
	})

	t.Run("authenticate", func(t *testing.T) {
		tests := []struct {
			name, key string
			want      *switchboard.Principal // nil: unauthorized
		}{
			{name: "admin key", key: adminKey, want: &switchboard.Principal{OrgID: "acme", KeyName: "admin", Role: switchboard.RoleAdmin}},
			{name: "operator key", key: operatorKey, want: operator},
			{name: "wrong key", key: adminKey + "x"},
			{name: "a prefix of the key", key: adminKey[:len(adminKey)-1]},
			{name: "empty key", key: ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p, err := r.Authenticate(tt.key)
				if tt.want == nil {
					wantCode(t, err, switchboard.CodeUnauthorized)
					if p != nil {
						t.Errorf("principal = %+v with an error", p)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := *p
				if tt.want != operator {
					if !strings.HasPrefix(got.KeyID, "key_") {
						t.Errorf("key id = %q", got.KeyID)
					}
					got.KeyID = ""
				}
				if diff := cmp.Diff(*tt.want, got); diff != "" {
					t.Errorf("principal (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	r, _ := mustRegistry(t)
	ctx := t.Context()
	admin, _ := mustOrg(t, r, "acme")
	other, _ := mustOrg(t, r, "beta")

	for _, role := range []switchboard.Role{switchboard.RoleAdmin, switchboard.RoleAgent, switchboard.RoleAuditor} {
		t.Run(string(role), func(t *testing.T) {
			k, key, err := r.CreateKey(ctx, admin, "test "+string(role), role)
			if err != nil {
				t.Fatal(err)
			}
			if k.OrgID != "acme" || k.Role != role || k.Hash != registry.HashKey(key) || !k.CreatedAt.Equal(testNow) {
				t.Errorf("key = %+v", k)
			}
			p, err := r.Authenticate(key)
			if err != nil {
				t.Fatal(err)
			}
			want := switchboard.Principal{OrgID: "acme", KeyID: k.ID, KeyName: "test " + string(role), Role: role}
			if diff := cmp.Diff(want, *p); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
			// Another org cannot revoke it.
			wantCode(t, r.DeleteKey(ctx, other, k.ID), switchboard.CodeNotFound)
			if _, err := r.Authenticate(key); err != nil {
				t.Fatalf("after another org's delete: %v", err)
			}
			if err := r.DeleteKey(ctx, admin, k.ID); err != nil {
				t.Fatal(err)
			}
			// At once: DeleteKey returns after the registry has applied it.
			_, err = r.Authenticate(key)
			wantCode(t, err, switchboard.CodeUnauthorized)
			wantCode(t, r.DeleteKey(ctx, admin, k.ID), switchboard.CodeNotFound)
		})
	}

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name, keyName string
			role          switchboard.Role
			locations     []string
		}{
			{name: "operator role", keyName: "k", role: switchboard.RoleOperator, locations: []string{"/role"}},
			{name: "unknown role", keyName: "k", role: "root", locations: []string{"/role"}},
			{name: "blank name", keyName: "  ", role: switchboard.RoleAgent, locations: []string{"/name"}},
			{name: "long name", keyName: strings.Repeat("k", 129), role: switchboard.RoleAgent, locations: []string{"/name"}},
			{name: "both", role: "", locations: []string{"/name", "/role"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := r.CreateKey(ctx, admin, tt.keyName, tt.role)
				wantCode(t, err, switchboard.CodeInvalidInput)
				if diff := cmp.Diff(tt.locations, locations(err)); diff != "" {
					t.Errorf("problem locations (-want +got):\n%s", diff)
				}
			})
		}
	})

	keys, err := r.Keys(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Name != "admin" {
		t.Errorf("keys left = %+v, want the admin key only", keys)
	}
}

func locations(err error) []string {
	var out []string
	if e, ok := err.(*switchboard.Error); ok {
		for _, p := range e.Problems {
			out = append(out, p.Location)
		}
	}
	return out
}

func TestRegisterPrivateApp(t *testing.T) {
	t.Parallel()
	r, _ := mustRegistry(t)
	ctx := t.Context()
	acme, _ := mustOrg(t, r, "acme")
	beta, _ := mustOrg(t, r, "beta")
	def := mustReadFile(t, "../../testdata/apps/ecommstore.json")

	v := mustRegister(t, r, acme, def, false)
	if v.AppID != "ecommstore_acme" || v.OrgID != "acme" || v.Visibility != switchboard.Private || v.Version != "0.0.1" {
		t.Fatalf("registered = %+v", v)
	}
	// The same definition again is no new version; another org's own
	// "ecommstore" is another app.
	again, err := r.Register(ctx, acme, def, false)
	if err != nil || again.Created || again.Version.AppID != v.AppID {
		t.Fatalf("registering again = %+v, %v", again, err)
	}
	if got := mustRegister(t, r, beta, def, false).AppID; got != "ecommstore_beta" {
		t.Fatalf("beta's app id = %q", got)
	}

	tests := []struct {
		name   string
		p      *switchboard.Principal
		app    string
		wantID string // "": not found
	}{
		{"bare name", acme, "ecommstore", "ecommstore_acme"},
		{"namespaced name", acme, "ecommstore_acme", "ecommstore_acme"},
		{"another org's bare name is its own app", beta, "ecommstore", "ecommstore_beta"},
		{"another org's namespaced name", beta, "ecommstore_acme", ""},
		{"a name that does not exist", acme, "nosuchapp", ""},
		{"the operator sees no private app", operator, "ecommstore_acme", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, versions, err := r.App(ctx, tt.p, tt.app)
			_, verr := r.AppVersion(ctx, tt.p, tt.app, "0.0.1")
			_, ierr := r.Install(ctx, tt.p, tt.app, "")
			if tt.wantID == "" {
				wantCode(t, err, switchboard.CodeNotFound)
				wantCode(t, verr, switchboard.CodeNotFound)
				wantCode(t, ierr, switchboard.CodeNotFound)
				return
			}
			if err != nil || verr != nil || ierr != nil {
				t.Fatalf("App: %v; AppVersion: %v; Install: %v", err, verr, ierr)
			}
			if got.AppID != tt.wantID || len(versions) != 1 {
				t.Errorf("App = %s with %d versions, want %s with 1", got.AppID, len(versions), tt.wantID)
			}
		})
	}

	list, err := r.Apps(ctx, beta)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if a.AppID == "ecommstore_acme" {
			t.Errorf("beta's app list shows acme's private app: %+v", list)
		}
	}
}

func TestInstallUninstall(t *testing.T) {
	t.Parallel()
	r, _ := mustRegistry(t)
	ctx := t.Context()
	acme, _ := mustOrg(t, r, "acme")
	mustRegister(t, r, operator, []byte(`{"app":"weather","version":"1.0.0","title":"Weather"}`), true)
	mustRegister(t, r, operator, []byte(`{"app":"weather","version":"1.1.0","title":"Weather 1.1"}`), true)
	// A private app is installed for its org when it is registered.
	mustRegister(t, r, acme, mustReadFile(t, "../../testdata/apps/ecommstore.json"), false)

	installed := func(t *testing.T) map[string]string {
		t.Helper()
		state, err := r.Org(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, in := range state.Apps() {
			m[in.AppID] = in.Version
			if state.App(in.AppID) != in {
				t.Errorf("state.App(%q) is not the listed install", in.AppID)
			}
		}
		list, err := r.Installed(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(m) {
			t.Errorf("Installed lists %d apps, the org state %d", len(list), len(m))
		}
		return m
	}

	tests := []struct {
		name     string
		do       func() error
		wantCode switchboard.Code
		want     map[string]string // app id -> installed version
	}{
		{"registered private app", func() error { return nil }, "",
			map[string]string{"ecommstore_acme": "0.0.1"}},
		{"install a version", func() error { _, err := r.Install(ctx, acme, "weather", "1.0.0"); return err }, "",
			map[string]string{"ecommstore_acme": "0.0.1", "weather": "1.0.0"}},
		{"install the latest", func() error { _, err := r.Install(ctx, acme, "weather", ""); return err }, "",
			map[string]string{"ecommstore_acme": "0.0.1", "weather": "1.1.0"}},
		{"install a missing version", func() error { _, err := r.Install(ctx, acme, "weather", "9.0.0"); return err }, switchboard.CodeNotFound,
			map[string]string{"ecommstore_acme": "0.0.1", "weather": "1.1.0"}},
		{"uninstall", func() error { return r.Uninstall(ctx, acme, "weather") }, "",
			map[string]string{"ecommstore_acme": "0.0.1"}},
		{"uninstall again", func() error { return r.Uninstall(ctx, acme, "weather") }, switchboard.CodeNotFound,
			map[string]string{"ecommstore_acme": "0.0.1"}},
		{"uninstall a private app", func() error { return r.Uninstall(ctx, acme, "ecommstore") }, "",
			map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.do(), tt.wantCode)
			if diff := cmp.Diff(tt.want, installed(t)); diff != "" {
				t.Errorf("installed (-want +got):\n%s", diff)
			}
		})
	}
}

const settingsApp = `{"app":"shop","version":"1.0.0","title":"Shop",
	"settings":{"default":{
		"token":{"type":"secret"},
		"retries":{"type":"number","defaultValue":3},
		"region":{"type":"string","defaultValue":"eu"},
		"live":{"type":"boolean"}}}}`

func TestSettings(t *testing.T) {
	t.Parallel()
	r, store := mustRegistry(t)
	ctx := t.Context()
	acme, _ := mustOrg(t, r, "acme")
	mustRegister(t, r, acme, []byte(settingsApp), false)
	const secret = "s3cr3t-value"

	settings := func(t *testing.T) string {
		t.Helper()
		s, err := r.Settings(ctx, acme, "shop")
		if err != nil {
			t.Fatal(err)
		}
		b, err := jsonv.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	unset := `{"default":{"live":null,"region":"eu","retries":3,"token":{"secret":true,"set":false}}}`
	if got := settings(t); got != unset {
		t.Fatalf("settings before any put:\n got %s\nwant %s", got, unset)
	}

	t.Run("refused", func(t *testing.T) {
		tests := []struct {
			name, body string
			locations  []string
		}{
			{"number as string", `{"default":{"retries":"five"}}`, []string{"/default/retries"}},
			{"boolean as string", `{"default":{"live":"yes"}}`, []string{"/default/live"}},
			{"secret as number", `{"default":{"token":42}}`, []string{"/default/token"}},
			{"undeclared non-string", `{"default":{"extra":5}}`, []string{"/default/extra"}},
			{"category not an object", `{"default":"x"}`, []string{"/default"}},
			{"dot in a name", `{"default":{"a.b":"x"}}`, []string{"/default/a.b"}},
			{"not an object", `["default"]`, nil},
			// One bad value refuses the whole put: the good one is not saved.
			{"one good one bad", `{"default":{"region":"us","retries":true}}`, []string{"/default/retries"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := r.PutSettings(ctx, acme, "shop", mustDecode(t, tt.body))
				wantCode(t, err, switchboard.CodeInvalidInput)
				if diff := cmp.Diff(tt.locations, locations(err)); diff != "" {
					t.Errorf("problem locations (-want +got):\n%s", diff)
				}
				if got := settings(t); got != unset {
					t.Errorf("settings after a refused put = %s", got)
				}
			})
		}
	})

	t.Run("secret never returned", func(t *testing.T) {
		body := `{"default":{"token":"` + secret + `","retries":5,"live":true,"note":"hi"}}`
		if err := r.PutSettings(ctx, acme, "shop", mustDecode(t, body)); err != nil {
			t.Fatal(err)
		}
		got := settings(t)
		want := `{"default":{"live":true,"note":"hi","region":"eu","retries":5,"token":{"secret":true,"set":true}}}`
		if got != want {
			t.Errorf("settings:\n got %s\nwant %s", got, want)
		}
		if strings.Contains(got, secret) {
			t.Errorf("Settings shows the secret: %s", got)
		}
		// Stored encrypted.
		stored, err := store.Settings(ctx, "acme", "shop_acme")
		if err != nil {
			t.Fatal(err)
		}
		for _, sv := range stored {
			if sv.Name == "token" && (!sv.Secret || sv.Value != nil || bytes.Contains(sv.Ciphertext, []byte(secret))) {
				t.Errorf("the secret is stored as %+v", sv)
			}
		}
		// The run path has it, whole and decrypted.
		state, err := r.Org(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		in := state.App("shop_acme")
		if in.Values["default.token"] != tmpl.Opaque(secret) || !cmp.Equal(in.Secrets, []string{secret}) {
			t.Errorf("installed values = %v, secrets = %q", in.Values, in.Secrets)
		}
	})

	t.Run("null removes", func(t *testing.T) {
		if err := r.PutSettings(ctx, acme, "shop", mustDecode(t, `{"default":{"token":null,"retries":null,"live":null,"note":null}}`)); err != nil {
			t.Fatal(err)
		}
		if got := settings(t); got != unset {
			t.Errorf("settings after removing every value:\n got %s\nwant %s", got, unset)
		}
	})

	t.Run("another org", func(t *testing.T) {
		beta, _ := mustOrg(t, r, "beta")
		_, err := r.Settings(ctx, beta, "shop_acme")
		wantCode(t, err, switchboard.CodeNotFound)
		wantCode(t, r.PutSettings(ctx, beta, "shop_acme", mustDecode(t, `{"default":{"region":"us"}}`)), switchboard.CodeNotFound)
	})
}

func TestResolutionCache(t *testing.T) {
	t.Parallel()
	r, _ := mustRegistry(t)
	ctx := t.Context()
	acme, _ := mustOrg(t, r, "acme")
	mustRegister(t, r, acme, mustReadFile(t, "../../testdata/apps/ecommstore.json"), false)
	mustRegister(t, r, operator, []byte(`{"app":"weather","version":"1.0.0","title":"Weather"}`), true)

	state, err := r.Org(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := r.Org(ctx, "acme"); again != state {
		t.Fatal("Org returned another state while nothing changed")
	}
	inst := state.App("ecommstore_acme")
	if inst == nil || len(inst.App.Commands) == 0 {
		t.Fatalf("ecommstore_acme is not installed with commands: %+v", inst)
	}
	cmd := registry.Resolution{Inst: inst, Command: inst.App.Commands[0]}
	state.Remember("ecommstore.refund", false, cmd)

	tests := []struct {
		name   string
		action bool
		want   registry.Resolution
		ok     bool
	}{
		{"ecommstore.refund", false, cmd, true},
		{"ecommstore.refund", true, registry.Resolution{}, false}, // commands and actions are apart
		{"ecommstore.other", false, registry.Resolution{}, false},
	}
	for _, tt := range tests {
		got, ok := state.Resolved(tt.name, tt.action)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Resolved(%q, %v) = %+v, %v; want %+v, %v", tt.name, tt.action, got, ok, tt.want, tt.ok)
		}
	}

	// Any change to the org's state gives a new state that remembers
	// nothing, since what a name means may have changed.
	changes := []struct {
		name string
		do   func() error
	}{
		{"install", func() error { _, err := r.Install(ctx, acme, "weather", ""); return err }},
		{"settings", func() error {
			return r.PutSettings(ctx, acme, "ecommstore", mustDecode(t, `{"default":{"authToken":"t"}}`))
		}},
		{"uninstall", func() error { return r.Uninstall(ctx, acme, "weather") }},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			before, err := r.Org(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			in := before.App("ecommstore_acme")
			before.Remember("ecommstore.refund", false, registry.Resolution{Inst: in, Command: in.App.Commands[0]})
			if err := c.do(); err != nil {
				t.Fatal(err)
			}
			after, err := r.Org(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			if after == before {
				t.Fatal("Org returned the same state after a change")
			}
			if got, ok := after.Resolved("ecommstore.refund", false); ok {
				t.Errorf("the new state remembers %+v", got)
			}
		})
	}
}

// OnChange listeners are told of a change before the registry applies it,
// OnApplied ones after: a revoked key still authenticates in the first and
// no longer in the second.
func TestOnApplied(t *testing.T) {
	t.Parallel()
	r, _ := newRegistry(t)
	var key string
	var seen []string
	r.OnChange(func(c switchboard.Change) {
		if c.Kind == switchboard.ChangeKeys && key != "" {
			_, err := r.Authenticate(key)
			seen = append(seen, fmt.Sprintf("change: refused %v", err != nil))
		}
	})
	r.OnApplied(func(all bool) {
		if key != "" {
			_, err := r.Authenticate(key)
			seen = append(seen, fmt.Sprintf("applied(all %v): refused %v", all, err != nil))
		}
	})
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin, _ := mustOrg(t, r, "acme")
	k, secret, err := r.CreateKey(t.Context(), admin, "agent", switchboard.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Authenticate(secret); err != nil {
		t.Fatal(err)
	}
	key = secret
	if err := r.DeleteKey(t.Context(), admin, k.ID); err != nil {
		t.Fatal(err)
	}
	want := []string{"change: refused false", "applied(all false): refused true"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("what the listeners saw (-want +got):\n%s", diff)
	}
}
