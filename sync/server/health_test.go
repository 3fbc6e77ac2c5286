package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/engine"
)

// counts is a Counter recording what the server adds.
type counts struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counts) Add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[name]++
}

func postTest(h http.Handler, body, sig string) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/test", strings.NewReader(body))
	req.Header.Set("X-Test-Delivery", "d")
	if sig != "" {
		req.Header.Set("X-Test-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// Unsigned deliveries are counted apart from bad signatures: only a
// delivery that carried a signature header can say a secret is wrong.
func TestUnsignedCountedApartFromBadSignatures(t *testing.T) {
	s := testServer()
	c := &counts{}
	s.Counter = c
	h := s.Handler()
	for range 500 {
		if code := postTest(h, `{}`, ""); code != http.StatusUnauthorized {
			t.Fatalf("unsigned: %d, want 401", code)
		}
	}
	if code := postTest(h, `{}`, "sha256=00"); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d, want 401", code)
	}
	want := map[string]int{
		engine.CounterWebhookRejected + "unsigned":  500,
		engine.CounterWebhookRejected + "signature": 1,
		engine.CounterWebhookBadSignature + "test":  1,
	}
	for k, n := range want {
		if c.n[k] != n {
			t.Errorf("counter %s = %d, want %d (all: %v)", k, c.n[k], n, c.n)
		}
	}
}

// Rejected deliveries are logged at most once per source per minute, with
// the count since the last line.
func TestRejectedDeliveriesLogRateLimited(t *testing.T) {
	s := testServer()
	var logs bytes.Buffer
	var mu sync.Mutex
	s.Log = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	h := s.Handler()
	lines := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return strings.FieldsFunc(logs.String(), func(r rune) bool { return r == '\n' })
	}

	for range 300 {
		postTest(h, `{}`, "")
	}
	if l := lines(); len(l) != 1 || !strings.Contains(l[0], "count=1 ") || !strings.Contains(l[0], "source=test") {
		t.Fatalf("after 300 rejections in one instant, log lines:\n%s\nwant one, count=1", strings.Join(l, "\n"))
	}
	now = now.Add(59 * time.Second)
	postTest(h, `{}`, "sha256=00")
	if l := lines(); len(l) != 1 {
		t.Fatalf("within the minute: %d lines, want 1", len(l))
	}
	now = now.Add(time.Second)
	postTest(h, `{}`, "")
	l := lines()
	if len(l) != 2 {
		t.Fatalf("a minute after the first line: %d lines, want 2:\n%s", len(l), strings.Join(l, "\n"))
	}
	// 299 unsigned and 1 bad signature held back, plus this one.
	if !strings.Contains(l[1], "count=301 ") || !strings.Contains(l[1], `reasons="signature=1,unsigned=300"`) {
		t.Errorf("second line %q, want count=301 by reason", l[1])
	}
	for _, line := range l {
		if strings.Contains(line, "sha256=00") {
			t.Errorf("log line holds the signature: %s", line)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}
