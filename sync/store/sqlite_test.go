package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/store/storetest"
)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	return openMigratedSQLite(t, store.Options{})
}

// The suites run in parallel with each other: each store is its own file
// or database, and SQLite's commits wait on fsync, not the CPU.
func TestSQLiteConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, openSQLite)
}

func TestSQLiteDispatch(t *testing.T) {
	t.Parallel()
	storetest.RunDispatch(t, func(t *testing.T, ws *river.Workers) store.Store {
		return openMigratedSQLite(t, store.Options{Workers: ws, FetchPollInterval: 20 * time.Millisecond})
	})
}

func TestSQLiteSecondWorkerProcessRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coesync.db")
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(func(context.Context, *river.Job[storetest.TestArgs]) error { return nil }))
	first, err := store.OpenSQLite(context.Background(), path, store.Options{Workers: ws})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = store.OpenSQLite(context.Background(), path, store.Options{Workers: ws})
	if err == nil || !strings.Contains(err.Error(), "in use by another coesync process") {
		t.Fatalf("second worker store: err = %v", err)
	}
	// Insert-only access (coesync status) stays possible.
	ro, err := store.OpenSQLite(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatalf("insert-only open: %v", err)
	}
	ro.Close()
}

// The database and its -wal and -shm hold incident data and webhook
// bodies: 0600, for a new file and for one made readable by an older
// version, whatever the umask.
func TestSQLiteFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "coesync.db")
	check := func(when string) {
		t.Helper()
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("%s: %s mode %o, want 600", when, filepath.Base(p), m)
			}
		}
	}
	s, err := store.OpenSQLite(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), []store.Delivery{{Source: "pagerduty", ID: "evt-1", ReceivedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	check("new store")
	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Chmod(p, 0o644) // as an older coesync left them
	}
	s, err = store.OpenSQLite(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(context.Background(), []store.Delivery{{Source: "pagerduty", ID: "evt-2", ReceivedAt: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	check("reopened")
}

// A store running jobs prunes on its own: the prune_store job runs at
// start (and hourly) and deletes what is past the retention.
func TestSQLitePrunesPeriodically(t *testing.T) {
	ctx := context.Background()
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(func(context.Context, *river.Job[storetest.TestArgs]) error { return nil }))
	s, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "coesync.db"),
		store.Options{Workers: ws, FetchPollInterval: 20 * time.Millisecond, Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := store.Delivery{Source: "github", ID: "old", ResourceID: "acme/api#1", ReceivedAt: time.Now().Add(-30 * 24 * time.Hour), Body: []byte(`{}`)}
	if _, err := s.Ingest(ctx, []store.Delivery{old}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := s.RecentDeliveries(ctx, "github", "acme/api#1", time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		if time.Now().After(deadline) {
			jobs, _ := s.JobsOfKind(ctx, "prune_store")
			t.Fatalf("the 30-day-old delivery is still stored; prune_store jobs: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
