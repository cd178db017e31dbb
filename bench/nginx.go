package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// nginx is the running nginx: one server caching POSTs, one proxying.
type nginx struct {
	cacheURL, proxyURL string
	version            string
}

// nginxConf is the configuration: access_log off, the error log, pid file,
// temp paths and cache inside the temporary directory, keep-alive to the
// upstream, and keep-alive connections that are never closed for their
// request count (as Go's servers do not).
var nginxConf = template.Must(template.New("nginx.conf").Parse(`# Written by switchboard/bench.
{{if .User}}user {{.User}} {{.Group}};
{{end}}worker_processes {{.Workers}};
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
    worker_connections 4096;
}

http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body_temp;
    proxy_temp_path {{.Dir}}/proxy_temp;
    fastcgi_temp_path {{.Dir}}/fastcgi_temp;
    uwsgi_temp_path {{.Dir}}/uwsgi_temp;
    scgi_temp_path {{.Dir}}/scgi_temp;
    keepalive_timeout 120s;
    keepalive_requests 100000000;
    client_body_buffer_size 16k;

    proxy_cache_path {{.Dir}}/cache levels=1:2 keys_zone=bench:10m max_size=64m inactive=60m use_temp_path=off;

    upstream bench_upstream {
        server {{.Upstream}};
        keepalive 64;
        keepalive_requests 100000000;
    }

    # nginx-cache
    server {
        listen {{.CacheAddr}};
        location / {
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache bench;
            proxy_cache_methods POST;
            proxy_cache_key "$request_uri|$request_body";
            proxy_cache_valid 200 10m;
            add_header X-Cache-Status $upstream_cache_status always;
        }
    }

    # nginx-proxy
    server {
        listen {{.ProxyAddr}};
        location / {
            proxy_pass http://bench_upstream;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`))

// findNginx returns the nginx binary, or "" when there is none.
func findNginx(cfg *config) string {
	if cfg.nginxPath == "off" {
		return ""
	}
	if cfg.nginxPath != "" {
		return cfg.nginxPath
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// startNginx writes the configuration into the temporary directory and
// starts nginx in the foreground. It returns nil, with a note, when there
// is no nginx.
//
// Run as root, nginx's master switches its workers to nobody: every
// directory a worker writes (the cache, the temp paths) is chown'ed to
// nobody, and the temporary directory is made traversable, or each cache
// store fails and the answers are 500s.
func startNginx(ctx context.Context, cfg *config, procs *procGroup, upstreamURL string, e *env) (*nginx, error) {
	bin := findNginx(cfg)
	if bin == "" {
		e.note("nginx-cache, nginx-proxy: skipped, no nginx binary (install nginx, or pass -nginx PATH)")
		return nil, nil
	}
	ng := &nginx{version: nginxVersion(bin)}
	up, err := url.Parse(upstreamURL)
	if err != nil {
		return nil, err
	}
	cacheAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	proxyAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.tmp, "nginx")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nginx: create its directory: %w", err)
	}
	data := struct {
		User, Group, Dir, Upstream, CacheAddr, ProxyAddr string
		Workers                                          int
	}{Dir: dir, Upstream: up.Host, CacheAddr: cacheAddr, ProxyAddr: proxyAddr, Workers: runtime.NumCPU()}

	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return nil, fmt.Errorf("nginx: look up the user nobody for its workers: %w", err)
		}
		data.User = "nobody"
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		data.Group = "nogroup"
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			data.Group = g.Name
		}
		// The workers must reach the cache inside the harness's 0700
		// temporary directory: let others traverse it (not list it).
		if err := os.Chmod(cfg.tmp, 0o711); err != nil {
			return nil, fmt.Errorf("nginx: make %s traversable: %w", cfg.tmp, err)
		}
	}
	for _, sub := range []string{"cache", "client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"} {
		p := filepath.Join(dir, sub)
		if err := os.Mkdir(p, 0o700); err != nil {
			return nil, fmt.Errorf("nginx: create %s: %w", p, err)
		}
		if uid >= 0 {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, fmt.Errorf("nginx: give %s to nobody: %w", p, err)
			}
		}
	}
	var conf bytes.Buffer
	if err := nginxConf.Execute(&conf, data); err != nil {
		return nil, err
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("nginx: write its configuration: %w", err)
	}
	args := []string{"-p", dir + "/", "-c", confPath, "-e", filepath.Join(dir, "error.log")}
	if out, err := exec.CommandContext(ctx, bin, append(args, "-t")...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx: its configuration %s does not pass nginx -t: %w\n%s", confPath, err, out)
	}

	logf("starting %s (workers: %d; access_log off)", ng.version, data.Workers)
	p, _, err := procs.start(ctx, "nginx", exec.Command(bin, append(args, "-g", "daemon off;")...),
		filepath.Join(dir, "stderr.log"), false)
	if err != nil {
		return nil, err
	}
	for _, addr := range []string{cacheAddr, proxyAddr} {
		if err := waitListening(ctx, addr, p, filepath.Join(dir, "error.log")); err != nil {
			return nil, err
		}
	}
	ng.cacheURL, ng.proxyURL = "http://"+cacheAddr, "http://"+proxyAddr
	who := "as the user running the harness"
	if data.User != "" {
		who = "master as root, workers as " + data.User + ":" + data.Group
	}
	e.note("nginx: %s, %d workers (%s), access_log off, keep-alive pool of 64 to the upstream", ng.version, data.Workers, who)
	return ng, nil
}

// primeNginxCache sends the nginx-cache request until nginx answers a HIT,
// and notes the cache statuses it saw.
func primeNginxCache(ctx context.Context, rq *request, e *env) error {
	tr := loadTransport(1)
	defer tr.CloseIdleConnections()
	var statuses []string
	for range 5 {
		req := *rq
		req.wantHeader = [2]string{}
		resp, body, err := send(ctx, tr, &req)
		if err != nil {
			return fmt.Errorf("nginx-cache: %w", err)
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("nginx-cache answered %s: %s (see the error log)", resp.Status, snippet(body))
		}
		st := resp.Header.Get("X-Cache-Status")
		statuses = append(statuses, st)
		if st == "HIT" {
			e.note("nginx-cache: X-Cache-Status %s; from then on every counted answer is checked to be a HIT",
				strings.Join(statuses, ", then "))
			return nil
		}
	}
	return fmt.Errorf("nginx-cache: no HIT after %d requests (X-Cache-Status: %s)", len(statuses), strings.Join(statuses, ", "))
}

// waitListening waits until addr accepts connections, or p exits.
func waitListening(ctx context.Context, addr string, p *proc, errorLog string) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it listened on %s: %v%s", p.name, addr, p.waitErr, tailFile(errorLog, 15))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not listen on %s after %s%s", p.name, addr, readyTimeout, tailFile(errorLog, 15))
		}
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a server that cannot listen on port 0 and report it.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// nginxVersion is "nginx/1.22.1", from nginx -v.
func nginxVersion(bin string) string {
	out, err := exec.Command(bin, "-v").CombinedOutput()
	if err != nil {
		return "nginx (version unknown)"
	}
	v := strings.TrimSpace(string(out))
	if _, after, ok := strings.Cut(v, "version: "); ok {
		return after
	}
	return v
}
