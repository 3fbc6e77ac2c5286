package report

import (
	"html/template"
	"io"
	"strconv"
	"time"
)

// HTML writes the report as one self-contained page: inline CSS, inline
// SVG charts, no script and nothing loaded from elsewhere (a Content
// Security Policy forbids it). html/template escapes all text.
//
// Hooks for browser tests: the verdict banner has id "verdict" and
// data-verdict; each reason has data-reason (its code); each summary
// number has id "metric-<name>" and data-metric="<name>" with the raw
// value in data-value (names as in Summary's JSON); each chart is an
// <svg data-chart="trend|coes|overdue"> with <title> and <desc>, whose
// bars carry data-series, data-label and data-value.
func (r Report) HTML(w io.Writer) error {
	t, err := pageTemplate.Clone()
	if err != nil {
		return err
	}
	t.Funcs(timeFuncs(r.Location()))
	return t.ExecuteTemplate(w, "report", reportView{Report: r, Charts: r.charts()})
}

// Status is the input of the status page.
type Status struct {
	// Now is when the page is made.
	Now time.Time
	// Location is the time zone of the times shown; nil means UTC.
	Location *time.Location
	// Health is the sync's state; its webhook counts are today's (since
	// local midnight).
	Health Health
	// ReportURL links to the weekly report; empty means "/report".
	ReportURL string
}

// StatusPage writes the page for GET /: the sync's health at a glance
// (verdict and reasons, last reconcile per system, failed and waiting
// jobs, today's webhooks) and a link to the report. It carries the same
// test hooks as HTML (id "verdict", data-metric).
func StatusPage(w io.Writer, s Status) error {
	loc := orUTC(s.Location)
	now := s.Now.In(loc)
	link := s.ReportURL
	if link == "" {
		link = "/report"
	}
	t, err := pageTemplate.Clone()
	if err != nil {
		return err
	}
	t.Funcs(timeFuncs(loc))
	return t.ExecuteTemplate(w, "status", statusView{
		Now: now, TZ: loc.String(), Health: Assess(s.Health, now), ReportURL: link,
	})
}

type reportView struct {
	Report
	Charts []svgChart
}

type statusView struct {
	Now       time.Time
	TZ        string
	Health    SyncHealth
	ReportURL string
}

type card struct {
	Metric, Label, Value, Raw, Sub, Tone string
}

// Cards are the summary numbers at the top of the report.
func (v reportView) Cards() []card {
	s := v.Summary
	tone := func(n int, bad string) string {
		if n > 0 {
			return bad
		}
		return ""
	}
	raw := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	recur := ""
	if s.Recurrences > 0 {
		recur = plural(s.Recurrences, "recurrence", "recurrences")
	}
	return []card{
		{"coes_created", "COEs created", itoa(s.COEsCreated), itoa(s.COEsCreated), recur, tone(s.Recurrences, "warn")},
		{"stale_drafts", "Drafts not reviewed", itoa(s.StaleDrafts), itoa(s.StaleDrafts),
			"older than " + days(v.StaleDraftDays), tone(s.StaleDrafts, "warn")},
		{"items_opened", "Items opened", itoa(s.ItemsOpened), itoa(s.ItemsOpened), "", ""},
		{"items_closed", "Items closed", itoa(s.ItemsClosed), itoa(s.ItemsClosed), "", ""},
		{"items_open", "Items open", itoa(s.ItemsOpen), itoa(s.ItemsOpen), "at period end", ""},
		{"items_overdue", "Items overdue", itoa(s.ItemsOverdue), itoa(s.ItemsOverdue), "", tone(s.ItemsOverdue, "bad")},
		{"completion_rate", "Completion rate", fmtRate(s.CompletionRate), raw(s.CompletionRate), "closed ÷ in play", ""},
		{"median_days_to_close", "Median days to close", fmtDays(s.MedianDaysToClose), raw(s.MedianDaysToClose), "items closed in period", ""},
	}
}

// PeriodText is the period for a reader.
func (v reportView) PeriodText() string {
	return periodText(Period{Since: v.in(v.Period.Since), Until: v.in(v.Period.Until)})
}

// Groups are the three action item breakdowns.
func (v reportView) Groups() []groupTable {
	return []groupTable{
		{"By team", "Team", "items-by-team", v.ActionItems.ByTeam},
		{"By repository", "Repository", "items-by-repo", v.ActionItems.ByRepo},
		{"By owner", "Owner", "items-by-owner", v.ActionItems.ByOwner},
	}
}

type groupTable struct {
	Title, Col, ID string
	Rows           []ItemGroup
}

var verdictLead = map[string]string{
	Healthy:    "the numbers can be trusted.",
	Degraded:   "the numbers may be incomplete.",
	Unreliable: "do not trust the numbers until this is fixed.",
}

func timeFuncs(loc *time.Location) template.FuncMap {
	in := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.In(loc)
	}
	return template.FuncMap{
		"date":  func(t time.Time) string { return fmtShortDate(in(t)) },
		"time":  func(t time.Time) string { return fmtTime(in(t)) },
		"iso":   func(t time.Time) string { return in(t).Format(time.RFC3339) },
		"due":   func(t time.Time, day bool) string { return fmtDue(in(t), day) },
		"ptime": func(t *time.Time) string { return fmtTime(in(*t)) },
		"piso":  func(t *time.Time) string { return in(*t).Format(time.RFC3339) },
	}
}

var baseFuncs = template.FuncMap{
	"date": fmtShortDate, "time": fmtTime, "iso": fmtTime, "due": fmtDue, "ptime": fmtTime, "piso": fmtTime,
	"num":   num,
	"rate":  fmtRate,
	"days1": fmtDays,
	"days":  days,
	"dur":   func(secs int64) string { return fmtDuration(time.Duration(secs) * time.Second) },
	"lead":  func(v string) string { return verdictLead[v] },
	"itoa":  itoa,
	"deref": func(p *int64) int64 { return *p },
	"stateText": func(s string) string {
		switch s {
		case "ok":
			return "OK"
		case "late":
			return "late"
		case "never":
			return "never"
		}
		return s
	},
}

var pageTemplate = template.Must(template.New("page").Funcs(baseFuncs).Parse(pageHTML))

const pageHTML = `
{{- define "head" -}}
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="robots" content="noindex">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<title>{{.}}</title>
<style>
:root{--bg:#f4f6f8;--fg:#18202b;--muted:#5d6878;--card:#fff;--line:#dfe4ea;--head:#eef1f5;--link:#1f5fa8;
--open:#dd7a1f;--closed:#2f6fb5;--coe:#7048b8;--overdue:#c9352f;
--ok:#23824f;--ok-bg:#e5f4ea;--warn:#9a6400;--warn-bg:#fdf3dc;--bad:#b42b25;--bad-bg:#fbe6e4}
@media (prefers-color-scheme:dark){:root{--bg:#11151b;--fg:#e4e8ee;--muted:#9aa5b4;--card:#1a2029;--line:#2b3441;--head:#202835;--link:#7db4f0;
--open:#f0a258;--closed:#6aa6ea;--coe:#a98be6;--overdue:#f07a73;
--ok:#6fd39a;--ok-bg:#15301f;--warn:#f2c15c;--warn-bg:#33290f;--bad:#ff8a82;--bad-bg:#3a1916}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:20px 20px 40px}
a{color:var(--link)}
h1{font-size:1.55rem;line-height:1.25;margin:0 0 4px}
h2{font-size:1.2rem;margin:32px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:20px 0 8px}
.sub{color:var(--muted);margin:0}
.tag{display:inline-block;font-size:.8rem;font-weight:600;padding:1px 8px;border-radius:999px;background:var(--head);color:var(--muted);vertical-align:middle}
.tag.warn{background:var(--warn-bg);color:var(--warn)}
.tag.bad{background:var(--bad-bg);color:var(--bad)}
.tag.ok{background:var(--ok-bg);color:var(--ok)}
.verdict{margin:18px 0;padding:14px 16px;border-radius:10px;border:1px solid;border-left-width:6px}
.verdict strong{font-size:1.05rem}
.verdict ul{margin:8px 0 0;padding-left:20px}
.verdict-healthy{background:var(--ok-bg);border-color:var(--ok)}
.verdict-degraded{background:var(--warn-bg);border-color:var(--warn)}
.verdict-unreliable{background:var(--bad-bg);border-color:var(--bad)}
.verdict-healthy strong{color:var(--ok)}.verdict-degraded strong{color:var(--warn)}.verdict-unreliable strong{color:var(--bad)}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin:0;padding:0;list-style:none}
@media (min-width:1000px){.cards.wide{grid-template-columns:repeat(8,minmax(0,1fr))}}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 14px;min-width:0}
.card .v{display:block;font-size:1.75rem;font-weight:650;line-height:1.2;font-variant-numeric:tabular-nums}
.card .l{display:block;font-size:.85rem;color:var(--muted)}
.card .s{display:block;font-size:.78rem;color:var(--muted)}
.card.warn .v{color:var(--warn)}.card.bad .v{color:var(--bad)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(300px,100%),1fr));gap:16px;margin-top:16px}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 12px 8px;min-width:0}
.chart figcaption{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:4px 12px;margin-bottom:4px}
.chart h3{margin:0;font-size:.95rem}
.legend{font-size:.78rem;color:var(--muted)}
.key{white-space:nowrap;margin-left:10px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.sw.open{background:var(--open)}.sw.closed{background:var(--closed)}
svg{display:block;width:100%;height:auto;overflow:visible}
svg text{fill:var(--muted);font-size:10px;font-family:inherit}
svg .grid{stroke:var(--line);stroke-width:1}
svg .xl.cur{fill:var(--fg);font-weight:700}
svg .yl{fill:var(--fg);font-size:11px}
svg .val{fill:var(--fg);font-size:10px;font-variant-numeric:tabular-nums}
svg .empty{font-size:12px}
.bar.open{fill:var(--open)}.bar.closed{fill:var(--closed)}.bar.coe{fill:var(--coe);opacity:.65}.bar.coe.cur{opacity:1}.bar.overdue{fill:var(--overdue)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(420px,100%),1fr));gap:0 24px}
.grid2>section{min-width:0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;background:var(--card);border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:7px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
tr:last-child td{border-bottom:0}
th{background:var(--head);font-weight:600;font-size:.8rem;color:var(--muted);white-space:nowrap}
th[scope=row]{background:none;color:var(--fg);font-weight:500;font-size:.9rem}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nw{white-space:nowrap}
.t{min-width:14em;overflow-wrap:anywhere}
td.bad{color:var(--bad);font-weight:600}
.none{color:var(--muted);font-style:italic;margin:4px 0 12px}
.counts{margin:10px 0 0;color:var(--muted);font-size:.9rem}
.counts b{color:var(--fg);font-weight:600}
footer{margin-top:32px;color:var(--muted);font-size:.82rem}
.note{color:var(--muted);font-size:.82rem;margin:6px 0 0}
.more{margin-top:24px;font-weight:600;font-size:1.05rem}
@media (max-width:560px){main{padding:12px 12px 32px}h1{font-size:1.3rem}.card .v{font-size:1.45rem}.cards{grid-template-columns:repeat(2,minmax(0,1fr))}th,td{padding:6px 8px}}
@media print{body{background:#fff}.scroll{overflow:visible}.chart,.card,.scroll{break-inside:avoid}}
</style>
</head>
{{- end}}

{{- define "verdict"}}
<section id="verdict" class="verdict verdict-{{.Verdict}}" data-verdict="{{.Verdict}}">
<strong>Sync health: {{.Verdict}}</strong> — {{lead .Verdict}}
{{- if .Reasons}}
<ul>{{range .Reasons}}
<li data-reason="{{.Code}}" data-severity="{{.Severity}}"><b>{{.Summary}}</b>: {{.Detail}}</li>{{end}}
</ul>
{{- end}}
</section>
{{- end}}

{{- define "chart"}}
<figure class="chart">
<figcaption><h3>{{.Title}}</h3>{{if .Legend}}<span class="legend">{{range .Legend}}<span class="key"><i class="sw {{.Class}}"></i>{{.Label}}</span>{{end}}</span>{{end}}</figcaption>
<svg id="{{.ID}}" data-chart="{{.Kind}}" viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Title}}" aria-labelledby="{{.ID}}-title {{.ID}}-desc">
<title id="{{.ID}}-title">{{.Title}}</title>
<desc id="{{.ID}}-desc">{{.Desc}}</desc>
{{- range .Grid}}
<line class="grid" x1="{{num .X1}}" x2="{{num .X2}}" y1="{{num .Y}}" y2="{{num .Y}}"/><text x="{{num .X1}}" dx="-6" y="{{num .Y}}" dy="3.5" text-anchor="end">{{.Label}}</text>
{{- end}}
{{- range .Bars}}
<rect class="{{.Class}}" x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" rx="2" data-series="{{.Series}}" data-label="{{.Label}}" data-value="{{.Value}}"><title>{{.Tip}}</title></rect><text class="val" x="{{num .TX}}" y="{{num .TY}}" text-anchor="{{.TAnchor}}">{{.Value}}</text>
{{- end}}
{{- range .Labels}}
<text class="{{.Class}}" x="{{num .X}}" y="{{num .Y}}" text-anchor="{{.Anchor}}"><title>{{.Tip}}</title>{{.Text}}</text>
{{- end}}
{{- if .Empty}}
<text class="empty" x="{{num .EmptyX}}" y="{{num .EmptyY}}" text-anchor="middle">{{.Empty}}</text>
{{- end}}
</svg>
</figure>
{{- end}}

{{- define "link"}}{{if .URL}}<a href="{{.URL}}">{{.Key}}</a>{{else}}{{.Key}}{{end}}{{end}}

{{- define "item"}}{{template "link" .}}{{if .IssueURL}} <a class="tag" href="{{.IssueURL}}" title="GitHub issue">issue</a>{{end}}{{end}}

{{- define "report"}}
{{- template "head" (printf "COE sync report %s" .Period.Label)}}
<body>
<main>
<header>
<h1>COE sync report <span class="nw">{{.Period.Label}}</span></h1>
<p class="sub">{{.PeriodText}} · {{.TimeZone}} · generated <time datetime="{{iso .GeneratedAt}}">{{time .GeneratedAt}}</time>
{{- if .Partial}} · <span class="tag warn">period not ended: counted at {{time .AsOf}}</span>{{end}}</p>
</header>
{{template "verdict" .Health}}

<ul class="cards wide" aria-label="Summary">
{{- range .Cards}}
<li class="card{{if .Tone}} {{.Tone}}{{end}}"><span class="v" id="metric-{{.Metric}}" data-metric="{{.Metric}}" data-value="{{.Raw}}">{{.Value}}</span><span class="l">{{.Label}}</span>{{if .Sub}}<span class="s">{{.Sub}}</span>{{end}}</li>
{{- end}}
</ul>

<div class="charts">
{{- range .Charts}}{{template "chart" .}}{{end}}
</div>

<h2 id="coes">COEs created <span class="tag">{{.Summary.COEsCreated}}</span></h2>
{{- if .COEs.Created}}
<div class="scroll"><table data-table="coes-created">
<thead><tr><th>COE</th><th>Title</th><th>Team</th><th>Service</th><th>Created</th><th>State</th></tr></thead>
<tbody>
{{- range .COEs.Created}}
<tr data-key="{{.Key}}"><td class="nw">{{template "link" .}}</td><td class="t">{{.Title}}</td><td>{{.Team}}</td><td>{{.Service}}</td><td class="nw">{{date .Created}}</td><td class="nw">{{if .Reviewed}}<span class="tag ok">reviewed</span>{{else}}<span class="tag">draft</span>{{end}}{{if .Recurrence}} <span class="tag warn">recurrence</span>{{end}}</td></tr>
{{- end}}
</tbody></table></div>
<p class="counts">By team: {{range $i, $c := .COEs.ByTeam}}{{if $i}} · {{end}}{{$c.Name}} <b>{{$c.Count}}</b>{{end}}<br>
By service: {{range $i, $c := .COEs.ByService}}{{if $i}} · {{end}}{{$c.Name}} <b>{{$c.Count}}</b>{{end}}</p>
{{- else}}
<p class="none">No COEs were created in this period.</p>
{{- end}}

<h3>Drafts not reviewed after {{days .StaleDraftDays}} <span class="tag{{if .Summary.StaleDrafts}} warn{{end}}">{{.Summary.StaleDrafts}}</span></h3>
{{- if .COEs.StaleDrafts}}
<div class="scroll"><table data-table="stale-drafts">
<thead><tr><th>COE</th><th>Title</th><th>Team</th><th>Created</th><th class="n">Age</th></tr></thead>
<tbody>
{{- range .COEs.StaleDrafts}}
<tr data-key="{{.Key}}"><td class="nw">{{template "link" .}}</td><td class="t">{{.Title}}</td><td>{{.Team}}</td><td class="nw">{{date .Created}}</td><td class="n">{{days .AgeDays}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p class="none">None.</p>
{{- end}}

<h2 id="items">Action items</h2>
<div class="grid2">
{{- range .Groups}}
<section>
<h3>{{.Title}}</h3>
{{- if .Rows}}
<div class="scroll"><table data-table="{{.ID}}">
<thead><tr><th>{{.Col}}</th><th class="n">Open</th><th class="n">Overdue</th><th class="n">Opened</th><th class="n">Closed</th><th class="n">Done</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr><td>{{.Name}}</td><td class="n">{{.Open}}</td><td class="n{{if .Overdue}} bad{{end}}">{{.Overdue}}</td><td class="n">{{.Opened}}</td><td class="n">{{.Closed}}</td><td class="n">{{rate .CompletionRate}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p class="none">No action items in this period.</p>
{{- end}}
</section>
{{- end}}
</div>

<h3>Overdue <span class="tag{{if .Summary.ItemsOverdue}} bad{{end}}">{{.Summary.ItemsOverdue}}</span></h3>
{{- if .ActionItems.Overdue}}
<div class="scroll"><table data-table="overdue">
<thead><tr><th>Item</th><th>Title</th><th>Owner</th><th>Team</th><th>Due</th><th class="n">Late by</th></tr></thead>
<tbody>
{{- range .ActionItems.Overdue}}
<tr data-key="{{.Key}}"><td class="nw">{{template "item" .}}</td><td class="t">{{.Title}}</td><td>{{.Owner}}</td><td>{{.Team}}</td><td class="nw">{{due .Due .DueDay}}</td><td class="n bad">{{days .DaysOverdue}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p class="none">Nothing is overdue.</p>
{{- end}}

<h3>Oldest open items</h3>
{{- if .ActionItems.OldestOpen}}
<div class="scroll"><table data-table="oldest-open">
<thead><tr><th>Item</th><th>Title</th><th>Owner</th><th>Repository</th><th>Opened</th><th class="n">Age</th><th>Due</th></tr></thead>
<tbody>
{{- range .ActionItems.OldestOpen}}
<tr data-key="{{.Key}}"><td class="nw">{{template "item" .}}</td><td class="t">{{.Title}}</td><td>{{.Owner}}</td><td>{{.Repo}}</td><td class="nw">{{date .Opened}}</td><td class="n">{{days .AgeDays}}</td><td class="nw{{if .Overdue}} bad{{end}}">{{due .Due .DueDay}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p class="none">No open action items.</p>
{{- end}}

<h3>Sync problems <span class="tag{{if .Summary.ItemsWithProblems}} warn{{end}}">{{.Summary.ItemsWithProblems}}</span></h3>
{{- if .ActionItems.Problems}}
<div class="scroll"><table data-table="problems">
<thead><tr><th>Item</th><th>Title</th><th>Problem</th><th>Owner</th></tr></thead>
<tbody>
{{- range .ActionItems.Problems}}
<tr data-key="{{.Key}}"><td class="nw">{{template "item" .}}</td><td class="t">{{.Title}}</td><td>{{.Problem}}</td><td>{{.Owner}}</td></tr>
{{- end}}
</tbody></table></div>
{{- else}}
<p class="none">No action item has a sync problem.</p>
{{- end}}

<h2 id="trend">Trend</h2>
<div class="scroll"><table data-table="trend">
<thead><tr><th>Week</th><th class="n">COEs</th><th class="n">Items opened</th><th class="n">Items closed</th><th class="n">Open at end</th><th class="n">Overdue at end</th></tr></thead>
<tbody>
{{- range .Trend}}
<tr data-week="{{.Label}}"><td class="nw">{{.Label}}{{if .Partial}} <span class="tag warn">so far</span>{{end}}</td><td class="n">{{.COEs}}</td><td class="n">{{.Opened}}</td><td class="n">{{.Closed}}</td><td class="n">{{.Open}}</td><td class="n">{{.Overdue}}</td></tr>
{{- end}}
</tbody></table></div>

<h2 id="health">Sync health</h2>
{{template "health" .Health}}

<footer>
<p>Open and overdue items are counted at {{time .AsOf}}. Completion rate: items closed ÷ (closed + still open) among those in play during the period. Median days to close: items closed in the period. Times in {{.TimeZone}}.</p>
</footer>
</main>
</body>
</html>
{{end}}

{{- define "health"}}
<div class="grid2">
<section>
<div class="scroll"><table data-table="health">
<tbody>
<tr><th scope="row">Webhooks received</th><td class="n" data-metric="webhooks_received">{{.WebhooksReceived}}</td><td>{{range $i, $c := .WebhooksReceivedBySource}}{{if $i}} · {{end}}{{$c.Name}} {{$c.Count}}{{end}}</td></tr>
<tr><th scope="row">Webhooks rejected</th><td class="n{{if .WebhooksRejected}} bad{{end}}" data-metric="webhooks_rejected">{{.WebhooksRejected}}</td><td>{{range $i, $c := .WebhooksRejectedByReason}}{{if $i}} · {{end}}{{$c.Name}} {{$c.Count}}{{end}}</td></tr>
<tr><th scope="row">Jobs failed</th><td class="n{{if .JobsFailed}} bad{{end}}" data-metric="jobs_failed">{{.JobsFailed}}</td><td></td></tr>
<tr><th scope="row">Jobs waiting for retry</th><td class="n" data-metric="jobs_waiting">{{.JobsWaiting}}</td><td></td></tr>
<tr><th scope="row">Drift repaired by reconcile</th><td class="n" data-metric="drift_repaired">{{.DriftRepaired}}</td><td></td></tr>
<tr><th scope="row">Missing Jira transitions</th><td class="n{{if .MissingTransitions}} bad{{end}}" data-metric="missing_transitions">{{.MissingTransitions}}</td><td></td></tr>
<tr><th scope="row">Rate-limit waits</th><td class="n" data-metric="rate_limit_waits">{{.RateLimitWaits}}</td><td></td></tr>
{{- if .RemindersSent}}
<tr><th scope="row">Reminders sent</th><td class="n" data-metric="reminders_sent">{{.RemindersSent}}</td><td>due and overdue action items</td></tr>
{{- end}}
</tbody></table></div>
</section>
<section>
{{template "reconcile" .}}
</section>
</div>
{{- end}}

{{- define "reconcile"}}
<div class="scroll"><table data-table="reconcile">
<thead><tr><th>System</th><th>Last successful reconcile</th><th>State</th></tr></thead>
<tbody>
{{- range .Reconcile}}
<tr data-system="{{.System}}" data-state="{{.State}}"><td>{{.System}}</td><td>{{if .Last}}<time datetime="{{piso .Last}}">{{ptime .Last}}</time>{{if .AgeSeconds}} <span class="sub">({{dur (deref .AgeSeconds)}} ago)</span>{{end}}{{else}}never{{end}}</td><td class="nw"><span class="tag {{if eq .State "ok"}}ok{{else}}bad{{end}}">{{stateText .State}}</span></td></tr>
{{- end}}
</tbody></table></div>
<p class="note">Reconcile runs every {{dur .ReconcileIntervalSeconds}}; more than two intervals without a successful run makes the numbers unreliable.</p>
{{- end}}

{{- define "status"}}
{{- template "head" "coesync status"}}
<body>
<main>
<header>
<h1>coesync</h1>
<p class="sub">Sync status at <time datetime="{{iso .Now}}">{{time .Now}}</time> · {{.TZ}}</p>
</header>
{{template "verdict" .Health}}
<ul class="cards" aria-label="Status">
<li class="card{{if .Health.JobsFailed}} bad{{end}}"><span class="v" id="metric-jobs_failed" data-metric="jobs_failed" data-value="{{.Health.JobsFailed}}">{{.Health.JobsFailed}}</span><span class="l">Jobs failed</span></li>
<li class="card"><span class="v" id="metric-jobs_waiting" data-metric="jobs_waiting" data-value="{{.Health.JobsWaiting}}">{{.Health.JobsWaiting}}</span><span class="l">Jobs waiting for retry</span></li>
<li class="card"><span class="v" id="metric-webhooks_received" data-metric="webhooks_received" data-value="{{.Health.WebhooksReceived}}">{{.Health.WebhooksReceived}}</span><span class="l">Webhooks today</span>{{if .Health.WebhooksReceivedBySource}}<span class="s">{{range $i, $c := .Health.WebhooksReceivedBySource}}{{if $i}} · {{end}}{{$c.Name}} {{$c.Count}}{{end}}</span>{{end}}</li>
<li class="card{{if .Health.WebhooksRejected}} warn{{end}}"><span class="v" id="metric-webhooks_rejected" data-metric="webhooks_rejected" data-value="{{.Health.WebhooksRejected}}">{{.Health.WebhooksRejected}}</span><span class="l">Rejected today</span>{{if .Health.WebhooksRejectedByReason}}<span class="s">{{range $i, $c := .Health.WebhooksRejectedByReason}}{{if $i}} · {{end}}{{$c.Name}} {{$c.Count}}{{end}}</span>{{end}}</li>
</ul>
<h2>Reconcile</h2>
{{template "reconcile" .Health}}
<p class="more"><a href="{{.ReportURL}}">Weekly report →</a></p>
</main>
</body>
</html>
{{end}}
`
