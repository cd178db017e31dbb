package registry_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/secretbox"
)

// A stored secret that does not open leaves the org's state loadable: the
// secret has no value (its default does not stand in for it), every other
// setting has, it is listed with the reason, and Ready fails until it opens.
func TestUnreadableSecretReasons(t *testing.T) {
	t.Parallel()
	r, store := mustRegistry(t)
	ctx := t.Context()
	acme, _ := mustOrg(t, r, "acme")
	mustRegister(t, r, acme, []byte(`{"app":"shop","version":"1.0.0","title":"Shop",
		"settings":{"default":{"token":{"type":"secret","defaultValue":"fallback"},"moved":{"type":"secret"},"ok":{"type":"secret"}}},
		"commands":[{"name":"order","httpMethod":"post","url":"https://api.example.com/orders",
			"appSettings":{"token":{"key":"shop.default.token"},"moved":{"key":"shop.default.moved"},"ok":{"key":"shop.default.ok"}}}]}`), false)
	if err := r.PutSettings(ctx, acme, "shop", mustDecode(t, `{"default":{"ok":"fine"}}`)); err != nil {
		t.Fatal(err)
	}
	other, err := secretbox.New(bytes.Repeat([]byte{9}, secretbox.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	same, err := secretbox.New(bytes.Repeat([]byte{7}, secretbox.KeySize)) // the registry's key
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutSettings(ctx, "acme", "shop_acme", []switchboard.SettingValue{
		{Category: "default", Name: "token", Secret: true, Ciphertext: other.Seal([]byte("x"), switchboard.SettingAAD("acme", "shop_acme", "default.token")), UpdatedAt: testNow},
		// Sealed with this key for another setting, then copied here.
		{Category: "default", Name: "moved", Secret: true, Ciphertext: same.Seal([]byte("y"), switchboard.SettingAAD("acme", "shop_acme", "default.ok")), UpdatedAt: testNow},
	}); err != nil {
		t.Fatal(err)
	}
	if err := r.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Ready(ctx); err != nil {
		t.Fatalf("Ready before any org was loaded = %v: it reports what it tried to open", err)
	}

	s, err := r.Org(ctx, "acme")
	if err != nil {
		t.Fatalf("load the org: %v", err)
	}
	inst := s.App("shop_acme")
	for key, want := range map[string]string{
		"default.token": "SWITCHBOARD_SECRET_KEY does not match the key it was sealed with",
		"default.moved": "it is sealed with this key but does not open",
	} {
		if got := inst.Unreadable[key]; !strings.HasPrefix(got, want) {
			t.Errorf("Unreadable[%s] = %q, want %q...", key, got, want)
		}
		if v, ok := inst.Values[key]; ok {
			t.Errorf("Values[%s] = %v, want none", key, v)
		}
	}
	if got := inst.Values["default.ok"]; got == nil || len(inst.Unreadable) != 2 {
		t.Errorf("the readable secret = %v, unreadable = %v", got, inst.Unreadable)
	}
	var missing []string
	for _, ref := range inst.Missing(inst.App.Command("order").Name) {
		missing = append(missing, ref.Key())
	}
	if len(missing) != 2 {
		t.Errorf("Missing = %v, want the two unreadable secrets", missing)
	}
	if got := r.Unreadable(); got != 2 {
		t.Errorf("Unreadable() = %d, want 2", got)
	}
	err = r.Ready(ctx)
	wantCode(t, err, switchboard.CodeUnavailable)

	// A corrupt value alone does not make the instance unready: every
	// instance reads it the same way, and the fleet would go down for one
	// setting. Only a key this instance lacks does.
	if err := r.PutSettings(ctx, acme, "shop", mustDecode(t, `{"default":{"token":null}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Org(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := r.Ready(ctx); err != nil || r.Unreadable() != 1 {
		t.Errorf("with only the corrupt value left: Ready = %v, Unreadable() = %d; want ready, 1", err, r.Unreadable())
	}

	// Removing them (null) makes the instance ready again; the default
	// applies once nothing is stored.
	if err := r.PutSettings(ctx, acme, "shop", mustDecode(t, `{"default":{"token":null,"moved":null}}`)); err != nil {
		t.Fatal(err)
	}
	if err := r.Ready(ctx); err != nil {
		t.Errorf("Ready once they are gone = %v", err)
	}
	s, err = r.Org(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.App("shop_acme").Values["default.token"]; got != "fallback" {
		t.Errorf("token = %v, want its default", got)
	}
}
