// Package report builds coesync's weekly sync status report: the COEs
// created in a period, the state of their action items, an eight-week
// trend and the health of the sync itself, with a verdict on whether the
// numbers can be trusted. It renders the report as GitHub-flavoured
// Markdown (for the weekly COE review), as JSON and as one self-contained
// HTML page, and renders a small status page for GET /.
//
// The package reads no store and no clock. A caller picks a Period
// (ParsePeriod turns the -week, -since and -until flags into one), fills
// an Input from its store and calls Build, a pure function; the same Input
// gives byte-identical output in every format.
//
//	p, err := report.ParsePeriod(*week, *since, *until, time.Now(), loc)
//	…
//	r := report.Build(report.Input{Now: time.Now(), Period: p, Location: loc, COEs: coes, Items: items, Health: h})
//	fmt.Print(r.Markdown())
//
// # Definitions
//
// A period is the half-open interval [Since, Until); weeks are ISO weeks,
// Monday 00:00 to Monday 00:00 in the report's time zone (seven calendar
// days, so 167 or 169 hours across a DST change).
//
//   - Opened and closed count the items opened and closed in the period.
//   - Open and overdue are counted at the end of the period (AsOf; now, for
//     a period that has not ended). An item is overdue once its due date
//     has passed while it is open; a due date that is a day (midnight)
//     lasts until the end of that day.
//   - Completion rate is closed ÷ (closed + open): of the items in play
//     during the period, the share closed by its end.
//   - Median days to close is over the items closed in the period.
//   - Stale drafts are COEs still unreviewed StaleDraftDays after they were
//     created, seen at the time of the report.
//   - Groups (by team, repository, owner) hold the items in play and are
//     sorted by overdue, open, closed (descending), then name; other counts
//     by count (descending), then name.
//
// # Untrusted text
//
// Titles, names, owners and problems come from PagerDuty, Jira and GitHub.
// Build strips control, bidi and tag characters, collapses white space and
// caps their length; Markdown escapes them so that they cannot format,
// link, mention (@channel), reference (#12) or inject HTML; html/template
// escapes them in the page, whose Content Security Policy also forbids
// scripts and any fetch. Links are made only from absolute http(s) URLs.
package report
