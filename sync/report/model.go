package report

import (
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Defaults Build applies to a zero field of Input or Health.
const (
	DefaultStaleDraftDays    = 7
	DefaultReconcileInterval = time.Hour
	// TrendWeeks is the number of ISO weeks in the trend, the period's last
	// week included.
	TrendWeeks = 8
	// OldestOpenLimit caps the list of the oldest open action items.
	OldestOpenLimit = 10
	// ListLimit caps the other lists (stale drafts, overdue items, items
	// with sync problems); their full counts are in Summary.
	ListLimit = 20
)

// Input is everything a report is built from, independent of any store.
// Text fields come from PagerDuty, Jira and GitHub and are untrusted: Build
// cleans them (control and bidi characters removed, white space collapsed,
// length capped) and every renderer escapes them for its output.
type Input struct {
	// Now is the time the report is made; required (Build never reads
	// the clock).
	Now time.Time
	// Period is the period reported on; zero means LastFullWeek(Now).
	Period Period
	// Location is the time zone of the report; nil means UTC.
	Location *time.Location
	// StaleDraftDays is the age after which an unreviewed COE draft is
	// listed; zero means DefaultStaleDraftDays.
	StaleDraftDays int
	COEs           []COE
	Items          []ActionItem
	Health         Health
	// PublicURL is the base URL of the coesync server; when it is an
	// http(s) URL, the Markdown links to the HTML report under /report.
	PublicURL string
}

// COE is one COE ticket.
type COE struct {
	IncidentID, Key, URL, Title, Service, Team string
	Created                                    time.Time
	// Reviewed is false while the COE is still a draft.
	Reviewed   bool
	Recurrence bool
}

// ActionItem is one corrective action of a COE, mirrored to a GitHub issue.
type ActionItem struct {
	Key, URL, COEKey, Title, Team, Repo, Owner string
	IssueURL                                   string
	Opened                                     time.Time
	// Closed is zero while the item is open.
	Closed time.Time
	// Due is zero when the item has no due date. A Due whose clock reads
	// 00:00:00 in its own location names a day (a Jira due date): the item
	// is due by the end of that day in the report's time zone. Any other
	// Due is a deadline to the instant.
	Due time.Time
	// Problem is a sync problem of the item, e.g. "no Jira transition
	// Done" or "GitHub issue deleted"; empty when none.
	Problem string
}

// Health is the state of the sync itself.
type Health struct {
	// WebhooksReceived counts the deliveries that reached coesync in the
	// period, by source, rejected ones included.
	WebhooksReceived map[string]int
	// WebhooksRejected counts rejected deliveries by reason ("signature",
	// "malformed", …; a "rejected_" prefix is dropped).
	WebhooksRejected map[string]int
	// WebhooksBadSignature counts, by source, deliveries that carried a
	// signature header that did not verify. Only these, and only for a
	// source that also sent valid deliveries, judge a signing secret:
	// unsigned deliveries (anyone can send them) are counted in
	// WebhooksRejected as "unsigned" and lower nothing.
	WebhooksBadSignature map[string]int
	// JobsFailed are jobs that gave up (discarded); JobsWaiting are jobs
	// waiting for a retry. Both are the current state.
	JobsFailed, JobsWaiting int
	// DriftRepaired counts differences reconcile found and repaired.
	DriftRepaired int
	// MissingTransitions counts Jira transitions coesync needed and the
	// workflow did not offer.
	MissingTransitions int
	// RateLimitWaits counts waits for a rate limit of an API.
	RateLimitWaits int
	// RemindersSent counts reminders about due and overdue action items
	// (GitHub comments) sent in the period.
	RemindersSent int
	// LastReconcile is the time of the last successful reconcile by
	// system ("jira", "github"); a missing system never reconciled.
	LastReconcile map[string]time.Time
	// ReconcileInterval is how often reconcile runs; zero means
	// DefaultReconcileInterval.
	ReconcileInterval time.Duration
}

// Verdicts on the health of the sync, from best to worst.
const (
	Healthy    = "healthy"
	Degraded   = "degraded"
	Unreliable = "unreliable"
)

// Report is a built report. All lists are sorted deterministically; all
// times are in the report's time zone.
type Report struct {
	Period Period `json:"period"`
	// Partial is true when the period has not ended at GeneratedAt.
	Partial     bool      `json:"partial"`
	TimeZone    string    `json:"time_zone"`
	GeneratedAt time.Time `json:"generated_at"`
	// AsOf is when open and overdue are counted: the end of the period,
	// or GeneratedAt when that is earlier.
	AsOf           time.Time `json:"as_of"`
	StaleDraftDays int       `json:"stale_draft_days"`
	// ReportURL links to the HTML report of the period; empty without a
	// PublicURL.
	ReportURL   string      `json:"report_url,omitempty"`
	Summary     Summary     `json:"summary"`
	Health      SyncHealth  `json:"health"`
	COEs        COESection  `json:"coes"`
	ActionItems ItemSection `json:"action_items"`
	Trend       []TrendWeek `json:"trend"`

	loc *time.Location
}

// Summary holds the headline numbers of the period.
type Summary struct {
	COEsCreated int `json:"coes_created"`
	Recurrences int `json:"recurrences"`
	// StaleDrafts counts COEs still in draft StaleDraftDays after they
	// were created (at GeneratedAt, whenever they were created).
	StaleDrafts  int `json:"stale_drafts"`
	ItemsOpened  int `json:"items_opened"`
	ItemsClosed  int `json:"items_closed"`
	ItemsOpen    int `json:"items_open"`
	ItemsOverdue int `json:"items_overdue"`
	// ItemsWithProblems counts action items with a sync problem.
	ItemsWithProblems int `json:"items_with_problems"`
	// CompletionRate is closed ÷ (closed + open): the share of the items
	// in play during the period (open at its start or opened in it) that
	// were closed by its end, 0 to 1; null when there were none.
	CompletionRate *float64 `json:"completion_rate"`
	// MedianDaysToClose is the median time from opened to closed of the
	// items closed in the period, in days (one decimal); null when none
	// was closed.
	MedianDaysToClose *float64 `json:"median_days_to_close"`
}

// Count is a number of things with a name.
type Count struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// COESection lists the COEs of the period.
type COESection struct {
	// Created are the COEs created in the period, oldest first.
	Created   []COERow `json:"created"`
	ByTeam    []Count  `json:"by_team"`
	ByService []Count  `json:"by_service"`
	// StaleDrafts are the oldest drafts older than StaleDraftDays, at
	// most ListLimit.
	StaleDrafts []COERow `json:"stale_drafts"`
}

// COERow is one COE in a list.
type COERow struct {
	Key        string    `json:"key"`
	URL        string    `json:"url,omitempty"`
	IncidentID string    `json:"incident_id"`
	Title      string    `json:"title"`
	Service    string    `json:"service"`
	Team       string    `json:"team"`
	Created    time.Time `json:"created"`
	Reviewed   bool      `json:"reviewed"`
	Recurrence bool      `json:"recurrence"`
	// AgeDays is the number of whole days from Created to GeneratedAt.
	AgeDays int `json:"age_days"`
}

// ItemSection holds the action item numbers.
type ItemSection struct {
	ByTeam  []ItemGroup `json:"by_team"`
	ByRepo  []ItemGroup `json:"by_repo"`
	ByOwner []ItemGroup `json:"by_owner"`
	// Overdue are the overdue items, most overdue first, at most ListLimit.
	Overdue []ItemRow `json:"overdue"`
	// OldestOpen are the open items opened first, at most OldestOpenLimit.
	OldestOpen []ItemRow `json:"oldest_open"`
	// Problems are the items with a sync problem, by key, at most ListLimit.
	Problems []ItemRow `json:"problems"`
}

// ItemGroup counts the action items of one team, repository or owner that
// were active in the period (opened or closed in it, or open at its end).
// Groups are sorted by overdue, then open, then closed (descending), then
// name.
type ItemGroup struct {
	Name           string   `json:"name"`
	Opened         int      `json:"opened"`
	Closed         int      `json:"closed"`
	Open           int      `json:"open"`
	Overdue        int      `json:"overdue"`
	CompletionRate *float64 `json:"completion_rate"`
}

// ItemRow is one action item in a list.
type ItemRow struct {
	Key      string    `json:"key"`
	URL      string    `json:"url,omitempty"`
	COEKey   string    `json:"coe_key"`
	COEURL   string    `json:"coe_url,omitempty"`
	Title    string    `json:"title"`
	Team     string    `json:"team"`
	Repo     string    `json:"repo"`
	Owner    string    `json:"owner"`
	IssueURL string    `json:"issue_url,omitempty"`
	Opened   time.Time `json:"opened"`
	Closed   time.Time `json:"closed,omitzero"`
	Due      time.Time `json:"due,omitzero"`
	// DueDay is true when Due names a day rather than an instant.
	DueDay bool `json:"due_day,omitempty"`
	// AgeDays is the number of whole days from Opened to AsOf (to Closed
	// for a closed item).
	AgeDays     int    `json:"age_days"`
	Overdue     bool   `json:"overdue"`
	DaysOverdue int    `json:"days_overdue,omitempty"`
	Problem     string `json:"problem,omitempty"`
}

// TrendWeek is one ISO week of the trend.
type TrendWeek struct {
	Label string    `json:"label"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	COEs  int       `json:"coes"`
	// Opened and Closed count the items opened and closed in the week;
	// Open and Overdue are counted at its end.
	Opened  int `json:"opened"`
	Closed  int `json:"closed"`
	Open    int `json:"open"`
	Overdue int `json:"overdue"`
	// Partial is true for a week that has not ended (counted at
	// GeneratedAt).
	Partial bool `json:"partial,omitempty"`
}

// Location returns the time zone of the report (UTC when unknown).
func (r Report) Location() *time.Location {
	if r.loc != nil {
		return r.loc
	}
	if r.TimeZone != "" {
		if loc, err := time.LoadLocation(r.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// Field caps in runes, applied by Build.
const (
	maxTitle = 200
	maxName  = 80
	maxKey   = 40
)

// Build computes the report. It is a pure function of in: it reads no
// clock and the same Input gives the same Report.
func Build(in Input) Report {
	loc := orUTC(in.Location)
	now := in.Now.In(loc)
	p := in.Period
	if p.IsZero() {
		p = LastFullWeek(now, loc)
	}
	p.Since, p.Until = p.Since.In(loc), p.Until.In(loc)
	if p.Label == "" {
		if w := weekOf(p.Since, loc); w.Since.Equal(p.Since) && w.Until.Equal(p.Until) {
			p.Label = w.Label
		} else {
			p.Label = rangeLabel(p.Since, p.Until)
		}
	}
	asOf := p.Until
	if now.Before(asOf) {
		asOf = now
	}
	stale := in.StaleDraftDays
	if stale <= 0 {
		stale = DefaultStaleDraftDays
	}

	r := Report{
		Period:         p,
		Partial:        now.Before(p.Until),
		TimeZone:       loc.String(),
		GeneratedAt:    now,
		AsOf:           asOf,
		StaleDraftDays: stale,
		ReportURL:      reportURL(in.PublicURL, p),
		loc:            loc,
	}

	coes := make([]COE, len(in.COEs))
	coeByKey := make(map[string]COE, len(in.COEs))
	for i, c := range in.COEs {
		c = cleanCOE(c, loc)
		coes[i] = c
		if _, dup := coeByKey[c.Key]; !dup && c.Key != "" {
			coeByKey[c.Key] = c
		}
	}
	items := make([]item, len(in.Items))
	for i, raw := range in.Items {
		it := cleanItem(raw, loc)
		if it.Team == "" {
			it.Team = coeByKey[it.COEKey].Team
		}
		items[i] = it
	}

	r.COEs, r.Summary = buildCOEs(coes, p, now, stale)
	r.ActionItems = buildItems(items, coeByKey, p, asOf, &r.Summary)
	r.Trend = buildTrend(coes, items, p, now, loc)
	r.Health = Assess(in.Health, now)
	if n := r.Summary.ItemsWithProblems; n > 0 {
		r.Health.add(Reason{
			Code: "item_problems", Severity: Degraded,
			Summary: plural(n, "action item", "action items") + " with a sync problem",
			Detail:  "their state may be wrong in Jira or GitHub (listed under Action items)",
		})
	}
	return r
}

func inPeriod(t time.Time, p Period) bool {
	return !t.IsZero() && !t.Before(p.Since) && t.Before(p.Until)
}

func buildCOEs(coes []COE, p Period, now time.Time, staleDays int) (COESection, Summary) {
	var s Summary
	sec := COESection{Created: []COERow{}, StaleDrafts: []COERow{}}
	team, service := map[string]int{}, map[string]int{}
	staleBefore := now.Add(-time.Duration(staleDays) * 24 * time.Hour)
	var drafts []COERow
	for _, c := range coes {
		row := COERow{
			Key: c.Key, URL: c.URL, IncidentID: c.IncidentID, Title: c.Title,
			Service: orNone(c.Service, "(no service)"), Team: orNone(c.Team, "(no team)"),
			Created: c.Created, Reviewed: c.Reviewed, Recurrence: c.Recurrence,
			AgeDays: wholeDays(now.Sub(c.Created)),
		}
		if inPeriod(c.Created, p) {
			sec.Created = append(sec.Created, row)
			team[row.Team]++
			service[row.Service]++
			if c.Recurrence {
				s.Recurrences++
			}
		}
		if !c.Reviewed && !c.Created.IsZero() && c.Created.Before(staleBefore) {
			drafts = append(drafts, row)
		}
	}
	byCreated := func(a, b COERow) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	slices.SortFunc(sec.Created, byCreated)
	slices.SortFunc(drafts, byCreated)
	s.COEsCreated = len(sec.Created)
	s.StaleDrafts = len(drafts)
	sec.StaleDrafts = append(sec.StaleDrafts, drafts[:min(len(drafts), ListLimit)]...)
	sec.ByTeam = counts(team)
	sec.ByService = counts(service)
	return sec, s
}

// item is a cleaned ActionItem with its deadline worked out.
type item struct {
	ActionItem
	// deadline is when the item becomes overdue (zero: never); dueDay
	// reports that Due names a day.
	deadline time.Time
	dueDay   bool
}

// itemState is an action item seen at one instant.
type itemState struct{ open, overdue bool }

// stateAt tells whether it is open (opened before t and not closed before
// t) and overdue (open and past its deadline) at t.
func stateAt(it item, t time.Time) itemState {
	open := it.Opened.Before(t) && (it.Closed.IsZero() || !it.Closed.Before(t))
	if !open {
		return itemState{}
	}
	return itemState{open: true, overdue: !it.deadline.IsZero() && !t.Before(it.deadline)}
}

// deadline returns the instant at which an item due at due becomes overdue,
// and whether due names a day (see ActionItem.Due).
func deadline(due time.Time, loc *time.Location) (time.Time, bool) {
	if due.IsZero() || !isMidnight(due) {
		return due, false
	}
	y, m, d := due.Date()
	return dayStart(y, m, d+1, loc), true
}

type groupAcc struct {
	opened, closed, open, overdue int
}

func buildItems(items []item, coes map[string]COE, p Period, asOf time.Time, s *Summary) ItemSection {
	sec := ItemSection{Overdue: []ItemRow{}, OldestOpen: []ItemRow{}, Problems: []ItemRow{}}
	byTeam, byRepo, byOwner := map[string]*groupAcc{}, map[string]*groupAcc{}, map[string]*groupAcc{}
	var closeDays []float64
	var overdue, open, problems []ItemRow
	for _, it := range items {
		opened := inPeriod(it.Opened, p)
		closed := inPeriod(it.Closed, p)
		st := stateAt(it, asOf)
		row := itemRow(it, coes, st, asOf)
		if it.Problem != "" {
			problems = append(problems, row)
		}
		if !opened && !closed && !st.open {
			continue
		}
		for _, g := range []struct {
			m    map[string]*groupAcc
			name string
		}{
			{byTeam, orNone(it.Team, "(no team)")},
			{byRepo, orNone(it.Repo, "(no repository)")},
			{byOwner, orNone(it.Owner, "(unassigned)")},
		} {
			acc := g.m[g.name]
			if acc == nil {
				acc = &groupAcc{}
				g.m[g.name] = acc
			}
			acc.add(opened, closed, st)
		}
		if opened {
			s.ItemsOpened++
		}
		if closed {
			s.ItemsClosed++
			if !it.Opened.IsZero() {
				closeDays = append(closeDays, max(0, it.Closed.Sub(it.Opened).Hours()/24))
			}
		}
		if st.open {
			s.ItemsOpen++
			open = append(open, row)
		}
		if st.overdue {
			s.ItemsOverdue++
			overdue = append(overdue, row)
		}
	}
	s.ItemsWithProblems = len(problems)
	s.CompletionRate = rate(s.ItemsClosed, s.ItemsOpen)
	s.MedianDaysToClose = median(closeDays)

	slices.SortFunc(overdue, func(a, b ItemRow) int {
		if c := b.DaysOverdue - a.DaysOverdue; c != 0 {
			return c
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	slices.SortFunc(open, func(a, b ItemRow) int {
		if c := a.Opened.Compare(b.Opened); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	slices.SortFunc(problems, func(a, b ItemRow) int { return strings.Compare(a.Key, b.Key) })
	sec.Overdue = append(sec.Overdue, overdue[:min(len(overdue), ListLimit)]...)
	sec.OldestOpen = append(sec.OldestOpen, open[:min(len(open), OldestOpenLimit)]...)
	sec.Problems = append(sec.Problems, problems[:min(len(problems), ListLimit)]...)
	sec.ByTeam, sec.ByRepo, sec.ByOwner = groups(byTeam), groups(byRepo), groups(byOwner)
	return sec
}

func (a *groupAcc) add(opened, closed bool, st itemState) {
	if opened {
		a.opened++
	}
	if closed {
		a.closed++
	}
	if st.open {
		a.open++
	}
	if st.overdue {
		a.overdue++
	}
}

func itemRow(it item, coes map[string]COE, st itemState, asOf time.Time) ItemRow {
	end := asOf
	if !it.Closed.IsZero() && it.Closed.Before(asOf) {
		end = it.Closed
	}
	row := ItemRow{
		Key: it.Key, URL: it.URL, COEKey: it.COEKey, COEURL: coes[it.COEKey].URL, Title: it.Title,
		Team: orNone(it.Team, "(no team)"), Repo: orNone(it.Repo, "(no repository)"),
		Owner: orNone(it.Owner, "(unassigned)"), IssueURL: it.IssueURL,
		Opened: it.Opened, Closed: it.Closed, Due: it.Due, DueDay: it.dueDay,
		Overdue: st.overdue, Problem: it.Problem,
	}
	if !it.Opened.IsZero() {
		row.AgeDays = wholeDays(end.Sub(it.Opened))
	}
	if st.overdue {
		// Started days count: one hour late is one day late.
		row.DaysOverdue = int(math.Ceil(asOf.Sub(it.deadline).Hours() / 24))
		if row.DaysOverdue < 1 {
			row.DaysOverdue = 1
		}
	}
	return row
}

func buildTrend(coes []COE, items []item, p Period, now time.Time, loc *time.Location) []TrendWeek {
	last := weekOf(p.Until.Add(-time.Nanosecond), loc)
	y, m, d := last.Since.Date()
	weeks := make([]TrendWeek, 0, TrendWeeks)
	for i := TrendWeeks - 1; i >= 0; i-- {
		w := weekOf(dayStart(y, m, d-7*i, loc), loc)
		tw := TrendWeek{Label: w.Label, Since: w.Since, Until: w.Until, Partial: now.Before(w.Until)}
		at := w.Until
		if tw.Partial {
			at = now
		}
		for _, c := range coes {
			if inPeriod(c.Created, w) {
				tw.COEs++
			}
		}
		for _, it := range items {
			if inPeriod(it.Opened, w) {
				tw.Opened++
			}
			if inPeriod(it.Closed, w) {
				tw.Closed++
			}
			st := stateAt(it, at)
			if st.open {
				tw.Open++
			}
			if st.overdue {
				tw.Overdue++
			}
		}
		weeks = append(weeks, tw)
	}
	return weeks
}

// counts turns a tally into Counts, by count (descending) then name.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Name: k, Count: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func groups(m map[string]*groupAcc) []ItemGroup {
	out := make([]ItemGroup, 0, len(m))
	for k, a := range m {
		out = append(out, ItemGroup{
			Name: k, Opened: a.opened, Closed: a.closed, Open: a.open, Overdue: a.overdue,
			CompletionRate: rate(a.closed, a.open),
		})
	}
	slices.SortFunc(out, func(a, b ItemGroup) int {
		for _, c := range [][2]int{{a.Overdue, b.Overdue}, {a.Open, b.Open}, {a.Closed, b.Closed}} {
			if c[0] != c[1] {
				return c[1] - c[0]
			}
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// rate returns closed ÷ (closed + open) rounded to four decimals, or nil.
func rate(closed, open int) *float64 {
	if closed+open == 0 {
		return nil
	}
	v := math.Round(float64(closed)/float64(closed+open)*1e4) / 1e4
	return &v
}

// median returns the median of xs rounded to one decimal, or nil when xs
// is empty. With an even count it is the mean of the two middle values.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	v := s[n/2]
	if n%2 == 0 {
		v = (s[n/2-1] + s[n/2]) / 2
	}
	v = math.Round(v*10) / 10
	return &v
}

func wholeDays(d time.Duration) int {
	if d < 0 {
		return 0
	}
	return int(d / (24 * time.Hour))
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func cleanCOE(c COE, loc *time.Location) COE {
	c.IncidentID = cleanField(c.IncidentID, maxKey)
	c.Key = cleanField(c.Key, maxKey)
	c.URL = safeURL(c.URL)
	c.Title = cleanField(c.Title, maxTitle)
	c.Service = cleanField(c.Service, maxName)
	c.Team = cleanField(c.Team, maxName)
	c.Created = inLoc(c.Created, loc)
	return c
}

func cleanItem(it ActionItem, loc *time.Location) item {
	it.Key = cleanField(it.Key, maxKey)
	it.URL = safeURL(it.URL)
	it.COEKey = cleanField(it.COEKey, maxKey)
	it.Title = cleanField(it.Title, maxTitle)
	it.Team = cleanField(it.Team, maxName)
	it.Repo = cleanField(it.Repo, maxName)
	it.Owner = cleanField(it.Owner, maxName)
	it.IssueURL = safeURL(it.IssueURL)
	it.Problem = cleanField(it.Problem, maxTitle)
	it.Opened = inLoc(it.Opened, loc)
	it.Closed = inLoc(it.Closed, loc)
	out := item{ActionItem: it}
	if !it.Due.IsZero() {
		out.deadline, out.dueDay = deadline(it.Due, loc)
		if out.dueDay {
			// A day stays the same day, at midnight in the report's zone.
			y, m, d := it.Due.Date()
			out.Due = dayStart(y, m, d, loc)
		} else {
			out.Due = it.Due.In(loc)
		}
	}
	return out
}

func inLoc(t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}
