package httpx

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// ErrorBodies sits under Transport. It rewrites the body of a failed
// response (status 400 and up) into the short message the vendor put in
// it, so that the *engine.Error Transport builds carries that message
// rather than a clipped JSON document, and scrubs credentials from it in
// case the server echoed them.
type ErrorBodies struct {
	Base http.RoundTripper // nil means http.DefaultTransport
	// Message flattens a vendor error body into one line; "" means the body
	// is not such a document and is kept as it is.
	Message func([]byte) string
	// Redact scrubs credentials from the message.
	Redact *strings.Replacer
	// Limit is how much of the body is read.
	Limit int64
}

// RoundTrip implements http.RoundTripper.
func (t ErrorBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 {
		return resp, err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, t.Limit))
	_ = resp.Body.Close()
	msg := t.Message(b)
	if msg == "" {
		msg = string(b)
	}
	msg = t.Redact.Replace(msg)
	resp.Header = resp.Header.Clone()
	resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp.Header.Set("Content-Length", strconv.Itoa(len(msg)))
	resp.ContentLength = int64(len(msg))
	resp.Body = io.NopCloser(strings.NewReader(msg))
	return resp, nil
}

// Redacted is the text that stands for a credential.
const Redacted = "[REDACTED]"

// NewRedactor returns a replacer of the non-empty secrets by Redacted,
// longest first, so that "user:token" goes before "token".
func NewRedactor(secrets ...string) *strings.Replacer {
	secrets = append([]string(nil), secrets...)
	sort.SliceStable(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	var args []string
	for _, s := range secrets {
		if s != "" {
			args = append(args, s, Redacted)
		}
	}
	return strings.NewReplacer(args...)
}

// Redact returns err with redact applied to its text, when that changes
// it, keeping the chain for errors.As and errors.Is; else err itself.
func Redact(err error, redact *strings.Replacer) error {
	s := err.Error()
	if r := redact.Replace(s); r != s {
		return Masked(r, err)
	}
	return err
}

// Masked returns an error whose text is msg and that unwraps to err: it
// hides what err's text gives away while keeping its chain.
func Masked(msg string, err error) error { return &masked{msg: msg, err: err} }

type masked struct {
	msg string
	err error
}

func (m *masked) Error() string { return m.msg }
func (m *masked) Unwrap() error { return m.err }
