package store_test

import (
	"context"
	"path/filepath"
	"strings"
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
