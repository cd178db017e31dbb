package sqlstore

import "context"

// Listen implements switchboard.ChangeFeed for a database without
// notifications: it returns at once. The registry polls the feed and is told
// of this instance's own writes directly; PostgreSQL's store overrides Listen
// with LISTEN/NOTIFY.
func (s *Store) Listen(ctx context.Context, notify func()) {}
