package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/coesync/coesync/sync/store"
)

// poisoned is a delivery PostgreSQL refuses (NUL in its text: id and
// resource id) and SQLite stores: what a signed event whose event.id holds
// \u0000 became before the server checked ids.
func poisoned() store.Delivery {
	return delivery("poison-\x00", store.Job{Args: TestArgs{Key: "poison"}})
}

// testIngestIsolatesPoisonedMember: a batch holding one delivery the
// database refuses stores the others and fails only that one, with
// ErrUnstorable (the server answers it 400); a store that accepts it
// stores it like any other.
func testIngestIsolatesPoisonedMember(t *testing.T, s store.Store) {
	ctx := context.Background()
	job := func(k string) store.Job { return store.Job{Args: TestArgs{Key: k}} }
	batch := []store.Delivery{delivery("ok-1", job("ok-1")), poisoned(), delivery("ok-2"), delivery("ok-1", job("ok-1"))}
	dup, errs := store.IngestIsolated(ctx, s.Ingest, batch)
	for _, i := range []int{0, 2, 3} {
		if errs != nil && errs[i] != nil {
			t.Fatalf("delivery %d (%s) failed with its batch: %v", i, batch[i].ID, errs[i])
		}
	}
	if want := "[false true]"; fmt.Sprint([]bool{dup[0] || dup[2], dup[3]}) != want {
		t.Fatalf("dup = %v; want ok-1 and ok-2 new, the second ok-1 a duplicate", dup)
	}
	poisonStored := errs == nil || errs[1] == nil
	if !poisonStored && !errors.Is(errs[1], store.ErrUnstorable) {
		t.Fatalf("poisoned delivery: %v; want it stored or refused as ErrUnstorable", errs[1])
	}
	// The others are stored: ingested again, they are duplicates.
	again := []store.Delivery{delivery("ok-1"), delivery("ok-2")}
	if poisonStored {
		again = append(again, poisoned())
	}
	dup, err := s.Ingest(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range dup {
		if !d {
			t.Errorf("%s was not stored", again[i].ID)
		}
	}
	// ok-1's job reaches the queue; the refused delivery's never does.
	if _, err := s.DispatchDeliveries(ctx); err != nil {
		t.Fatalf("dispatch after a poisoned batch: %v", err)
	}
	jobs, err := s.JobsOfKind(ctx, "storetest")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]int{true: 2, false: 1}[poisonStored]; len(jobs) != want {
		t.Fatalf("%d storetest jobs, want %d", len(jobs), want)
	}

	// Through a committer: the poisoned delivery gets the error, the one
	// submitted with it is stored and acknowledged.
	c := store.NewStoreCommitter(s, 64, nil)
	defer c.Close()
	type result struct {
		id  string
		err error
	}
	results := make(chan result, 2)
	for _, d := range []store.Delivery{poisoned(), delivery("ok-3")} {
		go func() {
			_, err := c.Submit(ctx, d)
			results <- result{d.ID, err}
		}()
	}
	for range 2 {
		r := <-results
		refusedPoison := r.id == poisoned().ID && !poisonStored && errors.Is(r.err, store.ErrUnstorable)
		if r.err != nil && !refusedPoison {
			t.Errorf("Submit %q: %v", r.id, r.err)
		}
		if r.err == nil && r.id == poisoned().ID && !poisonStored {
			t.Errorf("Submit %q was stored by the committer but refused by Ingest", r.id)
		}
	}
}

// testIngestDeduplicatesOnContentKey: a delivery whose content key (the
// GitHub body's hash) was stored before from the same source is a
// duplicate under any id, in the same batch or a later one, and its jobs
// are not stored; deliveries without a content key never collide on it.
func testIngestDeduplicatesOnContentKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	gh := func(id, key string) store.Delivery {
		d := delivery(id, store.Job{Args: TestArgs{Key: id}})
		d.Source, d.ContentKey = "github", key
		return d
	}
	steps := []struct {
		batch []store.Delivery
		want  string
	}{
		{[]store.Delivery{gh("d1", "sha256:k1"), gh("d2", "sha256:k1"), gh("d3", "sha256:k2"), gh("d4", ""), gh("d5", "")}, "[false true false false false]"},
		{[]store.Delivery{gh("d6", "sha256:k1"), gh("d7", "sha256:k3"), gh("d3", "sha256:k9")}, "[true false true]"},
		// The same key from another source is another delivery.
		{[]store.Delivery{delivery("p1"), func() store.Delivery { d := delivery("p2"); d.ContentKey = "sha256:k1"; return d }()}, "[false false]"},
	}
	for i, st := range steps {
		dup, err := s.Ingest(ctx, st.batch)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if fmt.Sprint(dup) != st.want {
			t.Fatalf("step %d: dup = %v, want %s", i, dup, st.want)
		}
	}
	if _, err := s.DispatchDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.JobsOfKind(ctx, "storetest")
	if err != nil {
		t.Fatal(err)
	}
	// d1, d3, d4, d5 and d7: the replays' jobs never run.
	if len(jobs) != 5 {
		t.Fatalf("%d jobs, want 5 (one per new GitHub delivery)", len(jobs))
	}
}
