package switchboard

import "time"

// Account statuses.
const (
	AccountConnected            = "connected"
	AccountNeedsReauthorization = "needs_reauthorization"
)

// Account is an OAuth 2.0 app account of an org: the tokens an app's
// commands and actions use as {{authToken}}. Tokens are kept only as
// ciphertext.
type Account struct {
	OrgID, AppID, Name string
	Status             string
	Scopes             []string
	AccessToken        []byte // ciphertext
	RefreshToken       []byte // ciphertext; nil when the provider gave none
	TokenType          string
	ExpiresAt          time.Time // zero when the token does not expire
	LastRefreshedAt    time.Time
	ConnectedAt        time.Time
	UpdatedAt          time.Time
}

// OAuthState is a pending authorization: the state parameter sent to the
// provider (stored as its hash), bound to an org, an app and an account
// name, with the PKCE verifier (ciphertext). It is used once.
type OAuthState struct {
	Hash      string
	OrgID     string
	AppID     string
	Account   string
	Verifier  []byte // ciphertext
	ReturnURL string
	ExpiresAt time.Time
}
