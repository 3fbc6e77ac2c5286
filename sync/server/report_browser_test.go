package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Berlin even where the system has no zoneinfo

	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/report"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
)

// TestReportInBrowser loads GET /report and GET / in headless Chromium from
// a server over a seeded SQLite store and checks, in the DOM Chromium
// rendered, that the numbers are the report's and that the charts are
// there; screenshots at laptop and phone size are saved as artifacts
// ($COESYNC_ARTIFACTS_DIR, else <repo>/artifacts) and checked to be real
// images with the charts' colours in them.
func TestReportInBrowser(t *testing.T) {
	chromium := findChromium(t)
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := context.Background()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := browserAt(t, loc, "2026-05-19 09:30") // a Tuesday: the last full week is 2026-W20
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "coesync.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedBrowserStore(t, st, loc, now)

	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	clock := func() time.Time { return now }
	reporter := &engine.Reporter{Store: st, Location: loc, StaleDraftDays: 7, ReconcileInterval: 5 * time.Minute,
		Now: clock, Log: log}
	ts := httptest.NewServer((&server.Server{Reports: reporter, Store: st, Log: log, Now: clock}).AdminHandler())
	t.Cleanup(ts.Close)

	b := startBrowser(t, chromium)
	arts := artifactsDir(t)

	// The report of 2026-W20 (Monday 11 to Sunday 17 May), as Build makes it.
	const week = "2026-W20"
	p, err := report.ISOWeek(week, loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := browserAt(t, loc, "2026-05-11 00:00"); !p.Since.Equal(want) {
		t.Fatalf("%s starts %v, want %v", week, p.Since, want)
	}
	rep, err := reporter.Build(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	checkSeededReport(t, rep)

	url := ts.URL + "/report?week=" + week
	dom, stderr := b.run(t, "--dump-dom", url)
	writeArtifact(t, arts, "report-browser-dom.html", dom)
	checkConsole(t, "/report", stderr)
	checkReportDOM(t, parseDOM(t, string(dom)), rep)

	for _, shot := range []struct {
		name string
		w, h int
	}{{"laptop", 1280, 2000}, {"phone", 390, 1600}} {
		path := filepath.Join(arts, "report-browser-"+shot.name+".png")
		os.Remove(path)
		_, stderr := b.run(t, "--screenshot="+path, fmt.Sprintf("--window-size=%d,%d", shot.w, shot.h), "--hide-scrollbars", url)
		checkConsole(t, "/report ("+shot.name+")", stderr)
		checkScreenshot(t, path, shot.w, shot.h, true)
		t.Logf("screenshot (%s, %dx%d): %s", shot.name, shot.w, shot.h, path)
	}

	// The status page: today's health, and a link to the report.
	y, m, d := now.Date()
	in, err := reporter.Input(ctx, report.Period{Since: time.Date(y, m, d, 0, 0, 0, 0, loc), Until: now})
	if err != nil {
		t.Fatal(err)
	}
	health := report.Assess(in.Health, now)
	dom, stderr = b.run(t, "--dump-dom", ts.URL+"/")
	writeArtifact(t, arts, "status-browser-dom.html", dom)
	checkConsole(t, "/", stderr)
	checkStatusDOM(t, parseDOM(t, string(dom)), health)
	path := filepath.Join(arts, "status-browser-laptop.png")
	os.Remove(path)
	_, stderr = b.run(t, "--screenshot="+path, "--window-size=1280,900", "--hide-scrollbars", ts.URL+"/")
	checkConsole(t, "/ (laptop)", stderr)
	checkScreenshot(t, path, 1280, 900, false)
	t.Logf("screenshot (status, 1280x900): %s", path)
}

// --- the seed ------------------------------------------------------------

// seedBrowserStore stores five COEs of two teams over five weeks, eleven
// action items (one whose Jira item was deleted), webhook deliveries,
// counters and the last reconcile times. The numbers it must give for
// 2026-W20 are worked out in checkSeededReport.
func seedBrowserStore(t *testing.T, st *store.SQLite, loc *time.Location, now time.Time) {
	t.Helper()
	ctx := context.Background()
	at := func(s string) time.Time { return browserAt(t, loc, s) }
	coes := []struct {
		incident, key, title, service, teams, category, created string
	}{
		{"PD1A", "COE-101", "Checkout returned 502 for 40 minutes after a config push", "checkout-api", "payments", "done", "2026-04-14 10:00"},
		{"PD2B", "COE-102", "Login tokens rejected after key rotation", "login-service", "identity", "indeterminate", "2026-04-29 15:30"},
		{"PD3C", "COE-103", "Card payments declined: PSP certificate expired", "checkout-api", "payments", "new", "2026-05-07 08:15"},
		{"PD4D", "COE-104", "Refund queue stalled over the weekend", "checkout-api", "payments", "indeterminate", "2026-05-11 11:00"},
		{"PD5E", "COE-105", "SSO redirect loop for <b>enterprise</b> tenants & partners", "login-service", "identity,payments", "", "2026-05-15 17:45"},
	}
	for i, c := range coes {
		created := at(c.created)
		if _, _, err := st.BeginCOE(ctx, store.COE{IncidentID: c.incident, Label: "pd-" + strings.ToLower(c.incident),
			Project: "COE", Title: c.title, ServiceID: "SVC" + strconv.Itoa(i), ServiceName: c.service, Teams: c.teams,
			IntentAt: created.Add(-time.Minute), TicketCategory: c.category,
			IncidentURL: "https://acme.pagerduty.com/incidents/" + c.incident, IncidentNumber: 1000 + i}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetCOETicket(ctx, c.incident, c.key, strconv.Itoa(20000+i), "https://acme.atlassian.net/browse/"+c.key, created); err != nil {
			t.Fatal(err)
		}
	}

	// Due dates are days, as Jira gives them: midnight UTC.
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	items := []struct {
		key, coe, incident, repo, owner, title string
		opened, closed                         string
		due                                    time.Time
		problem                                string
		state                                  store.MirrorState
	}{
		{"ACT-1", "COE-101", "PD1A", "acme/checkout", "Alice Meyer", "Validate config pushes in CI", "2026-04-14 12:00", "2026-04-22 10:00", day("2026-04-24"), "", store.MirrorLinked},
		{"ACT-2", "COE-101", "PD1A", "acme/infra", "Bob Schulz", "Canary stage for the checkout deploy", "2026-04-14 12:30", "2026-05-12 16:00", day("2026-05-01"), "", store.MirrorLinked},
		{"ACT-3", "COE-101", "PD1A", "acme/checkout", "Chen Li", "Alert on 5xx rate per route", "2026-04-15 09:00", "", day("2026-05-08"), "", store.MirrorLinked},
		{"ACT-4", "COE-102", "PD2B", "acme/auth", "Dana Kraus", "Overlap old and new signing keys", "2026-04-30 10:00", "", day("2026-05-15"), "", store.MirrorLinked},
		{"ACT-5", "COE-102", "PD2B", "acme/auth", "Alice Meyer", "Runbook for key rotation", "2026-04-30 10:05", "2026-05-06 14:00", time.Time{}, "", store.MirrorLinked},
		{"ACT-6", "COE-102", "PD2B", "acme/infra", "Bob Schulz", "Rotate keys from the pipeline", "2026-04-30 11:00", "", day("2026-06-01"), "no Jira transition Done", store.MirrorLinked},
		{"ACT-7", "COE-103", "PD3C", "acme/checkout", "Alice Meyer", "Monitor PSP certificate expiry", "2026-05-07 10:00", "2026-05-14 14:00", day("2026-05-20"), "", store.MirrorLinked},
		{"ACT-8", "COE-104", "PD4D", "acme/checkout", "Chen Li", "Dead-letter queue for refunds", "2026-05-11 15:00", "", time.Time{}, "", store.MirrorLinked},
		{"ACT-9", "COE-104", "PD4D", "acme/infra", "Dana Kraus", "Page on refund queue age", "2026-05-12 09:00", "", day("2026-05-13"), "", store.MirrorLinked},
		{"ACT-10", "COE-105", "PD5E", "acme/auth", "Bob Schulz", "Fix redirect for tenant domains", "2026-05-15 18:30", "2026-05-16 11:00", day("2026-05-22"), "", store.MirrorLinked},
		// Deleted in Jira: not in the report.
		{"ACT-11", "COE-105", "PD5E", "acme/auth", "Chen Li", "Duplicate of ACT-10", "2026-05-15 18:40", "", day("2026-05-12"), "", store.MirrorGone},
	}
	for i, it := range items {
		var closed time.Time
		if it.closed != "" {
			closed = at(it.closed)
		}
		n := 40 + i
		if err := st.PutActionItem(ctx, store.ActionItem{JiraKey: it.key, JiraID: strconv.Itoa(30000 + i), COEKey: it.coe,
			IncidentID: it.incident, Repo: it.repo, Number: n, IssueURL: fmt.Sprintf("https://github.com/%s/issues/%d", it.repo, n),
			State: it.state, Title: it.title, Closed: !closed.IsZero(), Owner: it.owner, Due: it.due, Priority: "High",
			Problem: it.problem, OpenedAt: at(it.opened), ClosedAt: closed}); err != nil {
			t.Fatal(err)
		}
	}

	// Webhooks: 12 in W20 (pagerduty 5, jira 4, github 3), 3 in W19, 1 today.
	var ds []store.Delivery
	add := func(source string, n int, first time.Time) {
		for i := range n {
			ds = append(ds, store.Delivery{Source: source, ID: fmt.Sprintf("%s-%s-%d", source, first.Format("0102"), i),
				EventType: "test", ResourceID: "r", ReceivedAt: first.Add(time.Duration(i) * time.Hour), Body: []byte(`{}`)})
		}
	}
	add("pagerduty", 5, at("2026-05-12 10:00"))
	add("jira", 4, at("2026-05-13 10:00"))
	add("github", 3, at("2026-05-14 10:00"))
	add("jira", 3, at("2026-05-06 10:00"))
	add("github", 1, at("2026-05-19 08:00"))
	if _, err := st.Ingest(ctx, ds); err != nil {
		t.Fatal(err)
	}

	// Counters (daily): in W20 drift 3+1, one missing transition, two
	// rate-limit waits, one webhook with a bad signature; drift 7 in W19.
	for _, c := range []struct {
		name string
		at   string
		n    int
	}{
		{store.CounterDriftRepaired, "2026-05-12 12:00", 3},
		{store.CounterDriftRepaired, "2026-05-14 12:00", 1},
		{store.CounterDriftRepaired, "2026-05-05 12:00", 7},
		{store.CounterMissingTransition, "2026-05-13 12:00", 1},
		{store.CounterRateLimitWaits, "2026-05-13 12:00", 2},
		{engine.CounterWebhookRejected + "signature", "2026-05-14 12:00", 1},
		{engine.CounterWebhookBadSignature + "github", "2026-05-14 12:00", 1},
	} {
		if err := st.Count(ctx, c.name, at(c.at), c.n); err != nil {
			t.Fatal(err)
		}
	}

	// Reconcile ran minutes ago (interval 5 minutes).
	for key, ago := range map[string]time.Duration{engine.StateReconcileJira: 3 * time.Minute, engine.StateReconcileGitHub: 4 * time.Minute} {
		if err := st.SetState(ctx, key, now.Add(-ago).UTC().Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
	}
}

// checkSeededReport checks Build's numbers against the seed, worked out by
// hand, so that the DOM checks cannot pass on an empty or wrong report.
// 2026-W20 is [Mon 11 May, Mon 18 May) in Berlin; open and overdue are
// counted at its end.
func checkSeededReport(t *testing.T, rep report.Report) {
	t.Helper()
	s := rep.Summary
	got := map[string]int{"coes_created": s.COEsCreated, "stale_drafts": s.StaleDrafts, "items_opened": s.ItemsOpened,
		"items_closed": s.ItemsClosed, "items_open": s.ItemsOpen, "items_overdue": s.ItemsOverdue,
		"items_with_problems": s.ItemsWithProblems, "recurrences": s.Recurrences}
	want := map[string]int{
		"coes_created":        2, // COE-104, COE-105
		"stale_drafts":        1, // COE-103 (draft since 7 May); COE-105 is a draft of 4 days
		"items_opened":        3, // ACT-8, 9, 10
		"items_closed":        3, // ACT-2, 7, 10
		"items_open":          5, // ACT-3, 4, 6, 8, 9
		"items_overdue":       3, // ACT-3 (due 8 May), ACT-4 (15 May), ACT-9 (13 May)
		"items_with_problems": 1, // ACT-6
		"recurrences":         0,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("report summary %s = %d, want %d (from the seed)", k, got[k], w)
		}
	}
	// 3 closed ÷ (3 closed + 5 open); median of 28.1, 7.2 and 0.7 days.
	if s.CompletionRate == nil || *s.CompletionRate != 0.375 {
		t.Errorf("completion rate = %v, want 0.375", ptrString(s.CompletionRate))
	}
	if s.MedianDaysToClose == nil || *s.MedianDaysToClose != 7.2 {
		t.Errorf("median days to close = %v, want 7.2", ptrString(s.MedianDaysToClose))
	}
	h := rep.Health
	if h.Verdict != report.Degraded {
		t.Errorf("verdict = %q, want %q", h.Verdict, report.Degraded)
	}
	var codes []string
	for _, r := range h.Reasons {
		codes = append(codes, r.Code)
	}
	slices.Sort(codes)
	if want := []string{"item_problems", "missing_transitions", "webhooks_rejected_signature"}; !slices.Equal(codes, want) {
		t.Errorf("reasons = %v, want %v", codes, want)
	}
	if h.WebhooksReceived != 12 || h.WebhooksRejected != 1 || h.DriftRepaired != 4 || h.MissingTransitions != 1 || h.RateLimitWaits != 2 {
		t.Errorf("health numbers: received %d rejected %d drift %d missing %d rate-limit %d, want 12 1 4 1 2",
			h.WebhooksReceived, h.WebhooksRejected, h.DriftRepaired, h.MissingTransitions, h.RateLimitWaits)
	}
	// Trend 2026-W13 … W20.
	var labels []string
	var open, closed, coes []int
	for _, w := range rep.Trend {
		labels = append(labels, w.Label)
		open, closed, coes = append(open, w.Open), append(closed, w.Closed), append(coes, w.COEs)
	}
	if len(labels) != report.TrendWeeks || labels[0] != "2026-W13" || labels[len(labels)-1] != "2026-W20" {
		t.Errorf("trend weeks = %v, want 2026-W13 … 2026-W20", labels)
	}
	for _, c := range []struct {
		name      string
		got, want []int
	}{
		{"open at week end", open, []int{0, 0, 0, 3, 2, 5, 5, 5}},
		{"closed in week", closed, []int{0, 0, 0, 0, 1, 0, 1, 3}},
		{"COEs", coes, []int{0, 0, 0, 1, 0, 1, 1, 2}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("trend %s = %v, want %v", c.name, c.got, c.want)
		}
	}
	var owners []string
	for _, g := range rep.ActionItems.ByOwner {
		owners = append(owners, fmt.Sprintf("%s:%d", g.Name, g.Overdue))
	}
	if want := []string{"Dana Kraus:2", "Chen Li:1", "Bob Schulz:0", "Alice Meyer:0"}; !slices.Equal(owners, want) {
		t.Errorf("owners (overdue) = %v, want %v", owners, want)
	}
	if t.Failed() {
		t.FailNow()
	}
}

func ptrString(f *float64) string {
	if f == nil {
		return "null"
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// --- DOM checks ------------------------------------------------------------

func checkReportDOM(t *testing.T, doc *domNode, rep report.Report) {
	t.Helper()
	if h1 := doc.first(byTag("h1")); h1 == nil || !strings.Contains(h1.text(), rep.Period.Label) {
		t.Errorf("h1 does not name the period %s", rep.Period.Label)
	}

	// Summary cards: every data-value is the Summary's JSON value.
	raw, err := json.Marshal(rep.Summary)
	if err != nil {
		t.Fatal(err)
	}
	var summary map[string]any
	if err := json.Unmarshal(raw, &summary); err != nil {
		t.Fatal(err)
	}
	cards := doc.all(func(n *domNode) bool { return n.has("data-metric") && n.has("data-value") })
	var metrics []string
	for _, c := range cards {
		name := c.attr["data-metric"]
		metrics = append(metrics, name)
		if c.attr["id"] != "metric-"+name {
			t.Errorf("metric %s: id %q, want metric-%s", name, c.attr["id"], name)
		}
		v, ok := summary[name]
		if !ok {
			t.Errorf("metric %s is not in the report's summary", name)
			continue
		}
		want := ""
		switch v := v.(type) {
		case float64:
			want = strconv.FormatFloat(v, 'f', -1, 64)
		case nil:
		default:
			t.Fatalf("summary %s: unexpected JSON %T", name, v)
		}
		if got := c.attr["data-value"]; got != want {
			t.Errorf("metric %s: data-value %q, report has %q", name, got, want)
		}
	}
	wantMetrics := []string{"coes_created", "stale_drafts", "items_opened", "items_closed", "items_open",
		"items_overdue", "completion_rate", "median_days_to_close"}
	if !slices.Equal(metrics, wantMetrics) {
		t.Errorf("summary cards = %v, want %v", metrics, wantMetrics)
	}
	// And the hand-computed values, as shown.
	for metric, want := range map[string][2]string{
		"coes_created": {"2", "2"}, "stale_drafts": {"1", "1"}, "items_opened": {"3", "3"}, "items_closed": {"3", "3"},
		"items_open": {"5", "5"}, "items_overdue": {"3", "3"}, "completion_rate": {"0.375", "38%"},
		"median_days_to_close": {"7.2", "7.2"},
	} {
		c := doc.first(byAttr("id", "metric-"+metric))
		if c == nil {
			t.Errorf("no card %s", metric)
			continue
		}
		if got := [2]string{c.attr["data-value"], strings.TrimSpace(c.text())}; got != want {
			t.Errorf("card %s: data-value %q, text %q; want %q, %q", metric, got[0], got[1], want[0], want[1])
		}
	}

	// Health table numbers.
	h := rep.Health
	for metric, want := range map[string]int{"webhooks_received": h.WebhooksReceived, "webhooks_rejected": h.WebhooksRejected,
		"jobs_failed": h.JobsFailed, "jobs_waiting": h.JobsWaiting, "drift_repaired": h.DriftRepaired,
		"missing_transitions": h.MissingTransitions, "rate_limit_waits": h.RateLimitWaits} {
		cells := doc.all(func(n *domNode) bool { return n.tag == "td" && n.attr["data-metric"] == metric })
		if len(cells) != 1 {
			t.Errorf("health %s: %d cells, want 1", metric, len(cells))
			continue
		}
		if got := strings.TrimSpace(cells[0].text()); got != strconv.Itoa(want) {
			t.Errorf("health %s = %q, report has %d", metric, got, want)
		}
	}
	for _, rc := range h.Reconcile {
		row := doc.first(func(n *domNode) bool { return n.tag == "tr" && n.attr["data-system"] == rc.System })
		if row == nil || row.attr["data-state"] != rc.State {
			t.Errorf("reconcile %s: row %v, want state %q", rc.System, row, rc.State)
		}
	}

	checkVerdict(t, doc, h)

	// Lists.
	if n := len(doc.all(func(n *domNode) bool { return n.tag == "tr" && n.has("data-key") && n.inTable("problems") })); n != rep.Summary.ItemsWithProblems {
		t.Errorf("problems table: %d rows, report has %d", n, rep.Summary.ItemsWithProblems)
	}
	var overdue []string
	for _, n := range doc.all(func(n *domNode) bool { return n.tag == "tr" && n.has("data-key") && n.inTable("overdue") }) {
		overdue = append(overdue, n.attr["data-key"])
	}
	var wantOverdue []string
	for _, r := range rep.ActionItems.Overdue {
		wantOverdue = append(wantOverdue, r.Key)
	}
	if !slices.Equal(overdue, wantOverdue) || !slices.Equal(overdue, []string{"ACT-3", "ACT-9", "ACT-4"}) {
		t.Errorf("overdue rows = %v, report has %v, want [ACT-3 ACT-9 ACT-4]", overdue, wantOverdue)
	}
	// A title with markup is text, not elements.
	if doc.first(byTag("b"), func(n *domNode) bool { return n.text() == "enterprise" }) != nil {
		t.Error("a COE title's markup became elements")
	}
	if !strings.Contains(doc.text(), "SSO redirect loop for <b>enterprise</b> tenants & partners") {
		t.Error("the COE title with markup is not shown as text")
	}

	// Charts.
	charts := map[string]*domNode{}
	for _, svg := range doc.all(byTag("svg")) {
		if k := svg.attr["data-chart"]; k != "" {
			if charts[k] != nil {
				t.Errorf("two charts %q", k)
			}
			charts[k] = svg
		}
	}
	if len(charts) != 3 {
		t.Errorf("charts %v, want trend, coes, overdue", keys(charts))
	}
	type bar struct {
		series, label string
		value         int
	}
	var trend, coes, overdue2 []bar
	for _, w := range rep.Trend {
		label := w.Label
		if w.Partial {
			label += " (so far)"
		}
		trend = append(trend, bar{"open", label, w.Open}, bar{"closed", label, w.Closed})
		coes = append(coes, bar{"coes", label, w.COEs})
	}
	for _, g := range rep.ActionItems.ByOwner {
		if g.Overdue > 0 {
			overdue2 = append(overdue2, bar{"overdue", g.Name, g.Overdue})
		}
	}
	for kind, want := range map[string][]bar{"trend": trend, "coes": coes, "overdue": overdue2} {
		svg := charts[kind]
		if svg == nil {
			t.Errorf("no chart %q", kind)
			continue
		}
		if svg.first(byTag("title")) == nil || svg.first(byTag("desc")) == nil || svg.attr["role"] != "img" {
			t.Errorf("chart %s: no title, desc or role=img", kind)
		}
		var got []bar
		for _, r := range svg.all(func(n *domNode) bool { return n.tag == "rect" && n.has("data-series") }) {
			v, err := strconv.Atoi(r.attr["data-value"])
			if err != nil {
				t.Errorf("chart %s: bar data-value %q", kind, r.attr["data-value"])
			}
			got = append(got, bar{r.attr["data-series"], r.attr["data-label"], v})
			// Drawn: a bar of a positive value has a positive size.
			w, _ := strconv.ParseFloat(r.attr["width"], 64)
			hgt, _ := strconv.ParseFloat(r.attr["height"], 64)
			if v > 0 && (w <= 0 || hgt <= 0) {
				t.Errorf("chart %s: bar %s %s of %d is %vx%v", kind, r.attr["data-series"], r.attr["data-label"], v, w, hgt)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("chart %s bars:\n got %v\nwant %v", kind, got, want)
		}
	}
	// Hand-computed bar counts: 8 weeks × 2 series, 8 weeks, 2 owners.
	for kind, n := range map[string]int{"trend": 16, "coes": 8, "overdue": 2} {
		if svg := charts[kind]; svg != nil {
			if got := len(svg.all(func(n *domNode) bool { return n.tag == "rect" && n.has("data-series") })); got != n {
				t.Errorf("chart %s: %d bars, want %d", kind, got, n)
			}
		}
	}
	if rows := doc.all(func(n *domNode) bool { return n.tag == "tr" && n.has("data-week") }); len(rows) != report.TrendWeeks {
		t.Errorf("trend table: %d weeks, want %d", len(rows), report.TrendWeeks)
	}
}

func checkVerdict(t *testing.T, doc *domNode, h report.SyncHealth) {
	t.Helper()
	v := doc.first(byAttr("id", "verdict"))
	if v == nil {
		t.Error("no verdict banner")
		return
	}
	if got := v.attr["data-verdict"]; got != h.Verdict {
		t.Errorf("verdict %q, want %q", got, h.Verdict)
	}
	if !strings.Contains(v.text(), "Sync health: "+h.Verdict) {
		t.Errorf("verdict banner says %q", strings.TrimSpace(v.text()))
	}
	var got, want []string
	for _, li := range v.all(func(n *domNode) bool { return n.has("data-reason") }) {
		got = append(got, li.attr["data-reason"]+"/"+li.attr["data-severity"])
	}
	for _, r := range h.Reasons {
		want = append(want, r.Code+"/"+r.Severity)
	}
	if !slices.Equal(got, want) {
		t.Errorf("verdict reasons %v, want %v", got, want)
	}
}

func checkStatusDOM(t *testing.T, doc *domNode, h report.SyncHealth) {
	t.Helper()
	// Today: one webhook, reconcile minutes ago, nothing wrong.
	if h.Verdict != report.Healthy || h.WebhooksReceived != 1 {
		t.Errorf("status health: verdict %q, %d webhooks today; want healthy, 1", h.Verdict, h.WebhooksReceived)
	}
	checkVerdict(t, doc, h)
	if doc.first(byTag("a"), byAttr("href", "/report")) == nil {
		t.Error("status page does not link to /report")
	}
	for metric, want := range map[string]int{"jobs_failed": h.JobsFailed, "jobs_waiting": h.JobsWaiting,
		"webhooks_received": h.WebhooksReceived, "webhooks_rejected": h.WebhooksRejected} {
		c := doc.first(byAttr("data-metric", metric))
		if c == nil || c.attr["data-value"] != strconv.Itoa(want) {
			t.Errorf("status %s: %v, want data-value %d", metric, c, want)
		}
	}
	for _, sys := range []string{"github", "jira"} {
		row := doc.first(func(n *domNode) bool { return n.tag == "tr" && n.attr["data-system"] == sys })
		if row == nil || row.attr["data-state"] != "ok" {
			t.Errorf("status reconcile %s: %v, want state ok", sys, row)
		}
	}
}

// checkConsole fails on a console message about the Content Security
// Policy (blocked inline style, image or script) or a failed load.
func checkConsole(t *testing.T, page string, stderr []byte) {
	t.Helper()
	for line := range strings.Lines(string(stderr)) {
		if strings.Contains(line, ":CONSOLE") && (strings.Contains(line, "Content Security Policy") ||
			strings.Contains(line, "Failed to load") || strings.Contains(line, "Uncaught")) {
			t.Errorf("%s: browser console: %s", page, strings.TrimSpace(line))
		}
	}
}

// --- screenshots -----------------------------------------------------------

// Light theme colours of the charts' bars (html.go).
var barColours = map[string][3]uint8{
	"open":    {0xdd, 0x7a, 0x1f},
	"closed":  {0x2f, 0x6f, 0xb5},
	"overdue": {0xc9, 0x35, 0x2f},
	"COE":     {0x70, 0x48, 0xb8},
}

// checkScreenshot checks that path is a w×h PNG that is not blank and,
// with charts, shows the bars of every series.
func checkScreenshot(t *testing.T, path string, w, h int, charts bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Errorf("screenshot %s is %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
	// Not blank: many colours and some spread of brightness.
	colours := map[[3]uint8]bool{}
	var sum, sumSq float64
	n := 0
	found := map[string]int{}
	at := func(x, y int) [3]uint8 {
		if rgba, ok := img.(*image.RGBA); ok {
			p := rgba.Pix[rgba.PixOffset(x, y):]
			return [3]uint8{p[0], p[1], p[2]}
		}
		r, g, bl, _ := img.At(x, y).RGBA()
		return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := at(x, y)
			if x%4 == 0 && y%4 == 0 {
				colours[c] = true
				l := 0.299*float64(c[0]) + 0.587*float64(c[1]) + 0.114*float64(c[2])
				sum += l
				sumSq += l * l
				n++
			}
			for name, want := range barColours {
				if near(c, want) {
					found[name]++
				}
			}
		}
	}
	mean := sum / float64(n)
	variance := sumSq/float64(n) - mean*mean
	if len(colours) < 50 || variance < 100 {
		t.Errorf("screenshot %s looks blank: %d colours, brightness variance %.0f", path, len(colours), variance)
	}
	if charts {
		// The charts were painted: each bar colour covers thousands of
		// pixels with this seed (the legend's swatches are 100 each; the
		// COE bars of past weeks are translucent, the current week's is
		// solid).
		t.Logf("screenshot %s: pixels of bar colours %v", filepath.Base(path), found)
		for name := range barColours {
			if found[name] < 1000 {
				t.Errorf("screenshot %s: %d pixels of the %s bar colour; the charts did not render", path, found[name], name)
			}
		}
	}
}

func near(c, want [3]uint8) bool {
	for i := range 3 {
		if d := int(c[i]) - int(want[i]); d < -6 || d > 6 {
			return false
		}
	}
	return true
}

// --- Chromium --------------------------------------------------------------

const skipNoChromium = "chromium not found: install the Debian package chromium (.ci/run does) to run the browser test"

func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("COESYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	t.Skip(skipNoChromium)
	return ""
}

type browser struct {
	path string
	dir  string
	runs int
}

// startBrowser checks that Chromium starts here, on a page that needs
// nothing but the browser; if it does not, the environment cannot run the
// test (no display libraries, no /dev/shm, seccomp...) and it is skipped.
// Failures after this check are test failures.
func startBrowser(t *testing.T, path string) *browser {
	t.Helper()
	dir, err := os.MkdirTemp("", "coesync-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helpers may still be writing for a moment.
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	b := &browser{path: path, dir: dir}
	out, stderr, err := b.exec(30*time.Second, "--dump-dom", "data:text/html,<title>probe</title><p id=probe>ok</p>")
	if err != nil || !bytes.Contains(out, []byte(`id="probe"`)) {
		t.Skipf("%s\n(%s does not run here: %v)\n%s", skipNoChromium, path, err, tail(stderr, 2000))
	}
	return b
}

// run runs Chromium headless with args and the page last; it returns
// standard output and standard error.
func (b *browser) run(t *testing.T, args ...string) (stdout, stderr []byte) {
	t.Helper()
	start := time.Now()
	out, errOut, err := b.exec(60*time.Second, args...)
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, tail(errOut, 4000))
	}
	t.Logf("chromium %s %s: %v", args[0], args[len(args)-1], time.Since(start).Round(time.Millisecond))
	return out, errOut
}

func (b *browser) exec(timeout time.Duration, args ...string) (stdout, stderr []byte, err error) {
	b.runs++
	run := filepath.Join(b.dir, strconv.Itoa(b.runs))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--no-proxy-server",
		"--disable-crash-reporter", "--disable-breakpad", "--enable-logging=stderr", "--v=0",
		"--user-data-dir=" + filepath.Join(run, "profile")}
	cmd := exec.CommandContext(ctx, b.path, append(flags, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+run, "XDG_CONFIG_HOME="+filepath.Join(run, "config"),
		"XDG_CACHE_HOME="+filepath.Join(run, "cache"))
	cmd.WaitDelay = 5 * time.Second
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, fmt.Errorf("no answer in %v", timeout))
	}
	return o.Bytes(), e.Bytes(), err
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// --- artifacts ---------------------------------------------------------------

// artifactsDir is $COESYNC_ARTIFACTS_DIR, else artifacts/ at the top of the
// repository.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("COESYNC_ARTIFACTS_DIR")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		root := wd
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				root = wd
				break
			}
			root = parent
		}
		dir = filepath.Join(root, "artifacts")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		t.Fatal(err)
	}
	return abs
}

func writeArtifact(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact: %s", path)
}

// --- a small DOM -------------------------------------------------------------

// domNode is an element (or, with an empty tag, a text node) of the DOM
// Chromium serialised with --dump-dom. That serialisation is regular:
// attribute values in double quotes with " & < > escaped, an end tag for
// every element but the void ones (SVG's too), raw text only in style and
// script; parseDOM relies on it and fails on anything else.
type domNode struct {
	tag    string
	attr   map[string]string
	data   string // text node
	kids   []*domNode
	parent *domNode
}

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

func parseDOM(t *testing.T, s string) *domNode {
	t.Helper()
	root := &domNode{tag: "#document"}
	cur := root
	fail := func(i int, msg string) {
		t.Fatalf("dumped DOM at byte %d: %s: %.80q", i, msg, s[i:])
	}
	for i := 0; i < len(s); {
		lt := strings.IndexByte(s[i:], '<')
		if lt < 0 {
			lt = len(s) - i
		}
		if lt > 0 {
			cur.kids = append(cur.kids, &domNode{data: html.UnescapeString(s[i : i+lt]), parent: cur})
			i += lt
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "<!--"):
			end := strings.Index(s[i:], "-->")
			if end < 0 {
				fail(i, "unterminated comment")
			}
			i += end + 3
		case strings.HasPrefix(s[i:], "<!"):
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				fail(i, "unterminated declaration")
			}
			i += end + 1
		case strings.HasPrefix(s[i:], "</"):
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				fail(i, "unterminated end tag")
			}
			name := strings.ToLower(strings.TrimSpace(s[i+2 : i+end]))
			if cur.tag != name {
				fail(i, "end tag </"+name+"> closes <"+cur.tag+">")
			}
			cur = cur.parent
			i += end + 1
		default:
			n, next, selfClosing := parseStartTag(s, i, fail)
			n.parent = cur
			cur.kids = append(cur.kids, n)
			i = next
			switch {
			case n.tag == "style" || n.tag == "script":
				end := strings.Index(s[i:], "</"+n.tag+">")
				if end < 0 {
					fail(i, "unterminated "+n.tag)
				}
				n.kids = []*domNode{{data: s[i : i+end], parent: n}}
				i += end + len("</"+n.tag+">")
			case !selfClosing && !voidElements[n.tag]:
				cur = n
			}
		}
	}
	if cur != root {
		t.Fatalf("dumped DOM: <%s> not closed", cur.tag)
	}
	return root
}

func parseStartTag(s string, i int, fail func(int, string)) (n *domNode, next int, selfClosing bool) {
	start := i
	i++
	nameEnd := i
	for nameEnd < len(s) && !strings.ContainsRune(" \t\n\r\f/>", rune(s[nameEnd])) {
		nameEnd++
	}
	if nameEnd == i {
		fail(start, "empty tag name")
	}
	n = &domNode{tag: strings.ToLower(s[i:nameEnd]), attr: map[string]string{}}
	i = nameEnd
	for {
		for i < len(s) && strings.ContainsRune(" \t\n\r\f", rune(s[i])) {
			i++
		}
		if i >= len(s) {
			fail(start, "unterminated start tag")
		}
		if s[i] == '>' {
			return n, i + 1, false
		}
		if strings.HasPrefix(s[i:], "/>") {
			return n, i + 2, true
		}
		if s[i] == '/' {
			i++
			continue
		}
		k := i
		for k < len(s) && !strings.ContainsRune(" \t\n\r\f=/>", rune(s[k])) {
			k++
		}
		name := strings.ToLower(s[i:k])
		i = k
		val := ""
		if i < len(s) && s[i] == '=' {
			i++
			if i >= len(s) || s[i] != '"' {
				fail(i, "attribute value not in double quotes")
			}
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				fail(i, "unterminated attribute value")
			}
			val = html.UnescapeString(s[i+1 : i+1+end])
			i += end + 2
		}
		if _, dup := n.attr[name]; dup {
			fail(start, "attribute "+name+" twice")
		}
		n.attr[name] = val
	}
}

func (n *domNode) has(attr string) bool { _, ok := n.attr[attr]; return ok }

func (n *domNode) text() string {
	if n.tag == "" {
		return n.data
	}
	var b strings.Builder
	for _, k := range n.kids {
		if k.tag == "style" || k.tag == "script" {
			continue
		}
		b.WriteString(k.text())
	}
	return b.String()
}

func (n *domNode) all(preds ...func(*domNode) bool) []*domNode {
	var out []*domNode
	var walk func(*domNode)
	walk = func(n *domNode) {
		for _, k := range n.kids {
			if k.tag == "" {
				continue
			}
			ok := true
			for _, p := range preds {
				ok = ok && p(k)
			}
			if ok {
				out = append(out, k)
			}
			walk(k)
		}
	}
	walk(n)
	return out
}

func (n *domNode) first(preds ...func(*domNode) bool) *domNode {
	if all := n.all(preds...); len(all) > 0 {
		return all[0]
	}
	return nil
}

// inTable reports whether n is inside <table data-table=name>.
func (n *domNode) inTable(name string) bool {
	for p := n.parent; p != nil; p = p.parent {
		if p.tag == "table" {
			return p.attr["data-table"] == name
		}
	}
	return false
}

func (n *domNode) String() string {
	if n == nil {
		return "<nil>"
	}
	return fmt.Sprintf("<%s %v>", n.tag, n.attr)
}

func byTag(tag string) func(*domNode) bool { return func(n *domNode) bool { return n.tag == tag } }

func byAttr(k, v string) func(*domNode) bool {
	return func(n *domNode) bool { return n.attr[k] == v }
}

func keys(m map[string]*domNode) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// browserAt is a time in loc: browserAt(t, loc, "2026-05-19 09:30").
func browserAt(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
