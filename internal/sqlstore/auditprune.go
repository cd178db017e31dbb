package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard"
)

// PruneAudit implements switchboard.Store.
//
// The audit log has no index on the time alone (an entry is written far
// more often than it is pruned, and SQLite clusters the table by
// (org_id, at, id)), so a global DELETE ... WHERE at < $1 would scan the
// whole table on every batch. Instead it walks the orgs that have entries
// with a skip scan (one index seek per org) and, in each, reads the keys of
// the oldest entries up to what is left of the batch and deletes the range
// up to the last of them: every statement is a range of the (org_id, at, id)
// order, which both databases have (SQLite's primary key, PostgreSQL's
// audit_log_org_at), and touches only the rows it deletes. The reads go to
// the reader pool and each delete commits on its own, so that on SQLite the
// single writer is held for one small delete at a time.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		return 0, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: fmt.Sprintf("the audit prune batch must be positive, not %d", batch)}
	}
	cutoff := micros(before)
	deleted := 0
	org, first := "", true
	for deleted < batch {
		var err error
		if org, err = s.nextAuditOrg(ctx, org, first); errors.Is(err, sql.ErrNoRows) {
			break
		} else if err != nil {
			return deleted, s.translate(err, "audit entries")
		}
		first = false
		for deleted < batch {
			want := batch - deleted
			n, at, id, err := s.oldestAudit(ctx, org, cutoff, want)
			if err != nil {
				return deleted, s.translate(err, "audit entries")
			}
			if n == 0 {
				break
			}
			res, err := s.w.ExecContext(ctx, `DELETE FROM audit_log WHERE org_id = $1 AND at <= $2 AND (at < $2 OR id <= $3)`, org, at, id)
			if err != nil {
				return deleted, s.translate(err, "audit entries")
			}
			gone, _ := res.RowsAffected()
			deleted += int(gone)
			if n < want {
				break // the org has no older entries left
			}
			// n == want: either the batch is full, or another instance
			// deleted some of these meanwhile and the org may have more.
		}
	}
	return deleted, nil
}

// nextAuditOrg returns the first org id after org (from the start when
// first) that has audit entries; sql.ErrNoRows when there is none.
func (s *Store) nextAuditOrg(ctx context.Context, org string, first bool) (string, error) {
	var next string
	var err error
	if first {
		err = s.r.QueryRowContext(ctx, `SELECT org_id FROM audit_log ORDER BY org_id LIMIT 1`).Scan(&next)
	} else {
		err = s.r.QueryRowContext(ctx, `SELECT org_id FROM audit_log WHERE org_id > $1 ORDER BY org_id LIMIT 1`, org).Scan(&next)
	}
	return next, err
}

// oldestAudit reads the keys of an org's oldest entries before cutoff, at
// most limit, and returns how many there are and the last one's (at, id).
func (s *Store) oldestAudit(ctx context.Context, org string, cutoff int64, limit int) (n int, at int64, id string, err error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at, id FROM audit_log WHERE org_id = $1 AND at < $2 ORDER BY at, id LIMIT $3`, org, cutoff, limit)
	if err != nil {
		return 0, 0, "", err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&at, &id); err != nil {
			return 0, 0, "", err
		}
		n++
	}
	return n, at, id, rows.Err()
}
