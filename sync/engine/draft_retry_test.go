package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

type fixedRoute coe.Route

func (r fixedRoute) Route(coe.Incident) coe.Route { return coe.Route(r) }

// draftEnv is a Drafter against the PagerDuty and Jira fakes through the
// connectors and, with gate, the rate gate the process puts them behind.
type draftEnv struct {
	pd *pdtest.Server
	js *jiratest.Server
	d  *engine.Drafter
}

func newDraftEnv(t *testing.T, gate *engine.RateGate) *draftEnv {
	t.Helper()
	e := &draftEnv{pd: pdtest.New("pd-token"), js: jiratest.New(jiratest.Options{})}
	t.Cleanup(e.pd.Close)
	t.Cleanup(e.js.Close)
	e.pd.AddIncident(pdtest.RichIncident("PINC1", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
	pc, err := pagerduty.New(pagerduty.Options{BaseURL: e.pd.URL(), Token: "pd-token"})
	if err != nil {
		t.Fatal(err)
	}
	jc, err := jira.New(jira.Options{BaseURL: e.js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := coe.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	e.d = &engine.Drafter{Source: engine.GateSource(pc, gate), Tracker: engine.GateTickets(jc, gate),
		Router: fixedRoute{Project: "OPS", IssueType: "Task"}, Renderer: renderer, Store: openStore(t),
		Log: slog.New(slog.DiscardHandler)}
	return e
}

// pdReads counts the GETs of each PagerDuty resource of PINC1.
func (e *draftEnv) pdReads() map[string]int {
	n := map[string]int{}
	for _, r := range e.pd.Requests() {
		if r.Method == http.MethodGet {
			n[r.Path]++
		}
	}
	return n
}

// A draft job whose attempt fails after fetching (Jira answers the create
// with a 500) is retried without reading the incident and its log entries
// from PagerDuty again: the first attempt kept them. The notes are read
// again (they may have changed).
func TestDraftRetryReusesTheFetchedIncident(t *testing.T) {
	ctx := context.Background()
	e := newDraftEnv(t, nil)
	e.js.FailNext(1, http.StatusInternalServerError, 0)
	if _, err := e.d.Draft(ctx, "PINC1"); err == nil {
		t.Fatal("the first attempt succeeded despite the 500 on create")
	}
	outcome, err := e.d.Draft(ctx, "PINC1")
	if err != nil || outcome != engine.OutcomeCreated {
		t.Fatalf("second attempt: %q, %v", outcome, err)
	}
	got := e.pdReads()
	for path, want := range map[string]int{"/incidents/PINC1": 1, "/incidents/PINC1/log_entries": 1, "/incidents/PINC1/notes": 2} {
		if got[path] != want {
			t.Errorf("GET %s: %d requests, want %d (all: %v)", path, got[path], want, got)
		}
	}
	if n := len(e.js.Issues()); n != 1 {
		t.Errorf("%d issues in Jira, want 1", n)
	}
}

// A copy older than FetchedMaxAge is not used: the incident is read again.
func TestDraftRetryRefetchesAStaleCopy(t *testing.T) {
	ctx := context.Background()
	e := newDraftEnv(t, nil)
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	e.d.Now = func() time.Time { return now }
	e.js.FailNext(1, http.StatusInternalServerError, 0)
	if _, err := e.d.Draft(ctx, "PINC1"); err == nil {
		t.Fatal("the first attempt succeeded despite the 500 on create")
	}
	now = now.Add(engine.FetchedMaxAge + time.Second)
	if _, err := e.d.Draft(ctx, "PINC1"); err != nil {
		t.Fatal(err)
	}
	if got := e.pdReads(); got["/incidents/PINC1"] != 2 || got["/incidents/PINC1/log_entries"] != 2 {
		t.Errorf("reads %v, want the incident and its log read twice", got)
	}
}

// A read from PagerDuty that fails once with a 503 is tried again within
// the attempt: the draft job succeeds in one attempt.
func TestDraftSucceedsInOneAttemptDespiteA503OnARead(t *testing.T) {
	for _, path := range []string{"/incidents/PINC1", "/log_entries", "/notes"} {
		t.Run(path, func(t *testing.T) {
			ctx := context.Background()
			e := newDraftEnv(t, &engine.RateGate{Sleep: func(context.Context, time.Duration) error { return nil }})
			e.pd.FailNext(1, http.StatusServiceUnavailable, 0, http.MethodGet, path)
			outcome, err := e.d.Draft(ctx, "PINC1")
			if err != nil || outcome != engine.OutcomeCreated {
				t.Fatalf("the attempt: %q, %v; want the COE created", outcome, err)
			}
			if n := len(e.js.Issues()); n != 1 {
				t.Errorf("%d issues in Jira, want 1", n)
			}
		})
	}
}
