package fake

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestDisruptions(t *testing.T) {
	for _, c := range []struct {
		name                   string
		pSlow, pDrop, pAfter   float64
		wantErr, wantServed    bool
		wantSlow, wantB, wantA int
	}{
		{name: "none", wantServed: true},
		{name: "slow past the client timeout", pSlow: 1, wantErr: true, wantServed: true, wantSlow: 1},
		{name: "dropped before", pDrop: 1, wantErr: true, wantServed: false, wantB: 1},
		{name: "dropped after", pAfter: 1, wantErr: true, wantServed: true, wantA: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d Disruptions
			d.Set(c.pSlow, 300*time.Millisecond, c.pDrop, c.pAfter, 1)
			var served atomic.Int32
			done := make(chan struct{}, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				w.WriteHeader(http.StatusCreated)
				done <- struct{}{}
			})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { d.Serve(w, r, h) }))
			defer srv.Close()
			client := &http.Client{Timeout: 100 * time.Millisecond}
			resp, err := client.Post(srv.URL, "application/json", nil)
			if err == nil {
				resp.Body.Close()
			}
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if !c.wantErr && resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if c.wantServed {
				select {
				case <-done: // a slow answer is served after the client left
				case <-time.After(5 * time.Second):
					t.Fatal("the request was never served")
				}
			}
			if got := int(served.Load()); got != map[bool]int{true: 1, false: 0}[c.wantServed] {
				t.Fatalf("served %d times", got)
			}
			if got := d.Counts(); got != (DisruptionCounts{Slow: c.wantSlow, DroppedBefore: c.wantB, DroppedAfter: c.wantA}) {
				t.Fatalf("Counts = %+v", got)
			}
		})
	}
}

func TestInjectedCounts(t *testing.T) {
	var f Faults
	f.FailNext(2, http.StatusBadGateway, 0)
	f.Next()
	f.Next()
	f.FailNext(1, http.StatusTooManyRequests, time.Second)
	f.Next()
	f.FailNext(1, http.StatusForbidden, 0)
	f.Next()
	f.Next() // served
	if got := f.Injected(); got != (FaultCounts{Server: 2, RateLimited: 1, Other: 1}) {
		t.Fatalf("Injected = %+v", got)
	}
}
