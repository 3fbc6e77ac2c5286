package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/store/storetest"
)

// BenchmarkIngest measures one committed (and synced) batch of deliveries
// of a 1.6 KB body with a job each, by batch size: the fixed cost of a
// transaction against the cost of a row. Reported per delivery.
func BenchmarkIngest(b *testing.B) {
	body := make([]byte, 1600)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	for _, mode := range []string{"fsync-each", "unsynced+sync", "unsynced"} {
		for _, size := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/batch=%d", mode, size), func(b *testing.B) {
				ctx := context.Background()
				s, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "coesync.db"), store.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				n := 0
				batch := make([]store.Delivery, size)
				b.ResetTimer()
				for b.Loop() {
					for i := range batch {
						n++
						id := fmt.Sprintf("evt-%010d", n)
						batch[i] = store.Delivery{Source: "pagerduty", ID: id, EventType: "incident.resolved",
							ResourceID: "P" + id, ReceivedAt: time.Now(), Body: body,
							Jobs: []store.Job{{Args: storetest.TestArgs{Key: id}}}}
					}
					if mode == "fsync-each" {
						_, err = s.Ingest(ctx, batch)
					} else if _, err = s.IngestUnsynced(ctx, batch); err == nil && mode != "unsynced" {
						err = s.SyncIngested(ctx)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/delivery")
			})
		}
	}
}
