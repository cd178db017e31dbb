package client_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/client"
)

// The client's constants are the server's closed set of codes, no more and
// no fewer.
func TestCodesMatchTheServer(t *testing.T) {
	t.Parallel()
	mine := []string{client.CodeUnauthorized, client.CodeForbidden, client.CodeNotFound, client.CodeConflict,
		client.CodeInvalidDefinition, client.CodeInvalidInput, client.CodePayloadTooLarge, client.CodeRateLimited,
		client.CodeUpstreamUnreachable, client.CodeUpstreamError, client.CodeUpstreamTimeout, client.CodeAccountDisconnected,
		client.CodeSettingMissing, client.CodeUpstreamForbidden, client.CodeUnavailable, client.CodeInternal}
	var theirs []string
	for _, c := range switchboard.Codes() {
		theirs = append(theirs, string(c))
	}
	slices.Sort(mine)
	slices.Sort(theirs)
	if !slices.Equal(mine, theirs) {
		t.Errorf("client codes %v\nserver codes %v", mine, theirs)
	}
}

// A server that is not there is a *ConnError that says so, not an *Error.
func TestConnError(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = client.New("http://"+addr, "k", nil).Apps(context.Background())
	var ce *client.ConnError
	if !errors.As(err, &ce) || !ce.Refused() || ce.NotResolved() {
		t.Fatalf("error = %#v, want a refused *ConnError", err)
	}
	if ce.Server != "http://"+addr {
		t.Errorf("Server = %q", ce.Server)
	}
	var pe *client.Error
	if errors.As(err, &pe) {
		t.Errorf("a connection failure is also an *Error: %v", pe)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := client.New("http://"+addr, "k", nil).Apps(ctx); !errors.Is(err, context.Canceled) || errors.As(err, &ce) {
		t.Errorf("a cancelled request = %v, want context.Canceled and no *ConnError", err)
	}
}
