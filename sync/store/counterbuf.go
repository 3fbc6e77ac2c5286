package store

import (
	"context"
	"sync"
	"time"
)

// CounterBuffer adds up counts in memory and writes them to the store on
// Flush, so that counting (rejected webhooks) costs the request path no
// database write. A crash loses at most one flush interval of counts.
type CounterBuffer struct {
	Count func(ctx context.Context, name string, at time.Time, n int) error
	mu    sync.Mutex
	m     map[string]int
}

// Add counts one occurrence of name.
func (b *CounterBuffer) Add(name string) {
	b.mu.Lock()
	if b.m == nil {
		b.m = map[string]int{}
	}
	b.m[name]++
	b.mu.Unlock()
}

// Flush writes the counts so far; on failure they are kept for the next.
func (b *CounterBuffer) Flush(ctx context.Context, at time.Time) error {
	b.mu.Lock()
	m := b.m
	b.m = nil
	b.mu.Unlock()
	for name, n := range m {
		if err := b.Count(ctx, name, at, n); err != nil {
			b.mu.Lock()
			if b.m == nil {
				b.m = map[string]int{}
			}
			for k, v := range m {
				b.m[k] += v
			}
			b.mu.Unlock()
			return err
		}
		delete(m, name)
	}
	return nil
}
