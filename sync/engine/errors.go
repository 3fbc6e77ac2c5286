package engine

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind says what the engine should do about a failed call.
type ErrorKind int

const (
	// Retryable failures (5xx, timeouts, dropped connections) are retried
	// with backoff.
	Retryable ErrorKind = iota + 1
	// RateLimited failures are retried after RetryAfter, without counting
	// as a failed attempt.
	RateLimited
	// Permanent failures (other 4xx, bad data) are not retried; the job
	// fails with the reason.
	Permanent
)

func (k ErrorKind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case RateLimited:
		return "rate_limited"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// Error is a classified failure of a call to a remote system. Connectors
// return it (wrapped with the operation); the engine alone decides on
// retries and backoff.
type Error struct {
	Kind    ErrorKind
	Service string // "pagerduty", "jira", "github"
	// Status is the HTTP status, 0 for network errors.
	Status int
	// RetryAfter is the wait the remote asked for (429, 503, secondary
	// rate limits); zero when it did not say.
	RetryAfter time.Duration
	// Msg is a short, secret-free description (status text, the remote's
	// error message).
	Msg string
	Err error
}

func (e *Error) Error() string {
	s := e.Service + ": "
	if e.Status != 0 {
		s += fmt.Sprintf("HTTP %d", e.Status)
	} else {
		s += "request failed"
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Classify returns the kind of err: the kind of the first *Error in its
// chain, Permanent for ErrNotFound-style domain errors, else Retryable
// (an unknown failure is assumed transient, bounded by the job's attempts).
func Classify(err error) (ErrorKind, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind, e.RetryAfter
	}
	var p *PermanentError
	if errors.As(err, &p) {
		return Permanent, 0
	}
	return Retryable, 0
}

// StatusOf returns the HTTP status carried by err, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// PermanentError marks a failure that no retry can fix (bad input,
// configuration). It is not tied to a remote call.
type PermanentError struct{ Err error }

func (p *PermanentError) Error() string { return p.Err.Error() }
func (p *PermanentError) Unwrap() error { return p.Err }

// Permanently wraps err as a PermanentError.
func Permanently(err error) error { return &PermanentError{Err: err} }

// ErrNoTransition is matched (errors.Is) by a tracker's error when no
// workflow transition has one of the wanted names: an operator must fix the
// workflow or the configured names; retrying cannot help.
var ErrNoTransition = errors.New("no matching workflow transition")

// CreateFailure is one element of a bulk create that was not created.
type CreateFailure struct {
	Index int   // in the request
	Err   error // classified like any call's error
}

// PartialCreateError is returned by a bulk create when some elements were
// refused: those not listed were created. Classify and StatusOf see the
// first failure's error.
type PartialCreateError struct {
	Failed []CreateFailure
}

func (e *PartialCreateError) Error() string {
	if len(e.Failed) == 0 {
		return "bulk create: nothing failed"
	}
	s := fmt.Sprintf("%d not created; element %d: %v", len(e.Failed), e.Failed[0].Index, e.Failed[0].Err)
	if len(e.Failed) > 1 {
		s += fmt.Sprintf(" (and %d more)", len(e.Failed)-1)
	}
	return s
}

// Unwrap returns the failures' errors, so errors.As finds the first *Error.
func (e *PartialCreateError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}
