package engine_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	s, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "coesync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addCOE stores a created COE with action items (true: closed).
func addCOE(t *testing.T, s store.Store, c store.COE, created time.Time, items map[string]bool) {
	t.Helper()
	ctx := context.Background()
	c.Label, c.IntentAt = coe.IncidentLabel(c.IncidentID), created
	if _, _, err := s.BeginCOE(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCOETicket(ctx, c.IncidentID, c.TicketKey, "", "https://jira.example/browse/"+c.TicketKey, created); err != nil {
		t.Fatal(err)
	}
	for key, closed := range items {
		if err := s.PutActionItem(ctx, store.ActionItem{JiraKey: key, COEKey: c.TicketKey, State: store.MirrorLinked,
			Title: "fix " + key, Closed: closed, Owner: "Lee", IssueURL: "https://github.com/acme/x/issues/1"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHistoryFromStore(t *testing.T) {
	s := openStore(t)
	now := resolved.Add(time.Minute)
	addCOE(t, s, store.COE{IncidentID: "POLD", TicketKey: "OPS-1", ServiceID: "PSVC", Title: "old", IncidentNumber: 1}, trigger.Add(-100*24*time.Hour), map[string]bool{"OPS-2": true})
	addCOE(t, s, store.COE{IncidentID: "PRECENT", TicketKey: "OPS-3", ServiceID: "PSVC", Title: "recent", IncidentNumber: 2}, trigger.Add(-10*24*time.Hour),
		map[string]bool{"OPS-4": true, "OPS-5": false})
	addCOE(t, s, store.COE{IncidentID: "PKEY", TicketKey: "OPS-6", ServiceID: "POTHER", IncidentKey: "disk-full"}, trigger.Add(-24*time.Hour), nil)
	addCOE(t, s, store.COE{IncidentID: "PUNRELATED", TicketKey: "OPS-7", ServiceID: "POTHER"}, trigger.Add(-time.Hour), nil)
	// The incident's own COE (a retry after the ticket exists) is not earlier.
	addCOE(t, s, store.COE{IncidentID: incident.ID, TicketKey: "OPS-8", ServiceID: "PSVC"}, resolved, nil)

	js := jiratest.New(jiratest.Options{})
	t.Cleanup(js.Close)
	jc, err := jira.New(jira.Options{BaseURL: js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	h := &engine.HistoryFinder{Store: s, Jira: jc, Window: 90 * 24 * time.Hour}
	inc := incident
	inc.IncidentKey = "disk-full"
	got, err := h.Find(context.Background(), inc, true, now)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range got.Earlier {
		keys = append(keys, e.TicketKey)
	}
	if strings.Join(keys, " ") != "OPS-6 OPS-3 OPS-1" {
		t.Fatalf("earlier = %v, want OPS-6 OPS-3 OPS-1 (newest first, own and unrelated left out)", keys)
	}
	e6, e3, e1 := got.Earlier[0], got.Earlier[1], got.Earlier[2]
	if !e6.SameKey || e6.SameService || !e6.InWindow {
		t.Errorf("OPS-6: %+v", e6)
	}
	if !e3.InWindow || !e3.ItemsKnown || e3.OpenItems != 1 || e3.DoneItems != 1 || len(e3.Open) != 1 || e3.Open[0].Key != "OPS-5" || e3.Title != "recent" {
		t.Errorf("OPS-3: %+v", e3)
	}
	if e1.InWindow || e1.DoneItems != 1 || e1.OpenItems != 0 {
		t.Errorf("OPS-1 (outside the window): %+v", e1)
	}
	if r, ok := got.Recurrence(); !ok || r.TicketKey != "OPS-6" || len(got.StillOpen()) != 1 || got.StillOpen()[0].TicketKey != "OPS-3" {
		t.Errorf("recurrence %v %v, still open %v", r, ok, got.StillOpen())
	}
	if n := len(js.Requests()); n != 0 {
		t.Errorf("%d Jira requests although the store knew earlier COEs", n)
	}
}

func TestHistoryFallsBackToJira(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	// The fake's clock: the tickets below are created before the incident triggered.
	js := jiratest.New(jiratest.Options{Now: func() time.Time { return trigger.Add(-2 * time.Hour) }})
	t.Cleanup(js.Close)
	jc, err := jira.New(jira.Options{BaseURL: js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	// A COE from before coesync's store, with an open and a done sub-task,
	// and this incident's own ticket from an interrupted create.
	old, err := jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE: disk full (PagerDuty #7)",
		Labels: []string{"coe", coe.IncidentLabel("PEARLY"), coe.ServiceLabel("PSVC")}})
	if err != nil {
		t.Fatal(err)
	}
	open, err := jc.CreateSubtask(ctx, old.Key, coe.TicketSpec{Project: "OPS", IssueType: "Sub-task", Summary: "add disk alarm"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := jc.CreateSubtask(ctx, old.Key, coe.TicketSpec{Project: "OPS", IssueType: "Sub-task", Summary: "clean logs"})
	if err != nil {
		t.Fatal(err)
	}
	js.SetStatus(done.Key, "Done")
	if _, err := jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE: own",
		Labels: []string{"coe", coe.IncidentLabel(incident.ID), coe.ServiceLabel("PSVC")}}); err != nil {
		t.Fatal(err)
	}

	h := &engine.HistoryFinder{Store: s, Jira: jc, Window: 90 * 24 * time.Hour}
	got, err := h.Find(ctx, incident, true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Earlier) != 1 {
		t.Fatalf("earlier = %+v, want the COE found in Jira only", got.Earlier)
	}
	e := got.Earlier[0]
	if e.TicketKey != old.Key || !e.FromJira || !e.ItemsKnown || e.OpenItems != 1 || e.DoneItems != 1 ||
		e.Open[0].Key != open.Key || e.Title != "COE: disk full (PagerDuty #7)" || e.CreatedAt.IsZero() {
		t.Errorf("from Jira: %+v", e)
	}
	// Created two hours before the incident triggered: inside the window.
	if !got.IsRecurrence() {
		t.Error("a COE created in the window is not a recurrence")
	}
	var searches int
	for _, r := range js.Requests() {
		// The label search; Subtasks reads the sub-tasks with a POST.
		if strings.Contains(r.Path, "/search") && r.Method == http.MethodGet {
			searches++
		}
	}
	if searches != 1 {
		t.Errorf("%d label searches, want 1", searches)
	}

	// Another incident of the service soon after: Jira's answer is reused.
	js.ResetRequests()
	other := incident
	other.ID = "PINC2"
	// (For it, PINC1's ticket is an earlier COE too.)
	if got, err = h.Find(ctx, other, true, time.Now()); err != nil || len(got.Earlier) != 2 || got.Earlier[1].TicketKey != old.Key {
		t.Fatalf("second incident: %+v %v", got.Earlier, err)
	}
	if n := len(js.Requests()); n != 0 {
		t.Errorf("second incident of the service asked Jira %d times, want 0 (cached)", n)
	}

	// Jira failing: transient is retried while strict, otherwise noted.
	h = &engine.HistoryFinder{Store: s, Jira: jc, Window: 90 * 24 * time.Hour, JiraCacheTTL: -1}
	js.FailNext(1, http.StatusServiceUnavailable, 0)
	if _, err := h.Find(ctx, incident, true, time.Now()); err == nil {
		t.Error("strict: a 503 from Jira did not fail the lookup")
	}
	js.FailNext(1, http.StatusServiceUnavailable, 0)
	got, err = h.Find(ctx, incident, false, time.Now())
	if err != nil || !strings.HasPrefix(got.Failed, "Jira: jira HTTP 503") {
		t.Errorf("not strict: err=%v failed=%q", err, got.Failed)
	}
}

// Once the store has kept COEs for the whole window, it alone is asked.
func TestHistoryStoreCoversTheWindow(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	js := jiratest.New(jiratest.Options{})
	t.Cleanup(js.Close)
	jc, err := jira.New(jira.Options{BaseURL: js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	h := &engine.HistoryFinder{Store: s, Jira: jc, Window: 90 * 24 * time.Hour, JiraCacheTTL: -1}
	now := resolved
	if _, err := h.Find(ctx, incident, true, now); err != nil {
		t.Fatal(err)
	}
	if n := len(js.Requests()); n != 1 {
		t.Fatalf("first lookup: %d Jira requests, want the label search", n)
	}
	js.ResetRequests()
	if _, err := h.Find(ctx, incident, true, now.Add(89*24*time.Hour)); err != nil || len(js.Requests()) != 1 {
		t.Fatalf("89 days later: %d Jira requests, err %v; want the search (the store is younger than the window)", len(js.Requests()), err)
	}
	js.ResetRequests()
	got, err := h.Find(ctx, incident, true, now.Add(91*24*time.Hour))
	if err != nil || !got.Searched || len(js.Requests()) != 0 {
		t.Fatalf("91 days later: %d Jira requests, %+v, %v; want none", len(js.Requests()), got, err)
	}
}

// A backfill reviews old incidents after newer ones were reviewed: the COE
// of an earlier incident is never called a repeat of a later one's, neither
// from the store nor from Jira (where coesync's own recent tickets are).
func TestHistoryOnlyIncidentsTriggeredBefore(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	now := trigger.Add(30 * 24 * time.Hour) // the backfill runs a month later
	// Incident #20 triggered after #10 and was reviewed before the backfill.
	later := store.COE{IncidentID: "PLATER", TicketKey: "OPS-5", ServiceID: "PSVC", IncidentKey: "disk-full", IncidentNumber: 20, Title: "later"}
	addCOE(t, s, later, trigger.Add(10*24*time.Hour), map[string]bool{"OPS-6": false})
	// Its ticket is in Jira too, created when it was reviewed.
	js := jiratest.New(jiratest.Options{Now: func() time.Time { return trigger.Add(10 * 24 * time.Hour) }})
	t.Cleanup(js.Close)
	jc, err := jira.New(jira.Options{BaseURL: js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE: later",
		Labels: []string{"coe", coe.IncidentLabel("PLATER"), coe.ServiceLabel("PSVC")}}); err != nil {
		t.Fatal(err)
	}
	h := &engine.HistoryFinder{Store: s, Jira: jc, Window: 90 * 24 * time.Hour, JiraCacheTTL: -1}

	for _, tc := range []struct {
		name string
		inc  coe.Incident
	}{
		{"numbered", coe.Incident{ID: "PEARLY", Number: 10, ServiceID: "PSVC", IncidentKey: "disk-full", CreatedAt: trigger, ResolvedAt: resolved}},
		{"number unknown", coe.Incident{ID: "PEARLY", ServiceID: "PSVC", IncidentKey: "disk-full", CreatedAt: trigger, ResolvedAt: resolved}},
	} {
		got, err := h.Find(ctx, tc.inc, true, now)
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := got.Recurrence(); ok || len(got.Earlier) != 0 || len(got.StillOpen()) != 0 {
			t.Errorf("%s: the earlier incident repeats %+v (earlier %+v, still open %+v); want no earlier COE", tc.name, r, got.Earlier, got.StillOpen())
		}
	}

	// The later incident, asked about after the backfill, repeats the earlier one.
	addCOE(t, s, store.COE{IncidentID: "PEARLY", TicketKey: "OPS-7", ServiceID: "PSVC", IncidentKey: "disk-full", IncidentNumber: 10}, now, nil)
	got, err := h.Find(ctx, coe.Incident{ID: "PLATER", Number: 20, ServiceID: "PSVC", IncidentKey: "disk-full",
		CreatedAt: trigger.Add(9 * 24 * time.Hour)}, true, now)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := got.Recurrence(); !ok || r.TicketKey != "OPS-7" || len(got.Earlier) != 1 {
		t.Errorf("the later incident: recurrence %+v %v, earlier %+v; want OPS-7 only", r, ok, got.Earlier)
	}
}
