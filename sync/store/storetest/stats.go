package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
)

func testQueueStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	stats, err := s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 0 {
		t.Fatalf("empty store: stats %+v, want none", stats)
	}
	before := time.Now().Add(-2 * time.Second)
	later := time.Now().Add(time.Hour)
	if err := s.Enqueue(ctx,
		store.Job{Args: TestArgs{Key: "a"}},
		store.Job{Args: TestArgs{Key: "b"}},
		store.Job{Args: TestArgs{Key: "c"}, Opts: &river.InsertOpts{ScheduledAt: later}},
	); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(2 * time.Second)
	stats, err = s.QueueStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.QueueStat{}
	for _, q := range stats {
		got[q.Kind+"/"+q.State] = q
	}
	avail, sched := got["storetest/available"], got["storetest/scheduled"]
	if avail.Count != 2 || sched.Count != 1 || len(got) != 2 {
		t.Fatalf("stats by kind/state %+v, want storetest: 2 available, 1 scheduled", got)
	}
	if avail.Oldest.Before(before) || avail.Oldest.After(after) {
		t.Errorf("oldest available scheduled at %v, want between %v and %v", avail.Oldest, before, after)
	}
	if d := sched.Oldest.Sub(later); d < -2*time.Second || d > 2*time.Second {
		t.Errorf("oldest scheduled at %v, want about %v", sched.Oldest, later)
	}
}
