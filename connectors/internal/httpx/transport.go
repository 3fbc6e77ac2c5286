// Package httpx holds what the connectors share at the HTTP layer: a
// transport that classifies every failed response into an *engine.Error
// (retryable, rate-limited with its wait, permanent) before the vendor
// client sees it, and counts calls; a transport under it that shortens
// vendor error bodies to their message (ErrorBodies); and the scrubbing of
// credentials from error texts (NewRedactor, Redact, Masked).
package httpx

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coesync/coesync/sync/engine"
)

// Observer is told about every call; metrics implement it.
type Observer interface {
	ObserveAPICall(service, outcome string, d time.Duration)
}

// Transport turns HTTP failures into *engine.Error. Vendor clients pass a
// RoundTripper error through http.Client.Do, which wraps it in a *url.Error
// that unwraps to ours, so the classification survives the vendor client.
type Transport struct {
	Base     http.RoundTripper // nil means http.DefaultTransport
	Service  string            // "pagerduty", "jira", "github"
	Observer Observer          // may be nil
	Now      func() time.Time  // for HTTP-date Retry-After; nil means time.Now
	// PassStatus lets the connector see these statuses as responses rather
	// than errors (GitHub 304, 404 on a lookup that may miss).
	PassStatus map[int]bool
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	start := time.Now()
	resp, err := base.RoundTrip(req)
	if err != nil {
		t.observe("network_error", start)
		// The cause of a network error may carry the URL but never our
		// credentials, which travel in headers.
		return nil, &engine.Error{Kind: engine.Retryable, Service: t.Service, Msg: req.Method + " " + req.URL.Path, Err: err}
	}
	if resp.StatusCode < 400 || t.PassStatus[resp.StatusCode] {
		t.observe("ok", start)
		return resp, nil
	}
	e := t.classify(resp)
	// Keep a short, printable piece of the body: vendors explain 4xx there.
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	e.Msg = req.Method + " " + req.URL.Path + ": " + printable(b, 200)
	t.observe(e.Kind.String(), start)
	return nil, e
}

func (t *Transport) observe(outcome string, start time.Time) {
	if t.Observer != nil {
		t.Observer.ObserveAPICall(t.Service, outcome, time.Since(start))
	}
}

func (t *Transport) classify(resp *http.Response) *engine.Error {
	e := &engine.Error{Service: t.Service, Status: resp.StatusCode}
	wait := t.retryAfter(resp.Header)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kind = engine.RateLimited
		if wait == 0 {
			wait = 60 * time.Second
		}
	case resp.StatusCode == http.StatusForbidden && (wait > 0 || resp.Header.Get("X-Ratelimit-Remaining") == "0"):
		// GitHub signals primary and secondary rate limits with 403.
		e.Kind = engine.RateLimited
		if wait == 0 {
			wait = t.untilReset(resp.Header)
		}
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout:
		e.Kind = engine.Retryable
	default:
		e.Kind = engine.Permanent
	}
	e.RetryAfter = wait
	return e
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// retryAfter parses Retry-After as seconds or an HTTP date.
func (t *Transport) retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(t.now()); d > 0 {
			return d
		}
	}
	return 0
}

// untilReset reads GitHub's X-RateLimit-Reset (epoch seconds).
func (t *Transport) untilReset(h http.Header) time.Duration {
	n, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64)
	if err != nil {
		return 60 * time.Second
	}
	if d := time.Unix(n, 0).Sub(t.now()); d > 0 {
		return d
	}
	return time.Second
}

func printable(b []byte, max int) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(b), "?"))
	s = strings.TrimSpace(s)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
