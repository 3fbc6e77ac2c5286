package fake

import (
	"net/url"
	"strings"
	"sync"
)

// Log records the requests a fake server received, as the fake's own
// request type R. It is safe for concurrent use.
type Log[R any] struct {
	route func(R) (method, path string)
	clone func(R) R

	mu   sync.Mutex
	reqs []R
}

// NewLog returns an empty log. route returns a request's method and path,
// for Count; clone returns a copy of a request that shares no mutable
// memory with it, for All (nil copies the value as it is).
func NewLog[R any](route func(R) (method, path string), clone func(R) R) *Log[R] {
	return &Log[R]{route: route, clone: clone}
}

// Add appends r and returns its index, for Update.
func (l *Log[R]) Add(r R) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
	return len(l.reqs) - 1
}

// Update calls f with the request at index i, when the log still has one
// there (Reset may have emptied it since Add).
func (l *Log[R]) Update(i int, f func(*R)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i >= 0 && i < len(l.reqs) {
		f(&l.reqs[i])
	}
}

// All returns copies of the requests recorded so far, oldest first.
func (l *Log[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]R, len(l.reqs))
	for i, r := range l.reqs {
		if l.clone != nil {
			r = l.clone(r)
		}
		out[i] = r
	}
	return out
}

// Count returns how many requests had method (any when "") and a path
// starting with pathPrefix.
func (l *Log[R]) Count(method, pathPrefix string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.reqs {
		m, p := l.route(r)
		if (method == "" || m == method) && strings.HasPrefix(p, pathPrefix) {
			n++
		}
	}
	return n
}

// Reset forgets the recorded requests.
func (l *Log[R]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = nil
}

// CloneValues returns a deep copy of v; nil stays nil.
func CloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
