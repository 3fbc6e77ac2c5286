package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// A read that fails with a server error is tried again within the call,
// at most readRetries times, after short waits; other failures, and a 5xx
// asking for a long wait, are returned at once.
func TestGatedReadRetriesServerErrors(t *testing.T) {
	ctx := context.Background()
	e503 := &Error{Kind: Retryable, Service: ServiceJira, Status: 503}
	for _, tc := range []struct {
		name  string
		fails []error // the answers before success
		calls int
		ok    bool
		slept []time.Duration
	}{
		{"a 503 once", []error{e503}, 2, true, []time.Duration{200 * time.Millisecond}},
		{"a 500 twice", []error{e503, &Error{Kind: Retryable, Status: 500}}, 3, true, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
		{"three 5xx: the attempt fails", []error{e503, e503, e503}, 3, false, []time.Duration{200 * time.Millisecond, 400 * time.Millisecond}},
		{"a 503 asking for a second", []error{&Error{Kind: Retryable, Status: 503, RetryAfter: time.Second}}, 2, true, []time.Duration{time.Second}},
		{"a 503 asking for a minute", []error{&Error{Kind: Retryable, Status: 503, RetryAfter: time.Minute}}, 1, false, nil},
		{"a 404", []error{&Error{Kind: Permanent, Status: 404}}, 1, false, nil},
		{"a dropped connection", []error{&Error{Kind: Retryable}}, 1, false, nil},
		{"an unclassified error", []error{errors.New("boom")}, 1, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			g := &RateGate{Now: clock.Now, Sleep: clock.Sleep}
			calls := 0
			v, err := gatedRead(ctx, g, ServiceJira, func(context.Context) (string, error) {
				calls++
				if calls <= len(tc.fails) {
					return "", tc.fails[calls-1]
				}
				return "ok", nil
			})
			if (err == nil) != tc.ok || (tc.ok && v != "ok") {
				t.Errorf("got %q, %v; want success %v", v, err, tc.ok)
			}
			if calls != tc.calls || !slices.Equal(clock.Slept(), tc.slept) {
				t.Errorf("%d calls after waits %v; want %d after %v", calls, clock.Slept(), tc.calls, tc.slept)
			}
		})
	}
}
