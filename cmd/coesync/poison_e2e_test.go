package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

// A signed PagerDuty event whose event.id PostgreSQL cannot store (NUL) or
// a decoder would rewrite (invalid UTF-8: "evt-\xff" and "evt-\xfe" both
// became "evt-\uFFFD") sent among valid ones, on PostgreSQL: the poisoned
// ones get 400, and every valid one sent with them is stored and answered
// 202 (they used to share its failed group-commit transaction, and 503).
func TestPoisonedDeliveriesFailAloneOnPostgres(t *testing.T) {
	pgURL := testPostgresDB(t)
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.DatabaseURL = config.DSN(pgURL) }})
	ctx := context.Background()
	event := func(id string) []byte {
		return []byte(`{"event":{"id":"` + id + `","event_type":"incident.acknowledged","occurred_at":"2026-11-16T09:00:00Z",` +
			`"data":{"id":"PPOISON","type":"incident"}}}`)
	}
	poisons := []string{`evt-\u0000`, "evt-\xff", "evt-\xfe", "evt-\xc0", `evt-\ud800`}
	const valid = 60
	var wg sync.WaitGroup
	codes := make([]int, valid+len(poisons))
	errs := make([]error, len(codes))
	for i := range codes {
		id := fmt.Sprintf("evt-ok-%d", i)
		if i >= valid {
			id = poisons[i-valid]
		}
		body := event(id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = e.Post(ctx, "/webhooks/pagerduty", body, pdtest.Sign(demoSecret, body))
		}()
	}
	wg.Wait()
	for i, code := range codes {
		want := http.StatusAccepted
		if i >= valid {
			want = http.StatusBadRequest
		}
		if errs[i] != nil || code != want {
			t.Errorf("delivery %d: %d %v, want %d", i, code, errs[i], want)
		}
	}
	counts, err := e.App.Store.DeliveryCounts(ctx, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if counts["pagerduty"] != valid {
		t.Fatalf("%d PagerDuty deliveries stored, want the %d valid ones", counts["pagerduty"], valid)
	}
}
