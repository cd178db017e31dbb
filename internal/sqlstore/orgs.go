package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboardhq/switchboard"
)

// CreateOrg implements switchboard.Store.
func (s *Store) CreateOrg(ctx context.Context, org switchboard.Org, admin switchboard.Key) error {
	return s.tx(ctx, "org "+org.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`,
			org.ID, org.Name, micros(org.CreatedAt)); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, admin); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, org.ID, admin.ID)
	})
}

// Org implements switchboard.Store.
func (s *Store) Org(ctx context.Context, id string) (switchboard.Org, error) {
	var o switchboard.Org
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM orgs WHERE id = $1`, id).Scan(&o.ID, &o.Name, &at)
	o.CreatedAt = fromMicros(at)
	return o, s.translate(err, "org "+id)
}
