package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboardhq/switchboard"
)

func insertKey(ctx context.Context, tx *sql.Tx, k switchboard.Key) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.OrgID, k.Name, string(k.Role), k.Hash, micros(k.CreatedAt))
	return err
}

// CreateKey implements switchboard.Store.
func (s *Store) CreateKey(ctx context.Context, k switchboard.Key) error {
	return s.tx(ctx, "key", func(tx *sql.Tx) error {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, k.OrgID, k.ID)
	})
}

const keyColumns = `id, org_id, name, role, hash, created_at`

func scanKeys(rows *sql.Rows) ([]switchboard.Key, error) {
	defer rows.Close()
	var keys []switchboard.Key
	for rows.Next() {
		var k switchboard.Key
		var role string
		var at int64
		if err := rows.Scan(&k.ID, &k.OrgID, &k.Name, &role, &k.Hash, &at); err != nil {
			return nil, err
		}
		k.Role = switchboard.Role(role)
		k.CreatedAt = fromMicros(at)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// Keys implements switchboard.Store.
func (s *Store) Keys(ctx context.Context, orgID string) ([]switchboard.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, id`, orgID)
	if err != nil {
		return nil, s.translate(err, "keys")
	}
	keys, err := scanKeys(rows)
	return keys, s.translate(err, "keys")
}

// AllKeys implements switchboard.Store.
func (s *Store) AllKeys(ctx context.Context) ([]switchboard.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.translate(err, "keys")
	}
	keys, err := scanKeys(rows)
	return keys, s.translate(err, "keys")
}

// DeleteKey implements switchboard.Store.
func (s *Store) DeleteKey(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, "key "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE org_id = $1 AND id = $2`, orgID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		// The key's sessions end with it (SPEC 10).
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE org_id = $1 AND key_id = $2`, orgID, id); err != nil {
			return err
		}
		if err := s.change(ctx, tx, switchboard.ChangeSessions, orgID, ""); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, orgID, id)
	})
}
