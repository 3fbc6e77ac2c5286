package fake

import (
	"context"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Disruptions are the transport faults a fake can inject on top of the
// HTTP-level ones of Faults: answers slower than the client waits, and
// connections dropped without an answer. They are what makes a client's
// write ambiguous, so each request is still served in full: the state
// changes although the client never learns it did, as with a real server
// that committed before the network failed. The zero value disrupts
// nothing; it is safe for concurrent use.
type Disruptions struct {
	mu                     sync.Mutex
	pSlow, pDrop, pDropped float64
	slow                   time.Duration
	rng                    Rand
	counts                 DisruptionCounts
	slowN                  int
	slowNext               time.Duration
	slowMatch              func(*http.Request) bool
}

// SlowNext makes the next n requests that match (nil: any) answer after
// wait (and be applied all the same), before any random disruption.
func (d *Disruptions) SlowNext(n int, wait time.Duration, match func(*http.Request) bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.slowN, d.slowNext, d.slowMatch = max(n, 0), wait, match
}

// DisruptionCounts counts the disruptions injected so far.
type DisruptionCounts struct {
	// Slow answers came after the configured delay (past the client's
	// timeout when it is set longer than that).
	Slow int
	// DroppedBefore connections were closed before the request was served.
	DroppedBefore int
	// DroppedAfter connections were closed after the request was served
	// and its effects kept, without the answer.
	DroppedAfter int
}

// Set makes each request, at random from a source seeded with seed, slow
// (probability pSlow, delayed by slow), dropped before it is served
// (pDropBefore) or dropped after (pDropAfter). Zero rates turn it off.
func (d *Disruptions) Set(pSlow float64, slow time.Duration, pDropBefore, pDropAfter float64, seed int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pSlow, d.slow, d.pDrop, d.pDropped = pSlow, slow, pDropBefore, pDropAfter
	d.rng = rand.New(rand.NewSource(seed))
}

// Counts returns the disruptions injected so far.
func (d *Disruptions) Counts() DisruptionCounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.counts
}

type disruption int

const (
	none disruption = iota
	slowAnswer
	dropBefore
	dropAfter
)

func (d *Disruptions) next(r *http.Request) (disruption, time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.slowN > 0 && (d.slowMatch == nil || d.slowMatch(r)) {
		d.slowN--
		d.counts.Slow++
		return slowAnswer, d.slowNext
	}
	if d.rng == nil || d.pSlow+d.pDrop+d.pDropped <= 0 {
		return none, 0
	}
	x := d.rng.Float64()
	switch {
	case x < d.pSlow:
		d.counts.Slow++
		return slowAnswer, d.slow
	case x < d.pSlow+d.pDrop:
		d.counts.DroppedBefore++
		return dropBefore, 0
	case x < d.pSlow+d.pDrop+d.pDropped:
		d.counts.DroppedAfter++
		return dropAfter, 0
	}
	return none, 0
}

// Serve serves r with h, disrupted as Set decided.
func (d *Disruptions) Serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	kind, wait := d.next(r)
	switch kind {
	case slowAnswer:
		// The client may give up meanwhile; the server carries on and
		// applies the request all the same.
		r = r.WithContext(context.WithoutCancel(r.Context()))
		time.Sleep(wait)
		h.ServeHTTP(w, r)
	case dropBefore:
		drop(w)
	case dropAfter:
		h.ServeHTTP(httptest.NewRecorder(), r.WithContext(context.WithoutCancel(r.Context())))
		drop(w)
	default:
		h.ServeHTTP(w, r)
	}
}

// drop closes the connection without an answer: the client sees EOF or a
// reset, never a status.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// MatchRequest matches requests by method and, when given, path suffix;
// nothing given matches every request (nil).
func MatchRequest(methodAndSuffix ...string) func(*http.Request) bool {
	if len(methodAndSuffix) == 0 {
		return nil
	}
	return func(r *http.Request) bool {
		if r.Method != methodAndSuffix[0] {
			return false
		}
		return len(methodAndSuffix) < 2 || strings.HasSuffix(r.URL.Path, methodAndSuffix[1])
	}
}
