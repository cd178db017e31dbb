package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
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
		slog.String("path", loggedPath(r, route)), slog.Int("status", status), slog.Float64("ms", float64(d.Microseconds())/1000))
	if info.principal != nil {
		attrs = append(attrs, slog.String("org", info.principal.OrgID), slog.String("key_id", info.principal.KeyID))
	}
	if info.err != "" {
		attrs = append(attrs, slog.String("error", info.err))
	}
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

// logAccess writes a request's line: the same members, in the same JSON
// format, as the slog line it stands for. Its keys are constants, each
// written once, and nothing else goes into the line.
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
	b, _ = jsontext.AppendQuote(b, loggedPath(r, route))
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

// uniqueKeys is a slog.Handler that never writes a key twice in one object
// of a line, which slog's own handlers do (a key bound with With and given
// again, two attributes of one call, an attribute named "msg"): JSON with a
// repeated name is refused by strict decoders (jsontext among them), and a
// reader cannot tell which value holds. Of the attributes with one key
// (bound, then the call's, in order) the last wins, in the place of the
// first; at the top level, an attribute named like one of slog's own keys
// (time, level, msg, source) is renamed "attr.<key>". It sees what is bound
// through it, not what the handler it wraps was given before.
type uniqueKeys struct {
	h slog.Handler
	// bound holds the attributes bound since the last group, kept here
	// rather than passed down so that a line's own can replace them.
	bound []slog.Attr
	// inGroup is set once a group is open: slog's own keys are not at the
	// level the attributes go to.
	inGroup bool
}

func newUniqueKeys(h slog.Handler) slog.Handler {
	if u, ok := h.(*uniqueKeys); ok {
		return u
	}
	return &uniqueKeys{h: h}
}

func (u *uniqueKeys) Enabled(ctx context.Context, l slog.Level) bool { return u.h.Enabled(ctx, l) }

func (u *uniqueKeys) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return u
	}
	all := append(append(make([]slog.Attr, 0, len(u.bound)+len(as)), u.bound...), as...)
	return &uniqueKeys{h: u.h, bound: unique(all, !u.inGroup), inGroup: u.inGroup}
}

func (u *uniqueKeys) WithGroup(name string) slog.Handler {
	if name == "" {
		return u
	}
	h := u.h
	if len(u.bound) > 0 {
		h = h.WithAttrs(u.bound)
	}
	return &uniqueKeys{h: h.WithGroup(name), inGroup: true}
}

// Handle passes r on as it is when its keys are unique and nothing is
// bound (every line of the API: no copy, no allocation), else a copy with
// the bound attributes and r's, each key once.
func (u *uniqueKeys) Handle(ctx context.Context, r slog.Record) error {
	if len(u.bound) == 0 && !repeatsKey(r, !u.inGroup) {
		return u.h.Handle(ctx, r)
	}
	all := make([]slog.Attr, 0, len(u.bound)+r.NumAttrs())
	all = append(all, u.bound...)
	r.Attrs(func(a slog.Attr) bool { all = append(all, a); return true })
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(unique(all, !u.inGroup)...)
	return u.h.Handle(ctx, nr)
}

// builtinKey reports whether k is one of the keys slog writes itself.
func builtinKey(k string) bool {
	return k == slog.TimeKey || k == slog.LevelKey || k == slog.MessageKey || k == slog.SourceKey
}

// repeatsKey reports whether r's attributes need unique's work: a key
// given twice, a key of slog's own at the top level, an empty key or a
// group (whose members may repeat a key).
func repeatsKey(r slog.Record, top bool) bool {
	var buf [16]string
	keys := buf[:0]
	repeats := false
	r.Attrs(func(a slog.Attr) bool {
		k := a.Value.Kind()
		if a.Key == "" || k == slog.KindGroup || k == slog.KindLogValuer || top && builtinKey(a.Key) || slices.Contains(keys, a.Key) {
			repeats = true
			return false
		}
		keys = append(keys, a.Key)
		return true
	})
	return repeats
}

// unique returns attrs with each key once (the last value, in the place of
// the first), groups with an empty key inlined as slog's handlers do and
// the members of other groups made unique in turn; at the top level, slog's
// own keys are renamed.
func unique(attrs []slog.Attr, top bool) []slog.Attr {
	out := make([]slog.Attr, 0, len(attrs))
	var add func(a slog.Attr)
	add = func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Value.Kind() == slog.KindGroup {
			if a.Key == "" {
				for _, m := range a.Value.Group() {
					add(m)
				}
				return
			}
			a.Value = slog.GroupValue(unique(a.Value.Group(), false)...)
		} else if a.Equal(slog.Attr{}) {
			return // slog's handlers ignore it
		}
		if top && builtinKey(a.Key) {
			a.Key = "attr." + a.Key
		}
		if i := slices.IndexFunc(out, func(b slog.Attr) bool { return b.Key == a.Key }); i >= 0 {
			out[i] = a
			return
		}
		out = append(out, a)
	}
	for _, a := range attrs {
		add(a)
	}
	return out
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

// hookRoute's path holds a hook's id, which is the credential of a form
// hook: its log line shows the route's pattern instead.
const hookRoute = "POST /v1/hooks/{hookId}"

// loggedPath is the request's path as its log line shows it.
func loggedPath(r *http.Request, route string) string {
	if route == hookRoute {
		return "/v1/hooks/{hookId}"
	}
	return r.URL.Path
}
