// Package fake holds what the connectors' fake servers (ghtest, jiratest,
// pdtest, slacktest) share: fault injection (latency, failing the next
// requests, random faults, a token-bucket rate limit) and the log of the
// requests they received. The vendor-specific parts, the error bodies and
// statuses a fault is answered with, stay in each fake.
package fake

import (
	"context"
	"math/rand"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Rand is a source of random numbers in [0, 1): a *math/rand.Rand or a
// *math/rand/v2.Rand.
type Rand interface {
	Float64() float64
}

// Fault is an injected failure decided by Faults.Next.
type Fault struct {
	// Status is the status to answer with: FailNext's status, 500 or 429
	// for random faults, 429 when the rate limit refused the request.
	Status int
	// RetryAfter is the Retry-After to send; 0 means none.
	RetryAfter time.Duration
	// Limited says the rate limit (RateLimit) refused the request.
	Limited bool
}

// Faults is the fault-injection state of a fake server. The zero value
// injects nothing. It is safe for concurrent use.
type Faults struct {
	// Now is the clock of the rate limit; nil means time.Now. Set it
	// before the Faults is used.
	Now func() time.Time

	mu         sync.Mutex
	latency    time.Duration
	failN      int
	failStatus int
	failAfter  time.Duration
	failMatch  func(*http.Request) bool
	p5xx, p429 float64
	rng        Rand
	rate       float64
	tokens     float64
	refilled   time.Time
	injected   FaultCounts
}

// FaultCounts counts the faults Next injected, by kind.
type FaultCounts struct {
	// Server are 5xx answers.
	Server int
	// RateLimited are 429s (or a fake's equivalent), random or from the
	// rate limit.
	RateLimited int
	// Other are FailNext's other statuses.
	Other int
}

// Injected returns the faults injected so far.
func (f *Faults) Injected() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected
}

func (c *FaultCounts) count(status int) {
	switch {
	case status == http.StatusTooManyRequests:
		c.RateLimited++
	case status >= 500:
		c.Server++
	default:
		c.Other++
	}
}

func (f *Faults) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// SetLatency sets the delay of every response (0 turns it off).
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency = d
}

// Latency returns the delay set by SetLatency.
func (f *Faults) Latency() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latency
}

// FailNext makes Next fail the next n requests with status and retryAfter.
// It replaces an earlier FailNext that has not run out; n <= 0 turns it off.
func (f *Faults) FailNext(n, status int, retryAfter time.Duration) {
	f.FailNextMatching(n, status, retryAfter, nil)
}

// FailNextMatching is FailNext for the requests match accepts (nil: all);
// others are served. Only NextFor sees the request to match.
func (f *Faults) FailNextMatching(n, status int, retryAfter time.Duration, match func(*http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failStatus, f.failAfter, f.failMatch = max(n, 0), status, retryAfter, match
}

// SetFaultRate makes Next fail each request at random, after any FailNext,
// with a 500 (probability p5xx) or a 429 with a Retry-After of one second
// (probability p429), drawn from a math/rand source seeded with seed. Zero
// rates turn it off.
func (f *Faults) SetFaultRate(p5xx, p429 float64, seed int64) {
	f.SetFaultRand(p5xx, p429, rand.New(rand.NewSource(seed)))
}

// SetFaultRand is SetFaultRate with the caller's source of random numbers.
func (f *Faults) SetFaultRand(p5xx, p429 float64, rng Rand) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.p5xx, f.p429 = p5xx, p429
	f.rng = rng
}

// RateLimit makes Next admit perSecond requests a second on average, in
// bursts of up to max(1, perSecond), and refuse the others with a Limited
// 429 whose RetryAfter is the wait for the next token. perSecond <= 0 turns
// it off.
func (f *Faults) RateLimit(perSecond float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rate = perSecond
	f.tokens = f.burst()
	f.refilled = f.now()
}

func (f *Faults) burst() float64 {
	if f.rate < 1 {
		return 1
	}
	return f.rate
}

// Next decides whether the next request fails before it is served: first
// FailNext, then the random faults, then the rate limit. It returns false
// when the request is to be served.
func (f *Faults) Next() (Fault, bool) { return f.NextFor(nil) }

// NextFor is Next for request r, which a FailNextMatching matches against.
func (f *Faults) NextFor(r *http.Request) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fault, ok := f.next(r)
	if ok {
		f.injected.count(fault.Status)
	}
	return fault, ok
}

func (f *Faults) next(r *http.Request) (Fault, bool) {
	if f.failN > 0 && (f.failMatch == nil || (r != nil && f.failMatch(r))) {
		f.failN--
		return Fault{Status: f.failStatus, RetryAfter: f.failAfter}, true
	}
	if f.rng != nil && (f.p5xx > 0 || f.p429 > 0) {
		x := f.rng.Float64()
		switch {
		case x < f.p5xx:
			return Fault{Status: http.StatusInternalServerError}, true
		case x < f.p5xx+f.p429:
			return Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second}, true
		}
	}
	if f.rate > 0 {
		now := f.now()
		if el := now.Sub(f.refilled); el > 0 {
			f.tokens += el.Seconds() * f.rate
			if b := f.burst(); f.tokens > b {
				f.tokens = b
			}
		}
		f.refilled = now
		if f.tokens >= 1 {
			f.tokens--
			return Fault{}, false
		}
		wait := time.Duration((1 - f.tokens) / f.rate * float64(time.Second))
		return Fault{Status: http.StatusTooManyRequests, RetryAfter: wait, Limited: true}, true
	}
	return Fault{}, false
}

// Delay waits d, or until ctx ends. It reports whether the wait ran its
// course (at once when d <= 0); false means the client went away and gets
// no answer.
func Delay(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// SetRetryAfter sets "Retry-After: <seconds>", d rounded up to whole
// seconds, when d > 0.
func SetRetryAfter(h http.Header, d time.Duration) {
	if d > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10))
	}
}
