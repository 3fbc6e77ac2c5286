package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
)

// OpenWorkers returns a fresh store whose job workers run the given
// workers; the suite starts and stops them.
type OpenWorkers func(t *testing.T, ws *river.Workers) store.Store

// RunDispatch checks, with the job workers running, that every job of
// every delivery reaches the queue and runs, however the deliveries arrive:
// many concurrent batches through the committer, a store that spares
// dispatch jobs must never strand a delivery.
func RunDispatch(t *testing.T, open OpenWorkers) {
	ws := river.NewWorkers()
	var mu sync.Mutex
	ran := map[string]int{}
	river.AddWorker(ws, river.WorkFunc(func(_ context.Context, j *river.Job[TestArgs]) error {
		mu.Lock()
		ran[j.Args.Key]++
		mu.Unlock()
		return nil
	}))
	s := open(t, ws)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Stop(sctx)
	}()
	c := store.NewStoreCommitter(s, 16, nil)
	const senders, each = 8, 60
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := range each {
				k := fmt.Sprintf("k%d-%d", w, i)
				if _, err := c.Submit(ctx, delivery(k, store.Job{Args: TestArgs{Key: k}})); err != nil {
					t.Error(err)
				}
				if i%7 == 0 {
					time.Sleep(2 * time.Millisecond) // let dispatch jobs start between batches
				}
			}
		})
	}
	wg.Wait()
	c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(ran)
		mu.Unlock()
		if n == senders*each {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d deliveries' jobs ran within 30 s: some were left pending with no dispatch to come", n, senders*each)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range ran {
		if n != 1 {
			t.Errorf("job %s ran %d times", k, n)
		}
	}
}
