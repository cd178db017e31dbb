package outbound

import (
	"bytes"
	"io"
	"sync"
)

// readBody reads a response body of at most max bytes. It never reads more
// than max+1 bytes, so an oversized body costs at most that much.
//
// A body of announced length is read into a slice of that size (plus one
// byte, to see EOF without growing), which becomes the caller's. Other
// bodies are read into a pooled buffer and copied out once, at their final
// size: the growth garbage of io.ReadAll stays in the pool.
func readBody(r io.Reader, contentLength, max int64) ([]byte, error) {
	if contentLength > max {
		return nil, errTooLarge
	}
	if contentLength > 0 {
		// Announcing a length costs the upstream nothing: trust it only so
		// far before the bytes arrive.
		size := min(contentLength+1, maxPrealloc)
		b, err := readLimited(r, make([]byte, 0, size), max)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	p := bufPool.Get().(*[]byte)
	b, err := readLimited(r, (*p)[:0], max)
	var out []byte
	if err == nil {
		out = bytes.Clone(b)
	}
	// Keep what the read grew, but not a buffer so large that holding it in
	// the pool would pin memory for one unusual response.
	if cap(b) <= maxPooledBuffer {
		*p = b[:0]
	}
	bufPool.Put(p)
	return out, err
}

const (
	maxPooledBuffer = 1 << 20
	maxPrealloc     = 1 << 20
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 32<<10)
	return &b
}}

// readLimited appends r to b until EOF and returns the result, or
// errTooLarge as soon as it holds more than max bytes. It returns the
// buffer even on error, for the pool.
func readLimited(r io.Reader, b []byte, max int64) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the growth
		}
		// Read no further than one byte past max: that byte is the proof
		// the body is too large, and anything beyond is waste.
		end := cap(b)
		if int64(end) > max+1 {
			end = int(max + 1)
		}
		n, err := r.Read(b[len(b):end])
		b = b[:len(b)+n]
		if int64(len(b)) > max {
			return b, errTooLarge
		}
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
