package sqlstore

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/switchboardhq/switchboard"
)

// KeyCheck implements switchboard.Store.
func (s *Store) KeyCheck(ctx context.Context) ([]byte, error) {
	var sealed string
	if err := s.r.QueryRowContext(ctx, `SELECT sealed FROM key_check WHERE id = 1`).Scan(&sealed); err != nil {
		return nil, s.translate(err, "key check value")
	}
	b, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil {
		return nil, switchboard.Internal(fmt.Errorf("key check value: corrupt: %w", err))
	}
	return b, nil
}

// PutKeyCheck implements switchboard.Store.
func (s *Store) PutKeyCheck(ctx context.Context, sealed []byte, replace bool) error {
	onConflict := `DO NOTHING`
	if replace {
		onConflict = `DO UPDATE SET sealed = excluded.sealed`
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) `+onConflict,
		base64.StdEncoding.EncodeToString(sealed))
	return s.translate(err, "key check value")
}
