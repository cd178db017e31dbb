package server

import (
	"io"
	"sync"
	"time"
)

// logWriter buffers log lines and writes them in batches: one write(2) per
// request line would cost more than the rest of a cached run. Lines reach
// the output within flushEvery, or at once when the buffer fills; Close
// writes what is left.
type logWriter struct {
	mu   sync.Mutex
	buf  []byte
	out  io.Writer
	stop chan struct{}
	done chan struct{}
}

const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10
)

func newLogWriter(out io.Writer) *logWriter {
	w := &logWriter{out: out, buf: make([]byte, 0, logBufferSize), stop: make(chan struct{}), done: make(chan struct{})}
	go w.loop()
	return w
}

// Write implements io.Writer; slog handlers call it once per line.
func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) >= logBufferSize {
		w.flushLocked()
	}
	return len(p), nil
}

func (w *logWriter) flushLocked() {
	if len(w.buf) > 0 {
		_, _ = w.out.Write(w.buf)
		w.buf = w.buf[:0]
	}
}

func (w *logWriter) loop() {
	defer close(w.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
		case <-w.stop:
			w.mu.Lock()
			w.flushLocked()
			w.mu.Unlock()
			return
		}
	}
}

// Close writes what is buffered and stops the flusher.
func (w *logWriter) Close() {
	close(w.stop)
	<-w.done
}
