package postgres

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverLockID is the advisory lock under which instances apply River's
// migrations ("swbr"): rivermigrate takes no lock of its own, and
// instances starting together would otherwise race to create its tables.
const riverLockID = 0x73776272

// migrateRiver applies River's migrations (the workflow engine's jobs),
// each in its own transaction as River requires (a migration adds an enum
// value that the next uses), while a connection of its own holds
// riverLockID, in the schema the URL's search_path selects, as the store's
// own tables are.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, riverLockID); err != nil {
		return err
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, riverLockID) }()
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}
