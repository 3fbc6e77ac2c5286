package engine_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

type routeTo coe.Route

func (r routeTo) Route(coe.Incident) coe.Route { return coe.Route(r) }

// alertsDraftEnv is a Drafter against the PagerDuty and Jira fakes and a SQLite
// store.
func alertsDraftEnv(t *testing.T, sla *engine.SLA, now time.Time) (*engine.Drafter, *pdtest.Server, *jiratest.Server) {
	t.Helper()
	pd := pdtest.New("pdtok")
	t.Cleanup(pd.Close)
	js := jiratest.New(jiratest.Options{})
	t.Cleanup(js.Close)
	pc, err := pagerduty.New(pagerduty.Options{BaseURL: pd.URL(), Token: "pdtok", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	jc, err := jira.New(jira.Options{BaseURL: js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	r, err := coe.NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	d := &engine.Drafter{Source: pc, Tracker: jc, Router: routeTo{Project: "OPS", IssueType: "Task"}, Store: openStore(t),
		Renderer: r, Log: slog.New(slog.DiscardHandler), SLA: sla, Now: func() time.Time { return now }}
	return d, pd, js
}

// TestDraftNamesAnAlertsFailure: PagerDuty failing the alerts list does
// not hold the COE back; the COE says the alerts could not be read, and
// why, and the rest of the draft is there.
func TestDraftNamesAnAlertsFailure(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	d, pd, js := alertsDraftEnv(t, nil, now)
	fx := pdtest.RichIncident("PALERT1", now.Add(-2*time.Hour))
	fx.Alerts = []pdtest.Alert{{Summary: "never read"}}
	pd.AddIncident(fx)
	pd.FailNext(1, http.StatusInternalServerError, 0, http.MethodGet, "/alerts")

	outcome, err := d.Draft(context.Background(), fx.ID)
	if err != nil || outcome != engine.OutcomeCreated {
		t.Fatalf("Draft = %v, %v; want created", outcome, err)
	}
	issues := js.Issues()
	if len(issues) != 1 {
		t.Fatalf("%d issues", len(issues))
	}
	desc := issues[0].Description
	want := "_The incident's alerts could not be read from PagerDuty (PagerDuty answered HTTP 500): list the alerts that fired by hand._"
	if !strings.Contains(desc, want) {
		t.Errorf("the COE does not name the failure %q:\n%s", want, desc)
	}
	for _, s := range []string{"h2. Timeline", "*Detection:*", "h2. Action items"} {
		if !strings.Contains(desc, s) {
			t.Errorf("the COE lacks %q", s)
		}
	}
	if strings.Contains(desc, "never read") {
		t.Error("an alert from the failed read is listed")
	}
	if n := pd.Count(http.MethodGet, "/incidents/PALERT1/alerts"); n != 1 {
		t.Errorf("%d alert reads, want 1 (no retry holds the COE)", n)
	}
}

// TestDraftListsAlertsAndFillsSLA: the alerts land under Detection, and
// COESYNC_ACTION_SLA gives the proposed action items the incident's
// priority and a due date (drafting day + the SLA) instead of "_set_".
func TestDraftListsAlertsAndFillsSLA(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	sla := engine.NewSLA(map[string]time.Duration{"P1": 14 * 24 * time.Hour, "default": 30 * 24 * time.Hour})
	d, pd, js := alertsDraftEnv(t, sla, now)
	fx := pdtest.RichIncident("PALERT2", now.Add(-2*time.Hour))
	fx.Alerts = []pdtest.Alert{{Summary: "checkout 5xx above 5%", Source: "checkout-7.prod", ClientURL: "https://grafana.acme.com/d/1"}}
	pd.AddIncident(fx)

	if _, err := d.Draft(context.Background(), fx.ID); err != nil {
		t.Fatal(err)
	}
	desc := js.Issues()[0].Description
	for _, want := range []string{
		"| checkout 5xx above 5% | checkout-7.prod | critical | https\u200b://grafana.acme.com/d/1 |",
		"| add a circuit breaker between checkout and the payments database | Bob Jones | P1 | 2026-12-15 | Proposed |",
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("the COE lacks %q:\n%s", want, desc)
		}
	}
	if strings.Contains(desc, "_set_") {
		t.Error("an action item still says _set_")
	}
}
