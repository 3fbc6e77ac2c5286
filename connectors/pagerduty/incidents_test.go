package pagerduty_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/engine"
)

func TestResolvedIncidentsPagesAndFilters(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv)
	base := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	// 230 resolved incidents in October (three pages of 100), one still
	// open, one resolved before the range and one after.
	for i := range 230 {
		at := base.Add(time.Duration(i) * 3 * time.Hour)
		srv.AddIncident(pdtest.Incident{ID: fmt.Sprintf("PR%04d", i), CreatedAt: at, ResolvedAt: at.Add(time.Hour), Priority: "P2"})
	}
	srv.AddIncident(pdtest.Incident{ID: "POPEN", CreatedAt: base.Add(time.Hour)})
	srv.AddIncident(pdtest.Incident{ID: "PBEFORE", CreatedAt: base.Add(-time.Hour), ResolvedAt: base})
	srv.AddIncident(pdtest.Incident{ID: "PAFTER", CreatedAt: base.AddDate(0, 1, 0), ResolvedAt: base.AddDate(0, 1, 1)})

	got, err := c.ResolvedIncidents(context.Background(), base, base.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 230 {
		t.Fatalf("got %d incidents, want 230", len(got))
	}
	for i, inc := range got {
		if want := fmt.Sprintf("PR%04d", i); inc.ID != want || inc.Priority != "P2" || inc.ResolvedAt.IsZero() {
			t.Fatalf("incident %d = %+v, want %s resolved P2, oldest first", i, inc, want)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages", len(reqs))
	}
	for i, r := range reqs {
		q := r.Query
		if r.Method != http.MethodGet || r.Path != "/incidents" || q.Get("since") != "2026-10-01T00:00:00Z" ||
			q.Get("until") != "2026-11-01T00:00:00Z" || q["statuses[]"][0] != "resolved" || len(q["statuses[]"]) != 1 ||
			q.Get("limit") != "100" || (i > 0 && q.Get("offset") != fmt.Sprint(i*100)) || q.Get("time_zone") != "UTC" {
			t.Errorf("request %d = %s %s?%s", i, r.Method, r.Path, q.Encode())
		}
	}
}

// A range over PagerDuty's six months is asked for in windows.
func TestResolvedIncidentsSplitsLongRanges(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv)
	since := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	srv.AddIncident(pdtest.Incident{ID: "PJAN", CreatedAt: since.Add(time.Hour), ResolvedAt: since.Add(2 * time.Hour)})
	srv.AddIncident(pdtest.Incident{ID: "PDEC", CreatedAt: since.AddDate(0, 11, 0), ResolvedAt: since.AddDate(0, 11, 1)})
	got, err := c.ResolvedIncidents(context.Background(), since, since.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != "PJAN" || got[1].ID != "PDEC" {
		t.Fatalf("got %v, want PJAN and PDEC", got)
	}
	if n := srv.Count(http.MethodGet, "/incidents"); n != 3 {
		t.Errorf("%d requests, want 3 windows of at most six months", n)
	}
}

func TestResolvedIncidentsErrors(t *testing.T) {
	srv := newServer(t)
	c := newClient(t, srv)
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	srv.FailNext(1, http.StatusTooManyRequests, time.Second)
	_, err := c.ResolvedIncidents(context.Background(), since, since.AddDate(0, 0, 7))
	if k, _ := engine.Classify(err); k != engine.RateLimited {
		t.Errorf("429: kind %v (%v), want rate limited", k, err)
	}
	if _, err := c.ResolvedIncidents(context.Background(), since, since); err == nil {
		t.Error("an empty range is not an error")
	}
}

func TestCheckAccess(t *testing.T) {
	srv := newServer(t)
	if err := newClient(t, srv).CheckAccess(context.Background()); err != nil {
		t.Fatalf("good token: %v", err)
	}
	err := newClient(t, srv, func(o *pagerduty.Options) { o.Token = "wrong" }).CheckAccess(context.Background())
	if engine.StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("wrong token: %v, want a 401", err)
	}
	noToken(t, err)
}
