package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/store/storetest"
)

// checkMigrateFlow: a store opened with SkipMigrate on an empty database
// fails naming `coesync migrate`; migrate applies River's and coesync's
// versions, a second run applies none, and then SkipMigrate opens.
func checkMigrateFlow(t *testing.T, open func(store.Options) (store.Store, error), migrate func() ([]store.Migration, error)) {
	t.Helper()
	_, err := open(store.Options{SkipMigrate: true})
	if !errors.Is(err, store.ErrSchemaOutdated) || !strings.Contains(err.Error(), "coesync migrate") {
		t.Fatalf("open unmigrated with SkipMigrate: err = %v", err)
	}
	applied, err := migrate()
	if err != nil {
		t.Fatal(err)
	}
	var river, coesync bool
	for _, m := range applied {
		river = river || m.Component == store.ComponentRiver
		coesync = coesync || m.Component == store.ComponentCoesync
	}
	if !river || !coesync {
		t.Fatalf("applied = %+v; want River's and coesync's versions", applied)
	}
	if again, err := migrate(); err != nil || len(again) != 0 {
		t.Fatalf("second migrate = %+v, %v; want nothing applied", again, err)
	}
	s, err := open(store.Options{SkipMigrate: true})
	if err != nil {
		t.Fatalf("open migrated with SkipMigrate: %v", err)
	}
	if _, _, err := s.BeginCOE(context.Background(), store.COE{IncidentID: "P1", Label: "l"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestSQLiteSkipMigrate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coesync.db")
	ctx := context.Background()
	checkMigrateFlow(t,
		func(o store.Options) (store.Store, error) { return store.OpenSQLite(ctx, path, o) },
		func() ([]store.Migration, error) { return store.MigrateSQLite(ctx, path) })
}

func TestPostgresSkipMigrate(t *testing.T) {
	dsn := postgresDB(t)
	ctx := context.Background()
	checkMigrateFlow(t,
		func(o store.Options) (store.Store, error) { return store.OpenPostgres(ctx, dsn, o) },
		func() ([]store.Migration, error) { return store.MigratePostgres(ctx, dsn) })
}

type movedArgs struct {
	Incident string `json:"incident"`
}

func (movedArgs) Kind() string { return "moved" }

// A populated SQLite store dumped and loaded into a fresh PostgreSQL
// database reads back the same through the Store interface.
func TestSQLiteToPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDB(t)
	path := filepath.Join(t.TempDir(), "coesync.db")
	src, err := store.OpenSQLite(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	t0 := time.Date(2026, 3, 2, 10, 4, 5, 123e6, time.UTC)

	// Deliveries with a queued job, a scheduled job, a unique job.
	dup, err := src.Ingest(ctx, []store.Delivery{
		{Source: "pagerduty", ID: "evt-1", EventType: "incident.resolved", ResourceID: "P1", ReceivedAt: t0, Body: []byte(`{"a":1}`),
			Jobs: []store.Job{{Args: storetest.TestArgs{Key: "P1"}}}},
		{Source: "github", ID: "gh-1", EventType: "issues", ResourceID: "acme/ops#4", ReceivedAt: t0.Add(time.Minute), Body: []byte(`{}`)},
	})
	if err != nil || dup[0] || dup[1] {
		t.Fatalf("ingest: %v %v", dup, err)
	}
	if err := src.Enqueue(ctx, store.Job{Args: movedArgs{Incident: "P2"},
		Opts: &river.InsertOpts{ScheduledAt: t0.Add(48 * time.Hour), Priority: 2, Tags: []string{"moved"}}}); err != nil {
		t.Fatal(err)
	}

	full := store.COE{IncidentID: "P1", Label: "pd-P1", Rule: "r", Project: "OPS", Title: "DB down", ServiceID: "S1",
		ServiceName: "db", Teams: "a,b", IntentAt: t0, Repo: "acme/ops", IncidentURL: "https://pd/P1", IncidentNumber: 42,
		IncidentKey: "db-down", RecurrenceOf: "OPS-0"}
	if _, _, err := src.BeginCOE(ctx, full); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(src.SetCOETicket(ctx, "P1", "OPS-1", "1001", "https://jira/OPS-1", t0.Add(time.Second)))
	must(src.MarkCOE(ctx, "P1", store.StepLinked, t0.Add(2*time.Second)))
	must(src.MarkCOE(ctx, "P1", store.StepNoted, t0.Add(3*time.Second)))
	must(src.SetCOERollup(ctx, "P1", "c-9", t0.Add(4*time.Second)))
	must(src.SetCOECategory(ctx, "OPS-1", "new"))
	if _, _, err := src.BeginCOE(ctx, store.COE{IncidentID: "P3", Label: "pd-P3", IntentAt: t0}); err != nil {
		t.Fatal(err)
	}
	must(src.SkipCOE(ctx, store.COE{IncidentID: "P4", Label: "pd-P4", Rule: "skip-noise"}))
	item := store.ActionItem{JiraKey: "OPS-2", JiraID: "1002", COEKey: "OPS-1", IncidentID: "P1", Repo: "acme/ops", Number: 7,
		IssueURL: "https://github.com/acme/ops/issues/7", State: store.MirrorLinked, IntentAt: t0, Title: "Add alert",
		Closed: true, Assignee: "octo", Owner: "Octo Cat", Due: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Priority: "High",
		BodyHash: "abc", JiraUpdated: t0.Add(time.Hour), GitHubUpdated: t0.Add(2 * time.Hour), Problem: "missing transition",
		OpenedAt: t0, ClosedAt: t0.Add(3 * time.Hour)}
	must(src.PutActionItem(ctx, item))
	must(src.PutActionItem(ctx, store.ActionItem{JiraKey: "OPS-3", COEKey: "OPS-1", State: store.MirrorIntent}))
	must(src.SetState(ctx, "etag:acme/ops", `W/"x"`))
	must(src.SetState(ctx, "reconciled_at", "2026-03-02T10:00:00Z"))
	must(src.Count(ctx, store.CounterDriftRepaired, t0, 3))
	must(src.Count(ctx, store.CounterJobsFailed, t0.Add(-48*time.Hour), 2))
	if ok, err := src.TryLock(ctx, "item:OPS-2", "me", t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}

	snap, err := src.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dst := openPostgres(t, dsn)
	if err := dst.Load(ctx, snap, false); err != nil {
		t.Fatal(err)
	}
	if err := dst.Load(ctx, snap, false); !errors.Is(err, store.ErrNotEmpty) {
		t.Fatalf("second load: err = %v; want ErrNotEmpty", err)
	}
	if err := dst.Load(ctx, snap, true); err != nil {
		t.Fatalf("forced load: %v", err)
	}
	dst.Close()
	// What a replica sees after the move.
	pg := openPostgres(t, dsn)

	for _, id := range []string{"P1", "P3", "P4"} {
		want, err := src.COE(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pg.COE(ctx, id)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("COE %s:\n got %+v %v\nwant %+v", id, got, err, want)
		}
	}
	wantItems, _ := src.ActionItems(ctx, "")
	gotItems, err := pg.ActionItems(ctx, "")
	if err != nil || !reflect.DeepEqual(gotItems, wantItems) {
		t.Errorf("action items:\n got %+v %v\nwant %+v", gotItems, err, wantItems)
	}
	for _, k := range []string{"etag:acme/ops", "reconciled_at"} {
		want, _ := src.State(ctx, k)
		if got, err := pg.State(ctx, k); err != nil || got != want {
			t.Errorf("state %s = %q, %v; want %q", k, got, err, want)
		}
	}
	since, until := t0.Add(-30*24*time.Hour), t0.Add(30*24*time.Hour)
	wantC, _ := src.Counts(ctx, since, until)
	if gotC, err := pg.Counts(ctx, since, until); err != nil || !reflect.DeepEqual(gotC, wantC) {
		t.Errorf("counters = %v, %v; want %v", gotC, err, wantC)
	}
	wantD, _ := src.DeliveryCounts(ctx, since, until)
	if gotD, err := pg.DeliveryCounts(ctx, since, until); err != nil || !reflect.DeepEqual(gotD, wantD) {
		t.Errorf("deliveries = %v, %v; want %v", gotD, err, wantD)
	}
	// A redelivered event is still a duplicate.
	if dup, err := pg.Ingest(ctx, []store.Delivery{{Source: "pagerduty", ID: "evt-1", EventType: "incident.resolved",
		ResourceID: "P1", ReceivedAt: time.Now(), Jobs: []store.Job{{Args: storetest.TestArgs{Key: "P1"}}}}}); err != nil || !dup[0] {
		t.Errorf("redelivery after move: dup = %v, %v", dup, err)
	}
	// Leases are not moved.
	if ok, err := pg.TryLock(ctx, "item:OPS-2", "other", t0.Add(time.Hour)); err != nil || !ok {
		t.Errorf("lease moved: %v %v", ok, err)
	}
	// No duplicate COE after the move.
	if stored, created, err := pg.BeginCOE(ctx, store.COE{IncidentID: "P1", Label: "pd-P1"}); err != nil || created || stored.TicketKey != "OPS-1" {
		t.Errorf("BeginCOE after move = %+v, %v, %v; want the moved COE", stored, created, err)
	}
	if _, created, err := pg.BeginCOE(ctx, store.COE{IncidentID: "P3", Label: "pd-P3"}); err != nil || created {
		t.Errorf("BeginCOE of a moved intent: created = %v, %v", created, err)
	}

	// Queued jobs, with their kind, args, state and schedule.
	wantJ, _ := src.Jobs(ctx, "available", "scheduled", "retryable", "pending")
	gotJ, err := pg.Jobs(ctx, "available", "scheduled", "retryable", "pending")
	if err != nil || len(gotJ) != len(wantJ) || len(gotJ) != 2 {
		t.Fatalf("jobs = %+v, %v; want %+v", gotJ, err, wantJ)
	}
	byKind := map[string]store.JobInfo{}
	for _, j := range gotJ {
		byKind[j.Kind] = j
	}
	for _, w := range wantJ {
		g := byKind[w.Kind]
		if g.State != w.State || g.Args != w.Args || !g.ScheduledAt.Equal(w.ScheduledAt) || g.MaxAttempts != w.MaxAttempts {
			t.Errorf("job %s:\n got %+v\nwant %+v", w.Kind, g, w)
		}
	}
	// The job still waiting in the moved delivery is dispatched there.
	if n, err := pg.DispatchDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("dispatch after move = %d, %v; want the 1 delivery with a pending job", n, err)
	}
	// The unique job keeps its uniqueness: enqueuing it again adds none.
	if err := pg.Enqueue(ctx, store.Job{Args: storetest.TestArgs{Key: "P1"}}); err != nil {
		t.Fatal(err)
	}
	if all, _ := pg.JobsOfKind(ctx, "storetest"); len(all) != 1 {
		t.Errorf("storetest jobs after dispatch and re-enqueue of a unique job = %d; want 1", len(all))
	}
}
