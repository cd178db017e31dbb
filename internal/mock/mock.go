// Package mock is a local stand-in for the upstream APIs that app
// definitions call: it answers from a small fixtures file of routes (method,
// host and path patterns; a status, headers and a body whose strings are
// Handlebars templates that may echo the request), so that the quickstart,
// and tests of definitions, get real answers without the real upstream.
// `switchboard mock FILE` serves one; docs/mock.md describes the format.
package mock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/jsonv"
	"github.com/switchboardhq/switchboard/internal/tmpl"
)

// Mock is a compiled fixtures file: an http.Handler that answers each
// request with the first route that matches it. It is immutable and safe
// for concurrent use.
type Mock struct {
	routes []*route
}

type route struct {
	index   int
	method  string   // upper case; "" matches every method
	host    *pattern // nil matches every host
	path    *pattern
	status  int
	headers []header

	hasBody bool
	text    *tmpl.Template     // a string body, sent as text
	json    *tmpl.JSONTemplate // any other body, sent as JSON

	// headerNames are the header names the templates read, in the
	// spellings they use; see headerRef.
	headerNames []string
}

type header struct {
	name  string
	value *tmpl.Template
}

// maxRequestBody bounds the request body a mock reads: it is a test tool,
// and a runaway client should not fill its memory.
const maxRequestBody = 1 << 20

// Routes describes the routes in order, as "POST /orders" or
// "GET {store}.example.com/orders/{id}" ("ANY" when a route takes every
// method).
func (m *Mock) Routes() []string {
	out := make([]string, len(m.routes))
	for i, rt := range m.routes {
		out[i] = rt.String()
	}
	return out
}

func (rt *route) String() string {
	method := rt.method
	if method == "" {
		method = "ANY"
	}
	if rt.host != nil {
		return method + " " + rt.host.src + rt.path.src
	}
	return method + " " + rt.path.src
}

// match returns the first route that matches r, with its captures.
func (m *Mock) match(r *http.Request) (*route, map[string]any) {
	for _, rt := range m.routes {
		if rt.method != "" && rt.method != r.Method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		params := map[string]any{}
		if rt.host != nil && !rt.host.matchHost(r.Host, params) {
			continue
		}
		if !rt.path.matchPath(r.URL.EscapedPath(), params) {
			continue
		}
		return rt, params
	}
	return nil, nil
}

// ServeHTTP answers r from the first route that matches it, or with a 404
// whose JSON body lists the routes.
func (m *Mock) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.serve(w, r) }

// serve answers r and returns the status and the route that answered (nil
// for none), for the log.
func (m *Mock) serve(w http.ResponseWriter, r *http.Request) (int, *route) {
	rt, params := m.match(r)
	if rt == nil {
		return m.notFound(w, r), nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return plain(w, http.StatusBadRequest, "read the request body: "+err.Error()), rt
	}
	if len(body) > maxRequestBody {
		return plain(w, http.StatusRequestEntityTooLarge, "the request body is larger than 1 MiB"), rt
	}
	data := requestData(r, rt, params, body)

	var out []byte
	contentType := ""
	switch {
	case rt.text != nil:
		s, err := rt.text.Render(data)
		if err != nil {
			return plain(w, http.StatusInternalServerError, "render the body: "+err.Error()), rt
		}
		out, contentType = []byte(s), "text/plain; charset=utf-8"
	case rt.json != nil:
		v, err := rt.json.Render(data)
		if err == nil {
			out, err = jsonv.Marshal(v)
		}
		if err != nil {
			return plain(w, http.StatusInternalServerError, "render the body: "+err.Error()), rt
		}
		contentType = "application/json"
	}
	h := w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	for _, hd := range rt.headers {
		v, err := hd.value.Render(data)
		if err != nil {
			return plain(w, http.StatusInternalServerError, "render the header "+hd.name+": "+err.Error()), rt
		}
		h.Set(hd.name, v)
	}
	w.WriteHeader(rt.status)
	if rt.hasBody {
		w.Write(out)
	}
	return rt.status, rt
}

// requestData is the context of a route's templates: method, host, path
// (the captures), query, header and body.
func requestData(r *http.Request, rt *route, params map[string]any, body []byte) map[string]any {
	query := map[string]any{}
	for k, vs := range r.URL.Query() {
		query[k] = vs[0]
	}
	headers := map[string]any{}
	for k, vs := range r.Header {
		v := strings.Join(vs, ", ")
		headers[k] = v
		headers[strings.ToLower(k)] = v
	}
	headers["Host"], headers["host"] = r.Host, r.Host
	for _, n := range rt.headerNames {
		if strings.EqualFold(n, "Host") {
			headers[n] = r.Host
		} else if vs := r.Header.Values(n); len(vs) > 0 {
			headers[n] = strings.Join(vs, ", ")
		}
	}
	data := map[string]any{
		"method": r.Method,
		"host":   r.Host,
		"path":   params,
		"query":  query,
		"header": headers,
	}
	if len(body) > 0 {
		// A JSON body is echoed member by member; anything else as text.
		if v, err := jsonv.Decode(body); err == nil {
			data["body"] = v
		} else {
			data["body"] = string(body)
		}
	}
	return data
}

func (m *Mock) notFound(w http.ResponseWriter, r *http.Request) int {
	doc := jsonv.NewObject(2)
	doc.Set("error", fmt.Sprintf("no route matches %s %s%s", r.Method, r.Host, r.URL.EscapedPath()))
	routes := make([]any, len(m.routes))
	for i, s := range m.Routes() {
		routes[i] = s
	}
	doc.Set("routes", routes)
	b, _ := jsonv.Marshal(doc) // strings and arrays always encode
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	w.Write(append(b, '\n'))
	return http.StatusNotFound
}

func plain(w http.ResponseWriter, status int, msg string) int {
	http.Error(w, "mock: "+msg, status)
	return status
}

// Serve answers requests on l until ctx ends, writing one line per request
// to logw (method, path, status and the route that answered), then shuts
// down, letting requests in flight finish for a few seconds. It returns nil
// once ctx has ended, or the error that stopped it.
func (m *Mock) Serve(ctx context.Context, l net.Listener, logw io.Writer) error {
	lg := log.New(logw, "", log.LstdFlags)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status, rt := m.serve(w, r)
			matched := "no route"
			if rt != nil {
				matched = fmt.Sprintf("/routes/%d %s", rt.index, rt)
			}
			lg.Printf("%s %s %d (%s)", r.Method, r.URL.RequestURI(), status, matched)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(logw, "mock: ", log.LstdFlags),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}
