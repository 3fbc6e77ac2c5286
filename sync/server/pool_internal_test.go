package server

import (
	"bytes"
	"testing"
)

// A buffer grown by a large body is dropped, not pooled: the pool would
// otherwise keep the peak of every flood alive.
func TestPutBufDropsLargeBuffers(t *testing.T) {
	for _, tc := range []struct {
		size int
		kept bool
	}{{8 << 10, true}, {maxPooledBuffer, true}, {maxPooledBuffer + 1, false}, {1 << 20, false}} {
		b := bytes.NewBuffer(make([]byte, 0, tc.size))
		if got := pooled(b); got != tc.kept {
			t.Errorf("buffer of %d bytes pooled = %v, want %v", tc.size, got, tc.kept)
		}
	}
}
