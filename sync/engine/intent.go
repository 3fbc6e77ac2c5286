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
