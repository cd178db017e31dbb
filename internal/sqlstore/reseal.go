package sqlstore

import (
	"context"
	"encoding/base64"

	"github.com/switchboardhq/switchboard"
)

// Reseal rewrites every ciphertext at rest (secret settings, app account
// tokens and web hooks' secrets) through fn, which opens a value with whichever key sealed it and
// seals it with the current key, reporting whether it changed anything. It
// returns how many values it rewrote. Each value is updated on its own and
// only if no one wrote it meanwhile, so the server may keep running.
func (s *Store) Reseal(ctx context.Context, fn func(ciphertext, aad []byte) ([]byte, bool, error)) (int, error) {
	type row struct {
		org, app, a, b string // a, b: category and name, or account name and token kind
		ct             string
	}
	var rows []row
	q, err := s.r.QueryContext(ctx, `SELECT org_id, app_id, category, name, ciphertext FROM settings WHERE secret = 1`)
	if err != nil {
		return 0, s.translate(err, "settings")
	}
	for q.Next() {
		var r row
		if err := q.Scan(&r.org, &r.app, &r.a, &r.b, &r.ct); err != nil {
			q.Close()
			return 0, s.translate(err, "settings")
		}
		rows = append(rows, r)
	}
	q.Close()
	n := 0
	for _, r := range rows {
		ct, _ := base64.StdEncoding.DecodeString(r.ct)
		out, changed, err := fn(ct, switchboard.SettingAAD(r.org, r.app, r.a+"."+r.b))
		if err != nil {
			return n, err
		}
		if !changed {
			continue
		}
		if _, err := s.w.ExecContext(ctx, `UPDATE settings SET ciphertext = $1
			WHERE org_id = $2 AND app_id = $3 AND category = $4 AND name = $5 AND ciphertext = $6`,
			base64.StdEncoding.EncodeToString(out), r.org, r.app, r.a, r.b, r.ct); err != nil {
			return n, s.translate(err, "settings")
		}
		n++
	}

	rows = rows[:0]
	q, err = s.r.QueryContext(ctx, `SELECT org_id, app_id, name, access_token, refresh_token FROM accounts`)
	if err != nil {
		return n, s.translate(err, "accounts")
	}
	for q.Next() {
		var org, app, name, at, rt string
		if err := q.Scan(&org, &app, &name, &at, &rt); err != nil {
			q.Close()
			return n, s.translate(err, "accounts")
		}
		rows = append(rows, row{org, app, name, "access", at})
		if rt != "" {
			rows = append(rows, row{org, app, name, "refresh", rt})
		}
	}
	q.Close()
	for _, r := range rows {
		ct, _ := base64.StdEncoding.DecodeString(r.ct)
		out, changed, err := fn(ct, switchboard.TokenAAD(r.org, r.app, r.a, r.b))
		if err != nil {
			return n, err
		}
		if !changed {
			continue
		}
		col := "access_token"
		if r.b == "refresh" {
			col = "refresh_token"
		}
		if _, err := s.w.ExecContext(ctx, `UPDATE accounts SET `+col+` = $1 WHERE org_id = $2 AND app_id = $3 AND name = $4 AND `+col+` = $5`,
			base64.StdEncoding.EncodeToString(out), r.org, r.app, r.a, r.ct); err != nil {
			return n, s.translate(err, "accounts")
		}
		n++
	}

	rows = rows[:0]
	q, err = s.r.QueryContext(ctx, `SELECT org_id, app_id, event_name, id, secret FROM workflow_hooks WHERE secret <> ''`)
	if err != nil {
		return n, s.translate(err, "hooks")
	}
	for q.Next() {
		var r row
		if err := q.Scan(&r.org, &r.app, &r.a, &r.b, &r.ct); err != nil {
			q.Close()
			return n, s.translate(err, "hooks")
		}
		rows = append(rows, r)
	}
	q.Close()
	for _, r := range rows {
		out, changed, err := fn(sealedBytes(r.ct), switchboard.HookAAD(r.org, r.app, r.a))
		if err != nil {
			return n, err
		}
		if !changed {
			continue
		}
		if _, err := s.w.ExecContext(ctx, `UPDATE workflow_hooks SET secret = $1 WHERE id = $2 AND secret = $3`,
			sealedText(out), r.b, r.ct); err != nil {
			return n, s.translate(err, "hooks")
		}
		n++
	}
	return n, nil
}
