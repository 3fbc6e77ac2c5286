package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/store"
)

// Pruner is a store with a retention (both stores are).
type Pruner interface {
	Prune(ctx context.Context, now time.Time, retention time.Duration) (store.Pruned, error)
	Size(ctx context.Context) (int64, error)
}

// testPruneKeepsKeysLongerThanBodies: with a retention of 2 days, bodies
// older than that are dropped but the delivery stays a duplicate (its
// keys, id and content key, are kept store.MinKeyRetention); deliveries
// older than that are deleted; a delivery whose jobs are not dispatched
// yet is never touched.
func testPruneKeepsKeysLongerThanBodies(t *testing.T, s store.Store) {
	ctx := context.Background()
	p, ok := s.(Pruner)
	if !ok {
		t.Fatalf("%T has no Prune and Size", s)
	}
	now := t0.Add(100 * 24 * time.Hour)
	at := func(id string, age time.Duration, jobs ...store.Job) store.Delivery {
		d := delivery(id, jobs...)
		d.Source, d.ResourceID, d.ContentKey, d.ReceivedAt = "github", "acme/api#1", "sha256:"+id, now.Add(-age)
		return d
	}
	day := 24 * time.Hour
	batch := []store.Delivery{
		at("fresh", day), at("old-body", 3*day), at("gone", 8*day),
		at("pending", 40*day, store.Job{Args: TestArgs{Key: "pending"}}),
	}
	if _, err := s.Ingest(ctx, batch); err != nil {
		t.Fatal(err)
	}
	before, err := p.Size(ctx)
	if err != nil || before <= 0 {
		t.Fatalf("Size = %d, %v", before, err)
	}
	got, err := p.Prune(ctx, now, 2*day)
	if err != nil {
		t.Fatal(err)
	}
	if got.Bodies != 2 || got.Deliveries != 1 {
		t.Fatalf("Prune = %+v, want 2 bodies (old-body, gone) and 1 delivery (gone)", got)
	}
	ds, err := s.RecentDeliveries(ctx, "github", "acme/api#1", time.Time{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]bool{}
	for _, d := range ds {
		bodies[d.ID] = d.Body != nil
	}
	want := map[string]bool{"fresh": true, "old-body": false, "pending": true}
	if len(bodies) != len(want) {
		t.Fatalf("kept %v, want %v (id: has body)", bodies, want)
	}
	for id, b := range want {
		if bodies[id] != b {
			t.Errorf("%s: body kept = %v, want %v", id, bodies[id], b)
		}
	}
	// Their keys still deduplicate: by id, and by content key.
	replay := at("old-body", 0)
	replay.ID = "fresh-id-same-body"
	dup, err := s.Ingest(ctx, []store.Delivery{at("old-body", 0), replay, at("gone", 0)})
	if err != nil {
		t.Fatal(err)
	}
	if !dup[0] || !dup[1] || dup[2] {
		t.Fatalf("after the prune dup = %v, want old-body a duplicate by id and by content key, gone new", dup)
	}
	// The pending delivery's job still reaches the queue.
	if n, err := s.DispatchDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("dispatched %d, %v; want the pending delivery", n, err)
	}
	// Dispatched, it is pruned like the others.
	if got, err := p.Prune(ctx, now, 2*day); err != nil || got != (store.Pruned{Bodies: 1, Deliveries: 1}) {
		t.Fatalf("second Prune = %+v, %v; want the dispatched pending delivery only", got, err)
	}
}
