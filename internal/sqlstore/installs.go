package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboardhq/switchboard"
)

func upsertInstall(ctx context.Context, tx *sql.Tx, in switchboard.Install) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO installs (org_id, app_id, version, installed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, app_id) DO UPDATE SET version = excluded.version, installed_at = excluded.installed_at`,
		in.OrgID, in.AppID, in.Version, micros(in.InstalledAt))
	return err
}

// PutInstall implements switchboard.Store.
func (s *Store) PutInstall(ctx context.Context, in switchboard.Install) error {
	return s.tx(ctx, "install of "+in.AppID, func(tx *sql.Tx) error {
		if err := upsertInstall(ctx, tx, in); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeInstalls, in.OrgID, in.AppID)
	})
}

// DeleteInstall implements switchboard.Store.
func (s *Store) DeleteInstall(ctx context.Context, orgID, appID string) error {
	return s.tx(ctx, "install of "+appID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM installs WHERE org_id = $1 AND app_id = $2`, orgID, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return s.change(ctx, tx, switchboard.ChangeInstalls, orgID, appID)
	})
}

// Installs implements switchboard.Store.
func (s *Store) Installs(ctx context.Context, orgID string) ([]switchboard.Install, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id, app_id, version, installed_at FROM installs WHERE org_id = $1 ORDER BY app_id`, orgID)
	if err != nil {
		return nil, s.translate(err, "installs")
	}
	defer rows.Close()
	var out []switchboard.Install
	for rows.Next() {
		var in switchboard.Install
		var at int64
		if err := rows.Scan(&in.OrgID, &in.AppID, &in.Version, &at); err != nil {
			return nil, s.translate(err, "installs")
		}
		in.InstalledAt = fromMicros(at)
		out = append(out, in)
	}
	return out, s.translate(rows.Err(), "installs")
}
