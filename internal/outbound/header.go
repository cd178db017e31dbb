package outbound

import (
	"errors"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// isHopByHop reports whether a canonical header name is a hop-by-hop header
// (RFC 9110 7.6.1) or one the transport computes itself (Host,
// Content-Length): none of them may be forwarded as given.
func isHopByHop(name string) bool {
	switch name {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length":
		return true
	}
	return false
}

// connectionNamed reports whether a canonical header name is listed in one
// of the Connection headers of h, which makes it hop-by-hop too.
func connectionNamed(h http.Header, name string) bool {
	for k, vv := range h {
		if textproto.CanonicalMIMEHeaderKey(k) != "Connection" {
			continue
		}
		for _, v := range vv {
			for tok := range strings.SplitSeq(v, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), name) {
					return true
				}
			}
		}
	}
	return false
}

// stripHopByHop deletes the hop-by-hop headers of h in place.
func stripHopByHop(h http.Header) {
	if !hasHopByHop(h) {
		return
	}
	// Collect first: the Connection header names what to delete, and must
	// still be there while the others are judged.
	var drop []string
	for k := range h {
		ck := textproto.CanonicalMIMEHeaderKey(k)
		if isHopByHop(ck) || connectionNamed(h, ck) {
			drop = append(drop, k)
		}
	}
	for _, k := range drop {
		delete(h, k)
	}
}

// hasHopByHop reports whether h holds a header stripHopByHop deletes. A
// header named by Connection needs Connection itself to be present, so
// looking for the fixed names is enough.
func hasHopByHop(h http.Header) bool {
	for k := range h {
		// CanonicalMIMEHeaderKey does not allocate for a canonical key, the
		// usual case. Keys are compared canonically because the transport
		// writes a key as stored: "content-length" set directly in the map
		// would go out beside the real Content-Length.
		if isHopByHop(textproto.CanonicalMIMEHeaderKey(k)) {
			return true
		}
	}
	return false
}

// outboundHeader validates the caller's header and returns it without its
// hop-by-hop headers. It returns h itself when there is nothing to strip,
// the usual case, and a copy otherwise: the caller's map is never modified.
func outboundHeader(h http.Header) (http.Header, error) {
	for k, vv := range h {
		if !validHeaderName(k) {
			return nil, errors.New("invalid header name " + quote(k))
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return nil, errors.New("invalid value for header " + quote(k))
			}
		}
	}
	if !hasHopByHop(h) {
		return h, nil
	}
	out := make(http.Header, len(h))
	for k, vv := range h {
		// The value slices are shared, not copied: neither the client nor
		// the transport modifies them.
		out[k] = vv
	}
	stripHopByHop(out)
	return out, nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// validHeaderValue reports whether s holds no control character but tab:
// a CR or LF would let user data inject headers.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// credentialHeaders are dropped on a redirect that leaves the origin of the
// first request (net/http's own list, which it applies less strictly: it
// keeps them for a subdomain or another port).
var credentialHeaders = []string{
	"Authorization", "Proxy-Authorization", "Www-Authenticate",
	"Cookie", "Cookie2",
}

// sensitiveKey is the context key of the extra header names of
// Request.SensitiveHeaders.
type sensitiveKey struct{}

var (
	errTooManyRedirects = errors.New("outbound: too many redirects")
	errTooLarge         = errors.New("outbound: response body too large")
)

// schemeError is the error of a redirect to a scheme other than http and
// https.
type schemeError struct{ scheme string }

func (e *schemeError) Error() string {
	return "outbound: redirect to unsupported scheme " + quote(e.scheme)
}

// checkRedirect is the http.Client redirect policy: it bounds the number of
// hops, allows only http and https, and keeps credentials from leaving the
// origin of the first request. Where each hop may connect is not its
// business: the dialer checks every hop.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if c.maxRedirects < 0 {
		return http.ErrUseLastResponse
	}
	if len(via) > c.maxRedirects {
		return errTooManyRedirects
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &schemeError{s}
	}
	first := via[0]
	// Once a hop has left the origin, even a hop back to it gets no
	// credentials: the foreign host chose where it goes.
	left := !sameOrigin(first.URL, req.URL)
	for _, r := range via[1:] {
		left = left || !sameOrigin(first.URL, r.URL)
	}
	if left {
		for _, k := range credentialHeaders {
			delFold(req.Header, k)
		}
		if extra, ok := req.Context().Value(sensitiveKey{}).([]string); ok {
			for _, k := range extra {
				delFold(req.Header, k)
			}
		}
	}
	// net/http sets Referer to the previous URL, whose query string may
	// carry user data: keep only a Referer the caller set.
	if !hasFold(first.Header, "Referer") {
		delFold(req.Header, "Referer")
	}
	return nil
}

// delFold deletes every key of h equal to name regardless of case: net/http
// copies the caller's keys as they are, canonical or not.
func delFold(h http.Header, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}

// hasFold reports whether h has a key equal to name regardless of case.
func hasFold(h http.Header, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// sameOrigin reports whether a and b have the same scheme, host and port.
// Comparing origins rather than host names also drops credentials on a
// downgrade from https to http.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
