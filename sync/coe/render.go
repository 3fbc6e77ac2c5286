package coe

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/coe.wiki.tmpl
var defaultTemplate string

// DefaultTemplate returns the embedded COE template, a starting point for
// an override.
func DefaultTemplate() string { return defaultTemplate }

// MaxDescriptionLen is Jira's default limit on a text field such as an
// issue description, in UTF-16 code units (Java characters).
const MaxDescriptionLen = 32767

// Renderer renders COE drafts into Jira wiki markup (the Jira REST API v2
// description format). Create one with NewRenderer; it is safe for
// concurrent use.
type Renderer struct {
	tmpl    *template.Template
	maxLen  int
	trusted TrustedDomains
}

// NewRenderer parses a COE template: override is the template's text, or
// empty for the embedded default (see DefaultTemplate). The template's dot
// is a Draft; besides the text/template builtins it has these functions:
//
//	wiki  x       untrusted text placed inline (EscapeWiki)
//	cell  x       untrusted text in a table cell (EscapeWikiCell)
//	note  x       a note's content in a table cell (EscapeWikiNote)
//	event e       a TimelineEntry's Event in a table cell (cell, or note for notes)
//	link  url     "[url]", a link to url when it is a safe http(s) URL; "" otherwise
//	extlink url   a link from vendor content (an alert's, a bridge's): "[url]"
//	              when its domain is trusted (NewRendererTrusting), else inert text
//	utc   t       "2006-01-02 15:04:05 UTC", or "unknown" for the zero time
//	date  t       "2006-01-02" in UTC, or "unknown"
//	dur   d       FormatDuration
//
// The template is parsed and tried on a sample draft; a template that
// does not parse or fails on the sample is an error that names the
// problem.
func NewRenderer(override string) (*Renderer, error) {
	return NewRendererTrusting(override, nil)
}

// NewRendererTrusting is NewRenderer with the domains whose links from
// vendor content stay clickable (COESYNC_TRUSTED_LINK_DOMAINS).
func NewRendererTrusting(override string, trusted TrustedDomains) (*Renderer, error) {
	src := override
	if strings.TrimSpace(src) == "" {
		src = defaultTemplate
	}
	r := &Renderer{maxLen: MaxDescriptionLen, trusted: trusted}
	funcs := template.FuncMap{
		"extlink": func(raw string) string { return wikiExternalLink(r.trusted, raw) },
		// Links to trusted domains in notes stay clickable.
		"note": func(v any) string { return escapeNoteTrusting(r.trusted, text(v)) },
		"event": func(e TimelineEntry) string {
			if e.NoteID != "" || e.Note || e.Kind == LogStatusUpdate {
				return escapeNoteTrusting(r.trusted, e.Event)
			}
			return EscapeWikiCell(e.Event)
		},
	}
	t, err := template.New("coe").Option("missingkey=error").Funcs(templateFuncs).Funcs(funcs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("coe: parse COE template: %w", err)
	}
	r.tmpl = t
	out, err := r.execute(sampleDraft())
	if err != nil {
		return nil, fmt.Errorf("coe: COE template fails on a sample draft: %w", err)
	}
	if strings.TrimSpace(out) == "" {
		return nil, errors.New("coe: COE template renders nothing")
	}
	return r, nil
}

// Render renders d as Jira wiki markup. A draft too long for a Jira
// description (MaxDescriptionLen) is shortened step by step: note and field
// texts first, then the ordinary timeline rows between the milestones (an
// "omitted" row says how many and which), and at last the text is cut at a
// line end with a notice.
func (r *Renderer) Render(d Draft) (string, error) {
	var out string
	for i, step := range shrinkSteps {
		dd := d
		if i > 0 {
			dd = shrink(d, step)
		}
		// Skip a step that cannot fit without paying for its rendering.
		if i < len(shrinkSteps)-1 && estimateLen(dd, step) > 2*r.maxLen {
			continue
		}
		var err error
		if out, err = r.execute(dd); err != nil {
			return "", err
		}
		if utf16Len(out) <= r.maxLen {
			return out, nil
		}
	}
	return cutToFit(out, r.maxLen), nil
}

func (r *Renderer) execute(d Draft) (string, error) {
	var buf bytes.Buffer
	if err := r.tmpl.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("coe: render COE: %w", err)
	}
	return buf.String(), nil
}

var templateFuncs = template.FuncMap{
	"wiki":  func(v any) string { return EscapeWiki(text(v)) },
	"cell":  func(v any) string { return EscapeWikiCell(text(v)) },
	"note":  func(v any) string { return EscapeWikiNote(text(v)) },
	"event": eventCell,
	"link":  wikiLink,
	"utc":   formatUTC,
	"date":  formatDate,
	"dur":   FormatDuration,
}

func text(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case nil:
		return ""
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

func eventCell(e TimelineEntry) string {
	if e.NoteID != "" || e.Note || e.Kind == LogStatusUpdate {
		return EscapeWikiNote(e.Event)
	}
	return EscapeWikiCell(e.Event)
}

// TimeLayout is how a COE shows a time.
const TimeLayout = "2006-01-02 15:04:05 UTC"

func formatUTC(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(TimeLayout)
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02")
}

// wikiLink renders raw as a Jira link showing its own address, so the
// reader sees where it goes; "" when raw is not a safe http(s) URL.
func wikiLink(raw string) string {
	u, ok := SafeURL(raw)
	if !ok {
		return ""
	}
	return "[" + u + "]"
}

// SafeURL validates an absolute http or https URL from an untrusted source
// and returns it in a form safe to put inside markup: it must parse, have a
// host name (no IP-literal brackets) and no user info, and hold no spaces
// or control characters; every character outside
// A-Z a-z 0-9 - . _ ~ : / ? # @ & = + $ , ; % is percent-encoded, so the
// result holds none of the characters wiki markup or Markdown act on
// ([ ] | { } ! * ( ) < > ' " ` \ ^).
func SafeURL(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 2048 {
		return "", false
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return "", false
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", false
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, "[]:%") {
		return "", false
	}
	s := u.String()
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isASCIIAlnum(rune(c)) || strings.IndexByte("-._~:/?#@&=+$,;%", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String(), true
}

// StartedAt is when the incident started: its creation, or the first
// trigger when the creation time is unknown.
func (d Draft) StartedAt() time.Time {
	if !d.Incident.CreatedAt.IsZero() {
		return d.Incident.CreatedAt.UTC()
	}
	if e, ok := d.Timeline.First(MilestoneDetection); ok {
		return e.At
	}
	return time.Time{}
}

// ResolvedAt is when the incident was resolved: its resolution time, or the
// last resolve entry's when unset; zero while unresolved.
func (d Draft) ResolvedAt() time.Time {
	if !d.Incident.ResolvedAt.IsZero() {
		return d.Incident.ResolvedAt.UTC()
	}
	if e, ok := d.Timeline.First(MilestoneResolution); ok {
		return e.At
	}
	return time.Time{}
}

// IncidentRef is how the draft names the incident: "#1234", or its ID when
// it has no number.
func (d Draft) IncidentRef() string {
	if d.Incident.Number != 0 {
		return "#" + strconv.Itoa(d.Incident.Number)
	}
	return d.Incident.ID
}

// shrinkStep is one way of making a draft shorter.
type shrinkStep struct {
	noteRunes, fieldRunes int
	// keepRows is how many ordinary timeline rows (no milestone, no note)
	// to keep, half at each end; 0 keeps all.
	keepRows int
}

// shrinkSteps are tried in order; the first keeps the draft as it is.
var shrinkSteps = []shrinkStep{
	{MaxNoteRunes, MaxFieldRunes, 0},
	{4000, 1000, 0},
	{1000, 500, 0},
	{300, 200, 0},
	{300, 200, 60},
	{200, 120, 20},
	{100, 80, 6},
	{60, 60, 2},
}

// shrink returns a copy of d with shorter texts and, with keepRows, fewer
// timeline rows; d is not modified.
func shrink(d Draft, s shrinkStep) Draft {
	d.Incident.Title = Truncate(d.Incident.Title, s.fieldRunes)
	tl := make(Timeline, len(d.Timeline))
	for i, e := range d.Timeline {
		max := s.fieldRunes
		if e.Note || e.NoteID != "" {
			max = s.noteRunes
		}
		e.Event = Truncate(e.Event, max)
		e.Actor = Truncate(e.Actor, s.fieldRunes)
		tl[i] = e
	}
	if s.keepRows > 0 {
		tl = elide(tl, s.keepRows)
	}
	d.Timeline = tl
	items := make([]ActionItem, len(d.ActionItems))
	for i, a := range d.ActionItems {
		a.Summary = Truncate(a.Summary, s.fieldRunes)
		items[i] = a
	}
	d.ActionItems = items
	alerts := make([]Alert, len(d.Alerts))
	for i, a := range d.Alerts {
		a.Summary, a.Source = Truncate(a.Summary, s.fieldRunes), Truncate(a.Source, s.fieldRunes)
		alerts[i] = a
	}
	d.Alerts = alerts
	return d
}

// estimateLen is a rough size of d rendered, from its longest texts as the
// escapers will cap them; it only has to tell hopeless from plausible.
func estimateLen(d Draft, s shrinkStep) int {
	n := runesUpTo(d.Incident.Title, s.fieldRunes)
	for _, e := range d.Timeline {
		max := s.fieldRunes
		if e.Note || e.NoteID != "" {
			max = s.noteRunes
		}
		n += runesUpTo(e.Event, max) + runesUpTo(e.Actor, s.fieldRunes) + 40
	}
	for _, a := range d.ActionItems {
		n += runesUpTo(a.Summary, s.fieldRunes) + 20
	}
	return n
}

// runesUpTo counts the runes of s, stopping at max.
func runesUpTo(s string, max int) int {
	n := 0
	for range s {
		if n == max {
			break
		}
		n++
	}
	return n
}

// elide keeps the timeline's milestone and note rows and keep ordinary rows
// (half from each end), and replaces each run of dropped rows by one row
// that says what was left out.
func elide(tl Timeline, keep int) Timeline {
	var ordinary []int
	for i, e := range tl {
		if e.Milestone == MilestoneNone && !e.Note && e.NoteID == "" {
			ordinary = append(ordinary, i)
		}
	}
	if len(ordinary) <= keep {
		return tl
	}
	drop := make(map[int]bool)
	for _, i := range ordinary[keep/2 : len(ordinary)-(keep-keep/2)] {
		drop[i] = true
	}
	var out Timeline
	for i := 0; i < len(tl); {
		if !drop[i] {
			out = append(out, tl[i])
			i++
			continue
		}
		j := i
		kinds := make(map[LogKind]int)
		for j < len(tl) && drop[j] {
			kinds[tl[j].Kind]++
			j++
		}
		out = append(out, TimelineEntry{
			At:    tl[i].At,
			Event: omittedSummary(j-i, kinds),
		})
		i = j
	}
	return out
}

func omittedSummary(n int, kinds map[LogKind]int) string {
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, string(k))
	}
	sort.Slice(names, func(a, b int) bool {
		ka, kb := kinds[LogKind(names[a])], kinds[LogKind(names[b])]
		if ka != kb {
			return ka > kb
		}
		return names[a] < names[b]
	})
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = strconv.Itoa(kinds[LogKind(k)]) + " " + k
	}
	return fmt.Sprintf("… %d log entries omitted to fit Jira's size limit (%s); see the full log in PagerDuty.",
		n, strings.Join(parts, ", "))
}

const cutNotice = "\n\n_This draft was cut to fit Jira's size limit; see the PagerDuty incident for the rest._\n"

// cutToFit cuts out at a line end so that it and cutNotice fit max UTF-16
// code units (TextLimit.Fit's cut, with the draft's own notice).
func cutToFit(out string, max int) string {
	return TextLimit{Max: max, UTF16: true, Vendor: "Jira"}.cut(out, cutNotice, "")
}
