package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestMeasureCountsOnlyChecked2xx(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 10 {
		case 0:
			http.Error(w, "boom", http.StatusInternalServerError)
		case 5:
			w.Write([]byte(`{"other":1}`)) // 2xx without the wanted body
		default:
			w.Write([]byte(`{"refunded":true}`))
		}
	}))
	defer srv.Close()
	rq, err := newRequest(srv.URL+"/x", nil, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	rq.wantBody = []string{`"refunded":true`}
	tr := loadTransport(4)
	defer tr.CloseIdleConnections()
	res, err := measure(context.Background(), tr, rq, 4, 50*time.Millisecond, 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Non2xx == 0 || res.Unexpected == 0 {
		t.Fatalf("ok %d, non-2xx %d, unexpected %d: want all three counted", res.OK, res.Non2xx, res.Unexpected)
	}
	if !res.Failed {
		t.Errorf("20%% errors not FAILED: %+v", res)
	}
	if want := float64(res.OK) / 0.3; res.RPS != want {
		t.Errorf("rps %v, want the successes per second %v", res.RPS, want)
	}
	if res.P50ms <= 0 || res.P99ms < res.P50ms {
		t.Errorf("p50 %v ms, p99 %v ms", res.P50ms, res.P99ms)
	}
}

func TestMeasureHeaderCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache-Status", "MISS")
	}))
	defer srv.Close()
	rq, err := newRequest(srv.URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rq.wantHeader = [2]string{"X-Cache-Status", "HIT"}
	res, err := measure(context.Background(), loadTransport(2), rq, 2, 0, 100*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.Unexpected == 0 || !res.Failed {
		t.Errorf("answers without the header counted as successes: %+v", res)
	}
}

func TestPercentileAndMedian(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	if got := percentile(d, 0.50); got != 50*time.Millisecond {
		t.Errorf("p50 %v", got)
	}
	if got := percentile(d, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 %v", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing %v", got)
	}
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median %v", got)
	}
}
