package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"time"
)

// servers are the hidden subcommands: each runs one server in a process of
// its own, prints "bench <name> listening on <url>" on stdout once it
// accepts connections, and serves until it is killed.
var servers = map[string]func(args []string) error{
	"upstream":      serveUpstream,
	"floor-handler": serveFloorHandler,
	"floor-proxy":   serveFloorProxy,
}

// upstreamBody is what the upstream answers to every request.
var upstreamBody = []byte(`{"id":"r_1","foo":"12","refunded":true,"amount":12.5}`)

// serveUpstream is the commands' upstream: a bare net/http server that
// drains each request's body and answers upstreamBody.
func serveUpstream(args []string) error {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "where to listen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	length := strconv.Itoa(len(upstreamBody))
	return listenAndServe("upstream", *addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		_, _ = w.Write(upstreamBody)
	}))
}

// runRequest is the shape of a command run's request, as the floor handler
// decodes it.
type runRequest struct {
	Body    any
	Headers map[string]string
	Args    map[string]string
}

// serveFloorHandler is the floor of a cached run: a bare handler that
// decodes the run request with encoding/json and answers the bytes
// Switchboard answers for a cache hit, read from -body-file.
func serveFloorHandler(args []string) error {
	fs := flag.NewFlagSet("floor-handler", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "where to listen")
	bodyFile := fs.String("body-file", "", "the answer's bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	answer, err := os.ReadFile(*bodyFile)
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	length := strconv.Itoa(len(answer))
	return listenAndServe("floor-handler", *addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req runRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad run request: "+err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		_, _ = w.Write(answer)
	}))
}

// serveFloorProxy is the floor of an uncached run: a bare
// httputil.ReverseProxy, with one shared keep-alive Transport, in front of
// the upstream at -upstream.
func serveFloorProxy(args []string) error {
	fs := flag.NewFlagSet("floor-proxy", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "where to listen")
	upstream := fs.String("upstream", "", "the upstream's base URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target, err := url.Parse(*upstream)
	if err != nil || target.Host == "" {
		return fmt.Errorf("-upstream %q is not a URL", *upstream)
	}
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: transport,
	}
	return listenAndServe("floor-proxy", *addr, proxy)
}

// listenAndServe serves h on addr with the timeouts Switchboard's own
// server uses, after announcing the URL on stdout.
func listenAndServe(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	fmt.Printf("bench %s listening on http://%s\n", name, ln.Addr())
	return srv.Serve(ln)
}
