package sqlstore

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Changes implements switchboard.Store.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]switchboard.Change, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT seq, kind, org_id, ref, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
	if err != nil {
		return nil, s.translate(err, "changes")
	}
	defer rows.Close()
	var out []switchboard.Change
	for rows.Next() {
		var c switchboard.Change
		var kind string
		var at int64
		if err := rows.Scan(&c.Seq, &kind, &c.OrgID, &c.Ref, &at); err != nil {
			return nil, s.translate(err, "changes")
		}
		c.Kind = switchboard.ChangeKind(kind)
		c.At = fromMicros(at)
		out = append(out, c)
	}
	return out, s.translate(rows.Err(), "changes")
}

// LastChange implements switchboard.Store.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, s.translate(err, "changes")
}

// PruneChanges deletes changes older than before; instances that fall that
// far behind reload everything.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM changes WHERE at < $1 AND seq < (SELECT MAX(seq) FROM changes)`, micros(before))
	return s.translate(err, "changes")
}
