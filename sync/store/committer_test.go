package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
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
		// 100 ms since the last batch (1 ms + 99 ms) is not yet idle.
		{"a pause of 100ms: the rate holds", time.Millisecond, 20, 99 * time.Millisecond, 256, int(20000 * maxLinger.Seconds())},
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
	want      int           // allIn is closed once this many are committed
	allIn     chan struct{}
}

func (f *fakeUnsynced) IngestUnsynced(_ context.Context, ds []Delivery) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.committed += len(ds)
	if f.allIn != nil && f.committed == f.want {
		close(f.allIn)
	}
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

func (f *fakeUnsynced) syncsDone() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs
}

// A pipelined committer answers a caller only after a sync that followed
// the commit of its delivery, and commits the next batches meanwhile.
func TestPipelinedCommitterAnswersAfterTheSync(t *testing.T) {
	f := &fakeUnsynced{block: make(chan struct{}), want: 20, allIn: make(chan struct{})}
	c := newCommitter(f.IngestUnsynced, f.SyncIngested, 8, nil)
	// Each caller reports how many syncs had finished when it was
	// answered: none may be answered while the first sync is held.
	answered := make(chan int, 20)
	for i := range 20 {
		go func() {
			if _, err := c.Submit(context.Background(), Delivery{ID: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
			answered <- f.syncsDone()
		}()
	}
	// The first sync is held: later batches are committed, none answered.
	select {
	case <-f.allIn:
	case syncs := <-answered:
		t.Fatalf("a delivery was answered after %d syncs while the first was held", syncs)
	case <-time.After(10 * time.Second):
		f.mu.Lock()
		defer f.mu.Unlock()
		t.Fatalf("%d of 20 committed while a sync was held; want all (commits go on during a sync)", f.committed)
	}
	close(f.block)
	for range 20 {
		if syncs := <-answered; syncs == 0 {
			t.Fatal("a delivery was answered before any sync finished")
		}
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

// poisonIngest fails every batch holding a delivery whose id starts with
// "poison" (with ErrUnstorable, as PostgreSQL's refusal of NUL is
// classified, unless plain), as a transaction is all or nothing.
type poisonIngest struct {
	mu     sync.Mutex
	calls  []int // batch sizes, in order
	stored []string
	plain  bool  // fail with an error that is not about the data
	down   error // when set, every call fails with it
}

func (p *poisonIngest) ingest(_ context.Context, ds []Delivery) ([]bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, len(ds))
	if p.down != nil {
		return nil, p.down
	}
	for _, d := range ds {
		if strings.HasPrefix(d.ID, "poison") {
			if p.plain {
				return nil, errors.New("store: ingest: something about this row")
			}
			return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), &unstorableError{code: "22021", cause: errors.New("invalid byte sequence")})
		}
	}
	dup := make([]bool, len(ds))
	for i, d := range ds {
		dup[i] = slices.Contains(p.stored, d.ID)
		if !dup[i] {
			p.stored = append(p.stored, d.ID)
		}
	}
	return dup, nil
}

// batchOf builds the requests of one batch, as run() hands them to commit.
func batchOf(ids ...string) ([]*commitReq, []Delivery) {
	var reqs []*commitReq
	var ds []Delivery
	for _, id := range ids {
		d := Delivery{Source: "pagerduty", ID: id}
		reqs = append(reqs, &commitReq{d: d, ok: make(chan struct{}, 1)})
		ds = append(ds, d)
	}
	return reqs, ds
}

// One delivery the database refuses fails its batch's transaction; the
// others are tried again alone and stored, and only the offender gets the
// error, marked unstorable (the server answers it 400, the rest 202).
func TestCommitterIsolatesTheMemberThatFailsTheBatch(t *testing.T) {
	tests := []struct {
		name      string
		plain     bool
		wantKind  error // the offender's error matches it
		wantCalls []int
	}{
		{"refused data: unstorable", false, ErrUnstorable, []int{5, 1, 1, 1, 1, 1}},
		{"an error not classified: still isolated", true, nil, []int{5, 1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &poisonIngest{plain: tc.plain}
			c := &Committer{ingest: p.ingest}
			batch, ds := batchOf("evt-1", "evt-2", "poison", "evt-3", "evt-1")
			c.commit(batch, ds)
			for i, r := range batch {
				select {
				case <-r.ok:
				default:
					t.Fatalf("request %d not answered", i)
				}
				if (r.err != nil) != (i == 2) {
					t.Errorf("request %d (%s): err = %v; want an error for the poisoned one only", i, ds[i].ID, r.err)
				}
			}
			if tc.wantKind != nil && !errors.Is(batch[2].err, tc.wantKind) {
				t.Errorf("offender's error %v is not %v", batch[2].err, tc.wantKind)
			}
			if tc.wantKind == nil && errors.Is(batch[2].err, ErrUnstorable) {
				t.Errorf("offender's error %v claims unstorable; the store did not say so", batch[2].err)
			}
			if !batch[4].dup || batch[0].dup || batch[1].dup || batch[3].dup {
				t.Errorf("dups = %v %v _ %v %v; want only the repeated evt-1", batch[0].dup, batch[1].dup, batch[3].dup, batch[4].dup)
			}
			if !slices.Equal(p.stored, []string{"evt-1", "evt-2", "evt-3"}) {
				t.Errorf("stored %v, want evt-1 evt-2 evt-3", p.stored)
			}
			if !slices.Equal(p.calls, tc.wantCalls) {
				t.Errorf("ingest calls %v, want %v", p.calls, tc.wantCalls)
			}
		})
	}
}

// When the store itself fails (down, disk full), every member fails alone
// too: after two such failures in a row the rest get the error without a
// transaction each, so a broken store does not cost 256 of them a batch.
func TestCommitterGivesUpOnEachWhenTheStoreFails(t *testing.T) {
	down := errors.New("store: ingest: connection refused")
	p := &poisonIngest{down: down}
	c := &Committer{ingest: p.ingest}
	batch, ds := batchOf("a", "b", "c", "d", "e", "f")
	c.commit(batch, ds)
	for i, r := range batch {
		<-r.ok
		if !errors.Is(r.err, down) {
			t.Errorf("request %d: err = %v, want %v", i, r.err, down)
		}
	}
	if !slices.Equal(p.calls, []int{6, 1, 1}) {
		t.Errorf("ingest calls %v, want the batch then two alone", p.calls)
	}
}

// Pipelined, the offender is answered at once and only the stored members
// wait for the sync.
func TestPipelinedCommitterSyncsOnlyTheStoredMembers(t *testing.T) {
	p := &poisonIngest{}
	c := &Committer{ingest: p.ingest, sync: func(context.Context) error { return nil }, synced: make(chan []*commitReq, 1)}
	batch, ds := batchOf("evt-1", "poison", "evt-2")
	c.commit(batch, ds)
	select {
	case <-batch[1].ok:
	default:
		t.Fatal("the offender waits for a sync its delivery is not in")
	}
	var got []*commitReq
	select {
	case got = <-c.synced:
	default:
		t.Fatal("nothing handed to the sync")
	}
	if len(got) != 2 || got[0] != batch[0] || got[1] != batch[2] {
		t.Fatalf("handed %d requests to the sync, want evt-1 and evt-2", len(got))
	}
	for _, i := range []int{0, 2} {
		select {
		case <-batch[i].ok:
			t.Fatalf("request %d answered before its sync", i)
		default:
		}
	}
}

// failingSync is an UnsyncedIngester whose commits or syncs fail.
type failingSync struct {
	mu        sync.Mutex
	ingestErr error
	syncErr   error
	syncs     int
}

func (f *failingSync) IngestUnsynced(_ context.Context, ds []Delivery) ([]bool, error) {
	if f.ingestErr != nil {
		return nil, f.ingestErr
	}
	return make([]bool, len(ds)), nil
}

func (f *failingSync) SyncIngested(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncs++
	return f.syncErr
}

// A failed commit or a failed sync is never answered as stored, through
// either committer.
func TestCommitterAnswersFailuresAsFailures(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("store: disk full")
	for _, tc := range []struct {
		name      string
		pipelined bool
		ingestErr error
		syncErr   error
		syncs     int // syncs done for the one delivery
	}{
		{"plain: ingest fails", false, boom, nil, 0},
		{"pipelined: ingest fails, no sync waited for", true, boom, nil, 0},
		{"pipelined: sync fails", true, nil, boom, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &failingSync{ingestErr: tc.ingestErr, syncErr: tc.syncErr}
			var c *Committer
			if tc.pipelined {
				c = newCommitter(f.IngestUnsynced, f.SyncIngested, 8, nil)
			} else {
				c = NewCommitter(f.IngestUnsynced, 8, nil)
			}
			if _, err := c.Submit(ctx, Delivery{ID: "a"}); !errors.Is(err, boom) {
				t.Fatalf("Submit = %v, want %v", err, boom)
			}
			c.Close()
			if f.syncs != tc.syncs {
				t.Fatalf("%d syncs, want %d", f.syncs, tc.syncs)
			}
		})
	}
}

// Pipelined, every member of a batch is answered exactly once: the
// offender at the commit, the stored ones after the sync, with its error.
func TestPipelinedCommitterAnswersEachOnce(t *testing.T) {
	boom := errors.New("store: fsync: input/output error")
	for _, syncErr := range []error{nil, boom} {
		p := &poisonIngest{}
		c := &Committer{ingest: p.ingest, sync: func(context.Context) error { return syncErr },
			synced: make(chan []*commitReq, 4), done: make(chan struct{})}
		batch, ds := batchOf("evt-1", "poison", "evt-2")
		c.commit(batch, ds)
		close(c.synced)
		c.runSync() // returns after the last batch handed to it
		for i, r := range batch {
			if n := len(r.ok); n != 1 {
				t.Fatalf("sync error %v: request %d answered %d times, want once", syncErr, i, n)
			}
			want := syncErr
			if i == 1 {
				want = nil // its own error
				if !errors.Is(r.err, ErrUnstorable) {
					t.Errorf("offender's error %v", r.err)
				}
				continue
			}
			if r.err != want {
				t.Errorf("sync error %v: request %d has error %v", syncErr, i, r.err)
			}
		}
		select {
		case <-c.done:
		default:
			t.Fatal("runSync did not close done")
		}
	}
}

// Batches never exceed maxBatch, and everything submitted before Close is
// committed.
func TestCommitterBatchBound(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var sizes []int
	total := 0
	ingest := func(_ context.Context, ds []Delivery) ([]bool, error) {
		mu.Lock()
		defer mu.Unlock()
		total += len(ds)
		return make([]bool, len(ds)), nil
	}
	c := NewCommitter(ingest, 3, func(n int) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() })
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := c.Submit(ctx, Delivery{ID: fmt.Sprint(i)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	c.Close()
	if _, err := c.Submit(ctx, Delivery{ID: "late"}); !errors.Is(err, ErrCommitterClosed) {
		t.Fatalf("Submit after Close = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if total != 40 {
		t.Fatalf("%d committed, want 40", total)
	}
	for _, n := range sizes {
		if n < 1 || n > 3 {
			t.Fatalf("batch sizes %v; want 1..3", sizes)
		}
	}
}

// Two batches taken at one instant say nothing about the rate (and must
// not divide by zero, which would stick the estimate at +Inf).
func TestArrivalRateSameInstant(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	var a arrivalRate
	a.observe(t0, 1)
	a.observe(t0, 1)
	now := t0
	for range 50 {
		now = now.Add(time.Millisecond)
		a.target(now, 256)
		a.observe(now, 20)
	}
	want := int(20000 * maxLinger.Seconds())
	if got := a.target(now.Add(time.Millisecond), 256); got < want-1 || got > want {
		t.Fatalf("target = %d, want %d (rps %v)", got, want, a.rps)
	}
}

// A batch size of zero or less means the default.
func TestCommitterDefaultBatch(t *testing.T) {
	for _, n := range []int{0, -1} {
		c := NewCommitter(func(_ context.Context, ds []Delivery) ([]bool, error) { return make([]bool, len(ds)), nil }, n, nil)
		if c.maxBatch != 256 {
			t.Errorf("maxBatch %d gives %d, want 256", n, c.maxBatch)
		}
		c.Close()
	}
}

// Deliveries the database refuses, even several in a row, do not make the
// committer give up on the rest: only failures of the store itself do.
func TestCommitterUnstorableInARowAreStillIsolated(t *testing.T) {
	p := &poisonIngest{}
	c := &Committer{ingest: p.ingest}
	batch, ds := batchOf("poison-1", "poison-2", "poison-3", "evt-1")
	c.commit(batch, ds)
	for i, r := range batch {
		<-r.ok
		if (r.err != nil) != (i < 3) {
			t.Errorf("request %d: err = %v", i, r.err)
		}
	}
	if !slices.Equal(p.stored, []string{"evt-1"}) {
		t.Fatalf("stored %v, want evt-1", p.stored)
	}
}

// A batch never takes more than maxBatch requests, even when more are
// queued.
func TestCommitterBatchNeverExceedsMax(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	first := true
	ingest := func(_ context.Context, ds []Delivery) ([]bool, error) {
		mu.Lock()
		sizes = append(sizes, len(ds))
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release
		}
		return make([]bool, len(ds)), nil
	}
	c := NewCommitter(ingest, 3, nil)
	var wg sync.WaitGroup
	wg.Go(func() { c.Submit(ctx, Delivery{ID: "first"}) })
	deadline := time.Now().Add(10 * time.Second)
	for { // the first batch is being ingested
		mu.Lock()
		n := len(sizes)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first batch never reached the store")
		}
		runtime.Gosched()
	}
	for i := range 7 {
		wg.Go(func() { c.Submit(ctx, Delivery{ID: fmt.Sprint(i)}) })
	}
	for len(c.reqs) < 7 { // all queued behind the held batch
		if time.Now().After(deadline) {
			t.Fatalf("%d of 7 requests queued", len(c.reqs))
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sizes, []int{1, 3, 3, 1}) {
		t.Fatalf("batch sizes %v, want 1 3 3 1", sizes)
	}
}
