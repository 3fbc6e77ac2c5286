package coe

import (
	"sort"
	"strings"
	"time"
)

// Milestone marks a timeline row that a COE reviewer looks for first.
type Milestone string

// The milestones a timeline marks. PagerDuty has no mitigation event: a
// note whose first line starts with "Mitigated:" or "Mitigation:" marks it.
const (
	MilestoneNone            Milestone = ""
	MilestoneDetection       Milestone = "Detection"       // the first trigger
	MilestoneEscalation      Milestone = "Escalation"      // every escalate entry
	MilestoneAcknowledgement Milestone = "Acknowledgement" // the first acknowledge
	MilestoneMitigation      Milestone = "Mitigation"      // the first mitigation note
	MilestoneResolution      Milestone = "Resolution"      // the last resolve
	MilestoneStatusUpdate    Milestone = "Status update"   // every status update
)

// NoteMatchWindow is how far apart an annotate log entry and a note by the
// same author may be and still be taken for the same note.
const NoteMatchWindow = 5 * time.Second

// TimelineEntry is one row of a COE timeline.
type TimelineEntry struct {
	At      time.Time // UTC
	Actor   string    // who or what did it; untrusted text
	Event   string    // untrusted text: a log entry's summary or a note's content
	Channel string    // how: "api", "website", "sms", "note", ...
	Kind    LogKind   // the log entry's kind ("trigger", "notify", "status_update", ...)
	// Milestone is set on the rows a reviewer looks for first.
	Milestone Milestone
	// Note is true for a note that no annotate log entry matched: the row
	// comes from the note alone, its Kind is LogAnnotate and its Channel
	// "note".
	Note bool
	// NoteID is the note whose content Event holds (an annotate entry
	// matched to its note, or a Note row); empty otherwise.
	NoteID string
}

// Timeline is a COE timeline, oldest first.
type Timeline []TimelineEntry

// BuildTimeline merges an incident's log entries and notes into one
// timeline: exactly one row per log entry, plus one row per note that no
// annotate entry matched, sorted by time (stable: rows with equal times keep
// the input order, log entries before notes), all times in UTC.
//
// An annotate entry is matched to the note by the same author (case and
// surrounding spaces ignored; an empty author matches any) created within
// NoteMatchWindow of it, the closest first; the row then shows the note's
// content instead of PagerDuty's summary.
func BuildTimeline(log []LogEntry, notes []Note) Timeline {
	noteFor := matchNotes(log, notes)
	matched := make([]bool, len(notes))
	tl := make(Timeline, 0, len(log)+len(notes))
	for i, e := range log {
		row := TimelineEntry{
			At:      e.At.UTC(),
			Actor:   strings.TrimSpace(e.Actor),
			Event:   strings.TrimSpace(e.Summary),
			Channel: strings.TrimSpace(e.Channel),
			Kind:    e.Kind,
		}
		if j, ok := noteFor[i]; ok {
			matched[j] = true
			row.Event = notes[j].Content
			row.NoteID = notes[j].ID
			if row.Actor == "" {
				row.Actor = strings.TrimSpace(notes[j].Author)
			}
		}
		if row.Event == "" {
			row.Event = string(e.Kind)
		}
		tl = append(tl, row)
	}
	for j, n := range notes {
		if matched[j] {
			continue
		}
		tl = append(tl, TimelineEntry{
			At:      n.At.UTC(),
			Actor:   strings.TrimSpace(n.Author),
			Event:   n.Content,
			Channel: "note",
			Kind:    LogAnnotate,
			Note:    true,
			NoteID:  n.ID,
		})
	}
	sort.SliceStable(tl, func(a, b int) bool { return tl[a].At.Before(tl[b].At) })
	tl.markMilestones()
	return tl
}

// matchNotes pairs annotate log entries with notes: among all pairs by the
// same author within NoteMatchWindow, the closest in time are paired first,
// each entry and each note at most once. It maps log index to note index.
func matchNotes(log []LogEntry, notes []Note) map[int]int {
	type pair struct {
		entry, note int
		gap         time.Duration
	}
	var pairs []pair
	for i, e := range log {
		if e.Kind != LogAnnotate {
			continue
		}
		for j, n := range notes {
			gap := e.At.Sub(n.At).Abs()
			if gap <= NoteMatchWindow && sameAuthor(e.Actor, n.Author) {
				pairs = append(pairs, pair{i, j, gap})
			}
		}
	}
	sort.SliceStable(pairs, func(a, b int) bool { return pairs[a].gap < pairs[b].gap })
	noteFor := make(map[int]int)
	noteUsed := make(map[int]bool)
	for _, p := range pairs {
		if _, done := noteFor[p.entry]; done || noteUsed[p.note] {
			continue
		}
		noteFor[p.entry] = p.note
		noteUsed[p.note] = true
	}
	return noteFor
}

func sameAuthor(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a == "" || b == "" || strings.EqualFold(a, b)
}

func (tl Timeline) markMilestones() {
	var detected, acked, mitigated bool
	lastResolve := -1
	for i := range tl {
		e := &tl[i]
		switch {
		case e.Note || e.NoteID != "":
			if !mitigated && IsMitigationNote(e.Event) {
				e.Milestone, mitigated = MilestoneMitigation, true
			}
		case e.Kind == LogTrigger && !detected:
			e.Milestone, detected = MilestoneDetection, true
		case e.Kind == LogEscalate:
			e.Milestone = MilestoneEscalation
		case e.Kind == LogStatusUpdate:
			e.Milestone = MilestoneStatusUpdate
		case e.Kind == LogAcknowledge && !acked:
			e.Milestone, acked = MilestoneAcknowledgement, true
		case e.Kind == LogResolve:
			lastResolve = i
		}
	}
	if lastResolve >= 0 {
		tl[lastResolve].Milestone = MilestoneResolution
	}
}

// IsMitigationNote reports whether a note's first non-blank line starts with
// "Mitigated:" or "Mitigation:" (any case), the convention that marks the
// moment the impact stopped.
func IsMitigationNote(content string) bool {
	for _, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		l := strings.ToLower(line)
		return strings.HasPrefix(l, "mitigated:") || strings.HasPrefix(l, "mitigation:")
	}
	return false
}

// First returns the first row marked m and true, or false when none is.
func (tl Timeline) First(m Milestone) (TimelineEntry, bool) {
	for _, e := range tl {
		if e.Milestone == m {
			return e, true
		}
	}
	return TimelineEntry{}, false
}
