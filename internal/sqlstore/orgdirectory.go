package sqlstore

import (
	"context"

	"github.com/switchboardhq/switchboard"
)

// Orgs implements switchboard.Store.
func (s *Store) Orgs(ctx context.Context, limit int) ([]switchboard.Org, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, created_at FROM orgs ORDER BY created_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, s.translate(err, "orgs")
	}
	defer rows.Close()
	out := []switchboard.Org{}
	for rows.Next() {
		var o switchboard.Org
		var at int64
		if err := rows.Scan(&o.ID, &o.Name, &at); err != nil {
			return nil, s.translate(err, "orgs")
		}
		o.CreatedAt = fromMicros(at)
		out = append(out, o)
	}
	return out, s.translate(rows.Err(), "orgs")
}
