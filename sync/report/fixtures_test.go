package report

import (
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin even where the system has no zoneinfo
)

// berlin loads Europe/Berlin.
func berlin(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// at is a time in loc: at(loc, "2026-11-16 10:00").
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// day is a due date as a Jira adapter would pass it: midnight UTC.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// seed is the Input of the golden files: Monday 2026-11-23 09:00 in
// Berlin, so the default period is 2026-W47 (16–22 November). Titles,
// owners and teams carry hostile text.
func seed(t testing.TB) Input {
	loc := berlin(t)
	a := func(s string) time.Time { return at(t, loc, s) }
	jira := func(k string) string { return "https://acme.atlassian.net/browse/" + k }
	now := a("2026-11-23 09:00")
	return Input{
		Now:       now,
		Location:  loc,
		PublicURL: "https://coesync.example.com/",
		COEs: []COE{
			{IncidentID: "Q1", Key: "OPS-90", URL: jira("OPS-90"), Title: "Payment webhooks dropped", Service: "checkout-api", Team: "payments", Created: a("2026-10-01 11:00"), Reviewed: true},
			{IncidentID: "Q2", Key: "OPS-91", URL: jira("OPS-91"), Title: "Search index stale", Service: "search-indexer", Team: "search", Created: a("2026-10-08 09:30"), Reviewed: true},
			{IncidentID: "Q3", Key: "OPS-92", URL: jira("OPS-92"), Title: "Login errors after deploy", Service: "auth", Team: "identity", Created: a("2026-10-21 16:00"), Reviewed: true},
			{IncidentID: "Q4", Key: "OPS-93", URL: jira("OPS-93"), Title: "Queue backlog", Service: "checkout-api", Team: "payments", Created: a("2026-10-29 08:00"), Reviewed: true},
			{IncidentID: "Q5", Key: "OPS-94", URL: jira("OPS-94"), Title: "Disk full on db-2", Service: "orders-db", Team: "platform", Created: a("2026-11-03 13:00"), Reviewed: true},
			{IncidentID: "Q6", Key: "OPS-95", URL: jira("OPS-95"), Title: "Card declines spike", Service: "checkout-api", Team: "payments", Created: a("2026-11-12 10:00")},
			{IncidentID: "Q7", Key: "OPS-98", URL: jira("OPS-98"), Title: "Old draft [click](http://evil.example) **now**", Service: "search-api", Team: "search", Created: a("2026-11-05 15:00")},
			// The period.
			{IncidentID: "P1", Key: "OPS-101", URL: jira("OPS-101"), Title: "Checkout latency <script>alert(1)</script>", Service: "checkout-api", Team: "payments", Created: a("2026-11-16 10:00"), Reviewed: true},
			{IncidentID: "P2", Key: "OPS-102", URL: jira("OPS-102"), Title: "Checkout 5xx again | ping @channel about #12", Service: "checkout-api", Team: "payments", Created: a("2026-11-17 14:30"), Recurrence: true},
			{IncidentID: "P3", Key: "OPS-103", URL: jira("OPS-103"), Title: "Index lag, see https://evil.example/x or www.evil.example", Service: "search-indexer", Team: "search", Created: a("2026-11-19 09:15"), Reviewed: true},
			{IncidentID: "P4", Key: "OPS-104", URL: "javascript:alert(1)", Title: "Token refresh\nfailures", Service: "auth", Team: "@here team", Created: a("2026-11-22 23:30")},
			// After the period, before now.
			{IncidentID: "N1", Key: "OPS-105", URL: jira("OPS-105"), Title: "Cache stampede", Service: "search-api", Team: "search", Created: a("2026-11-23 08:00")},
		},
		Items: []ActionItem{
			{Key: "OPS-110", URL: jira("OPS-110"), COEKey: "OPS-90", Title: "Retry webhook deliveries", Team: "payments", Repo: "acme/checkout", Owner: "alice", Opened: a("2026-10-02 10:00"), Closed: a("2026-10-20 10:00"), Due: day(t, "2026-10-30")},
			{Key: "OPS-111", URL: jira("OPS-111"), COEKey: "OPS-90", Title: "Alert on dropped webhooks", Team: "payments", Repo: "acme/checkout", Owner: "bob | @channel", IssueURL: "https://github.com/acme/checkout/issues/41", Opened: a("2026-10-02 10:00"), Due: day(t, "2026-10-31")},
			{Key: "OPS-112", URL: jira("OPS-112"), COEKey: "OPS-91", Title: "Backfill job for the index", Team: "search", Repo: "acme/search", Owner: "carol", Opened: a("2026-10-09 09:00"), Closed: a("2026-11-18 10:00")},
			{Key: "OPS-113", URL: jira("OPS-113"), COEKey: "OPS-92", Title: "Canary for auth deploys", Team: "identity", Repo: "acme/auth", Owner: "alice", Opened: a("2026-10-22 12:00"), Due: day(t, "2026-12-01")},
			{Key: "OPS-114", URL: jira("OPS-114"), COEKey: "OPS-93", Title: "Autoscale consumers", Team: "payments", Repo: "acme/checkout", Owner: "dave", Opened: a("2026-10-30 09:00"), Closed: a("2026-11-20 17:00")},
			{Key: "OPS-115", URL: jira("OPS-115"), COEKey: "OPS-94", Title: "Disk alerts at 80%", Team: "platform", Repo: "acme/infra", Owner: "<script>alert(1)</script>", IssueURL: "https://github.com/acme/infra/issues/7", Opened: a("2026-11-04 10:00"), Due: day(t, "2026-11-20")},
			{Key: "OPS-116", URL: jira("OPS-116"), COEKey: "OPS-101", Title: "Cap checkout retries", Team: "payments", Repo: "acme/checkout", Owner: "alice", Opened: a("2026-11-16 12:00"), Closed: a("2026-11-19 12:00")},
			{Key: "OPS-117", URL: jira("OPS-117"), COEKey: "OPS-101", Title: "Load test the `checkout` path", Team: "payments", Repo: "acme/checkout", Owner: "erin", Opened: a("2026-11-16 12:00"), Due: day(t, "2026-11-22")},
			{Key: "OPS-118", URL: jira("OPS-118"), COEKey: "OPS-102", Title: "Add alert for #12 and ping @oncall", Opened: a("2026-11-17 15:00")},
			{Key: "OPS-119", URL: jira("OPS-119"), COEKey: "OPS-102", Title: "Runbook: <b>restart</b> pods", Team: "payments", Repo: "acme/checkout", Owner: "carol", Opened: a("2026-11-17 15:00"), Closed: a("2026-11-21 09:00"), Problem: "no Jira transition Done"},
			{Key: "OPS-120", URL: jira("OPS-120"), COEKey: "OPS-103", Title: "Lag SLO | dashboard", Team: "search", Repo: "acme/search", Owner: "frank", IssueURL: "https://github.com/acme/search/issues/77", Opened: a("2026-11-19 10:00"), Due: a("2026-11-21 15:00"), Problem: "GitHub issue deleted"},
			{Key: "OPS-121", URL: jira("OPS-121"), COEKey: "OPS-105", Title: "Jitter cache TTLs", Team: "search", Repo: "acme/search", Owner: "frank", Opened: a("2026-11-23 08:30")},
			{Key: "OPS-100", URL: jira("OPS-100"), COEKey: "OPS-80", Title: "Rotate the legacy signing key", Team: "platform", Repo: "acme/infra", Owner: "erin", Opened: a("2026-09-01 10:00")},
			{Key: "OPS-122", URL: jira("OPS-122"), COEKey: "OPS-94", Title: "Move db-2 to bigger disks", Team: "platform", Repo: "acme/infra", Owner: "dave", Opened: a("2026-11-10 10:00"), Closed: a("2026-11-23 00:00")},
		},
		Health: Health{
			WebhooksReceived:     map[string]int{"pagerduty": 120, "github": 45, "jira": 30},
			WebhooksRejected:     map[string]int{"rejected_signature": 3, "malformed": 1},
			WebhooksBadSignature: map[string]int{"pagerduty": 3},
			JobsFailed:           2,
			JobsWaiting:          1,
			DriftRepaired:        4,
			MissingTransitions:   1,
			RateLimitWaits:       7,
			LastReconcile:        map[string]time.Time{"jira": now.Add(-20 * time.Minute), "github": now.Add(-50 * time.Minute)},
			ReconcileInterval:    30 * time.Minute,
		},
	}
}
