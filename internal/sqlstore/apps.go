package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/switchboardhq/switchboard"
)

// CreateAppVersion implements switchboard.Store.
func (s *Store) CreateAppVersion(ctx context.Context, v switchboard.AppVersion, install bool) error {
	what := fmt.Sprintf("app %s version %s", v.AppID, v.Version)
	return s.tx(ctx, what, func(tx *sql.Tx) error {
		now := micros(v.CreatedAt)
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT org_id FROM apps WHERE id = $1`, v.AppID).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := tx.ExecContext(ctx, `INSERT INTO apps (id, org_id, visibility, latest_version, title, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`, v.AppID, v.OrgID, string(v.Visibility), v.Version, v.Title, now); err != nil {
				return err
			}
		case err != nil:
			return err
		case owner != v.OrgID:
			return &switchboard.Error{Code: switchboard.CodeConflict,
				Detail: fmt.Sprintf("the app id %q is taken by another app; choose another id", v.AppID)}
		default:
			if _, err := tx.ExecContext(ctx, `UPDATE apps SET latest_version = $2, title = $3, updated_at = $4 WHERE id = $1`,
				v.AppID, v.Version, v.Title, now); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_versions (app_id, version, rank, title, definition, hash, created_at)
			VALUES ($1, $2, (SELECT COALESCE(MAX(rank) + 1, 0) FROM app_versions WHERE app_id = $1), $3, $4, $5, $6)`,
			v.AppID, v.Version, v.Title, string(v.Definition), v.Hash, now); err != nil {
			return err
		}
		if err := s.change(ctx, tx, switchboard.ChangeApps, v.OrgID, v.AppID); err != nil {
			return err
		}
		if !install {
			return nil
		}
		if err := upsertInstall(ctx, tx, switchboard.Install{OrgID: v.OrgID, AppID: v.AppID, Version: v.Version, InstalledAt: v.CreatedAt}); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeInstalls, v.OrgID, v.AppID)
	})
}

const versionColumns = `v.app_id, a.org_id, v.version, a.visibility, v.title, v.definition, v.hash, v.created_at`

func scanVersion(row interface{ Scan(...any) error }) (switchboard.AppVersion, error) {
	var v switchboard.AppVersion
	var vis, def string
	var at int64
	err := row.Scan(&v.AppID, &v.OrgID, &v.Version, &vis, &v.Title, &def, &v.Hash, &at)
	v.Visibility = switchboard.Visibility(vis)
	v.Definition = []byte(def)
	v.CreatedAt = fromMicros(at)
	return v, err
}

// AppVersion implements switchboard.Store.
func (s *Store) AppVersion(ctx context.Context, appID, version string) (switchboard.AppVersion, error) {
	v, err := scanVersion(s.r.QueryRowContext(ctx, `SELECT `+versionColumns+`
		FROM app_versions v JOIN apps a ON a.id = v.app_id WHERE v.app_id = $1 AND v.version = $2`, appID, version))
	return v, s.translate(err, fmt.Sprintf("app %s version %s", appID, version))
}

// LatestAppVersion implements switchboard.Store.
func (s *Store) LatestAppVersion(ctx context.Context, appID string) (switchboard.AppVersion, error) {
	v, err := scanVersion(s.r.QueryRowContext(ctx, `SELECT `+versionColumns+`
		FROM app_versions v JOIN apps a ON a.id = v.app_id WHERE v.app_id = $1 ORDER BY v.rank DESC LIMIT 1`, appID))
	return v, s.translate(err, "app "+appID)
}

// AppVersions implements switchboard.Store.
func (s *Store) AppVersions(ctx context.Context, appID string) ([]switchboard.AppVersion, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.app_id, a.org_id, v.version, a.visibility, v.title, '', v.hash, v.created_at
		FROM app_versions v JOIN apps a ON a.id = v.app_id WHERE v.app_id = $1 ORDER BY v.rank`, appID)
	if err != nil {
		return nil, s.translate(err, "app "+appID)
	}
	defer rows.Close()
	var out []switchboard.AppVersion
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, s.translate(err, "app "+appID)
		}
		v.Definition = nil
		out = append(out, v)
	}
	return out, s.translate(rows.Err(), "app "+appID)
}

// Apps implements switchboard.Store.
func (s *Store) Apps(ctx context.Context, orgID string) ([]switchboard.AppSummary, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, org_id, latest_version, visibility, title, created_at FROM apps
		WHERE visibility = 'public' OR (org_id = $1 AND org_id <> '') ORDER BY id`, orgID)
	if err != nil {
		return nil, s.translate(err, "apps")
	}
	defer rows.Close()
	var out []switchboard.AppSummary
	for rows.Next() {
		var a switchboard.AppSummary
		var vis string
		var at int64
		if err := rows.Scan(&a.AppID, &a.OrgID, &a.Version, &vis, &a.Title, &at); err != nil {
			return nil, s.translate(err, "apps")
		}
		a.Visibility = switchboard.Visibility(vis)
		a.CreatedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, s.translate(rows.Err(), "apps")
}
