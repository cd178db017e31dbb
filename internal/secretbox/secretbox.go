// Package secretbox encrypts secret setting values and tokens at rest with
// AES-256-GCM. Each ciphertext names the key that sealed it, so that the key
// can be rotated: a Box opens values sealed with any of its keys and seals
// with the first.
package secretbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of an AES-256 key.
const KeySize = 32

const format = 1 // the first byte of every ciphertext

// Box seals and opens values.
type Box struct {
	keys []key
}

type key struct {
	id   [4]byte // the first bytes of the key's SHA-256: names it without revealing it
	aead cipher.AEAD
}

// New returns a Box that seals with keys[0] and opens with any of keys.
func New(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	b := &Box{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(k)
		var id [4]byte
		copy(id[:], sum[:4])
		b.keys = append(b.keys, key{id: id, aead: aead})
	}
	return b, nil
}

// Seal encrypts plaintext. aad binds the ciphertext to its place (for a
// setting: the org, app and setting key), so that a ciphertext copied to
// another row does not open.
func (b *Box) Seal(plaintext, aad []byte) []byte {
	k := b.keys[0]
	out := make([]byte, 0, 1+4+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out = append(out, format)
	out = append(out, k.id[:]...)
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, aad)
}

// ErrOpen is returned for a ciphertext that no key of the Box opens.
var ErrOpen = errors.New("secretbox: cannot decrypt: wrong key, wrong binding or corrupt data")

// Open decrypts a value sealed by Seal with the same aad.
func (b *Box) Open(ciphertext, aad []byte) ([]byte, error) {
	if len(ciphertext) < 5 || ciphertext[0] != format {
		return nil, ErrOpen
	}
	for _, k := range b.keys {
		if !bytes.Equal(k.id[:], ciphertext[1:5]) {
			continue
		}
		rest := ciphertext[5:]
		ns := k.aead.NonceSize()
		if len(rest) < ns {
			return nil, ErrOpen
		}
		pt, err := k.aead.Open(nil, rest[:ns], rest[ns:], aad)
		if err != nil {
			return nil, ErrOpen
		}
		return pt, nil
	}
	return nil, ErrOpen
}

// NeedsRotation reports whether ciphertext was sealed with a key other than
// the current one.
func (b *Box) NeedsRotation(ciphertext []byte) bool {
	return len(ciphertext) < 5 || !bytes.Equal(b.keys[0].id[:], ciphertext[1:5])
}

// ParseKey decodes a key given as 64 hex digits or as base64 of 32 bytes.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, errors.New("a secret key must be 32 bytes, written as 64 hex digits or in base64 (generate one with: openssl rand -hex 32)")
}

// KeyFileName is the key file created in the data directory when no key is
// configured.
const KeyFileName = "secret.key"

// LoadOrCreateKeyFile reads the key file in dir, creating it with a new
// random key (mode 0600) when it does not exist. created reports whether it
// was created.
func LoadOrCreateKeyFile(dir string) (k []byte, created bool, err error) {
	path := filepath.Join(dir, KeyFileName)
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(data))
		if err != nil {
			return nil, false, fmt.Errorf("key file %s: %w", path, err)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("key file %s is readable by other users (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
		}
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read key file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	k = make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	// O_EXCL: two processes starting at once must not write two keys.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(dir)
		}
		return nil, false, fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write key file: %w", err)
	}
	return k, true, f.Close()
}
