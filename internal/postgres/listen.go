package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The listener's reconnection backoff, and how often an idle listening
// connection is pinged: a connection whose peer vanished without closing it
// (a failover, a dropped NAT entry) would otherwise wait for notifications
// forever.
const (
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
	idlePing     = 30 * time.Second
	pingTimeout  = 5 * time.Second
	closeTimeout = time.Second
)

// Listen follows the change feed's notifications: it calls notify for every
// change another instance (or this one) commits, and once more after each
// time it starts listening, the first included, since changes committed
// while it was not listening were announced to nobody. notify runs on
// Listen's goroutine and should not block (a non-blocking send on a channel
// of capacity one coalesces a burst into one wake-up). Listen holds a
// connection of its own, outside the pool, and when it breaks reconnects with
// backoff (100ms doubling to 5s). It returns when ctx ends or the store is
// closed.
func (s *Store) Listen(ctx context.Context, notify func()) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.closed, cancel)()
	delay := minBackoff
	for {
		listened, err := s.listen(ctx, notify)
		if ctx.Err() != nil {
			return
		}
		if listened {
			delay = minBackoff
		}
		if s.Log != nil {
			s.Log.Warn("postgres: the change feed listener lost its connection; reconnecting",
				"err", err, "retry_in", delay)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, maxBackoff)
	}
}

// listen connects, listens and delivers notifications until the connection
// breaks or ctx ends. listened reports whether LISTEN took effect.
func (s *Store) listen(ctx context.Context, notify func()) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig)
	if err != nil {
		return false, err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return false, err
	}
	notify()
	for {
		wctx, cancel := context.WithTimeout(ctx, idlePing)
		_, err := conn.WaitForNotification(wctx)
		timedOut := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
			notify()
		case ctx.Err() != nil:
			return true, ctx.Err()
		case timedOut:
			// pgx leaves a connection usable after a wait that timed out.
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, err
			}
		default:
			return true, err
		}
	}
}
