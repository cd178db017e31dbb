package switchboard

import "time"

// ConsoleSession is a person signed in to the web console (SPEC 11): the key
// they signed in with, by id and role, never the key itself. The browser
// holds a random token in a cookie; only its SHA-256 hash is stored, so that
// whoever reads the table cannot sign in. Sessions live in the store, so that
// every instance of a scale-out knows them.
type ConsoleSession struct {
	Hash      string // hex SHA-256 of the cookie's token
	OrgID     string // "" for the operator
	KeyID     string // the key signed in with ("operator" for the operator key)
	Role      Role
	CreatedAt time.Time
	// SeenAt is the last request made with the session, for the idle
	// timeout.
	SeenAt time.Time
	// ExpiresAt is the absolute end, whatever the activity.
	ExpiresAt time.Time
}
