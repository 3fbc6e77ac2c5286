package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrCommitterClosed is returned by Submit after Close.
var ErrCommitterClosed = errors.New("store: committer closed")

// Committer batches concurrent Ingest calls into one transaction (group
// commit): while one batch is being fsync'd, the next one fills up. Each
// caller returns only after the transaction holding its delivery committed,
// so a 202 still means "on disk".
type Committer struct {
	ingest   func(context.Context, []Delivery) ([]bool, error)
	maxBatch int
	observe  func(batch int)
	// sync, when set, makes batches durable after ingest committed them
	// without waiting for the disk (see UnsyncedIngester).
	sync   func(context.Context) error
	synced chan []*commitReq
	rate   arrivalRate
	now    func() time.Time

	// mu guards closed and sending on reqs: after Close no Submit can
	// slip a request into a loop that has already ended.
	mu     sync.RWMutex
	closed bool
	reqs   chan *commitReq
	done   chan struct{}
}

// maxLinger bounds how long a batch waits for more requests: the latency
// group commit may add to a webhook's answer. Measured with `coesync bench
// --only ingest` (ratio to the bare ceiling, two runs each): 250µs 0.32,
// 500µs 0.36-0.39, 1ms 0.31-0.33, 2ms 0.25: shorter waits make batches
// too small, longer ones leave the 32 clients waiting.
const maxLinger = 500 * time.Microsecond

// arrivalRate estimates requests per second from the batches taken, so
// the committer lingers only when enough requests are coming to share a
// transaction: at 1,000/s it never waits, in a storm it fills batches.
type arrivalRate struct {
	last time.Time
	rps  float64 // exponentially weighted
}

// target is the batch size worth waiting up to maxLinger for.
func (a *arrivalRate) target(now time.Time, maxBatch int) int {
	if a.last.IsZero() || now.Sub(a.last) > 100*time.Millisecond {
		// Idle for a while: whatever the rate was, it is not now.
		a.rps = 0
	}
	n := int(a.rps * maxLinger.Seconds())
	return max(1, min(n, maxBatch))
}

// observe records that n requests were taken at now.
func (a *arrivalRate) observe(now time.Time, n int) {
	if !a.last.IsZero() {
		if dt := now.Sub(a.last).Seconds(); dt > 0 {
			const w = 0.2
			a.rps = (1-w)*a.rps + w*float64(n)/dt
		}
	}
	a.last = now
}

type commitReq struct {
	d   Delivery
	dup bool
	err error
	ok  chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &commitReq{ok: make(chan struct{}, 1)} }}

// UnsyncedIngester is a store that can commit a batch without waiting for
// the disk and make it durable afterwards. SyncIngested makes every batch
// IngestUnsynced committed before it durable. A committer over it writes
// the next batch while the disk syncs the last ones: with one fsync'd
// transaction at a time, the writer sat idle in fsync while every waiting
// request needed it (measured: CPU 148% of 200% at the ingest ceiling).
type UnsyncedIngester interface {
	IngestUnsynced(ctx context.Context, deliveries []Delivery) (dup []bool, err error)
	SyncIngested(ctx context.Context) error
}

// NewCommitter starts a committer over ingest (usually Store.Ingest).
// observe, if not nil, is told each batch size.
func NewCommitter(ingest func(context.Context, []Delivery) ([]bool, error), maxBatch int, observe func(int)) *Committer {
	return newCommitter(ingest, nil, maxBatch, observe)
}

// NewStoreCommitter starts a committer over s: pipelined (commit, then one
// sync for the batches committed meanwhile) when s is an UnsyncedIngester,
// as NewCommitter otherwise. Either way a caller returns only once its
// delivery is on disk.
func NewStoreCommitter(s Store, maxBatch int, observe func(int)) *Committer {
	if u, ok := s.(UnsyncedIngester); ok {
		return newCommitter(u.IngestUnsynced, u.SyncIngested, maxBatch, observe)
	}
	return newCommitter(s.Ingest, nil, maxBatch, observe)
}

func newCommitter(ingest func(context.Context, []Delivery) ([]bool, error), sync func(context.Context) error,
	maxBatch int, observe func(int)) *Committer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &Committer{ingest: ingest, sync: sync, maxBatch: maxBatch, observe: observe, now: time.Now,
		reqs: make(chan *commitReq, maxBatch*4), done: make(chan struct{})}
	if sync != nil {
		c.synced = make(chan []*commitReq, 64)
		go c.runSync()
	}
	go c.run()
	return c
}

// Submit stores d durably and reports whether it was a duplicate. A
// delivery the database refuses fails with an error wrapping
// ErrUnstorable, and only it: the others of its batch are stored.
// Callers check deliveries with CheckDelivery first (the server does, at
// parse time), so that such a delivery rarely costs a batch a retry.
func (c *Committer) Submit(ctx context.Context, d Delivery) (dup bool, err error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return false, ErrCommitterClosed
	}
	r := reqPool.Get().(*commitReq)
	r.d = d
	select {
	case c.reqs <- r:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		reqPool.Put(r)
		return false, ctx.Err()
	}
	// Wait for the commit even if ctx ends: the request is in the batch
	// and r must not be reused before the writer is done with it.
	<-r.ok
	dup, err = r.dup, r.err
	r.d = Delivery{}
	reqPool.Put(r)
	return dup, err
}

// Close commits what was submitted and stops.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.reqs)
	}
	c.mu.Unlock()
	<-c.done
}

func (c *Committer) run() {
	if c.sync != nil {
		// runSync closes done after the last sync.
		defer close(c.synced)
	} else {
		defer close(c.done)
	}
	batch := make([]*commitReq, 0, c.maxBatch)
	ds := make([]Delivery, 0, c.maxBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		// Close closes reqs; what was sent before is still drained.
		first, ok := <-c.reqs
		if !ok {
			return
		}
		if c.sync != nil {
			// The batch moves on to the syncer: this one is its own.
			batch = make([]*commitReq, 0, c.maxBatch)
		}
		batch = append(batch[:0], first)
		start := c.now()
		target := c.rate.target(start, c.maxBatch)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
				continue
			default:
			}
			if len(batch) >= target {
				break
			}
			// Linger: at this arrival rate, target requests come within
			// maxLinger; one transaction for them costs far less CPU than
			// one each (BenchmarkIngest: ~100µs a transaction, ~20µs a
			// row), and the CPU saved serves the requests themselves.
			wait := maxLinger - c.now().Sub(start)
			if wait <= 0 {
				break
			}
			linger.Reset(wait)
			select {
			case r, ok := <-c.reqs:
				linger.Stop()
				if !ok {
					break fill
				}
				batch = append(batch, r)
			case <-linger.C:
				break fill
			}
		}
		c.rate.observe(start, len(batch))
		ds = ds[:0]
		for _, r := range batch {
			ds = append(ds, r.d)
		}
		c.commit(batch, ds)
	}
}

// commit ingests a batch and answers the callers whose delivery failed;
// the others are answered now, or after the sync when pipelined.
func (c *Committer) commit(batch []*commitReq, ds []Delivery) {
	// The batch is committed with a background context: callers that
	// gave up still had their delivery accepted into this batch.
	dups, errs := IngestIsolated(context.Background(), c.ingest, ds)
	if c.observe != nil {
		c.observe(len(batch))
	}
	stored := batch[:0:0]
	for i, r := range batch {
		r.dup, r.err = dups[i], nil
		if errs != nil {
			r.err = errs[i]
		}
		if c.sync == nil || r.err != nil {
			r.ok <- struct{}{}
		} else {
			stored = append(stored, r)
		}
	}
	if len(stored) > 0 {
		c.synced <- stored
	}
}

// IngestIsolated ingests ds in one transaction (ingest is Store.Ingest or
// UnsyncedIngester.IngestUnsynced) and returns dup[i] and, when any
// delivery failed, errs[i] (nil errs: all stored). A transaction is all or
// nothing, so one delivery the database refuses would fail them all: a
// failed batch is tried again one delivery at a time, and only those that
// fail alone get an error. Two failures in a row that are not about the
// data (ErrUnstorable) mean the store itself is failing (down, disk full):
// the rest get that error without a transaction each, which would only
// hold the next batches up.
func IngestIsolated(ctx context.Context, ingest func(context.Context, []Delivery) ([]bool, error), ds []Delivery) (dup []bool, errs []error) {
	dup, err := ingest(ctx, ds)
	if err == nil {
		return dup, nil
	}
	dup, errs = make([]bool, len(ds)), make([]error, len(ds))
	if len(ds) == 1 {
		errs[0] = err
		return dup, errs
	}
	inARow := 0
	for i := range ds {
		if inARow >= 2 {
			errs[i] = err
			continue
		}
		one, oneErr := ingest(ctx, ds[i:i+1])
		errs[i] = oneErr
		switch {
		case oneErr == nil:
			dup[i], inARow = one[0], 0
		case errors.Is(oneErr, ErrUnstorable):
			inARow = 0
		default:
			inARow++
			err = oneErr
		}
	}
	return dup, errs
}

// runSync makes committed batches durable and answers their callers: one
// sync covers every batch committed before it, so batches that piled up
// during the last sync share the next.
func (c *Committer) runSync() {
	defer close(c.done)
	var group [][]*commitReq
	for first := range c.synced {
		group = append(group[:0], first)
	more:
		for {
			select {
			case b, ok := <-c.synced:
				if !ok {
					break more
				}
				group = append(group, b)
			default:
				break more
			}
		}
		err := c.sync(context.Background())
		for _, b := range group {
			for _, r := range b {
				r.err = err
				r.ok <- struct{}{}
			}
		}
	}
}
