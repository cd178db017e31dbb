package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/client"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
	"github.com/switchboardhq/switchboard/internal/server"
)

// The child process: the test binary run again with these variables set
// serves one instance until it is killed.
const (
	envChild       = "SWITCHBOARD_CRASHTEST_CHILD"
	envChildData   = "SWITCHBOARD_CRASHTEST_DATA"
	envChildDBURL  = "SWITCHBOARD_CRASHTEST_DATABASE_URL"
	operatorKey    = "sbo_crashtest_operator_key_0123456789abcdef"
	secretKeyHex   = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	listeningToken = "CRASHTEST LISTENING "
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		if err := serveChild(); err != nil {
			fmt.Fprintln(os.Stderr, "crashtest child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild runs an instance on the store the environment names and
// announces its address on stdout.
func serveChild() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	cfg := server.Config{
		Data:                 os.Getenv(envChildData),
		DatabaseURL:          os.Getenv(envChildDBURL),
		AllowPrivateNetworks: true,
		UpstreamTimeout:      10 * time.Second,
		MaxResponseBytes:     1 << 20,
		CacheBytes:           1 << 20,
		CompiledCacheBytes:   1 << 20,
		LogLevel:             "warn",
		ShutdownTimeout:      time.Second,
		OperatorKey:          operatorKey,
		SecretKey:            secretKeyHex,
		LogOutput:            os.Stderr,
		Listener:             ln,
	}
	in, err := server.New(context.Background(), cfg)
	if err != nil {
		return err
	}
	fmt.Printf("%shttp://%s\n", listeningToken, ln.Addr())
	return in.Run(context.Background())
}

// child is a running instance in a process of its own.
type child struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startChild starts an instance on the data directory or database and waits
// until it listens.
func startChild(t *testing.T, data, dbURL string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envChild+"=1", envChildData+"="+data, envChildDBURL+"="+dbURL)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), listeningToken); ok {
				urls <- u
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	select {
	case c.url = <-urls:
		return c
	case <-c.done:
		t.Fatalf("the server process exited before it listened:\n%s", stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the server process did not listen within 2 minutes:\n%s", stderr.String())
	}
	return nil
}

// kill ends the process with SIGKILL: no shutdown, no flush.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

func TestKillUnderAuditedLoadSQLite(t *testing.T) {
	killUnderAuditedLoad(t, t.TempDir(), "")
}

func TestKillUnderAuditedLoadPostgres(t *testing.T) {
	killUnderAuditedLoad(t, t.TempDir(), pgtest.Schema(t))
}

// killUnderAuditedLoad runs an audited command from many workers at once,
// each run with args of its own, kills the server with SIGKILL in the middle
// of the load, starts it again on the same store and checks that every run
// that was answered 200 before the kill has its entry in the audit log.
func killUnderAuditedLoad(t *testing.T, data, dbURL string) {
	if testing.Short() {
		t.Skip("kills a server process under load; not in -short")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer upstream.Close()

	first := startChild(t, data, dbURL)
	ctx := context.Background()
	op := client.New(first.url, operatorKey, nil)
	org, err := op.CreateOrg(ctx, "crash", "crash")
	if err != nil {
		t.Fatal(err)
	}
	admin := op.WithKey(org.AdminKey)
	def := `{"app":"crash","version":"1.0.0","title":"Crash","commands":[{"name":"audited","permittedArgs":["run"],
		"url":"` + upstream.URL + `/runs?run={{run}}","httpMethod":"post","auditLogging":true}]}`
	if _, err := admin.RegisterApp(ctx, []byte(def), false); err != nil {
		t.Fatal(err)
	}
	agent, err := admin.CreateKey(ctx, "agent", "agent")
	if err != nil {
		t.Fatal(err)
	}

	// The load: 32 workers, each run named by its worker and sequence.
	const workers = 32
	var (
		mu       sync.Mutex
		acked    []string
		answered atomic.Int64
		failed   atomic.Int64
	)
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			lastFailed := false
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("w%d-%d", w, i)
				ok, err := run(hc, first.url, agent.Key, name)
				if err != nil {
					if i == 0 || !lastFailed {
						failed.Add(1) // the kill: the answer never came
					}
					lastFailed = true
					select {
					case <-stop:
						return
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				lastFailed = false
				if ok {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
					answered.Add(1)
				}
			}
		})
	}
	// Kill once the load has gone on for a while, in the middle of it.
	deadline := time.Now().Add(time.Minute)
	for answered.Load() < 500 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if answered.Load() == 0 {
		close(stop)
		wg.Wait()
		t.Fatal("no audited run was answered before the kill")
	}
	first.kill(t)
	time.Sleep(100 * time.Millisecond) // let the workers see the dead server
	close(stop)
	wg.Wait()
	mu.Lock()
	want := append([]string(nil), acked...)
	mu.Unlock()
	t.Logf("killed with SIGKILL after %d answered audited runs (%d runs in flight got no answer)", len(want), failed.Load())

	// The same store, a new process: every answered run is in the log.
	second := startChild(t, data, dbURL)
	logged := map[string]bool{}
	auditor := client.New(second.url, org.AdminKey, nil)
	cursor := ""
	for {
		entries, next, err := auditor.AuditLogs(ctx, client.AuditQuery{Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			logged[e.Args["run"]] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	var missing []string
	for _, name := range want {
		if !logged[name] {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d runs answered before the kill have no audit entry after it, such as %v", len(missing), len(want), missing[:min(5, len(missing))])
	}
	t.Logf("all %d answered runs are in the audit log (%d entries in all)", len(want), len(logged))
}

// run runs the audited command once with the arg run=name; ok reports a
// 200 answer. A run refused with another status is not an error (it was
// answered, and need not be logged); a run with no answer is.
func run(hc *http.Client, base, key, name string) (ok bool, err error) {
	body, _ := json.Marshal(map[string]any{"args": map[string]string{"run": name}})
	req, err := http.NewRequest("POST", base+"/v1/commands/crash.audited/run", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err // cut off in the middle of the answer: not acknowledged
	}
	if resp.StatusCode != http.StatusOK {
		return false, nil
	}
	if !bytes.Contains(b, []byte(`"status":200`)) {
		return false, errors.New("a 200 answer without the upstream's status: " + string(b))
	}
	return true, nil
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
