package engine

import (
	"context"
	"time"
)

// A create that timed out or lost its connection may still be applied by
// the server after coesync gave up on it. Every create that has no
// idempotency key of its own (the COE ticket, a sub-task, a GitHub mirror,
// the note on the incident) therefore records its intent before the call,
// and a retry that does not see the result trusts that only once the
// earlier attempt has had time to land. A refused create (a 4xx) clears
// the intent: nothing can land.

// refused reports whether a create failed with an answer that says it was
// not applied (a 4xx, 429 included); 5xx and network errors may hide a
// create that landed.
func refused(err error) bool {
	st := StatusOf(err)
	return st >= 400 && st < 500
}

// landing returns a WaitError while a create attempted at intent may still
// land (until intent+settle), nil once an empty answer can be trusted.
func landing(intent time.Time, settle time.Duration, now time.Time, reason string) error {
	if intent.IsZero() || settle <= 0 {
		return nil
	}
	if left := intent.Add(settle).Sub(now); left > 0 {
		return &WaitError{Wait: left, Reason: reason}
	}
	return nil
}

// intentState is the store's key/value state, where the intents of creates
// that have no record of their own are kept.
type intentState interface {
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// loadIntent returns the intent recorded under key (zero when none).
func loadIntent(ctx context.Context, st intentState, key string) (time.Time, error) {
	v, err := st.State(ctx, key)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, nil // unreadable: as if none
	}
	return t, nil
}

// saveIntent records an intent at at under key; the zero time clears it.
func saveIntent(ctx context.Context, st intentState, key string, at time.Time) error {
	v := ""
	if !at.IsZero() {
		v = at.Format(time.RFC3339Nano)
	}
	return st.SetState(ctx, key, v)
}

// A create's intent must be no older than the moment its request may have
// left. The rate gate can hold a call after the intent was recorded (a
// hold another job set, or a 429 on this call that the gate waits out and
// tries again), and the settle window would then end too soon: a create
// sent late, stalled past the client's timeout and applied late lands
// after a retry has looked, found nothing and created again (the chaos run
// made a second note on an incident that way). So a create passes its
// intent's recorder in ctx, as net/http/httptrace passes its hooks, and the
// gate calls it before an attempt that followed a wait.

type attemptHookKey struct{}

// beforeAttempt returns ctx carrying record, to be called right before an
// attempt of the call ctx is given to leaves the process after a wait.
// Give the returned ctx to the create call only.
func beforeAttempt(ctx context.Context, record func(ctx context.Context) error) context.Context {
	return context.WithValue(ctx, attemptHookKey{}, record)
}

// intending records a create's intent now and returns the ctx to give the
// create call, which records it again before an attempt after a wait.
func intending(ctx context.Context, record func(ctx context.Context) error) (context.Context, error) {
	if err := record(ctx); err != nil {
		return ctx, err
	}
	return beforeAttempt(ctx, record), nil
}

// attempting runs the recorder ctx carries, if any.
func attempting(ctx context.Context) error {
	if record, ok := ctx.Value(attemptHookKey{}).(func(context.Context) error); ok {
		return record(ctx)
	}
	return nil
}
