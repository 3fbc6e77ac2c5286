package coe

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ActionItem is a proposed corrective action.
type ActionItem struct {
	Summary  string    // untrusted text
	Owner    string    // untrusted text; the note's author for proposals
	Priority string    // empty until the team sets one
	Due      time.Time // zero until the team (or COESYNC_ACTION_SLA) sets one
	// Source is the ID of the note the item was proposed in.
	Source string
	// NotCreated says why coesync does not create the item ("" when it
	// does); the COE still lists it as a proposal.
	NotCreated string
}

// WithItemCap returns d with the proposed action items beyond the first max
// marked as not created (max <= 0: no cap). It bounds the sub-tasks and
// GitHub issues one incident's notes can make.
func (d Draft) WithItemCap(max int) Draft {
	if max <= 0 || len(d.ActionItems) <= max {
		return d
	}
	items := append([]ActionItem(nil), d.ActionItems...)
	reason := "not created: over the cap of " + strconv.Itoa(max)
	for i := max; i < len(items); i++ {
		items[i].NotCreated = reason
	}
	d.ActionItems = items
	return d
}

// WithItemDefaults returns d with each proposed action item that has no
// priority given priority, and each without a due date given due; an
// empty priority or a zero due sets nothing. It is how COESYNC_ACTION_SLA
// fills the action-items table.
func (d Draft) WithItemDefaults(priority string, due time.Time) Draft {
	priority = strings.TrimSpace(priority)
	items := append([]ActionItem(nil), d.ActionItems...)
	for i := range items {
		if items[i].Priority == "" {
			items[i].Priority = priority
		}
		if items[i].Due.IsZero() && !due.IsZero() {
			items[i].Due = due.UTC()
		}
	}
	d.ActionItems = items
	return d
}

// ItemsToCreate returns the proposed action items coesync creates (those
// not marked NotCreated), in order.
func (d Draft) ItemsToCreate() []ActionItem {
	var out []ActionItem
	for _, a := range d.ActionItems {
		if a.NotCreated == "" {
			out = append(out, a)
		}
	}
	return out
}

// RelatedItem is a link in a COE's related items.
type RelatedItem struct {
	Title string // may hold untrusted text
	URL   string // rendered as a link only when it is a valid http(s) URL
	Kind  string // what it is: "PagerDuty incident", "PagerDuty service", ...
}

// Draft is everything a COE ticket is rendered from.
type Draft struct {
	Incident    Incident      // the PagerDuty incident
	Timeline    Timeline      // log entries and notes, oldest first
	Metrics     Metrics       // derived from the log
	ActionItems []ActionItem  // proposed from the notes
	Related     []RelatedItem // the incident and its service
	Route       Route         // where the COE goes (rules file)
	// Changes are the deployments and merged pull requests of the
	// service's repositories shortly before the incident (WithChanges).
	Changes ChangeList
	// History are the earlier COEs of the same service or incident key
	// (WithHistory).
	History History
	// Alerts are the incident's alerts, oldest first (WithAlerts);
	// AlertsOmitted counts those beyond MaxListedAlerts.
	Alerts        []Alert
	AlertsOmitted int // alerts beyond MaxListedAlerts, not listed
	// AlertsFailed says why the alerts could not be read; empty when they
	// were (or were not asked for).
	AlertsFailed string
	// StatusUpdates are the status updates published during the
	// incident, oldest first; the timeline has a row for each too.
	StatusUpdates []StatusUpdate
}

// Related item kinds.
const (
	RelatedIncident = "PagerDuty incident"
	RelatedService  = "PagerDuty service"
)

// NewDraft assembles the draft of inc's COE from its log entries and notes.
//
// Each line of a note that starts with "Action:", "Action item:", "AI:" or
// "TODO:" (any case, after optional leading spaces and a "-", "*" or "•"
// bullet) proposes one action item, owned by the note's author. Related
// items get the PagerDuty incident and its service.
func NewDraft(inc Incident, log []LogEntry, notes []Note, route Route) Draft {
	d := Draft{
		Incident:      inc,
		Timeline:      BuildTimeline(log, notes),
		Metrics:       ComputeMetrics(inc, log),
		ActionItems:   ExtractActionItems(notes),
		Route:         route,
		StatusUpdates: statusUpdates(log),
	}
	if e, ok := d.Timeline.First(MilestoneMitigation); ok {
		start := inc.CreatedAt
		if t, ok := d.Timeline.First(MilestoneDetection); ok && start.IsZero() {
			start = t.At
		}
		d.Metrics.Mitigated = true
		d.Metrics.TimeToMitigate = since(start, e.At)
	}
	title := "#" + strconv.Itoa(inc.Number)
	if inc.Number == 0 {
		title = inc.ID
	}
	if t := strings.TrimSpace(inc.Title); t != "" {
		title += " " + t
	}
	d.Related = append(d.Related, RelatedItem{Title: title, URL: inc.URL, Kind: RelatedIncident})
	if inc.ServiceName != "" || inc.ServiceURL != "" {
		d.Related = append(d.Related, RelatedItem{Title: inc.ServiceName, URL: inc.ServiceURL, Kind: RelatedService})
	}
	return d
}

// actionPrefixes are the note line prefixes that propose an action item,
// lower case.
var actionPrefixes = []string{"action item:", "action:", "ai:", "todo:"}

// ExtractActionItems proposes action items from notes (see NewDraft), in
// note time order, without repeating a summary (case-insensitively).
func ExtractActionItems(notes []Note) []ActionItem {
	ordered := make([]Note, len(notes))
	copy(ordered, notes)
	sort.SliceStable(ordered, func(a, b int) bool { return ordered[a].At.Before(ordered[b].At) })
	var items []ActionItem
	seen := make(map[string]bool)
	for _, n := range ordered {
		for _, line := range strings.Split(CleanText(n.Content), "\n") {
			summary, ok := actionLine(line)
			if !ok {
				continue
			}
			key := strings.ToLower(summary)
			if seen[key] {
				continue
			}
			seen[key] = true
			items = append(items, ActionItem{
				Summary: Truncate(summary, MaxFieldRunes),
				Owner:   strings.TrimSpace(n.Author),
				Source:  n.ID,
			})
		}
	}
	return items
}

// actionLine returns the action proposed by one note line, if it proposes
// one.
func actionLine(line string) (string, bool) {
	line = strings.TrimSpace(line)
	for _, bullet := range []string{"- ", "* ", "• "} {
		if strings.HasPrefix(line, bullet) {
			line = strings.TrimSpace(line[len(bullet):])
			break
		}
	}
	for _, p := range actionPrefixes {
		if len(line) >= len(p) && strings.EqualFold(line[:len(p)], p) {
			summary := strings.Join(strings.Fields(line[len(p):]), " ")
			return summary, summary != ""
		}
	}
	return "", false
}

// maxLabelLen is Jira's limit on a label's length.
const maxLabelLen = 255

// IncidentLabel is the Jira label that marks the COE ticket of a PagerDuty
// incident, "pd-incident-<id in lower case>". Jira labels cannot hold
// spaces, so any character other than a-z, 0-9 and "-" is written as "_"
// and its hex bytes, which keeps distinct ids distinct. id must not be
// empty.
func IncidentLabel(incidentID string) string {
	const prefix = "pd-incident-"
	var b strings.Builder
	b.WriteString(prefix)
	for _, c := range []byte(strings.ToLower(strings.TrimSpace(incidentID))) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
			b.WriteString(hex.EncodeToString([]byte{c}))
		}
	}
	label := b.String()
	if len(label) > maxLabelLen {
		sum := sha256.Sum256([]byte(incidentID))
		h := "-" + hex.EncodeToString(sum[:8])
		label = label[:maxLabelLen-len(h)] + h
	}
	return label
}

// MaxSummaryLen is Jira's limit on an issue summary, in UTF-16 code units
// (Java characters).
const MaxSummaryLen = 255

// TicketSummary is the summary of inc's COE ticket:
// "COE: <title> (PagerDuty #<number>)". Line breaks and control characters
// are removed and spaces collapsed; the title is shortened with "…" so the
// whole fits MaxSummaryLen.
func TicketSummary(inc Incident) string {
	title := strings.Join(strings.Fields(CleanText(inc.Title)), " ")
	if title == "" {
		title = "untitled incident"
	}
	ref := "#" + strconv.Itoa(inc.Number)
	if inc.Number == 0 {
		ref = strings.Join(strings.Fields(CleanText(inc.ID)), "")
	}
	prefix, suffix := "COE: ", " (PagerDuty "+ref+")"
	room := MaxSummaryLen - utf16Len(prefix) - utf16Len(suffix)
	if room < 1 {
		// Only an absurd incident ID gets here: keep it within the limit.
		return truncateUTF16(prefix+title+suffix, MaxSummaryLen)
	}
	return prefix + truncateUTF16(title, room) + suffix
}
