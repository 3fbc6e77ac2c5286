package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestArrivalRateTarget(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		every    time.Duration // one batch of `per` requests this often
		per      int
		idle     time.Duration // then nothing for this long
		maxBatch int
		want     int
	}{
		{"1,000/s: never waits", time.Millisecond, 1, 0, 256, 1},
		{"20,000/s: waits for what comes within maxLinger", time.Millisecond, 20, 0, 256, int(20000 * maxLinger.Seconds())},
		{"capped by the batch size", time.Millisecond, 1000, 0, 256, 256},
		{"a storm long past: no wait", time.Millisecond, 20, time.Second, 256, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a arrivalRate
			now := t0
			for range 50 {
				a.target(now, tc.maxBatch)
				a.observe(now, tc.per)
				now = now.Add(tc.every)
			}
			now = now.Add(tc.idle)
			// The estimate converges within rounding of the true rate.
			if got := a.target(now, tc.maxBatch); got < tc.want-1 || got > tc.want {
				t.Fatalf("target = %d, want %d", got, tc.want)
			}
		})
	}
}

// fakeUnsynced records the order of commits and syncs.
type fakeUnsynced struct {
	mu        sync.Mutex
	committed int // deliveries committed
	synced    int // deliveries committed before the last sync
	syncs     int
	block     chan struct{} // a sync waits for it when not nil
}

func (f *fakeUnsynced) IngestUnsynced(_ context.Context, ds []Delivery) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed += len(ds)
	return make([]bool, len(ds)), nil
}

func (f *fakeUnsynced) SyncIngested(context.Context) error {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synced = f.committed
	f.syncs++
	return nil
}

// A pipelined committer answers a caller only after a sync that followed
// the commit of its delivery, and commits the next batches meanwhile.
func TestPipelinedCommitterAnswersAfterTheSync(t *testing.T) {
	f := &fakeUnsynced{block: make(chan struct{})}
	c := newCommitter(f.IngestUnsynced, f.SyncIngested, 8, nil)
	answered := make(chan int, 20)
	for i := range 20 {
		go func() {
			if _, err := c.Submit(context.Background(), Delivery{ID: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
			answered <- i
		}()
	}
	// The first sync is held: later batches are committed, none answered.
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		n := f.committed
		f.mu.Unlock()
		if n == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 20 committed while a sync was held; want all (commits go on during a sync)", n)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case i := <-answered:
		t.Fatalf("delivery %d answered before any sync finished", i)
	case <-time.After(20 * time.Millisecond):
	}
	close(f.block)
	for range 20 {
		<-answered
	}
	c.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.synced != 20 {
		t.Fatalf("last sync covered %d deliveries, want 20", f.synced)
	}
	// Batches that piled up during the held sync share the next one.
	if f.syncs > 3 {
		t.Errorf("%d syncs for 20 deliveries in batches of 8 behind one held sync; want at most 3", f.syncs)
	}
}
