package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/apitest"
)

// slowBody opens a connection that sends a run request claiming a body of
// claimed bytes and sends one byte of it.
func slowBody(t *testing.T, url, key string, claimed int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/commands/shop.x/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", key, claimed)
	return conn
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Connections that claim large bodies and send almost nothing make the
// server reserve nothing, and are cut off at the read deadline. (Not
// parallel: it measures the process's heap.)
func TestSlowBodiesReserveNothing(t *testing.T) {
	const conns, claimed = 100, 5 << 20
	const timeout = 2 * time.Second
	env := apitest.New(t, apitest.Options{ReadTimeout: timeout, MaxBodies: 1000, MaxBodiesPerKey: 1000})
	org, err := env.Operator.CreateOrg(t.Context(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	start := time.Now()
	var open []net.Conn
	for range conns {
		open = append(open, slowBody(t, env.URL, org.AdminKey, claimed))
	}
	time.Sleep(500 * time.Millisecond) // every request is reading its body
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grew by %d KiB for %d connections claiming %d MiB each", grown>>10, conns, claimed>>20)
	// 100 x 5 MiB would be 500 MiB; what was sent is 100 bytes.
	if grown > 32<<20 {
		t.Errorf("the heap grew by %d MiB while %d connections sent one byte each", grown>>20, conns)
	}

	for i, c := range open {
		c.SetReadDeadline(time.Now().Add(timeout + 5*time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != 400 {
				t.Errorf("connection %d: answer %d, want 400 or a closed connection", i, resp.StatusCode)
			}
		} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("connection %d is still open %s after its read deadline", i, time.Since(start)-timeout)
		}
	}
	if d := time.Since(start); d < timeout-200*time.Millisecond {
		t.Errorf("the connections were cut after %s, before the %s deadline", d, timeout)
	}
}

// The bodies being read at once are capped per key: beyond the cap a
// request answers 503 with Retry-After at once, and another key is not
// held up.
func TestBodiesPerKeyCapped(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.Options{MaxBodiesPerKey: 2, ReadTimeout: 5 * time.Second})
	org, err := env.Operator.CreateOrg(t.Context(), "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	admin := env.Org(t, "other")
	slowBody(t, env.URL, org.AdminKey, 1000)
	slowBody(t, env.URL, org.AdminKey, 1000)
	time.Sleep(200 * time.Millisecond)
	third := slowBody(t, env.URL, org.AdminKey, 1000)
	third.SetReadDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil {
		t.Fatalf("the third body got no answer at once: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("third body: %d, Retry-After %q; want 503 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if _, err := admin.Keys(t.Context()); err != nil {
		t.Fatalf("another key is held up: %v", err)
	}
}
