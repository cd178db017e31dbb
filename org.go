package switchboard

import (
	"regexp"
	"time"
)

// Org is a tenant. Every other record belongs to exactly one org, except
// public apps, which belong to the operator.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

var orgIDPattern = regexp.MustCompile(`^[a-z0-9]{1,64}$`)

// ValidOrgID reports whether id is 1 to 64 characters of [a-z0-9].
func ValidOrgID(id string) bool { return orgIDPattern.MatchString(id) }

// Role is what a key may do.
type Role string

// The roles of SPEC 1.
const (
	RoleOperator Role = "operator" // creates orgs and registers public apps
	RoleAdmin    Role = "admin"    // administers one org
	RoleAgent    Role = "agent"    // runs commands and actions
	RoleAuditor  Role = "auditor"  // reads the audit log
)

// ValidKeyRole reports whether r is a role an org key may have (the operator
// key is configured, never created).
func ValidKeyRole(r Role) bool { return r == RoleAdmin || r == RoleAgent || r == RoleAuditor }

// Key is an API key of an org. Only the SHA-256 hash of the key is stored.
type Key struct {
	ID        string
	OrgID     string
	Name      string
	Role      Role
	Hash      string // hex SHA-256 of the key
	CreatedAt time.Time
}

// Principal is who makes a request: the key's id, name and role, and its
// org ("" for the operator).
type Principal struct {
	OrgID   string
	KeyID   string
	KeyName string
	Role    Role
	// Session is set when a session token, not a key, authenticated the
	// request: the principal is then the minting key, limited to the
	// session's scope.
	Session *SessionScope
}

// Is reports whether the principal has one of roles.
func (p *Principal) Is(roles ...Role) bool {
	for _, r := range roles {
		if p.Role == r {
			return true
		}
	}
	return false
}
