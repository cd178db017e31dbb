package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/switchboardhq/switchboard"
)

// errTimeout is the cancellation cause of a request that ran out of
// Config.Timeout, which tells it from a deadline of the caller's context.
var errTimeout = errors.New("outbound: timeout")

// failure turns an error of an exchange into a *switchboard.Error. u is the
// request's URL; hop is the host of the URL that failed, which differs after
// a redirect. Details name hosts (and ports), never URLs: a query string may
// carry user data.
func (c *Client) failure(ctx, parent context.Context, u *url.URL, hop string, err error) *switchboard.Error {
	host := u.Hostname()
	name, at := host, hostPort(u)
	if hop != "" && !strings.EqualFold(hop, host) {
		name = hop + " (redirected from " + host + ")"
		at = name
	}
	e := &switchboard.Error{Err: err}
	var refused *RefusedError
	var scheme *schemeError
	switch {
	case errors.As(err, &refused):
		e.Code = switchboard.CodeUpstreamForbidden
		e.Detail = fmt.Sprintf("requests to %s are not allowed (%s); start the server with --allow-private-networks to allow them",
			refused.Reason, where(host, refused))
	case errors.Is(err, errTooManyRedirects):
		e.Code = switchboard.CodeUpstreamError
		e.Detail = fmt.Sprintf("more than %d redirects, starting at %s", c.maxRedirects, host)
	case errors.As(err, &scheme):
		e.Code = switchboard.CodeUpstreamError
		e.Detail = fmt.Sprintf("%s redirected to an unsupported scheme %s", name, quote(scheme.scheme))
	case errors.Is(err, errTooLarge):
		e.Code = switchboard.CodeUpstreamError
		e.Detail = fmt.Sprintf("the response from %s exceeds %s", name, formatSize(c.maxBody))
	case headersTooLarge(err):
		e.Code = switchboard.CodeUpstreamError
		e.Detail = fmt.Sprintf("the response headers from %s exceed %s", name, formatSize(maxResponseHeaderBytes))
	case http2ProtocolError(err):
		// What the HTTP/2 client says when the headers go over the limit
		// by more than a frame, which is how they usually do, and also
		// for any other frame that breaks the protocol: either way the
		// upstream answered, wrongly.
		e.Code = switchboard.CodeUpstreamError
		e.Detail = fmt.Sprintf("the response from %s broke HTTP/2 (response headers over %s do, and so do invalid frames)", name, formatSize(maxResponseHeaderBytes))
	// The context is looked at before the error itself: a cancellation
	// surfaces as many different errors depending on where it struck.
	case context.Cause(ctx) == errTimeout:
		e.Code = switchboard.CodeUpstreamTimeout
		e.Detail = fmt.Sprintf("%s did not answer within %s (the server's --upstream-timeout)", name, c.timeout)
	case errors.Is(parent.Err(), context.DeadlineExceeded):
		e.Code = switchboard.CodeUpstreamTimeout
		e.Detail = fmt.Sprintf("%s did not answer before the request's deadline", name)
	case parent.Err() != nil:
		// The caller gave up (a client went away): not the upstream's fault,
		// but the exchange did not happen. Err keeps context.Canceled for
		// errors.Is.
		e.Code = switchboard.CodeUpstreamUnreachable
		e.Detail = fmt.Sprintf("the request to %s was canceled", name)
		e.Err = fmt.Errorf("%w: %w", parent.Err(), err)
	case isTimeout(err):
		e.Code = switchboard.CodeUpstreamTimeout
		e.Detail = fmt.Sprintf("%s did not answer in time", name)
	default:
		e.Code = switchboard.CodeUpstreamUnreachable
		e.Detail = fmt.Sprintf("could not reach %s: %s", at, cause(err))
	}
	return e
}

// where says how the request came to the refused address, for example
// "api.example.com resolved to 10.0.0.1".
func where(host string, r *RefusedError) string {
	target := r.Host
	if target == "" {
		target = host
	}
	literal := false
	if a, err := netip.ParseAddr(target); err == nil {
		literal = a.WithZone("").Unmap() == r.Addr.WithZone("").Unmap()
	}
	switch {
	case strings.EqualFold(target, host) && literal:
		return r.Addr.String()
	case strings.EqualFold(target, host):
		return host + " resolved to " + r.Addr.String()
	case literal:
		return host + " redirected to " + r.Addr.String()
	}
	return host + " redirected to " + target + ", which resolved to " + r.Addr.String()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// cause names the reason of a failed exchange in a few words.
func cause(err error) string {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "no such host"
		}
		return "DNS lookup failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.As(err, &cert):
		return "TLS certificate verification failed: " + cert.Err.Error()
	case errors.As(err, &unknownCA), errors.As(err, &hostname):
		return "TLS certificate verification failed"
	case errors.As(err, &record):
		return "TLS handshake failed (is the server speaking TLS?)"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the connection closed before the response was complete"
	}
	// net/http reports these with bare errors.New: its messages are all
	// there is to go by. Missing a match only makes the detail vaguer.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return "the server answered in plain HTTP, not TLS"
	case strings.Contains(msg, "malformed HTTP"):
		return "the server's answer is not valid HTTP"
	}
	return "the exchange failed"
}

// transportMessage is the message of the transport's error in err, without
// the URL that a *url.Error adds (a URL may hold anything).
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return err.Error()
}

// headersTooLarge reports whether err is the transport's refusal of
// response headers over Transport.MaxResponseHeaderBytes. net/http reports
// it with bare errors: its messages are all there is to go by.
func headersTooLarge(err error) bool {
	msg := transportMessage(err)
	return strings.Contains(msg, "server response headers exceeded") || // HTTP/1.1
		strings.Contains(msg, "response header list larger than advertised limit") || // HTTP/2
		strings.Contains(msg, "header list too large") // HTTP/2, 1xx responses
}

// http2ProtocolError reports whether err is the HTTP/2 client closing the
// connection on a frame of the server's that breaks the protocol (not a
// GOAWAY of the server's, whose message differs).
func http2ProtocolError(err error) bool {
	return strings.Contains(transportMessage(err), "connection error: PROTOCOL_ERROR")
}

// hopHost returns the host of the URL a *url.Error names, "" if none.
// hostPort is a URL's host and port, the scheme's default port when the
// URL names none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func hopHost(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return ""
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return ""
	}
	return u.Hostname()
}

// formatSize writes a byte count the way a person would: "5 MiB".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
