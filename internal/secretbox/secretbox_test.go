package secretbox

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func mustBox(t *testing.T, keys ...[]byte) *Box {
	t.Helper()
	b, err := New(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSealOpen(t *testing.T) {
	k1 := bytes.Repeat([]byte{1}, KeySize)
	k2 := bytes.Repeat([]byte{2}, KeySize)
	b := mustBox(t, k1)
	ct := b.Seal([]byte("s3cr3t"), []byte("org1\x00app\x00key"))
	if bytes.Contains(ct, []byte("s3cr3t")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := b.Open(ct, []byte("org1\x00app\x00key"))
	if err != nil || string(pt) != "s3cr3t" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	// Bound to its place: another org's row does not open it.
	if _, err := b.Open(ct, []byte("org2\x00app\x00key")); err != ErrOpen {
		t.Fatalf("Open with other aad = %v, want ErrOpen", err)
	}
	// Tampering is detected.
	bad := append([]byte(nil), ct...)
	bad[len(bad)-1] ^= 1
	if _, err := b.Open(bad, []byte("org1\x00app\x00key")); err != ErrOpen {
		t.Fatalf("Open of tampered = %v, want ErrOpen", err)
	}
	// Rotation: a box with a new first key still opens the old value.
	rotated := mustBox(t, k2, k1)
	if pt, err := rotated.Open(ct, []byte("org1\x00app\x00key")); err != nil || string(pt) != "s3cr3t" {
		t.Fatalf("rotated Open = %q, %v", pt, err)
	}
	if !rotated.NeedsRotation(ct) || b.NeedsRotation(ct) {
		t.Fatal("NeedsRotation is wrong")
	}
	if _, err := mustBox(t, k2).Open(ct, []byte("org1\x00app\x00key")); err != ErrOpen {
		t.Fatalf("Open with the wrong key = %v, want ErrOpen", err)
	}
	for _, short := range [][]byte{nil, {1}, {1, 0, 0, 0, 0, 1}} {
		if _, err := b.Open(short, nil); err != ErrOpen {
			t.Fatalf("Open(%v) = %v, want ErrOpen", short, err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k, created, err := LoadOrCreateKeyFile(dir)
	if err != nil || !created || len(k) != KeySize {
		t.Fatalf("create = %v %v %v", len(k), created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, created, err := LoadOrCreateKeyFile(dir)
	if err != nil || created || !bytes.Equal(k, k2) {
		t.Fatalf("reload = %v %v, same key %v", created, err, bytes.Equal(k, k2))
	}
	os.Chmod(filepath.Join(dir, KeyFileName), 0o644)
	if _, _, err := LoadOrCreateKeyFile(dir); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}

func TestParseKey(t *testing.T) {
	for _, s := range []string{
		"0101010101010101010101010101010101010101010101010101010101010101",
		"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
	} {
		if k, err := ParseKey(s); err != nil || !bytes.Equal(k, bytes.Repeat([]byte{1}, KeySize)) {
			t.Errorf("ParseKey(%q) = %x, %v", s, k, err)
		}
	}
	for _, s := range []string{"", "abc", "0101"} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
}
