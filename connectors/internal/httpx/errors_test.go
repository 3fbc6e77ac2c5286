package httpx

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coesync/coesync/sync/engine"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func respond(status int, body string) roundTripFunc {
	return func(*http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: status,
			Header:     http.Header{"Content-Type": {"application/json"}, "Retry-After": {"7"}},
			Body:       io.NopCloser(strings.NewReader(body)),
		}, nil
	}
}

func TestErrorBodies(t *testing.T) {
	message := func(b []byte) string {
		if s, ok := strings.CutPrefix(string(b), "MSG:"); ok {
			return strings.TrimSpace(s)
		}
		return ""
	}
	for _, c := range []struct {
		name   string
		status int
		body   string
		limit  int64
		want   string
	}{
		{"message", 422, "MSG: invalid field  ", 1 << 10, "invalid field"},
		{"not a message: kept", 500, "<html>oops</html>", 1 << 10, "<html>oops</html>"},
		{"secret scrubbed", 401, "MSG: bad token s3cret for user:s3cret", 1 << 10, "bad token [REDACTED] for [REDACTED]"},
		{"body limited", 502, "0123456789abcdef", 10, "0123456789"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt := ErrorBodies{Base: respond(c.status, c.body), Message: message, Redact: NewRedactor("s3cret", "user:s3cret"), Limit: c.limit}
			resp, err := rt.RoundTrip(&http.Request{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			if string(b) != c.want {
				t.Errorf("body %q, want %q", b, c.want)
			}
			if resp.StatusCode != c.status || resp.ContentLength != int64(len(c.want)) ||
				resp.Header.Get("Content-Length") != fmt.Sprint(len(c.want)) ||
				resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" || resp.Header.Get("Retry-After") != "7" {
				t.Errorf("status %d, length %d, header %v", resp.StatusCode, resp.ContentLength, resp.Header)
			}
		})
	}

	// Successes and transport errors pass through untouched.
	rt := ErrorBodies{Base: respond(200, `{"ok":true}`), Message: message, Redact: NewRedactor("x"), Limit: 1 << 10}
	resp, err := rt.RoundTrip(&http.Request{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("200 rewritten: %q %v", b, resp.Header)
	}
	boom := errors.New("boom")
	rt.Base = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, boom })
	if _, err := rt.RoundTrip(&http.Request{}); err != boom {
		t.Errorf("err %v, want boom", err)
	}
}

func TestNewRedactor(t *testing.T) {
	secrets := []string{"tok", "", "me:tok"}
	r := NewRedactor(secrets...)
	if got := r.Replace("me:tok and tok"); got != "[REDACTED] and [REDACTED]" {
		t.Errorf("Replace = %q", got)
	}
	if secrets[0] != "tok" || secrets[2] != "me:tok" {
		t.Errorf("NewRedactor reordered its argument: %q", secrets)
	}
	if got := NewRedactor("", "").Replace("text"); got != "text" {
		t.Errorf("empty secrets: %q", got)
	}
}

func TestRedact(t *testing.T) {
	r := NewRedactor("s3cret")
	inner := &engine.Error{Kind: engine.Permanent, Service: "x", Msg: "echoed s3cret"}
	err := fmt.Errorf("op: %w", inner)
	got := Redact(err, r)
	if want := strings.ReplaceAll(err.Error(), "s3cret", Redacted); got.Error() != want {
		t.Errorf("Error() = %q, want %q", got.Error(), want)
	}
	if strings.Contains(got.Error(), "s3cret") || !strings.Contains(got.Error(), "[REDACTED]") {
		t.Errorf("Error() = %q", got.Error())
	}
	var e *engine.Error
	if !errors.As(got, &e) || e != inner || !errors.Is(got, err) {
		t.Errorf("the chain is lost: %v", got)
	}

	clean := errors.New("nothing to hide")
	if Redact(clean, r) != clean {
		t.Error("Redact wrapped an error without secrets")
	}

	m := Masked("shown", clean)
	if m.Error() != "shown" || !errors.Is(m, clean) {
		t.Errorf("Masked = %q, chain %v", m.Error(), errors.Unwrap(m))
	}
}
