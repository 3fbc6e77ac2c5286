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

// hold sends a body that blocks after its first byte, with the declared
// length (-1: unknown), and returns once it holds its reservation.
func hold(t *testing.T, h http.Handler, declared int64) (release func()) {
	t.Helper()
	held := newHeldBody()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/test", nil)
	req.Body, req.ContentLength = held, declared
	done := make(chan struct{})
	go func() { defer close(done); h.ServeHTTP(httptest.NewRecorder(), req) }()
	<-held.started // reserved before the first read
	return func() { close(held.release); <-done }
}

// A body held open counts against COESYNC_MAX_INFLIGHT_BYTES from before
// its first byte is read; a delivery that does not fit gets 503 with
// Retry-After without its body being read; one that fits, and any once the
// held ones are gone, is accepted. Small bodies have a reserve of their
// own (an eighth of the bound), so senders holding large bodies open do
// not starve the real deliveries, which are small.
func TestInflightBytesBound(t *testing.T) {
	s := testServer()
	s.MaxInflightBytes = server.MaxBody + 4096 // the small reserve: 131,584 bytes
	h := s.Handler()

	// An unsigned body of unknown length, held open: it reserves MaxBody.
	releaseBig := hold(t, h, -1)
	if got := s.InflightBytes(); got != server.MaxBody {
		t.Fatalf("in flight with one held body of unknown length: %d bytes, want %d", got, server.MaxBody)
	}
	// 4 KiB are left in the main pool, but a 5 KiB delivery, small, fits
	// in the small-body reserve.
	big := `{"n":"` + strings.Repeat("b", 5000) + `"}`
	req, _ := signedRequest("small-reserve", big)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("a small delivery beside a held large body: %d %s, want 202", rec.Code, rec.Body)
	}

	// Two held 64 KiB bodies fill the small reserve (512 bytes left).
	releaseSmall1 := hold(t, h, 64<<10)
	releaseSmall2 := hold(t, h, 64<<10)
	if got := s.InflightBytes(); got != server.MaxBody+128<<10 {
		t.Fatalf("in flight: %d bytes, want %d", got, server.MaxBody+128<<10)
	}
	// A 1 KiB delivery still fits in the main pool's 4 KiB...
	small := `{"n":"` + strings.Repeat("a", 1000) + `"}`
	req, _ = signedRequest("fits", small)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("delivery that fits beside the held ones: %d %s, want 202", rec.Code, rec.Body)
	}
	// ...a 5 KiB one fits nowhere: 503 with Retry-After, body unread.
	req, body := signedRequest("over", big)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("delivery over the bound: %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if body.read.Load() {
		t.Error("the body of a delivery over the bound was read")
	}

	// The held bodies end; their reservations go with them.
	releaseBig()
	releaseSmall1()
	releaseSmall2()
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
	if want := []string{"small-reserve", "fits", "over"}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Errorf("stored %v, want %v", ids, want)
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
