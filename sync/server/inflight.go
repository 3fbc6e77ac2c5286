package server

import (
	"bytes"
	"sync"
)

// DefaultMaxInflightBytes bounds the webhook body bytes held at once when
// Server.MaxInflightBytes is zero: 32 bodies of MaxBody (plus the
// small-body reserve, an eighth of it).
const DefaultMaxInflightBytes = 32 << 20

// maxPooledBuffer is the largest buffer returned to bufPool: a pool that
// keeps grown buffers keeps the peak of every flood.
const maxPooledBuffer = 64 << 10

var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 8<<10)) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

// putBuf returns b to the pool unless it grew past maxPooledBuffer.
func putBuf(b *bytes.Buffer) {
	if pooled(b) {
		bufPool.Put(b)
	}
}

// pooled reports whether putBuf keeps b.
func pooled(b *bytes.Buffer) bool { return b.Cap() <= maxPooledBuffer }

// smallBody is the largest declared body that may use the small-body
// reserve: the deliveries PagerDuty, GitHub and Jira send are a few KiB.
const smallBody = 64 << 10

// inflight counts the body bytes reserved by requests being read or
// processed. A request reserves before it reads a byte, so memory held by
// bodies never exceeds the bound however many senders hold connections.
//
// Bodies declared small draw first from a reserve of their own (an eighth
// of the bound on top of it): senders holding large bodies open fill the
// main bound, and a real delivery, which is small, still gets through.
type inflight struct {
	mu         sync.Mutex
	max, small int64 // bounds of the main pool and of the small-body reserve
	n, nSmall  int64
}

// grant is a reservation to give back with release.
type grant struct {
	n     int64
	small bool
}

// reserve takes n bytes, or reports false when that would pass the bound.
func (f *inflight) reserve(n int64) (grant, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= smallBody && f.nSmall+n <= f.small {
		f.nSmall += n
		return grant{n, true}, true
	}
	if f.n+n > f.max {
		return grant{}, false
	}
	f.n += n
	return grant{n, false}, true
}

func (f *inflight) release(g grant) {
	f.mu.Lock()
	if g.small {
		f.nSmall -= g.n
	} else {
		f.n -= g.n
	}
	f.mu.Unlock()
}

// InflightBytes is the number of webhook body bytes reserved right now.
func (s *Server) InflightBytes() int64 {
	s.inflightOnce()
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.n + s.inflight.nSmall
}

func (s *Server) inflightOnce() {
	s.inflightInit.Do(func() {
		s.inflight.max = s.MaxInflightBytes
		if s.inflight.max <= 0 {
			s.inflight.max = DefaultMaxInflightBytes
		}
		s.inflight.small = s.inflight.max / 8
	})
}
