package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/switchboardhq/switchboard"
)

var writerPool = sync.Pool{New: func() any { return new(statusWriter) }}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// logRequest writes a request's line: to the access log when there is
// one, else through the logger.
func (s *Server) logRequest(start time.Time, r *http.Request, route string, status int, d time.Duration, info *reqInfo) {
	if s.access != nil {
		s.logAccess(start, r, route, status, d, info)
		return
	}
	var buf [9]slog.Attr
	attrs := append(buf[:0],
		slog.String("request_id", info.id), slog.String("method", r.Method), slog.String("route", route),
		slog.String("path", r.URL.Path), slog.Int("status", status), slog.Float64("ms", float64(d.Microseconds())/1000))
	if info.principal != nil {
		attrs = append(attrs, slog.String("org", info.principal.OrgID), slog.String("key_id", info.principal.KeyID))
	}
	if info.err != "" {
		attrs = append(attrs, slog.String("error", info.err))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// logAccess writes a request's line: the same members, in the same JSON
// format, as the slog line it stands for.
func (s *Server) logAccess(start time.Time, r *http.Request, route string, status int, d time.Duration, info *reqInfo) {
	buf := lineBufs.Get().(*[]byte)
	b := append((*buf)[:0], `{"time":"`...)
	b = start.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b, _ = jsontext.AppendQuote(b, info.id)
	b = append(b, `,"method":`...)
	b, _ = jsontext.AppendQuote(b, r.Method)
	b = append(b, `,"route":`...)
	b, _ = jsontext.AppendQuote(b, route)
	b = append(b, `,"path":`...)
	b, _ = jsontext.AppendQuote(b, r.URL.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"ms":`...)
	b = strconv.AppendFloat(b, float64(d.Microseconds())/1000, 'f', -1, 64)
	if info.principal != nil {
		b = append(b, `,"org":`...)
		b, _ = jsontext.AppendQuote(b, info.principal.OrgID)
		b = append(b, `,"key_id":`...)
		b, _ = jsontext.AppendQuote(b, info.principal.KeyID)
	}
	if info.err != "" {
		b = append(b, `,"error":`...)
		b, _ = jsontext.AppendQuote(b, info.err)
	}
	b = append(b, "}\n"...)
	_, _ = s.access.Write(b)
	*buf = b
	lineBufs.Put(buf)
}

// reqInfo carries what the request log line reports, filled in by handlers.
type reqInfo struct {
	id        string
	log       *slog.Logger
	principal *switchboard.Principal
	err       string
	bodies    *bodyGate // nil outside ServeHTTP (tests of single handlers)
}

// info returns the request's reqInfo, kept in the response writer that
// ServeHTTP hands to every handler (a context value would cost an
// allocation of the request on every call).
func info(w http.ResponseWriter) *reqInfo {
	for {
		switch x := w.(type) {
		case *statusWriter:
			return &x.info
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return &reqInfo{log: slog.New(slog.DiscardHandler)}
		}
	}
}

// idSource makes request ids: a random prefix per process and a counter,
// unique without a call to the random source per request.
type idSource struct {
	prefix string
	n      atomic.Uint64
}

func newIDSource() *idSource {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &idSource{prefix: hex.EncodeToString(b[:])}
}

func (s *idSource) next() string {
	var buf [24]byte
	out := append(buf[:0], s.prefix...)
	out = strconv.AppendUint(out, s.n.Add(1), 36)
	return string(out)
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
	info  reqInfo
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
