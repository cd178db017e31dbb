package switchboard

import "time"

// SettingValue is the value of one setting of an app for one org. A secret
// value is kept only as ciphertext.
type SettingValue struct {
	OrgID    string
	AppID    string
	Category string
	Name     string
	// Value is the JSON text of a non-secret value.
	Value []byte
	// Secret marks a value stored as Ciphertext (AES-256-GCM, bound to its
	// org and key).
	Secret     bool
	Ciphertext []byte
	// Delete removes the value instead (PutSettings only), so that a
	// declared setting falls back to its default.
	Delete    bool
	UpdatedAt time.Time
}
