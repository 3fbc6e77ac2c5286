package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// A store that answers reads but refuses writes is not healthy: after a
// failed ingest WriteHealthy fails (its probe write fails too), and once
// writes work again the probe clears it, with no webhook needed.
func TestSQLiteWriteHealthFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "coesync.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := func(id string) []Delivery { return []Delivery{{Source: "pagerduty", ID: id, ReceivedAt: time.Now()}} }
	if err := s.WriteHealthy(ctx); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	// The one connection (MaxOpenConns 1) turns read-only, as a file
	// system that stopped taking writes.
	if _, err := s.db.ExecContext(ctx, `PRAGMA query_only = ON`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(ctx, d("evt-1")); err == nil {
		t.Fatal("ingest on a read-only connection succeeded")
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping = %v; the point is that reads still work", err)
	}
	if err := s.WriteHealthy(ctx); err == nil {
		t.Fatal("WriteHealthy = nil while writes fail")
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA query_only = OFF`); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteHealthy(ctx); err != nil {
		t.Fatalf("WriteHealthy = %v once writes work again", err)
	}
	if _, err := s.Ingest(ctx, d("evt-2")); err != nil {
		t.Fatal(err)
	}
}

// A refused delivery says nothing about the store.
func TestWriteHealthIgnoresUnstorableDeliveries(t *testing.T) {
	var h writeHealth
	h.record(&unstorableError{code: "22021"})
	probed := false
	if err := h.checkWrites(context.Background(), func(context.Context, string) error { probed = true; return nil }); err != nil || probed {
		t.Fatalf("checkWrites = %v (probed %v), want nil without a probe", err, probed)
	}
}
