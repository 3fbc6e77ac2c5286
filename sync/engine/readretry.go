package engine

import (
	"context"
	"time"
)

// A read (an HTTP GET: it changes nothing) that fails with a 5xx is tried
// again within the attempt, readRetries times after waits of
// readRetryFirst, doubling: a server error on one read of many otherwise
// fails the whole attempt, and the job's backoff repeats every read and
// write before it. A 5xx whose Retry-After asks for more than
// readRetryMaxWait is left to the job's retry (the service is down, not
// flaky). Rate limits are the gate's (gated); writes are never repeated
// here: their outcome after a 5xx is unknown.
const (
	readRetries      = 2
	readRetryFirst   = 200 * time.Millisecond
	readRetryMaxWait = 2 * time.Second
)

// gatedRead is gated for an idempotent read: through the gate of
// service, and tried again after a server error.
func gatedRead[T any](ctx context.Context, g *RateGate, service string, f func(context.Context) (T, error)) (T, error) {
	wait := readRetryFirst
	for try := 0; ; try++ {
		v, err := gated(ctx, g, service, f)
		if err == nil || try == readRetries {
			return v, err
		}
		kind, after := Classify(err)
		if kind != Retryable || StatusOf(err) < 500 || after > readRetryMaxWait {
			return v, err
		}
		if g.Log != nil {
			g.Log.Info("read failed with a server error: trying again", "service", service, "wait", max(wait, after), "err", err)
		}
		if err := g.sleep(ctx, max(wait, after)); err != nil {
			return v, err
		}
		wait *= 2
	}
}
