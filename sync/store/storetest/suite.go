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
	t.Run("CommitterConcurrent", func(t *testing.T) { testCommitterConcurrent(t, open(t)) })
	t.Run("COELifecycle", func(t *testing.T) { testCOELifecycle(t, open(t)) })
	t.Run("COESkip", func(t *testing.T) { testCOESkip(t, open(t)) })
	t.Run("ListCOEs", func(t *testing.T) { testListCOEs(t, open(t)) })
	t.Run("COENewFields", func(t *testing.T) { testCOENewFields(t, open(t)) })
	t.Run("EarlierCOEs", func(t *testing.T) { testEarlierCOEs(t, open(t)) })
	t.Run("COEByKey", func(t *testing.T) { testCOEByKey(t, open(t)) })
	t.Run("COERollup", func(t *testing.T) { testCOERollup(t, open(t)) })
	t.Run("ActionItemPutGet", func(t *testing.T) { testActionItemPutGet(t, open(t)) })
	t.Run("ActionItemsList", func(t *testing.T) { testActionItemsList(t, open(t)) })
	t.Run("SyncState", func(t *testing.T) { testSyncState(t, open(t)) })
	t.Run("Counters", func(t *testing.T) { testCounters(t, open(t)) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, open(t)) })
	t.Run("LeaseConcurrent", func(t *testing.T) { testLeaseConcurrent(t, open(t)) })
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
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("1", job("x")), delivery("1", job("y"))}); err != nil {
		t.Fatal(err)
	}
	// A second delivery of another event for the same resource enqueues a
	// job with the same unique args: the queue refuses the duplicate.
	if _, err := s.Ingest(ctx, []store.Delivery{delivery("2", job("x")), delivery("3")}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Jobs(ctx, "available")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Kind != "storetest" || jobs[0].Args != `{"key":"x"}` {
		t.Fatalf("jobs = %+v, want one storetest job with key x", jobs)
	}
	if err := s.Enqueue(ctx, job("z"), job("x")); err != nil {
		t.Fatal(err)
	}
	if jobs, _ = s.Jobs(ctx); len(jobs) != 2 {
		t.Fatalf("after Enqueue: %d jobs, want 2", len(jobs))
	}
	if jobs, err = s.JobsOfKind(ctx, "storetest", "available"); err != nil || len(jobs) != 2 {
		t.Fatalf("JobsOfKind(storetest) = %d jobs, %v; want 2", len(jobs), err)
	}
	if jobs, err = s.JobsOfKind(ctx, "other"); err != nil || len(jobs) != 0 {
		t.Fatalf("JobsOfKind(other) = %+v, %v; want none", jobs, err)
	}
}

func testCommitterConcurrent(t *testing.T, s store.Store) {
	var mu sync.Mutex
	var batches []int
	c := store.NewCommitter(s.Ingest, 64, func(n int) { mu.Lock(); batches = append(batches, n); mu.Unlock() })
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
