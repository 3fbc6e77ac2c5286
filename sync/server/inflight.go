package server

import (
	"bytes"
	"sync"
)

// DefaultMaxInflightBytes bounds the webhook body bytes held at once when
// Server.MaxInflightBytes is zero: 32 bodies of MaxBody.
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

// inflight counts the body bytes reserved by requests being read or
// processed. A request reserves before it reads a byte, so memory held by
// bodies never exceeds the bound however many senders hold connections.
type inflight struct {
	mu  sync.Mutex
	max int64
	n   int64
}

// reserve takes n bytes, or reports false when that would pass the bound.
func (f *inflight) reserve(n int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n+n > f.max {
		return false
	}
	f.n += n
	return true
}

func (f *inflight) release(n int64) {
	f.mu.Lock()
	f.n -= n
	f.mu.Unlock()
}

// InflightBytes is the number of webhook body bytes reserved right now.
func (s *Server) InflightBytes() int64 {
	s.inflightOnce()
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.n
}

func (s *Server) inflightOnce() {
	s.inflightInit.Do(func() {
		s.inflight.max = s.MaxInflightBytes
		if s.inflight.max <= 0 {
			s.inflight.max = DefaultMaxInflightBytes
		}
	})
}
