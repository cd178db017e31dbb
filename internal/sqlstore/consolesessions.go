package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/switchboardhq/switchboard"
)

const consoleSessionColumns = `hash, org_id, key_id, role, created_at, seen_at, expires_at`

// CreateConsoleSession implements switchboard.Store. Console sessions are
// read from the store on every console request, so they append no change.
func (s *Store) CreateConsoleSession(ctx context.Context, cs switchboard.ConsoleSession) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO console_sessions (`+consoleSessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		cs.Hash, cs.OrgID, cs.KeyID, string(cs.Role), micros(cs.CreatedAt), micros(cs.SeenAt), micros(cs.ExpiresAt))
	return s.translate(err, "console session")
}

// ConsoleSession implements switchboard.Store.
func (s *Store) ConsoleSession(ctx context.Context, hash string) (switchboard.ConsoleSession, error) {
	var cs switchboard.ConsoleSession
	var role string
	var created, seen, expires int64
	err := s.r.QueryRowContext(ctx, `SELECT `+consoleSessionColumns+` FROM console_sessions WHERE hash = $1`, hash).
		Scan(&cs.Hash, &cs.OrgID, &cs.KeyID, &role, &created, &seen, &expires)
	if err != nil {
		return switchboard.ConsoleSession{}, s.translate(err, "console session")
	}
	cs.Role = switchboard.Role(role)
	cs.CreatedAt, cs.SeenAt, cs.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return cs, nil
}

// TouchConsoleSession implements switchboard.Store.
func (s *Store) TouchConsoleSession(ctx context.Context, hash string, seen time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE console_sessions SET seen_at = $1 WHERE hash = $2`, micros(seen), hash)
	return s.translate(consoleAffected(res, err), "console session")
}

// DeleteConsoleSession implements switchboard.Store.
func (s *Store) DeleteConsoleSession(ctx context.Context, hash string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash)
	return s.translate(consoleAffected(res, err), "console session")
}

// PruneConsoleSessions implements switchboard.Store.
func (s *Store) PruneConsoleSessions(ctx context.Context, expired, seen time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires_at < $1 OR seen_at < $2`, micros(expired), micros(seen))
	return s.translate(err, "console sessions")
}

// consoleAffected turns an update or delete that touched no row into sql.ErrNoRows.
func consoleAffected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}
