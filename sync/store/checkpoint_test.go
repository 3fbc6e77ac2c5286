package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Commits never checkpoint (no database-file fsync in a webhook's commit);
// the background checkpointer copies the WAL into the database file, and
// what was committed stays there.
func TestSQLiteCheckpointsOutsideCommits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "coesync.db")
	s, err := OpenSQLite(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Only this test checkpoints, when it says so.
	s.ckpt.close()
	s.ckpt = nil
	ckpt, err := newCheckpointer(path, s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer ckpt.db.Close()

	var auto int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d on the store's connection, want 0", auto)
	}

	// Well past SQLite's default of 1,000 pages: with automatic
	// checkpoints one of these commits would have run one.
	body := make([]byte, 8<<10)
	for b := range 40 {
		ds := make([]Delivery, 32)
		for i := range ds {
			id := fmt.Sprintf("evt-%d-%d", b, i)
			ds[i] = Delivery{Source: "pagerduty", ID: id, EventType: "incident.resolved", ResourceID: id, ReceivedAt: time.Now(), Body: body}
		}
		if _, err := s.Ingest(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	size := func(p string) int64 {
		t.Helper()
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	const wrote = 40 * 32 * 8 << 10
	if wal := size(path + "-wal"); wal < wrote {
		t.Fatalf("WAL is %d bytes after writing %d", wal, wrote)
	}
	// No commit copied the WAL into the database file...
	if db := size(path); db >= wrote/2 {
		t.Fatalf("database file is %d bytes before any background checkpoint: a commit checkpointed", db)
	}
	// ...the checkpointer does.
	ckpt.checkpoint()
	if db := size(path); db < wrote {
		t.Errorf("database file is %d bytes after the background checkpoint, want at least %d", db, wrote)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM deliveries").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 40*32 {
		t.Errorf("%d deliveries stored, want %d", n, 40*32)
	}
}
