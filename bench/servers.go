package main

import (
	"crypto/sha256"
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
	"sync"
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

// The floors of the issue "the run path at the floor", exactly: the
// handlers below are the floor program's cached() and proxy() unchanged,
// and the subcommands only add the listening address and the upstream.
func init() {
	servers["floor-cached"] = serveFloorCached
	servers["floor-client"] = serveFloorClient
}

// floorRunReq is the floor's run request: only its args.
type floorRunReq struct {
	Args map[string]string `json:"args"`
}

// serveFloorCached is the floor of a cached run: decode the run body, hash
// the key, return stored bytes (built once, on the first request).
func serveFloorCached(args []string) error {
	fs := flag.NewFlagSet("floor-cached", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "where to listen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveBare("floor-cached", *addr, floorCached())
}

// serveFloorClient is the floor of a live run: a bare proxy with one
// shared http.Client that GETs -upstream and writes its body.
func serveFloorClient(args []string) error {
	fs := flag.NewFlagSet("floor-client", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "where to listen")
	upstream := fs.String("upstream", "", "the URL every request fetches")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if u, err := url.Parse(*upstream); err != nil || u.Host == "" {
		return fmt.Errorf("-upstream %q is not a URL", *upstream)
	}
	return serveBare("floor-client", *addr, floorProxy(*upstream))
}

// serveBare serves h as http.ListenAndServe does (a zero http.Server, no
// timeouts), after announcing the URL on stdout.
func serveBare(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	fmt.Printf("bench %s listening on http://%s\n", name, ln.Addr())
	return (&http.Server{Handler: h}).Serve(ln)
}

func floorCached() http.Handler {
	var cache sync.Map
	body := []byte(`{"id":"42","status":"REFUNDED","amount":"12.50","items":[1,2,3]}`)
	keyHash := sha256.Sum256([]byte("Bearer secretkey"))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		_ = h == keyHash
		var req floorRunReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		k := r.URL.Path + "|" + req.Args["id"]
		v, ok := cache.Load(k)
		if !ok {
			var parsed any
			json.Unmarshal(body, &parsed)
			out, _ := json.Marshal(map[string]any{"status": 200, "headers": map[string]string{"content-type": "application/json"}, "body": parsed, "cache": "hit"})
			cache.Store(k, out)
			v = out
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(v.([]byte))
	})
}

func floorProxy(upstream string) http.Handler {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		resp, err := client.Get(upstream)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
}
