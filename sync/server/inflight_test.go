package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coesync/coesync/sync/server"
)

// heldBody is a request body that signals its first Read and then blocks
// until released: a sender holding its connection open mid-body.
type heldBody struct {
	started chan struct{}
	release chan struct{}
	once    atomic.Bool
}

func newHeldBody() *heldBody {
	return &heldBody{started: make(chan struct{}), release: make(chan struct{})}
}

func (b *heldBody) Read(p []byte) (int, error) {
	if b.once.CompareAndSwap(false, true) {
		close(b.started)
		p[0] = '{'
		return 1, nil
	}
	<-b.release
	return 0, io.ErrUnexpectedEOF
}

func (b *heldBody) Close() error { return nil }

// countingBody records whether anyone read it.
type countingBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) { b.read.Store(true); return b.r.Read(p) }
func (b *countingBody) Close() error               { return nil }

func signedRequest(id, body string) (*http.Request, *countingBody) {
	cb := &countingBody{r: strings.NewReader(body)}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/test", nil)
	req.Body, req.ContentLength = cb, int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-Signature", sign([]byte(body)))
	req.Header.Set("X-Test-Delivery", id)
	return req, cb
}

// A body held open counts against COESYNC_MAX_INFLIGHT_BYTES from before
// its first byte is read; a delivery that does not fit beside it gets 503
// with Retry-After without its body being read; one that fits, and any
// once the held one is gone, is accepted.
func TestInflightBytesBound(t *testing.T) {
	s := testServer()
	s.MaxInflightBytes = server.MaxBody + 4096
	h := s.Handler()

	// An unsigned body of unknown length, held open: it reserves MaxBody.
	held := newHeldBody()
	heldReq := httptest.NewRequest(http.MethodPost, "/webhooks/test", nil)
	heldReq.Body, heldReq.ContentLength = held, -1
	heldRec := httptest.NewRecorder()
	heldDone := make(chan struct{})
	go func() { defer close(heldDone); h.ServeHTTP(heldRec, heldReq) }()
	<-held.started // reserved before the first read
	if got := s.InflightBytes(); got != server.MaxBody {
		t.Fatalf("in flight with one held body of unknown length: %d bytes, want %d", got, server.MaxBody)
	}

	// 4 KiB are left: a 1 KiB signed delivery fits...
	small := `{"n":"` + strings.Repeat("a", 1000) + `"}`
	req, _ := signedRequest("fits", small)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("delivery that fits beside the held one: %d %s, want 202", rec.Code, rec.Body)
	}

	// ...a 5 KiB one does not: 503 with Retry-After, body unread.
	big := `{"n":"` + strings.Repeat("b", 5000) + `"}`
	req, body := signedRequest("over", big)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("delivery over the bound: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if body.read.Load() {
		t.Error("the body of a delivery over the bound was read")
	}

	// The held body ends; its reservation goes with it.
	close(held.release)
	<-heldDone
	if got := s.InflightBytes(); got != 0 {
		t.Fatalf("in flight after every request ended: %d bytes, want 0", got)
	}
	req, _ = signedRequest("over", big)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("the same delivery after release: %d %s, want 202", rec.Code, rec.Body)
	}
	ids := s.Ingest.(*memIngest).ids
	if len(ids) != 2 || ids[0] != "fits" || ids[1] != "over" {
		t.Errorf("stored %v, want [fits over]", ids)
	}
}

// A Content-Length over MaxBody is refused 413 before reading or
// reserving anything.
func TestInflightDeclaredTooLarge(t *testing.T) {
	s := testServer()
	cb := &countingBody{r: bytes.NewReader(nil)}
	req := httptest.NewRequest(http.MethodPost, "/webhooks/test", nil)
	req.Body, req.ContentLength = cb, server.MaxBody+1
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge || cb.read.Load() {
		t.Errorf("declared %d bytes: %d, read %v; want 413 unread", server.MaxBody+1, rec.Code, cb.read.Load())
	}
}
