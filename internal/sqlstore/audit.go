package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// AppendAudit implements switchboard.Store.
func (s *Store) AppendAudit(ctx context.Context, entries []switchboard.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, "audit entries")
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error,
		event, upstream_status, session_id, subject, via)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`)
	if err != nil {
		_ = tx.Rollback()
		return s.translate(err, "audit entries")
	}
	for _, e := range entries {
		args, _ := json.Marshal(e.Args)
		if e.Args == nil {
			args = []byte("{}")
		}
		if _, err := stmt.ExecContext(ctx, e.ID, e.OrgID, micros(e.Time), e.ActorID, e.ActorName, e.Kind, e.Name,
			string(args), e.Method, e.URL, e.Status, e.DurationMs, e.Cache, e.Error, e.Event, e.UpstreamStatus, e.SessionID, e.Subject, e.Via); err != nil {
			_ = tx.Rollback()
			return s.translate(err, "audit entries")
		}
	}
	_ = stmt.Close()
	return s.translate(tx.Commit(), "audit entries")
}

// AuditEntries implements switchboard.Store.
func (s *Store) AuditEntries(ctx context.Context, orgID string, f switchboard.AuditFilter) ([]switchboard.AuditEntry, string, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	q := strings.Builder{}
	q.WriteString(`SELECT id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error,
		event, upstream_status, session_id, subject, via FROM audit_log WHERE org_id = $1`)
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Name != "" {
		q.WriteString(` AND name = ` + arg(f.Name))
	}
	if f.Event != "" {
		q.WriteString(` AND event = ` + arg(f.Event))
	}
	if !f.Since.IsZero() {
		q.WriteString(` AND at >= ` + arg(micros(f.Since)))
	}
	if !f.Until.IsZero() {
		q.WriteString(` AND at < ` + arg(micros(f.Until)))
	}
	if f.Cursor != "" {
		at, id, ok := decodeCursor(f.Cursor)
		if !ok {
			return nil, "", &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the cursor is not valid; pass the nextCursor of a previous page",
				Problems: []switchboard.Problem{{Message: "not a cursor this server issued", Location: "/cursor"}}}
		}
		a, i := arg(at), arg(id)
		q.WriteString(` AND (at < ` + a + ` OR (at = ` + a + ` AND id < ` + i + `))`)
	}
	q.WriteString(` ORDER BY at DESC, id DESC LIMIT ` + arg(limit+1))
	rows, err := s.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, "", s.translate(err, "audit entries")
	}
	defer rows.Close()
	var out []switchboard.AuditEntry
	for rows.Next() {
		var e switchboard.AuditEntry
		var at int64
		var argsText string
		if err := rows.Scan(&e.ID, &e.OrgID, &at, &e.ActorID, &e.ActorName, &e.Kind, &e.Name, &argsText,
			&e.Method, &e.URL, &e.Status, &e.DurationMs, &e.Cache, &e.Error, &e.Event, &e.UpstreamStatus, &e.SessionID, &e.Subject, &e.Via); err != nil {
			return nil, "", s.translate(err, "audit entries")
		}
		e.Time = fromMicros(at)
		_ = json.Unmarshal([]byte(argsText), &e.Args)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.translate(err, "audit entries")
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = encodeCursor(micros(last.Time), last.ID)
	}
	return out, next, nil
}

func encodeCursor(at int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "|" + id))
}

func decodeCursor(c string) (int64, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false
	}
	a, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return 0, "", false
	}
	at, err := strconv.ParseInt(a, 10, 64)
	return at, id, err == nil
}
