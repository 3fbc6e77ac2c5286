package report

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// small is an Input with nothing in it and a healthy sync: Monday
// 2026-11-23 09:00 in Berlin, period 2026-W47.
func small(t *testing.T) Input {
	loc := berlin(t)
	now := at(t, loc, "2026-11-23 09:00")
	return Input{
		Now:      now,
		Location: loc,
		Health: Health{
			LastReconcile: map[string]time.Time{"jira": now.Add(-10 * time.Minute), "github": now.Add(-10 * time.Minute)},
		},
	}
}

func ptr(f float64) *float64 { return &f }

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func show(f *float64) string {
	if f == nil {
		return "null"
	}
	return fmt.Sprint(*f)
}

func TestBuildDefaults(t *testing.T) {
	in := small(t)
	r := Build(in)
	if r.Period.Label != "2026-W47" || r.StaleDraftDays != 7 || r.TimeZone != "Europe/Berlin" {
		t.Errorf("period %q, stale days %d, zone %q", r.Period.Label, r.StaleDraftDays, r.TimeZone)
	}
	if r.Partial || !r.AsOf.Equal(r.Period.Until) {
		t.Errorf("partial %v, as of %v", r.Partial, r.AsOf)
	}
	if len(r.Trend) != TrendWeeks || r.Trend[7].Label != "2026-W47" || r.Trend[0].Label != "2026-W40" {
		t.Errorf("trend weeks: %+v", r.Trend)
	}
	if r.Summary.CompletionRate != nil || r.Summary.MedianDaysToClose != nil {
		t.Error("rate or median of nothing is not null")
	}
	if r.Health.Verdict != Healthy || len(r.Health.Reasons) != 0 {
		t.Errorf("verdict %s %v", r.Health.Verdict, r.Health.Reasons)
	}
	if r.ReportURL != "" {
		t.Errorf("report URL without PublicURL: %q", r.ReportURL)
	}
	// A nil location is UTC.
	in.Location = nil
	if r := Build(in); r.TimeZone != "UTC" || r.Period.Since.Location() != time.UTC {
		t.Errorf("zone %q", r.TimeZone)
	}
}

func TestCompletionAndMedian(t *testing.T) {
	loc := berlin(t)
	opened := at(t, loc, "2026-11-02 12:00") // before the period
	closedAfter := func(days float64) ActionItem {
		return ActionItem{Key: fmt.Sprintf("I-%v", days), Opened: opened, Closed: opened.Add(time.Duration(days * 24 * float64(time.Hour)))}
	}
	open := ActionItem{Key: "I-open", Opened: opened}
	tests := []struct {
		name   string
		items  []ActionItem
		rate   *float64
		median *float64
	}{
		{"none", nil, nil, nil},
		{"only open", []ActionItem{open}, ptr(0), nil},
		{"odd count", []ActionItem{closedAfter(15), closedAfter(20), closedAfter(16.5), open}, ptr(0.75), ptr(16.5)},
		{"even count: mean of the middle two", []ActionItem{closedAfter(15), closedAfter(20), closedAfter(16), closedAfter(19)}, ptr(1), ptr(17.5)},
		{"one decimal", []ActionItem{closedAfter(15), closedAfter(15.25)}, ptr(1), ptr(15.1)},
		{"thirds", []ActionItem{closedAfter(15), open, open}, ptr(0.3333), ptr(15)},
		{"closed before the period is out of play", []ActionItem{closedAfter(1), open}, ptr(0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := small(t)
			in.Items = tt.items
			s := Build(in).Summary
			if !eqPtr(s.CompletionRate, tt.rate) {
				t.Errorf("completion rate = %s, want %s", show(s.CompletionRate), show(tt.rate))
			}
			if !eqPtr(s.MedianDaysToClose, tt.median) {
				t.Errorf("median days to close = %s, want %s", show(s.MedianDaysToClose), show(tt.median))
			}
		})
	}
	if m := median([]float64{3, 1, 2}); *m != 2 {
		t.Errorf("median(3,1,2) = %v", *m)
	}
	if m := median([]float64{4, 1, 3, 2}); *m != 2.5 {
		t.Errorf("median(4,1,3,2) = %v", *m)
	}
}

func TestItemCounts(t *testing.T) {
	loc := berlin(t)
	a := func(s string) time.Time { return at(t, loc, s) }
	in := small(t)
	in.Items = []ActionItem{
		{Key: "A", Opened: a("2026-11-16 00:00")},                                                           // opened at Since: counted
		{Key: "B", Opened: a("2026-11-23 00:00")},                                                           // opened at Until: next period
		{Key: "C", Opened: a("2026-11-01 00:00"), Closed: a("2026-11-23 00:00")},                            // closed at Until: still open
		{Key: "D", Opened: a("2026-11-01 00:00"), Closed: a("2026-11-16 00:00")},                            // closed at Since: closed in period
		{Key: "E", Opened: a("2026-11-01 00:00"), Closed: a("2026-11-15 23:59")},                            // closed before: out of play
		{Key: "F", Opened: a("2026-11-17 10:00"), Closed: a("2026-11-17 11:00")},                            // opened and closed inside
		{Key: "G", Opened: a("2026-11-01 00:00"), Due: day(t, "2026-11-22")},                                // due Sunday: overdue from Monday 00:00
		{Key: "H", Opened: a("2026-11-01 00:00"), Due: day(t, "2026-11-23")},                                // due Monday: not yet
		{Key: "I", Opened: a("2026-11-01 00:00"), Due: a("2026-11-22 23:59")},                               // an instant, passed
		{Key: "J", Opened: a("2026-11-01 00:00"), Due: a("2026-11-01 00:00")},                               // local midnight: a day (1 Nov)
		{Key: "K", Opened: a("2026-11-01 00:00"), Closed: a("2026-11-20 00:00"), Due: day(t, "2026-11-02")}, // closed: never overdue
	}
	r := Build(in)
	s := r.Summary
	got := []int{s.ItemsOpened, s.ItemsClosed, s.ItemsOpen, s.ItemsOverdue}
	// opened: A F; closed: D F K; open: A C G H I J; overdue: G I J.
	if want := []int{2, 3, 6, 3}; !reflect.DeepEqual(got, want) {
		t.Errorf("opened, closed, open, overdue = %v, want %v", got, want)
	}
	var keys []string
	late := map[string]int{}
	for _, it := range r.ActionItems.Overdue {
		keys = append(keys, it.Key)
		late[it.Key] = it.DaysOverdue
	}
	if want := []string{"J", "G", "I"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("overdue order = %v, want %v (most overdue first)", keys, want)
	}
	// J: due 1 Nov, overdue from 2 Nov 00:00, 21 days to 23 Nov; G and I:
	// minutes to a day late count as one day.
	if want := map[string]int{"J": 21, "G": 1, "I": 1}; !reflect.DeepEqual(late, want) {
		t.Errorf("days overdue = %v, want %v", late, want)
	}
	if it := r.ActionItems.Overdue[0]; !it.DueDay || it.Due.Format(time.DateOnly) != "2026-11-01" {
		t.Errorf("J due %v (day %v)", it.Due, it.DueDay)
	}
	if it := r.ActionItems.Overdue[2]; it.DueDay {
		t.Errorf("I's due instant taken for a day")
	}
	// The same items a day before the due date of G: not overdue yet.
	in.Period, _ = Range("2026-11-16", "2026-11-22T12:00:00+01:00", in.Now, loc)
	if n := Build(in).Summary.ItemsOverdue; n != 1 { // J only
		t.Errorf("overdue on Sunday noon = %d, want 1", n)
	}
}

func TestOldestOpen(t *testing.T) {
	loc := berlin(t)
	in := small(t)
	base := at(t, loc, "2026-06-01 09:00")
	for i := 14; i >= 0; i-- { // added newest first
		in.Items = append(in.Items, ActionItem{Key: fmt.Sprintf("OPS-%02d", i), Opened: base.AddDate(0, 0, i)})
	}
	// Same opening time: by key.
	in.Items = append(in.Items, ActionItem{Key: "OPS-00b", Opened: base})
	r := Build(in)
	var keys []string
	for _, it := range r.ActionItems.OldestOpen {
		keys = append(keys, it.Key)
	}
	want := []string{"OPS-00", "OPS-00b", "OPS-01", "OPS-02", "OPS-03", "OPS-04", "OPS-05", "OPS-06", "OPS-07", "OPS-08"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("oldest open = %v, want %v", keys, want)
	}
	if r.Summary.ItemsOpen != 16 {
		t.Errorf("open = %d, want 16", r.Summary.ItemsOpen)
	}
	// Age at the end of the period: 1 June 09:00 to 23 November 00:00.
	if got := r.ActionItems.OldestOpen[0].AgeDays; got != 174 {
		t.Errorf("age = %d days, want 174", got)
	}
}

func TestGroups(t *testing.T) {
	loc := berlin(t)
	a := func(s string) time.Time { return at(t, loc, s) }
	in := small(t)
	in.COEs = []COE{{Key: "OPS-1", Team: "payments", Created: a("2026-11-02 10:00")}}
	in.Items = []ActionItem{
		{Key: "1", COEKey: "OPS-1", Owner: "bo", Repo: "r/a", Opened: a("2026-11-03 10:00")}, // team from the COE
		{Key: "2", COEKey: "OPS-1", Owner: "al", Repo: "r/a", Team: "search", Opened: a("2026-11-03 10:00"), Due: day(t, "2026-11-10")},
		{Key: "3", Owner: "al", Repo: "r/b", Team: "search", Opened: a("2026-11-03 10:00"), Closed: a("2026-11-18 10:00")},
		{Key: "4", Owner: "cy", Opened: a("2026-11-03 10:00")},
		{Key: "5", Owner: "cy", Opened: a("2026-11-03 10:00")},
		{Key: "6", Owner: "zz", Opened: a("2026-10-03 10:00"), Closed: a("2026-10-05 10:00")}, // not in play
	}
	r := Build(in)
	names := func(gs []ItemGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, fmt.Sprintf("%s %d/%d/%d/%d %s", g.Name, g.Overdue, g.Open, g.Closed, g.Opened, fmtRate(g.CompletionRate)))
		}
		return out
	}
	// By overdue, then open, then closed (all descending), then name.
	if got, want := names(r.ActionItems.ByOwner), []string{"al 1/1/1/0 50%", "cy 0/2/0/0 0%", "bo 0/1/0/0 0%"}; !reflect.DeepEqual(got, want) {
		t.Errorf("by owner = %q, want %q", got, want)
	}
	if got, want := names(r.ActionItems.ByTeam), []string{"search 1/1/1/0 50%", "(no team) 0/2/0/0 0%", "payments 0/1/0/0 0%"}; !reflect.DeepEqual(got, want) {
		t.Errorf("by team = %q, want %q", got, want)
	}
	if got, want := names(r.ActionItems.ByRepo), []string{"r/a 1/2/0/0 0%", "(no repository) 0/2/0/0 0%", "r/b 0/0/1/0 100%"}; !reflect.DeepEqual(got, want) {
		t.Errorf("by repo = %q, want %q", got, want)
	}
}

func TestCOEs(t *testing.T) {
	loc := berlin(t)
	a := func(s string) time.Time { return at(t, loc, s) }
	in := small(t)
	in.StaleDraftDays = 3
	in.COEs = []COE{
		{Key: "C-3", Team: "b", Service: "x", Created: a("2026-11-18 10:00")},
		{Key: "C-2", Team: "a", Service: "x", Created: a("2026-11-18 10:00"), Reviewed: true, Recurrence: true},
		{Key: "C-1", Team: "b", Service: "y", Created: a("2026-11-16 00:00"), Reviewed: true},
		{Key: "C-0", Team: "b", Created: a("2026-11-15 23:59")},               // before: a stale draft only
		{Key: "C-4", Service: "y", Created: a("2026-11-23 00:00")},            // at Until: next period
		{Key: "C-5", Team: "c", Service: "z", Created: a("2026-11-20 09:01")}, // 2 d 23 h 59 min old: not stale
		{Key: "C-6", Team: "c", Service: "z", Created: a("2026-11-20 08:59")}, // 3 days and a minute: stale
	}
	r := Build(in)
	var keys []string
	for _, c := range r.COEs.Created {
		keys = append(keys, c.Key)
	}
	if want := []string{"C-1", "C-2", "C-3", "C-6", "C-5"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("created = %v, want %v", keys, want)
	}
	if want := []Count{{"b", 2}, {"c", 2}, {"a", 1}}; !reflect.DeepEqual(r.COEs.ByTeam, want) {
		t.Errorf("by team = %v, want %v", r.COEs.ByTeam, want)
	}
	if want := []Count{{"x", 2}, {"z", 2}, {"y", 1}}; !reflect.DeepEqual(r.COEs.ByService, want) {
		t.Errorf("by service = %v, want %v", r.COEs.ByService, want)
	}
	keys = nil
	for _, c := range r.COEs.StaleDrafts {
		keys = append(keys, c.Key)
	}
	if want := []string{"C-0", "C-3", "C-6"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("stale drafts = %v, want %v", keys, want)
	}
	if s := r.Summary; s.COEsCreated != 5 || s.Recurrences != 1 || s.StaleDrafts != 3 {
		t.Errorf("summary %+v", s)
	}
	if r.Trend[7].COEs != 5 {
		t.Errorf("trend, last week: %d COEs", r.Trend[7].COEs)
	}
}

func TestListLimits(t *testing.T) {
	loc := berlin(t)
	in := small(t)
	for i := range 30 {
		in.COEs = append(in.COEs, COE{Key: fmt.Sprintf("C-%02d", i), Created: at(t, loc, "2026-10-01 10:00").AddDate(0, 0, i)})
		in.Items = append(in.Items, ActionItem{Key: fmt.Sprintf("I-%02d", i), Opened: at(t, loc, "2026-10-01 10:00"),
			Due: day(t, "2026-10-10"), Problem: "GitHub issue deleted"})
	}
	r := Build(in)
	if len(r.COEs.StaleDrafts) != ListLimit || r.Summary.StaleDrafts != 30 {
		t.Errorf("stale drafts: %d listed of %d", len(r.COEs.StaleDrafts), r.Summary.StaleDrafts)
	}
	if len(r.ActionItems.Overdue) != ListLimit || r.Summary.ItemsOverdue != 30 {
		t.Errorf("overdue: %d listed of %d", len(r.ActionItems.Overdue), r.Summary.ItemsOverdue)
	}
	if len(r.ActionItems.Problems) != ListLimit || r.Summary.ItemsWithProblems != 30 {
		t.Errorf("problems: %d listed of %d", len(r.ActionItems.Problems), r.Summary.ItemsWithProblems)
	}
	if len(r.ActionItems.OldestOpen) != OldestOpenLimit {
		t.Errorf("oldest open: %d", len(r.ActionItems.OldestOpen))
	}
	if md := r.Markdown(); !strings.Contains(md, "… and 10 more") {
		t.Error("Markdown does not say that lists were cut")
	}
}

func TestPartialPeriod(t *testing.T) {
	loc := berlin(t)
	in := small(t)
	in.Now = at(t, loc, "2026-11-25 10:00") // Wednesday
	in.Period, _ = ISOWeek("2026-W48", loc)
	in.Items = []ActionItem{
		{Key: "A", Opened: at(t, loc, "2026-11-24 10:00")},
		{Key: "B", Opened: at(t, loc, "2026-11-20 10:00"), Due: day(t, "2026-11-24")},
		{Key: "C", Opened: at(t, loc, "2026-11-20 10:00"), Due: day(t, "2026-11-26")}, // overdue only from Friday
	}
	r := Build(in)
	if !r.Partial || !r.AsOf.Equal(in.Now) {
		t.Errorf("partial %v, as of %v", r.Partial, r.AsOf)
	}
	if s := r.Summary; s.ItemsOpen != 3 || s.ItemsOverdue != 1 || s.ItemsOpened != 1 {
		t.Errorf("summary %+v", s)
	}
	last := r.Trend[len(r.Trend)-1]
	if last.Label != "2026-W48" || !last.Partial || last.Overdue != 1 || r.Trend[6].Partial {
		t.Errorf("trend: %+v", r.Trend[6:])
	}
	if !strings.Contains(r.Markdown(), "(so far)") {
		t.Error("Markdown does not mark the partial week")
	}
}

func TestTrendWithRange(t *testing.T) {
	loc := berlin(t)
	in := small(t)
	// A range ending on a Wednesday: the trend ends with the week holding
	// the range's last instant.
	in.Period, _ = Range("2026-11-01", "2026-11-12", in.Now, loc)
	r := Build(in)
	if got := r.Trend[len(r.Trend)-1].Label; got != "2026-W46" {
		t.Errorf("last trend week = %s, want 2026-W46", got)
	}
	// Ending exactly on a Monday: the week before.
	in.Period, _ = Range("2026-11-01", "2026-11-16", in.Now, loc)
	if got := Build(in).Trend[TrendWeeks-1].Label; got != "2026-W46" {
		t.Errorf("last trend week = %s, want 2026-W46", got)
	}
	if u := Build(Input{Now: in.Now, Location: loc, Period: in.Period, PublicURL: "https://c.example/base/"}).ReportURL; u != "https://c.example/base/report?since=2026-11-01&until=2026-11-16" {
		t.Errorf("report URL = %s", u)
	}
}

func TestVerdict(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	fresh := map[string]time.Time{"jira": now.Add(-5 * time.Minute), "github": now.Add(-5 * time.Minute)}
	with := func(f func(h *Health)) Health {
		h := Health{LastReconcile: map[string]time.Time{}, WebhooksReceived: map[string]int{"pagerduty": 100}}
		for k, v := range fresh {
			h.LastReconcile[k] = v
		}
		f(&h)
		return h
	}
	tests := []struct {
		name    string
		health  Health
		verdict string
		codes   []string
	}{
		{"all good", with(func(h *Health) {}), Healthy, nil},
		{"waiting jobs, rate limits and drift are normal", with(func(h *Health) {
			h.JobsWaiting, h.RateLimitWaits, h.DriftRepaired = 3, 40, 12
			h.WebhooksRejected = map[string]int{"malformed": 2, "rejected_too_large": 1}
		}), Healthy, nil},
		{"no reconcile at all", Health{}, Unreliable, []string{"reconcile_never"}},
		{"github never reconciled", with(func(h *Health) { delete(h.LastReconcile, "github") }), Unreliable, []string{"reconcile_never"}},
		{"exactly two intervals is fine", with(func(h *Health) { h.LastReconcile["jira"] = now.Add(-2 * time.Hour) }), Healthy, nil},
		{"more than two intervals (default 1h)", with(func(h *Health) { h.LastReconcile["jira"] = now.Add(-2*time.Hour - time.Second) }), Unreliable, []string{"reconcile_stale"}},
		{"interval from the health", with(func(h *Health) {
			h.ReconcileInterval = 15 * time.Minute
			h.LastReconcile["github"] = now.Add(-31 * time.Minute)
		}), Unreliable, []string{"reconcile_stale"}},
		{"system names in any case", with(func(h *Health) {
			delete(h.LastReconcile, "jira")
			h.LastReconcile["Jira"] = now
		}), Healthy, nil},
		{"an extra system is judged too", with(func(h *Health) { h.LastReconcile["pagerduty"] = now.Add(-24 * time.Hour) }), Unreliable, []string{"reconcile_stale"}},
		{"failed jobs", with(func(h *Health) { h.JobsFailed = 1 }), Degraded, []string{"jobs_failed"}},
		{"a few bad signatures", with(func(h *Health) {
			h.WebhooksReceived = map[string]int{"pagerduty": 10}
			h.WebhooksRejected = map[string]int{"rejected_signature": 3}
			h.WebhooksBadSignature = map[string]int{"pagerduty": 3}
		}), Degraded, []string{"webhooks_rejected_signature"}},
		{"mostly bad signatures", with(func(h *Health) {
			h.WebhooksReceived = map[string]int{"pagerduty": 10}
			h.WebhooksRejected = map[string]int{"signature": 10}
			h.WebhooksBadSignature = map[string]int{"pagerduty": 10}
		}), Unreliable, []string{"webhooks_rejected_signature"}},
		// 500 unsigned POSTs are anyone's traffic: a count, not a verdict.
		{"unsigned flood", with(func(h *Health) {
			h.WebhooksReceived = map[string]int{"pagerduty": 10}
			h.WebhooksRejected = map[string]int{"unsigned": 500}
		}), Healthy, nil},
		// Bad signatures for a source that never sent a valid one judge
		// no secret either: anyone can send a made-up header.
		{"bad signatures from a source with no valid delivery", with(func(h *Health) {
			h.WebhooksReceived = map[string]int{"pagerduty": 10}
			h.WebhooksRejected = map[string]int{"signature": 500}
			h.WebhooksBadSignature = map[string]int{"github": 500}
		}), Healthy, nil},
		{"the source with the wrong secret is named", with(func(h *Health) {
			h.WebhooksReceived = map[string]int{"pagerduty": 10, "jira": 1}
			h.WebhooksRejected = map[string]int{"signature": 12}
			h.WebhooksBadSignature = map[string]int{"pagerduty": 2, "jira": 10}
		}), Unreliable, []string{"webhooks_rejected_signature"}},
		{"missing transitions", with(func(h *Health) { h.MissingTransitions = 2 }), Degraded, []string{"missing_transitions"}},
		{"negative counts are ignored", with(func(h *Health) { h.JobsFailed, h.MissingTransitions = -1, -5 }), Healthy, nil},
		{"worst first", with(func(h *Health) {
			h.JobsFailed, h.MissingTransitions = 2, 1
			h.LastReconcile["github"] = time.Time{}
		}), Unreliable, []string{"reconcile_never", "jobs_failed", "missing_transitions"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := Assess(tt.health, now)
			var codes []string
			for _, r := range h.Reasons {
				codes = append(codes, r.Code)
				if r.Summary == "" || r.Detail == "" || (r.Severity != Degraded && r.Severity != Unreliable) {
					t.Errorf("incomplete reason %+v", r)
				}
			}
			if h.Verdict != tt.verdict || !reflect.DeepEqual(codes, tt.codes) {
				t.Errorf("verdict %s %v, want %s %v", h.Verdict, codes, tt.verdict, tt.codes)
			}
			if len(h.Reconcile) < 2 || h.Reconcile[0].System != "github" || h.Reconcile[1].System != "jira" {
				t.Errorf("reconcile systems %+v", h.Reconcile)
			}
		})
	}
}

func TestVerdictReasonsInBuild(t *testing.T) {
	in := small(t)
	in.Items = []ActionItem{{Key: "A", Opened: in.Now.AddDate(0, 0, -10), Problem: "GitHub issue deleted"}}
	r := Build(in)
	if r.Health.Verdict != Degraded || len(r.Health.Reasons) != 1 || r.Health.Reasons[0].Code != "item_problems" {
		t.Errorf("health %+v", r.Health)
	}
	in.Health.LastReconcile = nil
	r = Build(in)
	if r.Health.Verdict != Unreliable || r.Health.Reasons[0].Code != "reconcile_never" || r.Health.Reasons[1].Code != "item_problems" {
		t.Errorf("health %+v", r.Health)
	}
	md := r.Markdown()
	if !strings.Contains(md, "**Sync health: ⛔ unreliable** — do not trust the numbers: no successful reconcile of github, jira on record; 1 action item with a sync problem.") {
		t.Errorf("verdict line missing:\n%s", md[:min(len(md), 600)])
	}
}

func TestSafeURL(t *testing.T) {
	tests := map[string]string{
		"https://acme.atlassian.net/browse/OPS-1":   "https://acme.atlassian.net/browse/OPS-1",
		" HTTP://Example.com/a ":                    "http://Example.com/a",
		"https://example.com/a|b(c)d<e>`f":          "https://example.com/a%7Cb%28c%29d%3Ce%3E%60f",
		"https://example.com/?q=a|b&x=(1)":          "https://example.com/?q=a%7Cb&x=%281%29",
		"https://example.com/ä":                     "https://example.com/%C3%A4",
		"javascript:alert(1)":                       "",
		"JavaScript://example.com/%0aalert(1)":      "",
		"data:text/html,<script>":                   "",
		"//evil.example/x":                          "",
		"/relative":                                 "",
		"https://user:pw@evil.example":              "",
		"https://acme.atlassian.net@evil.example/x": "",
		"ftp://example.com/":                        "",
		"https:///path":                             "",
		"https://[::1]/x":                           "",
		"":                                          "",
		"mailto:someone@example.com":                "",
		"https://example.com/\u202eevil":            "https://example.com/%E2%80%AEevil",
	}
	for in, want := range tests {
		if got := safeURL(in); got != want {
			t.Errorf("safeURL(%q) = %q, want %q", in, got, want)
		}
		if got := safeURL(safeURL(in)); got != want {
			t.Errorf("safeURL is not idempotent on %q: %q", in, got)
		}
	}
}

// A zero Input builds and renders without panicking.
func TestBuildZeroInput(t *testing.T) {
	r := Build(Input{})
	if r.Markdown() == "" {
		t.Error("no Markdown")
	}
	if _, err := r.JSON(); err != nil {
		t.Error(err)
	}
	var b strings.Builder
	if err := r.HTML(&b); err != nil {
		t.Error(err)
	}
	if err := StatusPage(&b, Status{}); err != nil {
		t.Error(err)
	}
}
