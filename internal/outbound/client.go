// Package outbound is the one HTTP client for calls to external APIs
// ("upstreams"). Request URLs are partly built from user input, so it is the
// last line of defence against SSRF: every connection it opens, after DNS
// resolution and on every redirect hop, is checked against loopback, private,
// link-local, cloud metadata and other non-public addresses.
package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Config configures a Client. The zero Config gives a guarded client with
// the defaults of its fields.
type Config struct {
	// AllowPrivateNetworks turns the address guard off entirely, cloud
	// metadata addresses included. It is meant for development and tests,
	// where upstreams run on localhost or a private network.
	AllowPrivateNetworks bool
	// Timeout bounds a whole exchange: connect, TLS, redirects, headers and
	// body. Zero means 10s.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body. Zero means 5 MiB.
	MaxResponseBytes int64
	// MaxRedirects bounds the redirects followed. Zero means 5; a negative
	// value means redirects are not followed and the 3xx response is
	// returned as it is.
	MaxRedirects int
	// MaxIdleConnsPerHost is the size of each host's keep-alive pool. Zero
	// means 256.
	MaxIdleConnsPerHost int
	// Resolver resolves host names; nil means net.DefaultResolver. Tests use
	// it to point names at local servers.
	Resolver *net.Resolver
	// Remap sends connections for a "host:port" to another "host:port". The
	// guard still checks the address actually dialled. Tests use it to
	// send a definition's real host name to a local server.
	Remap map[string]string
	// DialAddr, when set, is the one "host:port" that every connection
	// goes to, whatever the request names (after Remap; the guard still
	// checks it). `switchboard apps test` sends every request of a
	// definition to its local replaying upstream this way, so that nothing
	// leaves the machine whatever a URL renders to.
	DialAddr string
	// RootCAs, when set, replaces the system's trusted CAs for TLS.
	RootCAs *x509.CertPool
}

// The defaults of Config.
const (
	DefaultTimeout             = 10 * time.Second
	DefaultMaxResponseBytes    = 5 << 20
	DefaultMaxRedirects        = 5
	DefaultMaxIdleConnsPerHost = 256
)

// maxResponseHeaderBytes bounds an upstream's response headers (HTTP/1.1:
// the status line and fields; HTTP/2: the header list it is told of).
const maxResponseHeaderBytes = 1 << 20

// Client is a guarded HTTP client, safe for concurrent use. Create one per
// process and share it: its keep-alive pools are what makes it fast. It never
// uses a proxy, not even one named by HTTP_PROXY.
type Client struct {
	timeout      time.Duration
	maxBody      int64
	maxRedirects int
	transport    *http.Transport
	client       *http.Client
}

// New returns a Client configured by cfg.
func New(cfg Config) *Client {
	var policy guardPolicy
	if !cfg.AllowPrivateNetworks {
		policy = defaultPolicy
	}
	return newClient(cfg, policy)
}

// newClient returns a Client whose dials are checked by policy (nil: none).
// Tests use it to open a hole for one local server while keeping the rest
// of the guard.
func newClient(cfg Config, policy guardPolicy) *Client {
	c := &Client{
		timeout:      cfg.Timeout,
		maxBody:      cfg.MaxResponseBytes,
		maxRedirects: cfg.MaxRedirects,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	c.maxBody = min(c.maxBody, math.MaxInt64-1) // the reader looks one byte past it
	if c.maxRedirects == 0 {
		c.maxRedirects = DefaultMaxRedirects
	}
	perHost := cfg.MaxIdleConnsPerHost
	if perHost <= 0 {
		perHost = DefaultMaxIdleConnsPerHost
	}

	dialer := &net.Dialer{KeepAlive: 30 * time.Second, Resolver: cfg.Resolver}
	if policy != nil {
		dialer.Control = control(policy)
	}
	c.transport = &http.Transport{
		// No proxy, not even from the environment: through a proxy the guard
		// would check the proxy's address instead of the upstream's.
		Proxy:       nil,
		DialContext: guardedDial(dialer, cfg.Remap, cfg.DialAddr),
		// A custom DialContext turns HTTP/2 off unless forced back on.
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           max(1024, perHost),
		MaxIdleConnsPerHost:    perHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
	}
	if cfg.RootCAs != nil {
		c.transport.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	}
	// No Timeout here: Do bounds each exchange with its context, which also
	// covers reading the body after Do of http.Client has returned.
	c.client = &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect}
	return c
}

// guardedDial wraps dialer.DialContext to name the host in a RefusedError:
// the Control hook only sees the resolved address.
func guardedDial(dialer *net.Dialer, remap map[string]string, only string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := remap[addr]; ok {
			addr = to
		}
		if only != "" {
			addr = only
		}
		conn, err := dialer.DialContext(ctx, network, addr)
		var refused *RefusedError
		if err != nil && errors.As(err, &refused) && refused.Host == "" {
			refused.Host, _, _ = net.SplitHostPort(addr)
		}
		return conn, err
	}
}

// Timeout returns the bound of one exchange.
func (c *Client) Timeout() time.Duration { return c.timeout }

// HTTPClient returns an *http.Client with the same guarded transport and
// redirect policy, and Timeout as its Timeout, for libraries that want one
// (golang.org/x/oauth2). It does not cap response bodies.
func (c *Client) HTTPClient() *http.Client {
	// A new value each time: a caller changing a field must not change Do.
	return &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect, Timeout: c.timeout}
}

// CloseIdleConnections closes the idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// Request is a request to an upstream.
type Request struct {
	// Method is the HTTP method; "" means GET.
	Method string
	// URL is the absolute http or https URL, already validated by the
	// caller. It is not modified.
	URL *url.URL
	// Header is sent as given, minus hop-by-hop headers, Host and
	// Content-Length. It is not modified.
	Header http.Header
	// Body is sent as given; the caller sets Content-Type.
	Body []byte
	// SensitiveHeaders names headers, beyond Authorization,
	// Proxy-Authorization and Cookie, to drop on a redirect to another
	// origin, for example an API key header.
	SensitiveHeaders []string
}

// Response is an upstream's response, whatever its status.
type Response struct {
	Status int
	// Header is the response header, minus hop-by-hop headers.
	Header http.Header
	// Body is the whole body, owned by the caller.
	Body []byte
	// Duration is the time the exchange took, redirects and body included.
	Duration time.Duration
}

// Do sends req and reads the whole response. A response of any status is a
// success; errors are *switchboard.Error: CodeInvalidInput for a malformed
// req, CodeForbidden for a refused address, CodeUpstreamTimeout,
// CodeUpstreamUnreachable, and CodeUpstreamError for too many redirects, a
// body or headers over the limit, or a frame that breaks HTTP/2. A redirect that leaves the origin of req.URL drops
// the credential headers and req.SensitiveHeaders.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	hreq, err := newHTTPRequest(req)
	if err != nil {
		return nil, err
	}
	if k := idempotencyKeyOf(ctx); k != "" && validHeaderValue(k) {
		hreq.Header = hreq.Header.Clone() // the caller's header is not modified
		hreq.Header.Set("Idempotency-Key", k)
	}

	start := time.Now()
	parent := ctx
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout, errTimeout)
	defer cancel()
	if len(req.SensitiveHeaders) > 0 {
		ctx = context.WithValue(ctx, sensitiveKey{}, req.SensitiveHeaders)
	}
	hreq = hreq.WithContext(ctx)

	resp, err := c.client.Do(hreq)
	if err != nil {
		return nil, c.failure(ctx, parent, req.URL, hopHost(err), err)
	}
	var body []byte
	if resp.Body != http.NoBody { // HEAD, 204 and 304 have none, whatever Content-Length says
		body, err = readBody(resp.Body, resp.ContentLength, c.maxBody)
	}
	// Closing after reading to EOF returns the connection to the pool; after
	// an error it closes it, which is what stops an oversized body.
	resp.Body.Close()
	if err != nil {
		return nil, c.failure(ctx, parent, req.URL, resp.Request.URL.Hostname(), err)
	}
	stripHopByHop(resp.Header)
	return &Response{
		Status:   resp.StatusCode,
		Header:   resp.Header,
		Body:     body,
		Duration: time.Since(start),
	}, nil
}

// newHTTPRequest validates req and builds its *http.Request, without a
// context yet.
func newHTTPRequest(req *Request) (*http.Request, error) {
	if req == nil || req.URL == nil {
		return nil, switchboard.Errorf(switchboard.CodeInvalidInput, "the request has no URL")
	}
	u := req.URL
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, switchboard.Errorf(switchboard.CodeInvalidInput, "unsupported URL scheme %s: only http and https are allowed", quote(u.Scheme))
	}
	if u.Host == "" {
		return nil, switchboard.Errorf(switchboard.CodeInvalidInput, "the URL has no host")
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	} else if !validHeaderName(method) { // a method is a token, like a header name
		return nil, switchboard.Errorf(switchboard.CodeInvalidInput, "invalid HTTP method %s", quote(method))
	}
	header, err := outboundHeader(req.Header)
	if err != nil {
		return nil, &switchboard.Error{Code: switchboard.CodeInvalidInput, Detail: err.Error(), Err: err}
	}
	if header == nil {
		header = make(http.Header)
	}
	hreq := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
	}
	if len(req.Body) > 0 {
		body := req.Body
		hreq.ContentLength = int64(len(body))
		hreq.Body = newBodyReader(body)
		// GetBody lets the client resend the body on a 307 or 308 redirect
		// and the transport retry on a keep-alive connection the server had
		// just closed.
		hreq.GetBody = func() (io.ReadCloser, error) { return newBodyReader(body), nil }
	}
	return hreq, nil
}

// newBodyReader is the body of a request: io.NopCloser over a
// bytes.Reader, which net/http knows to be in memory, so that it writes the
// headers and the body together in one write (one TCP segment for a small
// request). With a body type of its own it flushes the headers first and
// writes the body after them: two writes on every run, and an upstream that
// wakes up twice to read one request.
func newBodyReader(b []byte) io.ReadCloser {
	return io.NopCloser(bytes.NewReader(b))
}
