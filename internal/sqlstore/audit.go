package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// auditColumns are the columns of an audit entry, in the order of
// auditValues.
const auditColumns = `id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error,
		event, upstream_status, session_id, subject, via`

const auditColumnCount = 19

// auditValues appends the values of e in the order of auditColumns.
func auditValues(dst []any, e *switchboard.AuditEntry) []any {
	args := "{}"
	if e.Args != nil {
		b, _ := json.Marshal(e.Args)
		args = string(b)
	}
	return append(dst, e.ID, e.OrgID, micros(e.Time), e.ActorID, e.ActorName, e.Kind, e.Name,
		args, e.Method, e.URL, e.Status, e.DurationMs, e.Cache, e.Error, e.Event, e.UpstreamStatus, e.SessionID, e.Subject, e.Via)
}

// auditInsert is the INSERT of n entries: one statement, so one round trip
// on PostgreSQL and one statement to step on SQLite, whatever n is.
func auditInsert(n int) string {
	return "INSERT INTO audit_log (" + auditColumns + ") VALUES " + valuesList(1, n, auditColumnCount)
}

// valuesList is a VALUES list of rows tuples of cols placeholders each,
// numbered from first: "($1,$2),($3,$4)".
func valuesList(first, rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(first + r*cols + c))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// auditInsertRows bounds the entries of one INSERT: 19 parameters an entry
// stay far below SQLite's and PostgreSQL's limits on a statement's
// parameters (32766 and 65535), and a batch larger than this is written as
// several statements of one transaction.
const auditInsertRows = 256

// MultiRowAudit is implemented by a Dialect whose database writes a batch
// of audit entries faster as one multi-row INSERT than as one prepared
// INSERT an entry (PostgreSQL: one round trip instead of one an entry).
type MultiRowAudit interface {
	MultiRowAudit() bool
}

// AppendAudit implements switchboard.Store: the entries are committed
// together, or none of them.
func (s *Store) AppendAudit(ctx context.Context, entries []switchboard.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if m, ok := s.dialect.(MultiRowAudit); ok && m.MultiRowAudit() {
		return s.appendAuditRows(ctx, entries)
	}
	return s.appendAuditPrepared(ctx, entries)
}

// appendAuditRows inserts the entries with multi-row INSERTs
// (auditInsertRows at most each); a batch of one statement commits on its
// own, with no BEGIN and COMMIT around it.
func (s *Store) appendAuditRows(ctx context.Context, entries []switchboard.AuditEntry) error {
	values := make([]any, 0, min(len(entries), auditInsertRows)*auditColumnCount)
	if len(entries) <= auditInsertRows {
		for i := range entries {
			values = auditValues(values, &entries[i])
		}
		_, err := s.w.ExecContext(ctx, auditInsert(len(entries)), values...)
		return s.translate(err, "audit entries")
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, "audit entries")
	}
	for len(entries) > 0 {
		n := min(len(entries), auditInsertRows)
		values = values[:0]
		for i := range entries[:n] {
			values = auditValues(values, &entries[i])
		}
		if _, err := tx.ExecContext(ctx, auditInsert(n), values...); err != nil {
			_ = tx.Rollback()
			return s.translate(err, "audit entries")
		}
		entries = entries[n:]
	}
	return s.translate(tx.Commit(), "audit entries")
}

// appendAuditPrepared inserts the entries one by one with a statement
// prepared once for the transaction: on SQLite (in-process, no round trips)
// this beats a multi-row INSERT, whose compilation grows with its rows
// (BenchmarkAppendAudit in internal/sqlite: 53-68 us an entry in batches of
// 32, against 215-2195 us with one INSERT of 32 rows).
func (s *Store) appendAuditPrepared(ctx context.Context, entries []switchboard.AuditEntry) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, "audit entries")
	}
	stmt, err := tx.PrepareContext(ctx, auditInsert(1))
	if err != nil {
		_ = tx.Rollback()
		return s.translate(err, "audit entries")
	}
	values := make([]any, 0, auditColumnCount)
	for i := range entries {
		values = auditValues(values[:0], &entries[i])
		if _, err := stmt.ExecContext(ctx, values...); err != nil {
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
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
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

// decodeCursor reads a page's cursor; one this server did not issue is an
// invalid_input problem at /cursor.
func decodeCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", errBadCursor
	}
	a, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return 0, "", errBadCursor
	}
	at, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, "", errBadCursor
	}
	return at, id, nil
}

var errBadCursor = &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: "the cursor is not valid; pass the nextCursor of a previous page",
	Problems: []switchboard.Problem{{Message: "not a cursor this server issued", Location: "/cursor"}}}
