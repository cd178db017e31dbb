package outbound

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadBody(t *testing.T) {
	big := strings.Repeat("z", 3<<20) // beyond maxPrealloc: the slice must grow
	tests := []struct {
		name      string
		body      string
		announced int64 // -1: unknown
		max       int64
		wantErr   error
	}{
		{"empty, unknown length", "", -1, 10, nil},
		{"empty, announced", "", 0, 10, nil},
		{"at the limit", "0123456789", 10, 10, nil},
		{"at the limit, unknown length", "0123456789", -1, 10, nil},
		{"over the limit, announced", "0123456789x", 11, 10, errTooLarge},
		{"over the limit, unknown length", "0123456789x", -1, 10, errTooLarge},
		{"longer than announced", "0123456789x", 5, 10, errTooLarge},
		{"longer than announced, within the limit", "0123456", 5, 10, nil},
		{"large, announced", big, int64(len(big)), 5 << 20, nil},
		{"large, unknown length", big, -1, 5 << 20, nil},
	}
	for _, tt := range tests {
		for _, one := range []bool{false, true} {
			if one && len(tt.body) > 1<<20 {
				continue // too slow one byte at a time, and nothing new
			}
			var r io.Reader = strings.NewReader(tt.body)
			if one {
				r = iotest.OneByteReader(r)
			}
			got, err := readBody(r, tt.announced, tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s (one byte at a time: %v): error %v, want %v", tt.name, one, err, tt.wantErr)
				continue
			}
			if err == nil && string(got) != tt.body {
				t.Errorf("%s (one byte at a time: %v): got %d bytes, want %d", tt.name, one, len(got), len(tt.body))
			}
		}
	}
}

// TestReadBodyStopsEarly checks that no more than max+1 bytes are read.
func TestReadBodyStopsEarly(t *testing.T) {
	for _, announced := range []int64{-1, 0} {
		r := &countingReader{r: bytes.NewReader(make([]byte, 1<<20))}
		if _, err := readBody(r, announced, 1000); !errors.Is(err, errTooLarge) {
			t.Fatalf("error %v", err)
		}
		if r.n != 1001 {
			t.Errorf("read %d bytes, want 1001", r.n)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadBodyError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom))
	if _, err := readBody(r, -1, 100); !errors.Is(err, boom) {
		t.Errorf("error %v, want %v", err, boom)
	}
}
