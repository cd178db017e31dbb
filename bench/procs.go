package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a server started as a child process in its own process group, so
// that stopping the group also stops the processes it started (nginx's
// workers).
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// procGroup is every process the harness started; stopAll stops them.
type procGroup struct {
	mu       sync.Mutex
	procs    []*proc
	stopping bool
}

// readyTimeout bounds how long a server may take to say it listens.
const readyTimeout = 60 * time.Second

// start starts cmd as the server name in its own process group, with stdout
// and stderr appended to logPath. When waitURL is set it waits until the
// server prints a line containing "listening on <url>" and returns the URL.
func (g *procGroup) start(ctx context.Context, name string, cmd *exec.Cmd, logPath string, waitURL bool) (*proc, string, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("%s: open its log: %w", name, err)
	}
	watch := &lineWatcher{w: logFile, url: make(chan string, 1)}
	cmd.Stdout = watch
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// If the harness dies without cleaning up (SIGKILL), its children
		// die too rather than keep their ports.
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.WaitDelay = 2 * time.Second

	g.mu.Lock()
	if g.stopping {
		g.mu.Unlock()
		logFile.Close()
		return nil, "", errors.New("interrupted")
	}
	if err := cmd.Start(); err != nil {
		g.mu.Unlock()
		logFile.Close()
		return nil, "", fmt.Errorf("start %s (%s): %w", name, cmd.Path, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	g.procs = append(g.procs, p)
	g.mu.Unlock()
	go func() {
		p.waitErr = cmd.Wait() // also waits for the copy of stdout into the log
		logFile.Close()
		close(p.done)
	}()
	if !waitURL {
		return p, "", nil
	}

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case url := <-watch.url:
		return p, url, nil
	case <-p.done:
		return nil, "", fmt.Errorf("%s exited before it listened: %v%s", name, p.waitErr, tailFile(logPath, 15))
	case <-timer.C:
		return nil, "", fmt.Errorf("%s did not say it listens within %s%s", name, readyTimeout, tailFile(logPath, 15))
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

// exited reports a server that has exited while the harness still needs it.
func (g *procGroup) exited() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during the benchmark: %v%s", p.name, p.waitErr, tailFile(p.logPath, 15))
		default:
		}
	}
	return nil
}

// pgids is the set of the started process groups.
func (g *procGroup) pgids() map[int]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[int]bool{}
	for _, p := range g.procs {
		m[p.cmd.Process.Pid] = true
	}
	return m
}

// pgidOf is the process group of the process started as name; 0 when
// there is none.
func (g *procGroup) pgidOf(name string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, p := range g.procs {
		if p.name == name {
			return p.cmd.Process.Pid
		}
	}
	return 0
}

// stopAll stops every started process group, newest first: SIGTERM, then
// SIGKILL for a group still running after five seconds.
func (g *procGroup) stopAll() {
	g.mu.Lock()
	g.stopping = true
	procs := g.procs
	g.procs = nil
	g.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		p := procs[i]
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			fmt.Fprintf(os.Stderr, "bench: %s did not stop on SIGTERM; killing it\n", p.name)
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		// The leader is gone; make sure nothing of its group lingers.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// lineWatcher copies a child's stdout to its log and sends the URL of the
// first line that contains "listening on ".
type lineWatcher struct {
	w   io.Writer
	buf []byte
	url chan string // nil once the URL was sent
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	if l.url != nil {
		l.buf = append(l.buf, p...)
		for {
			i := bytes.IndexByte(l.buf, '\n')
			if i < 0 {
				break
			}
			line := string(l.buf[:i])
			l.buf = l.buf[i+1:]
			if _, after, ok := strings.Cut(line, "listening on "); ok {
				l.url <- strings.TrimSpace(after)
				l.url, l.buf = nil, nil
				break
			}
		}
	}
	return l.w.Write(p)
}
