package switchboard

import "time"

// Visibility says who may install an app.
type Visibility string

// Private apps belong to one org and are namespaced with its id; public apps
// are registered by the operator and any org may install them.
const (
	Private Visibility = "private"
	Public  Visibility = "public"
)

// AppVersion is one registered, immutable version of an app definition.
type AppVersion struct {
	// AppID is the stored id: namespaced ("my_app_123") for private apps.
	AppID string
	// OrgID owns a private app; it is "" for a public app.
	OrgID      string
	Version    string
	Visibility Visibility
	Title      string
	// Definition is the canonical, namespaced definition as JSON text.
	Definition []byte
	// Hash identifies the definition's content, so that registering the same
	// version twice can tell an identical definition from a different one.
	Hash      string
	CreatedAt time.Time
}

// Install records that an org may run an app's commands and actions.
type Install struct {
	OrgID string
	AppID string
	// Version is the installed version; for private apps it follows each
	// registration.
	Version     string
	InstalledAt time.Time
}

// AppSummary is one line of an app listing: the latest version of an app the
// caller can see.
type AppSummary struct {
	AppID      string
	OrgID      string
	Version    string
	Visibility Visibility
	Title      string
	CreatedAt  time.Time
}
