package report

import (
	"fmt"
	"strings"
	"time"
)

// zwj is U+200D ZERO WIDTH JOINER. Written right after '@' or '#', or
// before the ':' of "scheme://", it is invisible to a reader but breaks the
// patterns GitHub turns into mentions, issue references and links.
const zwj = "\u200d"

// md escapes untrusted text for GitHub-flavoured Markdown, inline or in a
// table cell. The result renders as the literal text on one line, with no
// formatting, link, image, raw HTML, mention (@user, @org/team, @channel),
// issue reference (#12, owner/repo#12, GH-12) or auto-link (http://…,
// www.…, user@host): Markdown punctuation is backslash-escaped, < > & are
// entities, a ZWJ follows every '@' and '#', and URLs and "www." get a ZWJ
// before their ':' or '.'.
func md(s string) string {
	s = cleanField(s, 1000)
	rs := []rune(s)
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	// An ordered-list marker ("12." or "12)") at the start.
	listMark := -1
	for i, r := range rs {
		if r >= '0' && r <= '9' {
			continue
		}
		if i > 0 && (r == '.' || r == ')') {
			listMark = i
		}
		break
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range rs {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '(', ')', '!', '|', '~', '$', '{', '}', '^':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '@':
			b.WriteString("@" + zwj)
		case '#':
			b.WriteString(`\#` + zwj)
		case ':':
			// "http://", "javascript://": break every scheme.
			if isASCIILetter(at(i-1)) && at(i+1) == '/' {
				b.WriteString(zwj)
			}
			b.WriteRune(r)
		case '.':
			if i == listMark {
				b.WriteByte('\\')
			} else if i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www") && (i == 3 || !isWordRune(rs[i-4])) {
				b.WriteString(zwj)
			}
			b.WriteRune(r)
		case '-':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			// GH-12 is GitHub's other issue reference.
			if i >= 2 && strings.EqualFold(string(rs[i-2:i]), "gh") && (i == 2 || !isWordRune(rs[i-3])) {
				b.WriteString(zwj)
			}
		case '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isASCIILetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }

// isWordRune reports an ASCII word character: "www." or "GH-1" right after
// one is not a link or reference. Any other rune before them counts as a
// boundary, which errs on the side of breaking them.
func isWordRune(r rune) bool {
	return isASCIILetter(r) || (r >= '0' && r <= '9') || r == '_'
}

// mdLink is a Markdown link with escaped text, or the escaped text alone
// when u is not an http(s) URL.
func mdLink(text, u string) string {
	if u = safeURL(u); u == "" {
		return md(text)
	}
	return "[" + md(text) + "](" + u + ")"
}

type mdWriter struct{ strings.Builder }

func (w *mdWriter) p(format string, args ...any) { fmt.Fprintf(&w.Builder, format, args...) }

// table writes a table; cells must be escaped already.
func (w *mdWriter) table(head []string, align string, rows [][]string) {
	if len(rows) == 0 {
		w.p("_None._\n\n")
		return
	}
	w.p("| %s |\n|", strings.Join(head, " | "))
	for i := range head {
		if i < len(align) && align[i] == 'r' {
			w.p("---:|")
		} else {
			w.p("---|")
		}
	}
	w.p("\n")
	for _, r := range rows {
		w.p("| %s |\n", strings.Join(r, " | "))
	}
	w.p("\n")
}

var verdictIcon = map[string]string{Healthy: "✅", Degraded: "⚠️", Unreliable: "⛔"}

// verdictLine is the one-line verdict on the sync's health.
func (h SyncHealth) verdictLine() string {
	icon := verdictIcon[h.Verdict]
	if icon == "" {
		icon = "❔"
	}
	head := "**Sync health: " + icon + " " + md(h.Verdict) + "**"
	var msgs []string
	for _, r := range h.Reasons {
		msgs = append(msgs, md(r.Summary))
	}
	switch h.Verdict {
	case Healthy:
		return head + " — the numbers can be trusted."
	case Unreliable:
		return head + " — do not trust the numbers: " + strings.Join(msgs, "; ") + "."
	}
	return head + " — the numbers may be incomplete: " + strings.Join(msgs, "; ") + "."
}

func (r Report) in(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(r.Location())
}

// Markdown renders the report as GitHub-flavoured Markdown for the weekly
// COE review: the period, a one-line verdict on the sync's health, then
// the numbers in tables. All text from PagerDuty, Jira and GitHub is
// escaped (see md); links come only from http(s) URLs.
func (r Report) Markdown() string {
	var w mdWriter
	p := Period{Since: r.in(r.Period.Since), Until: r.in(r.Period.Until), Label: r.Period.Label}
	s := r.Summary
	w.p("# COE sync report: %s\n\n", md(p.Label))
	w.p("**%s** (%s) · generated %s\n\n", periodText(p), md(r.Location().String()), fmtTime(r.in(r.GeneratedAt)))
	w.p("> %s [Details](#sync-health)\n\n", r.Health.verdictLine())
	if r.Partial {
		w.p("_The period has not ended: open and overdue items are counted at %s._\n\n", fmtTime(r.in(r.AsOf)))
	}

	w.p("## Summary\n\n")
	w.table([]string{"Metric", "Value"}, "lr", [][]string{
		{"COEs created", itoa(s.COEsCreated)},
		{"Recurrences", itoa(s.Recurrences)},
		{fmt.Sprintf("Drafts not reviewed after %s", days(r.StaleDraftDays)), itoa(s.StaleDrafts)},
		{"Action items opened", itoa(s.ItemsOpened)},
		{"Action items closed", itoa(s.ItemsClosed)},
		{"Action items open at period end", itoa(s.ItemsOpen)},
		{"Action items overdue at period end", itoa(s.ItemsOverdue)},
		{"Completion rate", fmtRate(s.CompletionRate)},
		{"Median days to close", fmtDays(s.MedianDaysToClose)},
		{"Action items with sync problems", itoa(s.ItemsWithProblems)},
	})

	w.p("## COEs created (%d)\n\n", s.COEsCreated)
	var rows [][]string
	for _, c := range r.COEs.Created {
		rows = append(rows, []string{mdLink(c.Key, c.URL), md(c.Title), md(c.Team), md(c.Service),
			fmtShortDate(r.in(c.Created)), coeState(c)})
	}
	w.table([]string{"COE", "Title", "Team", "Service", "Created", "State"}, "", rows)
	if len(r.COEs.Created) > 0 {
		w.p("By team: %s\n\nBy service: %s\n\n", mdCounts(r.COEs.ByTeam), mdCounts(r.COEs.ByService))
	}

	w.p("### Drafts not reviewed after %s (%d)\n\n", days(r.StaleDraftDays), s.StaleDrafts)
	rows = nil
	for _, c := range r.COEs.StaleDrafts {
		rows = append(rows, []string{mdLink(c.Key, c.URL), md(c.Title), md(c.Team),
			fmtShortDate(r.in(c.Created)), days(c.AgeDays)})
	}
	w.table([]string{"COE", "Title", "Team", "Created", "Age"}, "", rows)
	w.more(len(r.COEs.StaleDrafts), s.StaleDrafts)

	w.p("## Action items\n\n")
	w.p("Opened **%d** · closed **%d** · open **%d** · overdue **%d** · completion **%s** · median **%s** days to close\n\n",
		s.ItemsOpened, s.ItemsClosed, s.ItemsOpen, s.ItemsOverdue, fmtRate(s.CompletionRate), fmtDays(s.MedianDaysToClose))
	for _, g := range []struct {
		title, col string
		groups     []ItemGroup
	}{
		{"By team", "Team", r.ActionItems.ByTeam},
		{"By repository", "Repository", r.ActionItems.ByRepo},
		{"By owner", "Owner", r.ActionItems.ByOwner},
	} {
		w.p("### %s\n\n", g.title)
		rows = nil
		for _, x := range g.groups {
			rows = append(rows, []string{md(x.Name), itoa(x.Open), itoa(x.Overdue), itoa(x.Opened),
				itoa(x.Closed), fmtRate(x.CompletionRate)})
		}
		w.table([]string{g.col, "Open", "Overdue", "Opened", "Closed", "Completion"}, "lrrrrr", rows)
	}

	w.p("### Overdue (%d)\n\n", s.ItemsOverdue)
	rows = nil
	for _, it := range r.ActionItems.Overdue {
		rows = append(rows, []string{r.mdItem(it), md(it.Title), md(it.Owner), md(it.Team),
			fmtDue(r.in(it.Due), it.DueDay), days(it.DaysOverdue)})
	}
	w.table([]string{"Item", "Title", "Owner", "Team", "Due", "Late by"}, "lllllr", rows)
	w.more(len(r.ActionItems.Overdue), s.ItemsOverdue)
	if n := r.Health.RemindersSent; n > 0 {
		w.p("coesync sent **%d** reminders about due and overdue items in the period (GitHub comments to their assignees).\n\n", n)
	}

	w.p("### Oldest open items\n\n")
	rows = nil
	for _, it := range r.ActionItems.OldestOpen {
		rows = append(rows, []string{r.mdItem(it), md(it.Title), md(it.Owner), md(it.Repo),
			fmtShortDate(r.in(it.Opened)), days(it.AgeDays), fmtDue(r.in(it.Due), it.DueDay)})
	}
	w.table([]string{"Item", "Title", "Owner", "Repository", "Opened", "Age", "Due"}, "lllllrl", rows)

	w.p("### Sync problems (%d)\n\n", s.ItemsWithProblems)
	rows = nil
	for _, it := range r.ActionItems.Problems {
		rows = append(rows, []string{r.mdItem(it), md(it.Title), md(it.Problem), md(it.Owner)})
	}
	w.table([]string{"Item", "Title", "Problem", "Owner"}, "", rows)
	w.more(len(r.ActionItems.Problems), s.ItemsWithProblems)

	w.p("## Trend (last %d weeks)\n\n", len(r.Trend))
	rows = nil
	for _, t := range r.Trend {
		label := md(t.Label)
		if t.Partial {
			label += " (so far)"
		}
		rows = append(rows, []string{label, itoa(t.COEs), itoa(t.Opened), itoa(t.Closed), itoa(t.Open), itoa(t.Overdue)})
	}
	w.table([]string{"Week", "COEs", "Items opened", "Items closed", "Open at end", "Overdue at end"}, "lrrrrr", rows)

	h := r.Health
	w.p("## Sync health\n\n**%s %s** — %s\n\n", verdictIcon[h.Verdict], md(h.Verdict), verdictLead[h.Verdict])
	for _, x := range h.Reasons {
		w.p("- %s **%s**: %s\n", verdictIcon[x.Severity], md(x.Summary), md(x.Detail))
	}
	if len(h.Reasons) > 0 {
		w.p("\n")
	}
	w.table([]string{"Check", "Value"}, "lr", [][]string{
		{"Webhooks received", withCounts(h.WebhooksReceived, h.WebhooksReceivedBySource)},
		{"Webhooks rejected", withCounts(h.WebhooksRejected, h.WebhooksRejectedByReason)},
		{"Jobs failed", itoa(h.JobsFailed)},
		{"Jobs waiting for retry", itoa(h.JobsWaiting)},
		{"Drift repaired by reconcile", itoa(h.DriftRepaired)},
		{"Missing Jira transitions", itoa(h.MissingTransitions)},
		{"Rate-limit waits", itoa(h.RateLimitWaits)},
	})
	rows = nil
	for _, x := range h.Reconcile {
		rows = append(rows, []string{md(x.System), r.lastText(x), reconcileStateText(x.State)})
	}
	w.p("Reconcile runs every %s; more than two intervals without a successful run makes the numbers unreliable.\n\n",
		fmtDuration(time.Duration(h.ReconcileIntervalSeconds)*time.Second))
	w.table([]string{"System", "Last successful reconcile", "State"}, "", rows)

	w.p("---\n\n")
	w.p("_Open and overdue items are counted at %s. Completion rate: items closed ÷ (closed + still open) "+
		"among those in play during the period. Times in %s._\n", fmtTime(r.in(r.AsOf)), md(r.Location().String()))
	if u := safeURL(r.ReportURL); u != "" {
		w.p("\n[Charts and details](%s)\n", u)
	}
	return w.String()
}

func (w *mdWriter) more(shown, total int) {
	if total > shown {
		w.p("_… and %d more (see the JSON report)._\n\n", total-shown)
	}
}

func (r Report) mdItem(it ItemRow) string {
	s := mdLink(it.Key, it.URL)
	if u := safeURL(it.IssueURL); u != "" {
		s += " ([issue](" + u + "))"
	}
	return s
}

func (r Report) lastText(x ReconcileState) string {
	if x.Last == nil {
		return "never"
	}
	s := fmtTime(r.in(*x.Last))
	if x.AgeSeconds != nil {
		s += " (" + fmtDuration(time.Duration(*x.AgeSeconds)*time.Second) + " ago)"
	}
	return s
}

func reconcileStateText(s string) string {
	switch s {
	case "ok":
		return "✅ ok"
	case "late":
		return "⛔ late"
	case "never":
		return "⛔ never"
	}
	return md(s)
}

func coeState(c COERow) string {
	s := "reviewed"
	if !c.Reviewed {
		s = "draft"
	}
	if c.Recurrence {
		s += " · 🔁 recurrence"
	}
	return s
}

func mdCounts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = md(c.Name) + " " + itoa(c.Count)
	}
	return strings.Join(parts, " · ")
}

func withCounts(total int, cs []Count) string {
	if len(cs) == 0 {
		return itoa(total)
	}
	return itoa(total) + " (" + mdCounts(cs) + ")"
}
