package apptest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// upstream is where every request of a test run goes (the instance's
// outbound client dials only its address): plain HTTP and TLS on one port,
// told apart by the first byte, TLS with a certificate for whatever name
// the client asks, signed by a CA of this run only. It hands each request
// to the case being run, which answers it from the fixtures or from the
// live upstream, and keeps what it received.
type upstream struct {
	ln  net.Listener
	srv *http.Server
	ca  *authority

	mu       sync.Mutex
	answer   answerFunc
	got      []*captured
	inflight sync.WaitGroup // the requests of the case being run
}

// answerFunc answers one request of the case being run.
type answerFunc func(ctx context.Context, req *captured) (*Response, error)

// captured is a request as the upstream received it.
type captured struct {
	Method string
	URL    string // scheme://host/path?query, as the client aimed it
	Header http.Header
	Body   []byte
}

// maxCapturedBody bounds a request body the upstream reads.
const maxCapturedBody = 10 << 20

func startUpstream() (*upstream, error) {
	ca, err := newAuthority()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	u := &upstream{ln: ln, ca: ca}
	tlsCfg := &tls.Config{GetCertificate: ca.leaf, MinVersion: tls.VersionTLS12}
	u.srv = &http.Server{
		Handler:           http.HandlerFunc(u.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		// A client that hangs up mid-handshake is the instance's business,
		// reported in its run; the stand-in has nothing to add.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
	go u.srv.Serve(&sniffListener{Listener: ln, cfg: tlsCfg})
	return u, nil
}

func (u *upstream) Addr() string { return u.ln.Addr().String() }

// Close stops the upstream and waits for nothing: a test run has no
// request in flight when it closes.
func (u *upstream) Close() error { return u.srv.Close() }

// begin makes answer the answerer of the requests to come.
func (u *upstream) begin(answer answerFunc) {
	u.mu.Lock()
	u.answer, u.got = answer, nil
	u.mu.Unlock()
}

// end waits for the requests in flight to be answered and returns what the
// upstream received since begin. Whatever their answerer did happens
// before end returns.
func (u *upstream) end() []*captured {
	u.mu.Lock()
	got := u.got
	u.answer, u.got = nil, nil
	u.mu.Unlock()
	u.inflight.Wait()
	return got
}

type connKey struct{}

func (u *upstream) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCapturedBody))
	if err != nil {
		http.Error(w, "apps test: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	scheme := "http"
	if sc, ok := r.Context().Value(connKey{}).(*sniffConn); ok && sc.isTLS() {
		scheme = "https"
	}
	req := &captured{Method: r.Method, URL: scheme + "://" + r.Host + r.RequestURI, Header: r.Header.Clone(), Body: body}
	u.mu.Lock()
	answer := u.answer
	if answer != nil {
		u.got = append(u.got, req)
		u.inflight.Add(1)
	}
	u.mu.Unlock()
	if answer == nil {
		http.Error(w, "apps test: a request outside of any case", http.StatusBadGateway)
		return
	}
	defer u.inflight.Done()
	resp, err := answer(r.Context(), req)
	if err != nil {
		// Not a response: the client sees the connection cut, as it would
		// an unreachable upstream.
		panic(http.ErrAbortHandler)
	}
	writeResponse(w, resp)
}

// writeResponse sends a kept response: its headers, no Date (so that
// answers are the same on every run), and its body as JSON or text.
func writeResponse(w http.ResponseWriter, resp *Response) {
	h := w.Header()
	for k, vs := range resp.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	h["Date"] = nil
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	var body []byte
	switch b := resp.Body.(type) {
	case nil:
		body = resp.raw
	case string:
		body = []byte(b)
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "text/plain; charset=utf-8")
		}
	default:
		body, _ = marshal(b)
		if h.Get("Content-Type") == "" {
			h.Set("Content-Type", "application/json")
		}
	}
	w.WriteHeader(resp.Status)
	w.Write(body)
}

// sniffListener gives connections that speak TLS or plain HTTP, as their
// first byte says. Deciding in the connection's first Read keeps Accept
// from waiting on a slow client.
type sniffListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c, cfg: l.cfg}, nil
}

type sniffConn struct {
	net.Conn // the raw connection: Close and deadlines go to it
	cfg      *tls.Config
	once     sync.Once
	rw       net.Conn
	tls      bool
}

func (c *sniffConn) init() {
	c.once.Do(func() {
		br := bufio.NewReader(c.Conn)
		first, err := br.Peek(1)
		pc := &peekedConn{Conn: c.Conn, r: br}
		if err == nil && first[0] == 0x16 { // a TLS handshake record
			c.rw, c.tls = tls.Server(pc, c.cfg), true
			return
		}
		c.rw = pc
	})
}

func (c *sniffConn) isTLS() bool                 { c.init(); return c.tls }
func (c *sniffConn) Read(p []byte) (int, error)  { c.init(); return c.rw.Read(p) }
func (c *sniffConn) Write(p []byte) (int, error) { c.init(); return c.rw.Write(p) }

type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// authority is a certificate authority made for one test run: the
// instance's outbound client trusts it, and nothing else does.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool

	mu     sync.Mutex
	leaves map[string]*tls.Certificate
}

func newAuthority() (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "switchboard apps test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, pool: pool, leaves: map[string]*tls.Certificate{}}, nil
}

// leaf returns a certificate for the name the client asks for (or, with
// no name, for the loopback addresses).
func (a *authority) leaf(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[name]; ok {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if name != "" {
		tmpl.DNSNames = []string{name}
	} else {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	a.leaves[name] = c
	return c, nil
}

// sortedHeaderNames returns h's names in order.
func sortedHeaderNames(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
