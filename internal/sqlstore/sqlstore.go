// Package sqlstore implements switchboard.Store on database/sql with SQL that
// SQLite and PostgreSQL both accept ($N placeholders, RETURNING, ON CONFLICT,
// JSON as text, times as Unix microseconds). The sqlite and postgres packages
// open the databases, run their migrations and supply the few things the
// dialects disagree on through Dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Dialect is what differs between the databases.
type Dialect interface {
	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	IsUniqueViolation(err error) bool
	// Unavailable reports whether err means the database cannot be reached
	// (so that callers answer 503, not 500).
	Unavailable(err error) bool
}

// Store is a switchboard.Store. Writes go through w and reads through r; they
// are one pool on PostgreSQL and a single writer connection beside a reader
// pool on SQLite.
type Store struct {
	w, r    *sql.DB
	dialect Dialect
	now     func() time.Time
	// OnChange, when set, is called after a write's transaction commits, so
	// that the writing instance refreshes at once without polling.
	OnChange func()
}

// New returns a Store on the given connection pools.
func New(w, r *sql.DB, d Dialect) *Store {
	return &Store{w: w, r: r, dialect: d, now: time.Now}
}

var _ switchboard.Store = (*Store)(nil)

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// translate maps driver errors onto the domain's codes.
func (s *Store) translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var se *switchboard.Error
	if errors.As(err, &se) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return &switchboard.Error{Code: switchboard.CodeNotFound, Detail: what + " not found", Err: err}
	}
	if s.dialect.IsUniqueViolation(err) {
		return &switchboard.Error{Code: switchboard.CodeConflict, Detail: what + " already exists", Err: err}
	}
	if s.dialect.Unavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return &switchboard.Error{Code: switchboard.CodeUnavailable, Detail: "the database is unavailable; try again shortly", Err: err}
	}
	return switchboard.Internal(fmt.Errorf("%s: %w", what, err))
}

// tx runs fn in a write transaction, then tells OnChange.
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, what)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.translate(err, what)
	}
	if err := tx.Commit(); err != nil {
		return s.translate(err, what)
	}
	if s.OnChange != nil {
		s.OnChange()
	}
	return nil
}

func (s *Store) change(ctx context.Context, tx *sql.Tx, kind switchboard.ChangeKind, orgID, ref string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO changes (kind, org_id, ref, at) VALUES ($1, $2, $3, $4)`,
		string(kind), orgID, ref, micros(s.now()))
	return err
}

// CreateOrg implements switchboard.Store.
func (s *Store) CreateOrg(ctx context.Context, org switchboard.Org, admin switchboard.Key) error {
	return s.tx(ctx, "org "+org.ID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO orgs (id, name, created_at) VALUES ($1, $2, $3)`,
			org.ID, org.Name, micros(org.CreatedAt)); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, admin); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, org.ID, admin.ID)
	})
}

// Org implements switchboard.Store.
func (s *Store) Org(ctx context.Context, id string) (switchboard.Org, error) {
	var o switchboard.Org
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT id, name, created_at FROM orgs WHERE id = $1`, id).Scan(&o.ID, &o.Name, &at)
	o.CreatedAt = fromMicros(at)
	return o, s.translate(err, "org "+id)
}

func insertKey(ctx context.Context, tx *sql.Tx, k switchboard.Key) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.OrgID, k.Name, string(k.Role), k.Hash, micros(k.CreatedAt))
	return err
}

// CreateKey implements switchboard.Store.
func (s *Store) CreateKey(ctx context.Context, k switchboard.Key) error {
	return s.tx(ctx, "key", func(tx *sql.Tx) error {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, k.OrgID, k.ID)
	})
}

const keyColumns = `id, org_id, name, role, hash, created_at`

func scanKeys(rows *sql.Rows) ([]switchboard.Key, error) {
	defer rows.Close()
	var keys []switchboard.Key
	for rows.Next() {
		var k switchboard.Key
		var role string
		var at int64
		if err := rows.Scan(&k.ID, &k.OrgID, &k.Name, &role, &k.Hash, &at); err != nil {
			return nil, err
		}
		k.Role = switchboard.Role(role)
		k.CreatedAt = fromMicros(at)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// Keys implements switchboard.Store.
func (s *Store) Keys(ctx context.Context, orgID string) ([]switchboard.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE org_id = $1 ORDER BY created_at, id`, orgID)
	if err != nil {
		return nil, s.translate(err, "keys")
	}
	keys, err := scanKeys(rows)
	return keys, s.translate(err, "keys")
}

// AllKeys implements switchboard.Store.
func (s *Store) AllKeys(ctx context.Context) ([]switchboard.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, s.translate(err, "keys")
	}
	keys, err := scanKeys(rows)
	return keys, s.translate(err, "keys")
}

// DeleteKey implements switchboard.Store.
func (s *Store) DeleteKey(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, "key "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE org_id = $1 AND id = $2`, orgID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return s.change(ctx, tx, switchboard.ChangeKeys, orgID, id)
	})
}

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

func upsertInstall(ctx context.Context, tx *sql.Tx, in switchboard.Install) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO installs (org_id, app_id, version, installed_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (org_id, app_id) DO UPDATE SET version = excluded.version, installed_at = excluded.installed_at`,
		in.OrgID, in.AppID, in.Version, micros(in.InstalledAt))
	return err
}

// PutInstall implements switchboard.Store.
func (s *Store) PutInstall(ctx context.Context, in switchboard.Install) error {
	return s.tx(ctx, "install of "+in.AppID, func(tx *sql.Tx) error {
		if err := upsertInstall(ctx, tx, in); err != nil {
			return err
		}
		return s.change(ctx, tx, switchboard.ChangeInstalls, in.OrgID, in.AppID)
	})
}

// DeleteInstall implements switchboard.Store.
func (s *Store) DeleteInstall(ctx context.Context, orgID, appID string) error {
	return s.tx(ctx, "install of "+appID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM installs WHERE org_id = $1 AND app_id = $2`, orgID, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return sql.ErrNoRows
		}
		return s.change(ctx, tx, switchboard.ChangeInstalls, orgID, appID)
	})
}

// Installs implements switchboard.Store.
func (s *Store) Installs(ctx context.Context, orgID string) ([]switchboard.Install, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT org_id, app_id, version, installed_at FROM installs WHERE org_id = $1 ORDER BY app_id`, orgID)
	if err != nil {
		return nil, s.translate(err, "installs")
	}
	defer rows.Close()
	var out []switchboard.Install
	for rows.Next() {
		var in switchboard.Install
		var at int64
		if err := rows.Scan(&in.OrgID, &in.AppID, &in.Version, &at); err != nil {
			return nil, s.translate(err, "installs")
		}
		in.InstalledAt = fromMicros(at)
		out = append(out, in)
	}
	return out, s.translate(rows.Err(), "installs")
}

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

// AppendAudit implements switchboard.Store.
func (s *Store) AppendAudit(ctx context.Context, entries []switchboard.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.translate(err, "audit entries")
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_log (id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`)
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
			string(args), e.Method, e.URL, e.Status, e.DurationMs, e.Cache, e.Error); err != nil {
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
	q.WriteString(`SELECT id, org_id, at, actor_id, actor_name, kind, name, args, method, url, status, duration_ms, cache, error
		FROM audit_log WHERE org_id = $1`)
	args := []any{orgID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Name != "" {
		q.WriteString(` AND name = ` + arg(f.Name))
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
			&e.Method, &e.URL, &e.Status, &e.DurationMs, &e.Cache, &e.Error); err != nil {
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

// Ping implements switchboard.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return s.translate(err, "database")
	}
	return s.translate(s.r.PingContext(ctx), "database")
}

// Close implements switchboard.Store.
func (s *Store) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}
