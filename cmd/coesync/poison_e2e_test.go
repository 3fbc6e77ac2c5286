package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/longtest"
	"github.com/coesync/coesync/sync/store"
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
	sendPoisoned(t, func(body []byte) (int, error) {
		return e.Post(ctx, "/webhooks/pagerduty", body, pdtest.Sign(demoSecret, body))
	})
	counts, err := e.App.Store.DeliveryCounts(ctx, time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if counts["pagerduty"] != poisonValid {
		t.Fatalf("%d PagerDuty deliveries stored, want the %d valid ones", counts["pagerduty"], poisonValid)
	}
}

// The same against the real binary on PostgreSQL, as a deployment runs it.
func TestPoisonedDeliveriesFailAloneOnPostgresBinary(t *testing.T) {
	longtest.Require(t)
	pgURL := testPostgresDB(t)
	bin := buildBinary(t)
	pd := pdtest.New(demoPDToken)
	defer pd.Close()
	jira := jiratest.New(jiratest.Options{User: demoJiraUser, Token: demoJiraToken, Transitions: demoWorkflow()})
	defer jira.Close()
	gh := ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	defer gh.Close()
	p := startServe(t, bin, fakesEnv(pgURL, pd, jira, gh))
	client := &http.Client{Timeout: 30 * time.Second}
	sendPoisoned(t, func(body []byte) (int, error) {
		req, err := http.NewRequest(http.MethodPost, p.url+"/webhooks/pagerduty", bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-PagerDuty-Signature", pdtest.Sign(demoSecret, body))
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	})
	st, err := store.OpenPostgres(context.Background(), pgURL, store.Options{SkipMigrate: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.DeliveryCounts(context.Background(), time.Time{}, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if counts["pagerduty"] != poisonValid {
		t.Fatalf("%d PagerDuty deliveries stored, want the %d valid ones", counts["pagerduty"], poisonValid)
	}
}

const poisonValid = 60

// sendPoisoned sends poisonValid valid events and the poisoned ones at
// once, and wants 202 for every valid one and 400 for every poisoned one.
func sendPoisoned(t *testing.T, post func(body []byte) (int, error)) {
	t.Helper()
	event := func(id string) []byte {
		return []byte(`{"event":{"id":"` + id + `","event_type":"incident.acknowledged","occurred_at":"2026-11-16T09:00:00Z",` +
			`"data":{"id":"PPOISON","type":"incident"}}}`)
	}
	poisons := []string{`evt-\u0000`, "evt-\xff", "evt-\xfe", "evt-\xc0", `evt-\ud800`}
	var wg sync.WaitGroup
	codes := make([]int, poisonValid+len(poisons))
	errs := make([]error, len(codes))
	for i := range codes {
		id := fmt.Sprintf("evt-ok-%d", i)
		if i >= poisonValid {
			id = poisons[i-poisonValid]
		}
		body := event(id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = post(body)
		}()
	}
	wg.Wait()
	for i, code := range codes {
		want := http.StatusAccepted
		if i >= poisonValid {
			want = http.StatusBadRequest
		}
		if errs[i] != nil || code != want {
			t.Errorf("delivery %d: %d %v, want %d", i, code, errs[i], want)
		}
	}
}
