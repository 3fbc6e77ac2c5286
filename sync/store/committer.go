package store

import (
	"context"
	"errors"
	"sync"
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

	// mu guards closed and sending on reqs: after Close no Submit can
	// slip a request into a loop that has already ended.
	mu     sync.RWMutex
	closed bool
	reqs   chan *commitReq
	done   chan struct{}
}

type commitReq struct {
	d   Delivery
	dup bool
	err error
	ok  chan struct{}
}

var reqPool = sync.Pool{New: func() any { return &commitReq{ok: make(chan struct{}, 1)} }}

// NewCommitter starts a committer over ingest (usually Store.Ingest).
// observe, if not nil, is told each batch size.
func NewCommitter(ingest func(context.Context, []Delivery) ([]bool, error), maxBatch int, observe func(int)) *Committer {
	if maxBatch <= 0 {
		maxBatch = 256
	}
	c := &Committer{ingest: ingest, maxBatch: maxBatch, observe: observe,
		reqs: make(chan *commitReq, maxBatch*4), done: make(chan struct{})}
	go c.run()
	return c
}

// Submit stores d durably and reports whether it was a duplicate.
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
	defer close(c.done)
	batch := make([]*commitReq, 0, c.maxBatch)
	ds := make([]Delivery, 0, c.maxBatch)
	for {
		// Close closes reqs; what was sent before is still drained.
		first, ok := <-c.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case r, ok := <-c.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		ds = ds[:0]
		for _, r := range batch {
			ds = append(ds, r.d)
		}
		// The batch is committed with a background context: callers that
		// gave up still had their delivery accepted into this batch.
		dups, err := c.ingest(context.Background(), ds)
		if c.observe != nil {
			c.observe(len(batch))
		}
		for i, r := range batch {
			r.err = err
			if err == nil {
				r.dup = dups[i]
			}
			r.ok <- struct{}{}
		}
	}
}
