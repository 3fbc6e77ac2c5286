package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/longtest"
)

// TestFloodBoundsBytesInFlight runs the flood at a small size against the
// real binary: 12 unsigned 1 MB bodies against a 4 MiB bound. The bound
// must answer the excess 503 with Retry-After before a byte of their body
// was sent (so before it could be read), hold no more than the bound, and
// still accept a valid signed PagerDuty delivery with 202. It asserts
// nothing about time or memory (the bench row does, at full size).
func TestFloodBoundsBytesInFlight(t *testing.T) {
	longtest.Require(t)
	bin := buildBinary(t)
	const bound, bodies, size = 4 << 20, 12, 1_000_000
	r, err := benchFlood(context.Background(), floodOptions{Binary: bin, Bodies: bodies, BodyBytes: size,
		MaxInflightBytes: bound, EarlyWait: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	printFloodRows(func(s, m, v, tg string) { table.WriteString(s + " | " + m + " | " + v + " | " + tg + "\n") },
		func(ok bool) string {
			if ok {
				return "ok"
			}
			return "MISSED"
		}, r)
	t.Logf("\n%s", table.String())
	if r.Refused503 == 0 {
		t.Errorf("no connection was answered 503 with Retry-After before sending its body: %+v", r)
	}
	if want := bound / size; r.Held > want {
		t.Errorf("server held %d bodies of %d bytes, more than the %d the %d-byte bound allows: %+v", r.Held, size, want, bound, r)
	}
	if r.Held == 0 {
		t.Errorf("server held no body: the flood did not reach the bound: %+v", r)
	}
	if r.SignedStatus != 202 {
		t.Errorf("signed delivery during the flood answered %d, want 202: %+v", r.SignedStatus, r)
	}
}
