package outbound

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// countingConn counts the writes made on a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

// TestRequestIsOneWrite checks that a request with a body leaves in one
// write: net/http flushes the headers on their own before a body it does not
// know to be in memory, which costs every run a second write and the
// upstream a second read.
func TestRequestIsOneWrite(t *testing.T) {
	s := newServer(t, ok)
	c := newTestClient(t, Config{})
	var writes atomic.Int64
	dial := c.transport.DialContext
	c.transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: conn, writes: &writes}, nil
	}
	for i := range 10 {
		req := get(t, s.URL)
		req.Method = http.MethodPost
		req.Body = []byte(`{"foo":"12","i":` + string(rune('0'+i)) + `}`)
		before := writes.Load()
		if _, err := c.Do(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		if n := writes.Load() - before; n != 1 {
			t.Fatalf("request %d took %d writes, want 1 (headers and body together)", i, n)
		}
	}
}
