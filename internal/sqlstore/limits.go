package sqlstore

import (
	"context"
	"database/sql"

	"github.com/switchboardhq/switchboard"
)

const limitColumns = `org_id, app_id, name, runs_per_second, burst`

// PutLimits implements switchboard.LimitStore. One change is appended per
// app touched, so that every instance reloads the org's limits.
func (s *Store) PutLimits(ctx context.Context, orgID string, limits []switchboard.RateLimit) error {
	return s.tx(ctx, "rate limits of org "+orgID, func(tx *sql.Tx) error {
		apps := map[string]bool{}
		for _, l := range limits {
			var err error
			if l.RunsPerSecond == 0 {
				_, err = tx.ExecContext(ctx, `DELETE FROM rate_limits WHERE org_id = $1 AND app_id = $2 AND name = $3`, orgID, l.AppID, l.Name)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO rate_limits (`+limitColumns+`) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (org_id, app_id, name) DO UPDATE SET runs_per_second = excluded.runs_per_second, burst = excluded.burst`,
					orgID, l.AppID, l.Name, l.RunsPerSecond, l.Burst)
			}
			if err != nil {
				return err
			}
			apps[l.AppID] = true
		}
		for app := range apps {
			if err := s.change(ctx, tx, switchboard.ChangeLimits, orgID, app); err != nil {
				return err
			}
		}
		return nil
	})
}

// Limits implements switchboard.LimitStore.
func (s *Store) Limits(ctx context.Context, orgID string) ([]switchboard.RateLimit, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+limitColumns+` FROM rate_limits WHERE org_id = $1 ORDER BY app_id, name`, orgID)
	if err != nil {
		return nil, s.translate(err, "rate limits")
	}
	out, err := scanLimits(rows)
	return out, s.translate(err, "rate limits")
}

// AllLimits implements switchboard.LimitStore.
func (s *Store) AllLimits(ctx context.Context) ([]switchboard.RateLimit, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+limitColumns+` FROM rate_limits ORDER BY org_id, app_id, name`)
	if err != nil {
		return nil, s.translate(err, "rate limits")
	}
	out, err := scanLimits(rows)
	return out, s.translate(err, "rate limits")
}

func scanLimits(rows *sql.Rows) ([]switchboard.RateLimit, error) {
	defer rows.Close()
	var out []switchboard.RateLimit
	for rows.Next() {
		var l switchboard.RateLimit
		if err := rows.Scan(&l.OrgID, &l.AppID, &l.Name, &l.RunsPerSecond, &l.Burst); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
