package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/postgres/pgtest"
)

// BenchmarkAppendAudit is the audit log's group commit on PostgreSQL, in
// batches of 1, 8 and 32 entries: one multi-row INSERT a batch (rows) or
// one prepared INSERT an entry in a transaction (prepared).
func BenchmarkAppendAudit(b *testing.B) {
	s, err := Open(context.Background(), pgtest.Schema(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	for _, way := range []string{"rows", "prepared"} {
		for _, size := range []int{1, 8, 32} {
			b.Run(fmt.Sprintf("%s/%d", way, size), func(b *testing.B) {
				multiRowAudit = way == "rows"
				defer func() { multiRowAudit = true }()
				batch := make([]switchboard.AuditEntry, size)
				b.ReportAllocs()
				for b.Loop() {
					for j := range batch {
						n++
						batch[j] = switchboard.AuditEntry{ID: fmt.Sprintf("aud_%016x", n), Time: time.Now(), OrgID: "bench", ActorID: "key_1", ActorName: "agent",
							Kind: "command", Name: "kustomer.app.bench_x.audited", Args: map[string]string{"store": "acme"}, Method: "POST",
							URL: "http://127.0.0.1:1234/orders?store=acme", Status: 200, DurationMs: 1, Cache: "none"}
					}
					if err := s.AppendAudit(context.Background(), batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)), "µs/entry")
			})
		}
	}
}
