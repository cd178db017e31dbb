package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/switchboardhq/switchboard"
)

const sessionColumns = `id, org_id, key_id, hash, commands, args, origins, subject, created_at, expires_at`

// CreateSession implements switchboard.Store.
func (s *Store) CreateSession(ctx context.Context, se switchboard.Session) error {
	commands, _ := json.Marshal(nonNil(se.Commands))
	args, _ := json.Marshal(se.Args)
	if se.Args == nil {
		args = []byte("{}")
	}
	origins, _ := json.Marshal(nonNil(se.Origins))
	return s.tx(ctx, "session "+se.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			se.ID, se.OrgID, se.KeyID, se.Hash, string(commands), string(args), string(origins), se.Subject,
			micros(se.CreatedAt), micros(se.ExpiresAt)); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeSessions, se.OrgID, se.ID)
	})
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func scanSessions(rows *sql.Rows) ([]switchboard.Session, error) {
	defer rows.Close()
	var out []switchboard.Session
	for rows.Next() {
		var se switchboard.Session
		var commands, args, origins string
		var created, expires int64
		if err := rows.Scan(&se.ID, &se.OrgID, &se.KeyID, &se.Hash, &commands, &args, &origins, &se.Subject, &created, &expires); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(commands), &se.Commands)
		_ = json.Unmarshal([]byte(args), &se.Args)
		_ = json.Unmarshal([]byte(origins), &se.Origins)
		se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
		out = append(out, se)
	}
	return out, rows.Err()
}

// Sessions implements switchboard.Store.
func (s *Store) Sessions(ctx context.Context, orgID string) ([]switchboard.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE org_id = $1 ORDER BY created_at DESC, id DESC`, orgID)
	if err != nil {
		return nil, s.translate(err, "sessions")
	}
	out, err := scanSessions(rows)
	return out, s.translate(err, "sessions")
}

// AllSessions implements switchboard.Store.
func (s *Store) AllSessions(ctx context.Context, after time.Time) ([]switchboard.Session, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE expires_at > $1`, micros(after))
	if err != nil {
		return nil, s.translate(err, "sessions")
	}
	out, err := scanSessions(rows)
	return out, s.translate(err, "sessions")
}

// DeleteSession implements switchboard.Store.
func (s *Store) DeleteSession(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, "session "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE org_id = $1 AND id = $2`, orgID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return s.change(ctx, tx, switchboard.ChangeSessions, orgID, id)
	})
}

// PruneSessions implements switchboard.Store: expired sessions are dropped
// without a change, since every index already ignores them.
func (s *Store) PruneSessions(ctx context.Context, before time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, micros(before))
	return s.translate(err, "sessions")
}
