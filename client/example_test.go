package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/server"
)

// operatorKey is the operator key of the examples' server.
const operatorKey = "example-operator-key-0123456789abcdef"

// startServer starts a Switchboard server in-process, with the production
// wiring, on an empty data directory and a loopback port. It allows
// upstreams on private networks, so that commands can call a local
// httptest server. stop shuts it down and removes its data.
func startServer() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "switchboard-example")
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	in, err := server.New(context.Background(), server.Config{
		Data:                 dir,
		CacheBytes:           1 << 20,
		UpstreamTimeout:      time.Second,
		MaxResponseBytes:     1 << 20,
		ShutdownTimeout:      time.Second,
		OperatorKey:          operatorKey,
		Listener:             ln,
		AllowPrivateNetworks: true,
		SecretKeys:           [][]byte{bytes.Repeat([]byte{7}, 32)},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	return in.URL, func() {
		cancel()
		if err := <-done; err != nil {
			log.Print(err)
		}
		in.Close()
		os.RemoveAll(dir)
	}
}

// newOrg creates an org with the operator key and returns a client with its
// admin key.
func newOrg(ctx context.Context, url, id string) *client.Client {
	org, err := client.New(url, operatorKey, nil).CreateOrg(ctx, id, id)
	if err != nil {
		log.Fatal(err)
	}
	return client.New(url, org.AdminKey, nil)
}

// This example walks through the whole flow: the operator creates an org,
// whose admin key registers a private app, installs it, sets its secret
// setting and runs its command. Switchboard injects the secret into the
// upstream request; it never returns it.
func Example() {
	// An upstream API that wants a token.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "s3cr3t-token" {
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"refunded":true,"order":%q}`, strings.TrimPrefix(r.URL.Path, "/orders/"))
	}))
	defer upstream.Close()
	url, stop := startServer()
	defer stop()
	ctx := context.Background()

	// The operator creates an org and receives its first admin key.
	org, err := client.New(url, operatorKey, nil).CreateOrg(ctx, "acme", "Acme")
	if err != nil {
		log.Fatal(err)
	}
	admin := client.New(url, org.AdminKey, nil)

	// The admin registers a private app: one command that calls the
	// upstream with the app's secret setting in a header.
	def := `{
	  "app": "shop",
	  "version": "1.0.0",
	  "title": "Shop",
	  "commands": [{
	    "name": "refundOrder",
	    "url": "` + upstream.URL + `/orders/{{id}}",
	    "httpMethod": "post",
	    "permittedArgs": ["id"],
	    "appSettings": {"authToken": {"key": "shop.default.authToken"}}
	  }]
	}`
	app, err := admin.RegisterApp(ctx, []byte(def), false)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered:", app.App, app.Version, app.Visibility)
	if err := admin.Install(ctx, "shop", ""); err != nil {
		log.Fatal(err)
	}
	if _, err := admin.PutSettings(ctx, "shop", client.Settings{"default": {"authToken": "s3cr3t-token"}}); err != nil {
		log.Fatal(err)
	}

	// Run the command: the header template is rendered with the secret.
	res, err := admin.RunCommand(ctx, "shop.refundOrder", client.RunRequest{
		Args:    map[string]string{"id": "1234"},
		Headers: map[string]string{"X-Api-Key": "{{authToken}}"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("status:", res.Status)
	fmt.Println("body:", string(res.Body))

	// The secret is write-only: settings come back redacted.
	settings, err := admin.Settings(ctx, "shop")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("authToken:", settings["default"]["authToken"])
	// Output:
	// registered: shop_acme 1.0.0 private
	// status: 200
	// body: {"refunded":true,"order":"1234"}
	// authToken: map[secret:true set:true]
}

// A command with cacheSeconds is cached: the first run calls the upstream
// (cache "miss"), the same run again within the time is answered from the
// cache ("hit") without calling it. Args fill the command's URL template
// (the server accepts them as urlArgs too, as the Cards SDK sends them).
func ExampleClient_RunCommand() {
	var calls atomic.Int32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"store":%q,"open":true}`, strings.TrimPrefix(r.URL.Path, "/stores/"))
	}))
	defer upstream.Close()
	url, stop := startServer()
	defer stop()
	ctx := context.Background()
	admin := newOrg(ctx, url, "acme")

	def := `{"app": "shop", "version": "1.0.0", "title": "Shop", "commands": [{
	  "name": "getStore",
	  "url": "` + upstream.URL + `/stores/{{store}}",
	  "httpMethod": "get",
	  "permittedArgs": ["store"],
	  "cacheSeconds": 60
	}]}`
	if _, err := admin.RegisterApp(ctx, []byte(def), false); err != nil {
		log.Fatal(err)
	}
	if err := admin.Install(ctx, "shop", ""); err != nil {
		log.Fatal(err)
	}

	for range 2 {
		res, err := admin.RunCommand(ctx, "shop.getStore", client.RunRequest{
			Args: map[string]string{"store": "dunder-mifflin"},
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.Status, res.Cache, string(res.Body))
	}
	fmt.Println("upstream calls:", calls.Load())
	// Output:
	// 200 miss {"store":"dunder-mifflin","open":true}
	// 200 hit {"store":"dunder-mifflin","open":true}
	// upstream calls: 1
}

// A refused request is an *Error, a problem document with a stable code:
// here, running a command that no installed app declares.
func ExampleClient_RunCommand_refused() {
	url, stop := startServer()
	defer stop()
	ctx := context.Background()
	admin := newOrg(ctx, url, "acme")

	_, err := admin.RunCommand(ctx, "shop.noSuchCommand", client.RunRequest{})
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code, ce.Code == client.CodeNotFound)
	}
	// Output:
	// 404 not_found true
}

// A server that does not answer is a *ConnError, never an *Error: there is
// no problem document to read.
func ExampleConnError() {
	url, stop := startServer()
	stop() // nothing listens there any more

	_, err := client.New(url, "sbk_any", nil).Apps(context.Background())
	var conn *client.ConnError
	var ce *client.Error
	fmt.Println(errors.As(err, &conn), conn.Refused(), errors.As(err, &ce))
	// Output:
	// true true false
}

// An invalid definition is refused with every problem at once, each located
// by a JSON pointer.
func ExampleError() {
	url, stop := startServer()
	defer stop()
	ctx := context.Background()
	admin := newOrg(ctx, url, "acme")

	_, err := admin.RegisterApp(ctx, []byte(`{"app": "shop", "version": "1.0", "title": "Shop", "comands": []}`), false)
	var ce *client.Error
	if !errors.As(err, &ce) {
		log.Fatal(err)
	}
	fmt.Println(ce.Status, ce.Code)
	for _, p := range ce.Errors {
		fmt.Println(p.Location)
	}
	// Output:
	// 400 invalid_definition
	// /comands
	// /version
}

// A command with auditLogging records each run; the audit log lists them
// newest first.
func ExampleClient_AuditLogs() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer upstream.Close()
	url, stop := startServer()
	defer stop()
	ctx := context.Background()
	admin := newOrg(ctx, url, "acme")

	def := `{"app": "shop", "version": "1.0.0", "title": "Shop", "commands": [
	  {"name": "ping", "url": "` + upstream.URL + `/ping", "httpMethod": "get", "auditLogging": true},
	  {"name": "lookup", "url": "` + upstream.URL + `/missing", "httpMethod": "get", "auditLogging": true}
	]}`
	if _, err := admin.RegisterApp(ctx, []byte(def), false); err != nil {
		log.Fatal(err)
	}
	if err := admin.Install(ctx, "shop", ""); err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"shop.ping", "shop.lookup"} {
		if _, err := admin.RunCommand(ctx, name, client.RunRequest{}); err != nil {
			log.Fatal(err)
		}
	}

	entries, _, err := admin.AuditLogs(ctx, client.AuditQuery{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.Kind, e.Command, e.Status)
	}
	// Output:
	// command kustomer.app.shop_acme.lookup 404
	// command kustomer.app.shop_acme.ping 200
}
