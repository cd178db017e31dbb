package outbound

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
)

func benchServer(b *testing.B) *server {
	body := bytes.Repeat([]byte(`{"id":12345,"name":"example"},`), 34) // about 1 KiB
	return newServer(b, func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body.Close()
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		if r.URL.Path == "/chunked" {
			w.Write(body) // small and unflushed: net/http adds Content-Length
			http.NewResponseController(w).Flush()
			w.Write(body)
			return
		}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.Write(body)
	})
}

func BenchmarkDo(b *testing.B) {
	s := benchServer(b)
	c := newTestClient(b, Config{})
	post := []byte(`{"query":"example","limit":10}`)
	for _, bc := range []struct {
		name string
		req  *Request
	}{
		{"GET", &Request{URL: mustURL(b, s.URL+"/items?q=1"), Header: http.Header{"Authorization": {"Bearer token"}, "Accept": {"application/json"}}}},
		{"GET-chunked", &Request{URL: mustURL(b, s.URL+"/chunked")}},
		{"POST", &Request{Method: "POST", URL: mustURL(b, s.URL+"/items"), Header: http.Header{"Content-Type": {"application/json"}}, Body: post}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Do(ctx, bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("GET-parallel", func(b *testing.B) {
		req := &Request{URL: mustURL(b, s.URL+"/items")}
		ctx := context.Background()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Do(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkRawHTTPClient is the baseline: a plain net/http client reading
// the body with io.ReadAll.
func BenchmarkRawHTTPClient(b *testing.B) {
	s := benchServer(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	b.Cleanup(c.CloseIdleConnections)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("GET", s.URL+"/items?q=1", nil)
		req.Header = http.Header{"Authorization": {"Bearer token"}, "Accept": {"application/json"}}
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		resp.Body.Close()
	}
}

func BenchmarkCheckAddr(b *testing.B) {
	addrs := []netip.Addr{
		netip.MustParseAddr("93.184.215.14"),
		netip.MustParseAddr("2606:4700::1111"),
		netip.MustParseAddr("::ffff:8.8.8.8"),
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, a := range addrs {
			if CheckAddr(a) != nil {
				b.Fatal(a)
			}
		}
	}
}
