// Package storetest is the conformance suite every store.Store passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
)

// TestArgs is a job kind used by the suite.
type TestArgs struct {
	Key string `json:"key"`
}

// Kind implements river.JobArgs.
func (TestArgs) Kind() string { return "storetest" }

// InsertOpts makes the job unique by key, like coesync's own jobs.
func (TestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Open returns a fresh, empty, insert-only store.
type Open func(t *testing.T) store.Store

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("IngestDeduplicates", func(t *testing.T) { testIngestDeduplicates(t, open(t)) })
	t.Run("IngestEnqueuesOnlyNew", func(t *testing.T) { testIngestEnqueuesOnlyNew(t, open(t)) })
	t.Run("IngestDeduplicatesOnContentKey", func(t *testing.T) { testIngestDeduplicatesOnContentKey(t, open(t)) })
	t.Run("PruneKeepsKeysLongerThanBodies", func(t *testing.T) { testPruneKeepsKeysLongerThanBodies(t, open(t)) })
	t.Run("IngestIsolatesPoisonedMember", func(t *testing.T) { testIngestIsolatesPoisonedMember(t, open(t)) })
	t.Run("CommitterConcurrent", func(t *testing.T) {
		s := open(t)
		testCommitterConcurrent(t, s, func(observe func(int)) *store.Committer { return store.NewCommitter(s.Ingest, 64, observe) })
	})
	t.Run("StoreCommitterConcurrent", func(t *testing.T) {
		s := open(t)
		testCommitterConcurrent(t, s, func(observe func(int)) *store.Committer { return store.NewStoreCommitter(s, 64, observe) })
	})
	t.Run("COELifecycle", func(t *testing.T) { testCOELifecycle(t, open(t)) })
	t.Run("COESkip", func(t *testing.T) { testCOESkip(t, open(t)) })
	t.Run("ListCOEs", func(t *testing.T) { testListCOEs(t, open(t)) })
	t.Run("COENewFields", func(t *testing.T) { testCOENewFields(t, open(t)) })
	t.Run("EarlierCOEs", func(t *testing.T) { testEarlierCOEs(t, open(t)) })
	t.Run("COEByKey", func(t *testing.T) { testCOEByKey(t, open(t)) })
	t.Run("COERollup", func(t *testing.T) { testCOERollup(t, open(t)) })
	t.Run("ActionItemPutGet", func(t *testing.T) { testActionItemPutGet(t, open(t)) })
	t.Run("ActionItemsList", func(t *testing.T) { testActionItemsList(t, open(t)) })
	t.Run("RecentDeliveries", func(t *testing.T) { testRecentDeliveries(t, open(t)) })
	t.Run("SyncState", func(t *testing.T) { testSyncState(t, open(t)) })
	t.Run("Counters", func(t *testing.T) { testCounters(t, open(t)) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open(t)) })
	t.Run("LeaseConcurrent", func(t *testing.T) { testLeaseConcurrent(t, open(t)) })
	t.Run("QueueStats", func(t *testing.T) { testQueueStats(t, open(t)) })
}

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

func delivery(id string, jobs ...store.Job) store.Delivery {
	return store.Delivery{Source: "pagerduty", ID: id, EventType: "incident.resolved", ResourceID: "P" + id,
		ReceivedAt: t0, Body: []byte(`{"event":{"id":"` + id + `"}}`), Jobs: jobs}
}

func testIngestDeduplicates(t *testing.T, s store.Store) {
	ctx := context.Background()
	dup, err := s.Ingest(ctx, []store.Delivery{delivery("a"), delivery("b"), delivery("a")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, false, true}; fmt.Sprint(dup) != fmt.Sprint(want) {
		t.Fatalf("first batch dup = %v, want %v", dup, want)
	}
	dup, err = s.Ingest(ctx, []store.Delivery{delivery("b"), delivery("c")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false}; fmt.Sprint(dup) != fmt.Sprint(want) {
		t.Fatalf("second batch dup = %v, want %v", dup, want)
	}
	// The same id from another source is another delivery.
	d := delivery("a")
	d.Source = "github"
	dup, err = s.Ingest(ctx, []store.Delivery{d})
	if err != nil || dup[0] {
		t.Fatalf("other source: dup=%v err=%v", dup, err)
	}
}

func testIngestEnqueuesOnlyNew(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := func(k string) store.Job { return store.Job{Args: TestArgs{Key: k}} }
	kinds := func() map[string]int {
		t.Helper()
		jobs, err := s.Jobs(ctx, "available")
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, j := range jobs {
			n[j.Kind]++
		}
		return n
	}
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("1", job("x")), delivery("1", job("y"))}); err != nil {
		t.Fatal(err)
	}
	// Until dispatched, the jobs wait in the delivery: the queue holds only
	// the dispatch job committed with the batch.
	if n := kinds(); n["storetest"] != 0 || n["dispatch_deliveries"] != 1 {
		t.Fatalf("before dispatch: jobs by kind %v, want one dispatch_deliveries and no storetest", n)
	}
	// A second delivery of another event for the same resource enqueues a
	// job with the same unique args: the queue refuses the duplicate. Two
	// deliveries in one batch with the same job (a storm resolving one
	// incident twice) must not fail the batch.
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("2", job("x")), delivery("3"), delivery("4", job("w")), delivery("5", job("w"))}); err != nil {
		t.Fatal(err)
	}
	// A batch of duplicates and deliveries without jobs adds no dispatch.
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("2", job("x")), delivery("6")}); err != nil {
		t.Fatal(err)
	}
	// A store may leave a batch's jobs to a dispatch job not yet started.
	before := kinds()["dispatch_deliveries"]
	if before < 1 || before > 2 {
		t.Fatalf("dispatch jobs = %d, want 1 or 2 (at most one per batch with new jobs)", before)
	}
	moved, err := s.DispatchDeliveries(ctx)
	if err != nil || moved != 4 {
		t.Fatalf("DispatchDeliveries = %d, %v; want 4 deliveries (1, 2, 4, 5)", moved, err)
	}
	// Whatever a store spares, a batch with jobs always finds a dispatch
	// job that has not started.
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("7", job("v"))}); err != nil {
		t.Fatal(err)
	}
	if after := kinds()["dispatch_deliveries"]; after < 1 || after > before+1 {
		t.Fatalf("dispatch jobs after another batch = %d, want 1 to %d", after, before+1)
	}
	if moved, err := s.DispatchDeliveries(ctx); err != nil || moved != 1 {
		t.Fatalf("DispatchDeliveries = %d, %v; want delivery 7", moved, err)
	}
	jobs, err := s.JobsOfKind(ctx, "storetest", "available")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, j := range jobs {
		keys = append(keys, j.Args)
	}
	if fmt.Sprint(keys) != `[{"key":"x"} {"key":"w"} {"key":"v"}]` {
		t.Fatalf("jobs after dispatch = %v, want x, w, v, once each", keys)
	}
	// Dispatch is idempotent: nothing is left to move.
	if moved, err := s.DispatchDeliveries(ctx); err != nil || moved != 0 {
		t.Fatalf("second DispatchDeliveries = %d, %v; want 0", moved, err)
	}
	if err := s.Enqueue(ctx, job("z"), job("x")); err != nil {
		t.Fatal(err)
	}
	if jobs, err = s.JobsOfKind(ctx, "storetest", "available"); err != nil || len(jobs) != 4 {
		t.Fatalf("JobsOfKind(storetest) = %d jobs, %v; want 4", len(jobs), err)
	}
	if jobs, err = s.JobsOfKind(ctx, "other"); err != nil || len(jobs) != 0 {
		t.Fatalf("JobsOfKind(other) = %+v, %v; want none", jobs, err)
	}
}

func testCommitterConcurrent(t *testing.T, s store.Store, newCommitter func(observe func(int)) *store.Committer) {
	var mu sync.Mutex
	var batches []int
	c := newCommitter(func(n int) { mu.Lock(); batches = append(batches, n); mu.Unlock() })
	const n, copies = 200, 3
	var wg sync.WaitGroup
	var dups, fresh int
	var cmu sync.Mutex
	for i := 0; i < n*copies; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := c.Submit(context.Background(), delivery(fmt.Sprint(i%n)))
			if err != nil {
				t.Error(err)
				return
			}
			cmu.Lock()
			if dup {
				dups++
			} else {
				fresh++
			}
			cmu.Unlock()
		}()
	}
	wg.Wait()
	c.Close()
	if fresh != n || dups != n*(copies-1) {
		t.Fatalf("fresh=%d dups=%d, want %d and %d", fresh, dups, n, n*(copies-1))
	}
	total := 0
	for _, b := range batches {
		total += b
	}
	if total != n*copies {
		t.Fatalf("batches hold %d deliveries, want %d", total, n*copies)
	}
	if _, err := c.Submit(context.Background(), delivery("late")); !errors.Is(err, store.ErrCommitterClosed) {
		t.Fatalf("Submit after Close: %v, want ErrCommitterClosed", err)
	}
	// What was answered is stored: every delivery is a duplicate now.
	dup, err := s.Ingest(context.Background(), []store.Delivery{delivery("0"), delivery(fmt.Sprint(n - 1))})
	if err != nil || !dup[0] || !dup[1] {
		t.Fatalf("re-ingest after the committer: dup = %v, %v; want both duplicates", dup, err)
	}
}

func testCOELifecycle(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.COE(ctx, "P1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing COE: err = %v, want ErrNotFound", err)
	}
	in := store.COE{IncidentID: "P1", Label: "pd-incident-p1", Project: "OPS", Title: "DB down",
		ServiceID: "PSVC", ServiceName: "db", Teams: "SRE", IntentAt: t0}
	got, created, err := s.BeginCOE(ctx, in)
	if err != nil || !created || got.State != store.COEIntent || !got.IntentAt.Equal(t0) || got.Title != "DB down" {
		t.Fatalf("BeginCOE = %+v, %v, %v", got, created, err)
	}
	again := in
	again.IntentAt = t0.Add(time.Hour)
	got, created, err = s.BeginCOE(ctx, again)
	if err != nil || created || !got.IntentAt.Equal(t0) {
		t.Fatalf("second BeginCOE must keep the first intent: %+v, %v, %v", got, created, err)
	}
	if err := s.RenewCOEIntent(ctx, "P1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.COE(ctx, "P1"); !got.IntentAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("RenewCOEIntent: intent at %v", got.IntentAt)
	}
	if err := s.SetCOETicket(ctx, "P1", "OPS-7", "10007", "https://jira/browse/OPS-7", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewCOEIntent(ctx, "P1", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.COE(ctx, "P1")
	if got.State != store.COECreated || got.TicketKey != "OPS-7" || got.TicketID != "10007" ||
		!got.CreatedAt.Equal(t0.Add(2*time.Minute)) || !got.IntentAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after SetCOETicket: %+v", got)
	}
	if err := s.MarkCOE(ctx, "P1", store.StepLinked, t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkCOE(ctx, "P1", store.StepNoted, t0.Add(4*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = s.COE(ctx, "P1")
	if !got.LinkedAt.Equal(t0.Add(3*time.Minute)) || !got.NotedAt.Equal(t0.Add(4*time.Minute)) {
		t.Fatalf("after MarkCOE: %+v", got)
	}
	if err := s.SetCOETicket(ctx, "nope", "OPS-8", "1", "u", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetCOETicket on unknown incident: %v", err)
	}
}

func testCOESkip(t *testing.T, s store.Store) {
	ctx := context.Background()
	if err := s.SkipCOE(ctx, store.COE{IncidentID: "P2", Label: "l", Rule: "low-urgency", IntentAt: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.COE(ctx, "P2")
	if err != nil || got.State != store.COESkipped || got.Rule != "low-urgency" {
		t.Fatalf("skipped COE = %+v, %v", got, err)
	}
	if _, created, _ := s.BeginCOE(ctx, store.COE{IncidentID: "P2", Label: "l", IntentAt: t0}); created {
		t.Fatal("BeginCOE replaced a skipped COE")
	}
}

func testListCOEs(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, at := range []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(8 * 24 * time.Hour)} {
		id := fmt.Sprintf("P%d", i)
		if _, _, err := s.BeginCOE(ctx, store.COE{IncidentID: id, Label: id, IntentAt: at}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCOETicket(ctx, id, fmt.Sprintf("OPS-%d", i), "", "", at); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.BeginCOE(ctx, store.COE{IncidentID: "intent-only", Label: "x", IntentAt: t0}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListCOEs(ctx, t0, t0.Add(7*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TicketKey != "OPS-1" || got[1].TicketKey != "OPS-0" {
		t.Fatalf("ListCOEs = %+v, want OPS-1 then OPS-0", got)
	}
}
