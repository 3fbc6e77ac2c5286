package server_test

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/report"
	"github.com/coesync/coesync/sync/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestReportFromStoreGolden renders the Markdown and JSON report of a
// seeded store with a fixed clock: the whole path from the store's records
// to the text people read.
func TestReportFromStoreGolden(t *testing.T) {
	ctx := context.Background()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := browserAt(t, loc, "2026-05-19 09:30")
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "coesync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedBrowserStore(t, st, loc, now)
	reporter := &engine.Reporter{Store: st, Location: loc, StaleDraftDays: 7, ReconcileInterval: 5 * time.Minute,
		Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	p, err := report.ISOWeek("2026-W20", loc)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := reporter.Build(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	checkSeededReport(t, rep)
	js, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "store-report.md", []byte(rep.Markdown()))
	golden(t, "store-report.json", append(js, '\n'))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sync/server -run Golden -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file; diff it with -update and review", name)
	}
}
