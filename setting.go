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

// SettingAAD is the additional data that binds a secret setting's
// ciphertext to its org, app and key ("<category>.<name>"), so that a
// ciphertext copied to another row never decrypts.
func SettingAAD(orgID, appID, key string) []byte {
	return []byte("setting\x00" + orgID + "\x00" + appID + "\x00" + key)
}

// HookAAD binds a web hook's secret to its org, app and event name.
func HookAAD(orgID, appID, event string) []byte {
	return []byte("hook\x00" + orgID + "\x00" + appID + "\x00" + event)
}

// TokenAAD binds an app account's token ciphertext (kind "access" or
// "refresh") to its org, app and account.
func TokenAAD(orgID, appID, name, kind string) []byte {
	return []byte("account\x00" + orgID + "\x00" + appID + "\x00" + name + "\x00" + kind)
}
