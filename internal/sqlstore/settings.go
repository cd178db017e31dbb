package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"

	"github.com/switchboardhq/switchboard"
)

// PutSettings implements switchboard.Store.
func (s *Store) PutSettings(ctx context.Context, orgID, appID string, values []switchboard.SettingValue) error {
	return s.tx(ctx, "settings of "+appID, func(tx *sql.Tx) error {
		for _, v := range values {
			if v.Delete {
				if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE org_id = $1 AND app_id = $2 AND category = $3 AND name = $4`,
					orgID, appID, v.Category, v.Name); err != nil {
					return err
				}
				continue
			}
			secret := 0
			if v.Secret {
				secret = 1
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO settings (org_id, app_id, category, name, value, secret, ciphertext, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (org_id, app_id, category, name) DO UPDATE
				SET value = excluded.value, secret = excluded.secret, ciphertext = excluded.ciphertext, updated_at = excluded.updated_at`,
				orgID, appID, v.Category, v.Name, string(v.Value), secret,
				base64.StdEncoding.EncodeToString(v.Ciphertext), micros(v.UpdatedAt)); err != nil {
				return err
			}
		}
		return s.change(ctx, tx, switchboard.ChangeSettings, orgID, appID)
	})
}

// Settings implements switchboard.Store.
func (s *Store) Settings(ctx context.Context, orgID, appID string) ([]switchboard.SettingValue, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT category, name, value, secret, ciphertext, updated_at FROM settings
		WHERE org_id = $1 AND app_id = $2 ORDER BY category, name`, orgID, appID)
	if err != nil {
		return nil, s.translate(err, "settings")
	}
	defer rows.Close()
	var out []switchboard.SettingValue
	for rows.Next() {
		v := switchboard.SettingValue{OrgID: orgID, AppID: appID}
		var value, ct string
		var secret int
		var at int64
		if err := rows.Scan(&v.Category, &v.Name, &value, &secret, &ct, &at); err != nil {
			return nil, s.translate(err, "settings")
		}
		v.Secret = secret != 0
		if v.Secret {
			if v.Ciphertext, err = base64.StdEncoding.DecodeString(ct); err != nil {
				return nil, switchboard.Internal(fmt.Errorf("settings of %s: corrupt ciphertext: %w", appID, err))
			}
		} else {
			v.Value = []byte(value)
		}
		v.UpdatedAt = fromMicros(at)
		out = append(out, v)
	}
	return out, s.translate(rows.Err(), "settings")
}
