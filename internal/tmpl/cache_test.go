package tmpl

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestCacheHit(t *testing.T) {
	c := NewCache(100)
	a, err := c.Get("Hello {{name}}")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Get("Hello {{name}}")
	if a != b {
		t.Errorf("second Get parsed again")
	}
	if c.Len() != 1 {
		t.Errorf("Len = %d", c.Len())
	}
	allocs := testing.AllocsPerRun(100, func() { c.Get("Hello {{name}}") })
	if allocs != 0 {
		t.Errorf("a hit allocates %v times", allocs)
	}
}

func TestCacheErrors(t *testing.T) {
	c := NewCache(64)
	_, err1 := c.Get("{{foo bar}}")
	_, err2 := c.Get("{{foo bar}}")
	if err1 == nil || err1 != err2 {
		t.Errorf("errors: %v, %v (want the same cached error)", err1, err2)
	}
	// Errors take at most a quarter of the room.
	for i := 0; i < 1000; i++ {
		if _, err := c.Get(fmt.Sprintf("{{bad%d x}}", i)); err == nil {
			t.Fatal("no error")
		}
	}
	if n := c.Len(); n > 64/4+cacheShards {
		t.Errorf("%d entries after 1000 bad templates", n)
	}
}

func TestCacheBounded(t *testing.T) {
	for _, max := range []int{1, 5, 16, 100} {
		c := NewCache(max)
		for i := 0; i < 1000; i++ {
			src := fmt.Sprintf("t%d {{x}}", i)
			tp, err := c.Get(src)
			if err != nil || tp.Source() != src {
				t.Fatalf("Get(%q) = %v, %v", src, tp, err)
			}
		}
		if n := c.Len(); n > max || n == 0 {
			t.Errorf("NewCache(%d) holds %d entries", max, n)
		}
	}
	c := NewCache(10)
	big := strings.Repeat("x", MaxCachedSource) + "{{y}}"
	if _, err := c.Get(big); err != nil || c.Len() != 0 {
		t.Errorf("a source over MaxCachedSource was cached (%v)", err)
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := NewCache(50)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				k := (i*7 + g) % 120
				src := fmt.Sprintf("{{a}}-%d", k)
				if k%10 == 0 {
					src = fmt.Sprintf("{{#if}}%d", k) // an error
				}
				tp, err := c.Get(src)
				if k%10 == 0 {
					if err == nil {
						t.Error("no error")
						return
					}
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				out, _ := tp.Render(map[string]any{"a": "A"})
				if out != fmt.Sprintf("A-%d", k) {
					t.Errorf("got %q", out)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if n := c.Len(); n > 50 {
		t.Errorf("Len = %d", n)
	}
}
