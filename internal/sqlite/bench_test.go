package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// BenchmarkAppendAudit is the audit log's group commit: 32 entries a
// transaction, as under load.
func BenchmarkAppendAudit(b *testing.B) {
	for _, size := range []int{1, 8, 32} {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchAppendAudit(b, size) })
	}
}

func benchAppendAudit(b *testing.B, size int) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "switchboard.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	batch := make([]switchboard.AuditEntry, size)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for j := range batch {
			n++
			batch[j] = switchboard.AuditEntry{ID: fmt.Sprintf("aud_%016x", n), Time: time.Now(), OrgID: "bench", ActorID: "key_1", ActorName: "agent",
				Kind: "command", Name: "kustomer.app.bench_x.audited", Args: map[string]string{"store": "acme"}, Method: "POST",
				URL: "http://127.0.0.1:1234/orders?store=acme", Status: 200, DurationMs: 1, Cache: "none"}
		}
		if err := s.AppendAudit(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)), "µs/entry")
}
