package sqlstore

import (
	"context"
	"encoding/base64"

	"github.com/switchboardhq/switchboard"
)

// sealedRow is one ciphertext at rest, found by its kind's query: its org
// and app, two columns that name it within them (a, b) and the ciphertext
// as stored (base64).
type sealedRow struct {
	org, app, a, b, ct string
}

// sealedKind is where one kind of ciphertext lives: the query that lists
// them (org, app, a, b, ciphertext), the additional data each is sealed
// with, and the UPDATE that replaces one (new ciphertext as $1) only if it
// still holds the old one.
type sealedKind struct {
	what   string
	query  string
	aad    func(r sealedRow) []byte
	update func(r sealedRow, ct string) (string, []any)
}

var sealedKinds = []sealedKind{
	{what: "settings",
		query: `SELECT org_id, app_id, category, name, ciphertext FROM settings WHERE secret = 1`,
		aad:   func(r sealedRow) []byte { return switchboard.SettingAAD(r.org, r.app, r.a+"."+r.b) },
		update: func(r sealedRow, ct string) (string, []any) {
			return `UPDATE settings SET ciphertext = $1 WHERE org_id = $2 AND app_id = $3 AND category = $4 AND name = $5 AND ciphertext = $6`,
				[]any{ct, r.org, r.app, r.a, r.b, r.ct}
		}},
	{what: "accounts",
		query: `SELECT org_id, app_id, name, 'access', access_token FROM accounts
			UNION ALL SELECT org_id, app_id, name, 'refresh', refresh_token FROM accounts WHERE refresh_token <> ''`,
		aad: func(r sealedRow) []byte { return switchboard.TokenAAD(r.org, r.app, r.a, r.b) },
		update: func(r sealedRow, ct string) (string, []any) {
			col := "access_token"
			if r.b == "refresh" {
				col = "refresh_token"
			}
			return `UPDATE accounts SET ` + col + ` = $1 WHERE org_id = $2 AND app_id = $3 AND name = $4 AND ` + col + ` = $5`,
				[]any{ct, r.org, r.app, r.a, r.ct}
		}},
	{what: "hooks",
		query: `SELECT org_id, app_id, event_name, id, secret FROM workflow_hooks WHERE secret <> ''`,
		aad:   func(r sealedRow) []byte { return switchboard.HookAAD(r.org, r.app, r.a) },
		update: func(r sealedRow, ct string) (string, []any) {
			return `UPDATE workflow_hooks SET secret = $1 WHERE id = $2 AND secret = $3`, []any{ct, r.b, r.ct}
		}},
}

// Reseal rewrites every ciphertext at rest (secret settings, app account
// tokens and web hooks' secrets) through fn, which opens a value with
// whichever key sealed it and seals it with the current key, reporting
// whether it changed anything. It returns how many values it rewrote. Each
// value is updated on its own and only if no one wrote it meanwhile, so the
// server may keep running.
func (s *Store) Reseal(ctx context.Context, fn func(ciphertext, aad []byte) ([]byte, bool, error)) (int, error) {
	n := 0
	for _, k := range sealedKinds {
		rows, err := s.sealedRows(ctx, k)
		if err != nil {
			return n, err
		}
		for _, r := range rows {
			ct, _ := base64.StdEncoding.DecodeString(r.ct)
			out, changed, err := fn(ct, k.aad(r))
			if err != nil {
				return n, err
			}
			if !changed {
				continue
			}
			q, args := k.update(r, base64.StdEncoding.EncodeToString(out))
			if _, err := s.w.ExecContext(ctx, q, args...); err != nil {
				return n, s.translate(err, k.what)
			}
			n++
		}
	}
	return n, nil
}

// sealedRows reads all of a kind's ciphertexts before any is rewritten.
func (s *Store) sealedRows(ctx context.Context, k sealedKind) ([]sealedRow, error) {
	q, err := s.r.QueryContext(ctx, k.query)
	if err != nil {
		return nil, s.translate(err, k.what)
	}
	defer q.Close()
	var rows []sealedRow
	for q.Next() {
		var r sealedRow
		if err := q.Scan(&r.org, &r.app, &r.a, &r.b, &r.ct); err != nil {
			return nil, s.translate(err, k.what)
		}
		rows = append(rows, r)
	}
	return rows, s.translate(q.Err(), k.what)
}
