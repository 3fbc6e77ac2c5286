package fake

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

func TestZeroFaultsInjectNothing(t *testing.T) {
	var f Faults
	for range 100 {
		if got, ok := f.Next(); ok || got != (Fault{}) {
			t.Fatalf("Next = %+v, %v; want nothing", got, ok)
		}
	}
	if d := f.Latency(); d != 0 {
		t.Fatalf("Latency = %v", d)
	}
}

func TestFailNext(t *testing.T) {
	var f Faults
	f.FailNext(2, http.StatusBadGateway, 1500*time.Millisecond)
	for i := range 2 {
		got, ok := f.Next()
		if want := (Fault{Status: http.StatusBadGateway, RetryAfter: 1500 * time.Millisecond}); !ok || got != want {
			t.Fatalf("request %d: Next = %+v, %v; want %+v", i, got, ok, want)
		}
	}
	if got, ok := f.Next(); ok {
		t.Fatalf("third request: Next = %+v, want served", got)
	}

	f.FailNext(5, http.StatusInternalServerError, 0)
	f.FailNext(1, http.StatusServiceUnavailable, 0) // replaces the earlier one
	if got, _ := f.Next(); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("Next = %+v, want 503", got)
	}
	if _, ok := f.Next(); ok {
		t.Fatal("FailNext did not replace the earlier one")
	}
	f.FailNext(-3, http.StatusInternalServerError, 0)
	if _, ok := f.Next(); ok {
		t.Fatal("FailNext with n < 0 failed a request")
	}
}

func TestFailNextMatching(t *testing.T) {
	var f Faults
	f.FailNextMatching(1, http.StatusTooManyRequests, 2*time.Second, MatchRequest(http.MethodPost, "/notes"))
	get := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/incidents/P1/notes"}}
	post := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/incidents/P1/notes"}}
	if got, ok := f.NextFor(get); ok {
		t.Fatalf("GET: NextFor = %+v, want served", got)
	}
	if got, ok := f.Next(); ok {
		t.Fatalf("a request Next cannot match: %+v, want served", got)
	}
	if got, ok := f.NextFor(post); !ok || got.Status != http.StatusTooManyRequests || got.RetryAfter != 2*time.Second {
		t.Fatalf("POST: NextFor = %+v, %v; want the 429", got, ok)
	}
	if got, ok := f.NextFor(post); ok {
		t.Fatalf("second POST: NextFor = %+v, want served", got)
	}
}

// seq is a Rand that returns fixed numbers in turn.
type seq struct {
	xs []float64
	i  int
}

func (s *seq) Float64() float64 {
	x := s.xs[s.i%len(s.xs)]
	s.i++
	return x
}

func TestFaultRate(t *testing.T) {
	var f Faults
	f.SetFaultRand(0.2, 0.3, &seq{xs: []float64{0.1, 0.3, 0.6, 0.19, 0.49, 0.5}})
	want := []Fault{
		{Status: http.StatusInternalServerError},
		{Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		{},
		{Status: http.StatusInternalServerError},
		{Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		{},
	}
	for i, w := range want {
		got, ok := f.Next()
		if got != w || ok != (w != Fault{}) {
			t.Errorf("request %d: Next = %+v, %v; want %+v", i, got, ok, w)
		}
	}

	// FailNext goes first and draws no random number.
	r := &seq{xs: []float64{0.9}}
	f.SetFaultRand(0.5, 0, r)
	f.FailNext(1, http.StatusForbidden, 0)
	if got, _ := f.Next(); got.Status != http.StatusForbidden || r.i != 0 {
		t.Fatalf("Next = %+v after %d draws, want FailNext's 403 and none", got, r.i)
	}

	f.SetFaultRand(0, 0, r)
	if _, ok := f.Next(); ok || r.i != 0 {
		t.Fatalf("zero rates: failed %v after %d draws", ok, r.i)
	}
}

func TestFaultRateIsReproducible(t *testing.T) {
	run := func() []Fault {
		var f Faults
		f.SetFaultRate(0.3, 0.3, 42)
		out := make([]Fault, 50)
		for i := range out {
			out[i], _ = f.Next()
		}
		return out
	}
	a, b := run(), run()
	var failed int
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: %+v, then %+v with the same seed", i, a[i], b[i])
		}
		if a[i].Status != 0 {
			failed++
		}
	}
	if failed == 0 || failed == len(a) {
		t.Fatalf("%d of %d requests failed at rates 0.3+0.3", failed, len(a))
	}
}

func TestRateLimit(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f := Faults{Now: func() time.Time { return now }}
	f.RateLimit(2)
	for i := range 2 {
		if got, ok := f.Next(); ok {
			t.Fatalf("request %d within the burst: %+v", i, got)
		}
	}
	got, ok := f.Next()
	if want := (Fault{Status: http.StatusTooManyRequests, RetryAfter: 500 * time.Millisecond, Limited: true}); !ok || got != want {
		t.Fatalf("over the burst: Next = %+v, %v; want %+v", got, ok, want)
	}
	now = now.Add(250 * time.Millisecond) // half a token
	if got, _ := f.Next(); got.RetryAfter != 250*time.Millisecond {
		t.Fatalf("Next = %+v, want a 250ms wait", got)
	}
	now = now.Add(time.Hour) // refills to the burst, no more
	for i := range 2 {
		if got, ok := f.Next(); ok {
			t.Fatalf("request %d after the refill: %+v", i, got)
		}
	}
	if _, ok := f.Next(); !ok {
		t.Fatal("the bucket held more than the burst")
	}
	f.RateLimit(0)
	if got, ok := f.Next(); ok {
		t.Fatalf("RateLimit(0): %+v", got)
	}

	// Below one a second, the burst is one request.
	f.RateLimit(0.5)
	if _, ok := f.Next(); ok {
		t.Fatal("first request refused")
	}
	if got, _ := f.Next(); !got.Limited || got.RetryAfter != 2*time.Second {
		t.Fatalf("Next = %+v, want Limited with a 2s wait", got)
	}
}

func TestDelay(t *testing.T) {
	if !Delay(context.Background(), 0) {
		t.Fatal("Delay(0) = false")
	}
	start := time.Now()
	if !Delay(context.Background(), 20*time.Millisecond) || time.Since(start) < 20*time.Millisecond {
		t.Fatal("Delay did not wait")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Delay(ctx, time.Hour) {
		t.Fatal("Delay with an ended context = true")
	}
}

func TestSetRetryAfter(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, ""}, {-time.Second, ""}, {time.Millisecond, "1"}, {time.Second, "1"}, {1500 * time.Millisecond, "2"}, {90 * time.Second, "90"}} {
		h := http.Header{}
		SetRetryAfter(h, c.d)
		if got := h.Get("Retry-After"); got != c.want || (c.want == "" && len(h) != 0) {
			t.Errorf("SetRetryAfter(%v): %q, want %q", c.d, got, c.want)
		}
	}
}

type req struct {
	Method, Path string
	Query        url.Values
	Status       int
}

func newReqLog() *Log[req] {
	return NewLog(func(r req) (string, string) { return r.Method, r.Path },
		func(r req) req { r.Query = CloneValues(r.Query); return r })
}

func TestLog(t *testing.T) {
	l := newReqLog()
	l.Add(req{Method: "GET", Path: "/a/1", Query: url.Values{"x": {"1"}}})
	i := l.Add(req{Method: "POST", Path: "/a/2"})
	l.Add(req{Method: "GET", Path: "/b"})
	if i != 1 {
		t.Fatalf("Add returned %d, want 1", i)
	}
	l.Update(i, func(r *req) { r.Status = 201 })
	l.Update(7, func(r *req) { t.Fatal("Update called f beyond the log") })

	all := l.All()
	if len(all) != 3 || all[1].Status != 201 || all[2].Path != "/b" {
		t.Fatalf("All = %+v", all)
	}
	all[0].Query.Set("x", "changed")
	if got := l.All()[0].Query.Get("x"); got != "1" {
		t.Fatalf("All shares the recorded query: %q", got)
	}

	for _, c := range []struct {
		method, prefix string
		want           int
	}{{"", "", 3}, {"GET", "", 2}, {"", "/a/", 2}, {"GET", "/a/", 1}, {"PUT", "", 0}, {"", "/c", 0}} {
		if got := l.Count(c.method, c.prefix); got != c.want {
			t.Errorf("Count(%q, %q) = %d, want %d", c.method, c.prefix, got, c.want)
		}
	}

	l.Reset()
	if got := l.All(); len(got) != 0 {
		t.Fatalf("All after Reset = %+v", got)
	}
	l.Update(i, func(r *req) { t.Fatal("Update called f after Reset") })
	if j := l.Add(req{Method: "GET", Path: "/"}); j != 0 {
		t.Fatalf("Add after Reset returned %d", j)
	}
}

func TestLogWithoutClone(t *testing.T) {
	l := NewLog[req](func(r req) (string, string) { return r.Method, r.Path }, nil)
	l.Add(req{Method: "GET", Path: "/"})
	if got := l.All(); len(got) != 1 || got[0].Path != "/" {
		t.Fatalf("All = %+v", got)
	}
}

func TestLogConcurrent(t *testing.T) {
	l := newReqLog()
	var f Faults
	f.FailNext(50, http.StatusInternalServerError, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 200 {
		wg.Go(func() {
			i := l.Add(req{Method: "GET", Path: "/x"})
			if _, ok := f.Next(); ok {
				mu.Lock()
				failed++
				mu.Unlock()
			}
			l.Update(i, func(r *req) { r.Status = 200 })
			_ = l.Count("GET", "/")
			_ = l.All()
		})
	}
	wg.Wait()
	if n := l.Count("GET", "/x"); n != 200 || failed != 50 {
		t.Fatalf("%d requests recorded, %d failed; want 200 and 50", n, failed)
	}
}

func TestCloneValues(t *testing.T) {
	if CloneValues(nil) != nil {
		t.Fatal("CloneValues(nil) != nil")
	}
	v := url.Values{"a": {"1", "2"}}
	c := CloneValues(v)
	c["a"][0] = "x"
	c.Add("b", "3")
	if v.Get("a") != "1" || v.Has("b") {
		t.Fatalf("the clone shares memory: %v", v)
	}
}
