package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/switchboardhq/switchboard"
)

// RowLocker is implemented by dialects with row locks (PostgreSQL), which
// UpdateAccount then takes with SELECT ... FOR UPDATE. Without it the store
// serves one instance and the caller's own single flight is the lock.
type RowLocker interface {
	RowLocks() bool
}

const accountColumns = `org_id, app_id, name, status, scopes, access_token, refresh_token, token_type, expires_at, last_refreshed_at, connected_at, updated_at`

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

func timeOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func accountArgs(a switchboard.Account) []any {
	scopes, _ := json.Marshal(a.Scopes)
	if a.Scopes == nil {
		scopes = []byte("[]")
	}
	return []any{a.OrgID, a.AppID, a.Name, a.Status, string(scopes),
		base64.StdEncoding.EncodeToString(a.AccessToken), base64.StdEncoding.EncodeToString(a.RefreshToken), a.TokenType,
		unixOrZero(a.ExpiresAt), unixOrZero(a.LastRefreshedAt), unixOrZero(a.ConnectedAt), unixOrZero(a.UpdatedAt)}
}

func scanAccount(row interface{ Scan(...any) error }) (switchboard.Account, error) {
	var a switchboard.Account
	var scopes, at, rt string
	var exp, refreshed, connected, updated int64
	if err := row.Scan(&a.OrgID, &a.AppID, &a.Name, &a.Status, &scopes, &at, &rt, &a.TokenType, &exp, &refreshed, &connected, &updated); err != nil {
		return a, err
	}
	_ = json.Unmarshal([]byte(scopes), &a.Scopes)
	a.AccessToken, _ = base64.StdEncoding.DecodeString(at)
	if rt != "" {
		a.RefreshToken, _ = base64.StdEncoding.DecodeString(rt)
	}
	a.ExpiresAt, a.LastRefreshedAt, a.ConnectedAt, a.UpdatedAt = timeOrZero(exp), timeOrZero(refreshed), timeOrZero(connected), timeOrZero(updated)
	return a, nil
}

func (s *Store) upsertAccount(ctx context.Context, tx *sql.Tx, a switchboard.Account) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (`+accountColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (org_id, app_id, name) DO UPDATE SET status = excluded.status, scopes = excluded.scopes,
		access_token = excluded.access_token, refresh_token = excluded.refresh_token, token_type = excluded.token_type,
		expires_at = excluded.expires_at, last_refreshed_at = excluded.last_refreshed_at, connected_at = excluded.connected_at,
		updated_at = excluded.updated_at`, accountArgs(a)...); err != nil {
		return err
	}
	return s.change(ctx, tx, switchboard.ChangeAccounts, a.OrgID, a.AppID)
}

// PutAccount implements switchboard.Store.
func (s *Store) PutAccount(ctx context.Context, a switchboard.Account) error {
	return s.tx(ctx, "account "+a.Name, func(tx *sql.Tx) error { return s.upsertAccount(ctx, tx, a) })
}

// Account implements switchboard.Store.
func (s *Store) Account(ctx context.Context, orgID, appID, name string) (switchboard.Account, error) {
	a, err := scanAccount(s.r.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE org_id = $1 AND app_id = $2 AND name = $3`, orgID, appID, name))
	return a, s.translate(err, "account "+name)
}

// Accounts implements switchboard.Store.
func (s *Store) Accounts(ctx context.Context, orgID, appID string) ([]switchboard.Account, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE org_id = $1 AND app_id = $2 ORDER BY name`, orgID, appID)
	if err != nil {
		return nil, s.translate(err, "accounts")
	}
	defer rows.Close()
	var out []switchboard.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, s.translate(err, "accounts")
		}
		out = append(out, a)
	}
	return out, s.translate(rows.Err(), "accounts")
}

// DeleteAccount implements switchboard.Store.
func (s *Store) DeleteAccount(ctx context.Context, orgID, appID, name string) error {
	return s.tx(ctx, "account "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE org_id = $1 AND app_id = $2 AND name = $3`, orgID, appID, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return s.change(ctx, tx, switchboard.ChangeAccounts, orgID, appID)
	})
}

// UpdateAccount implements switchboard.Store.
func (s *Store) UpdateAccount(ctx context.Context, orgID, appID, name string, fn func(*switchboard.Account) (bool, error)) (switchboard.Account, error) {
	if rl, ok := s.dialect.(RowLocker); ok && rl.RowLocks() {
		var out switchboard.Account
		err := s.tx(ctx, "account "+name, func(tx *sql.Tx) error {
			a, err := scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
				WHERE org_id = $1 AND app_id = $2 AND name = $3 FOR UPDATE`, orgID, appID, name))
			if err != nil {
				return err
			}
			changed, err := fn(&a)
			if err != nil {
				return err
			}
			out = a
			if !changed {
				return nil
			}
			return s.upsertAccount(ctx, tx, a)
		})
		return out, err
	}
	// One instance: no transaction is held while fn calls the provider, so
	// the single writer connection stays free for everything else.
	a, err := s.Account(ctx, orgID, appID, name)
	if err != nil {
		return a, err
	}
	changed, err := fn(&a)
	if err != nil || !changed {
		return a, err
	}
	return a, s.PutAccount(ctx, a)
}

// CreateOAuthState implements switchboard.Store.
func (s *Store) CreateOAuthState(ctx context.Context, st switchboard.OAuthState) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO oauth_states (hash, org_id, app_id, account, verifier, return_url, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, st.Hash, st.OrgID, st.AppID, st.Account,
		base64.StdEncoding.EncodeToString(st.Verifier), st.ReturnURL, micros(st.ExpiresAt))
	return s.translate(err, "authorization state")
}

// TakeOAuthState implements switchboard.Store.
func (s *Store) TakeOAuthState(ctx context.Context, hash string) (switchboard.OAuthState, error) {
	var st switchboard.OAuthState
	var verifier string
	var exp int64
	err := s.w.QueryRowContext(ctx, `DELETE FROM oauth_states WHERE hash = $1
		RETURNING hash, org_id, app_id, account, verifier, return_url, expires_at`, hash).
		Scan(&st.Hash, &st.OrgID, &st.AppID, &st.Account, &verifier, &st.ReturnURL, &exp)
	if err == nil {
		st.Verifier, _ = base64.StdEncoding.DecodeString(verifier)
		st.ExpiresAt = fromMicros(exp)
	}
	return st, s.translate(err, "authorization state")
}

// PruneOAuthStates deletes authorizations that expired before t.
func (s *Store) PruneOAuthStates(ctx context.Context, t time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM oauth_states WHERE expires_at < $1`, micros(t))
	return s.translate(err, "authorization states")
}
