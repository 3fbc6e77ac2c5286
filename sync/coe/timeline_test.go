package coe

import (
	"slices"
	"testing"
	"time"
)

func TestBuildTimeline(t *testing.T) {
	est := time.FixedZone("EST", -5*3600)
	base := time.Date(2026, 11, 23, 4, 0, 0, 0, est) // 09:00 UTC
	tests := []struct {
		name  string
		log   []LogEntry
		notes []Note
		// want lists each row as its Event, in order.
		want      []string
		wantKinds []LogKind
		check     func(t *testing.T, tl Timeline)
	}{
		{
			name: "sorted by time, ties keep input order",
			log: []LogEntry{
				{Kind: LogResolve, At: base.Add(time.Hour), Summary: "resolved"},
				{Kind: LogTrigger, At: base, Summary: "triggered"},
				{Kind: LogNotify, At: base.Add(time.Minute), Summary: "notify A"},
				{Kind: LogNotify, At: base.Add(time.Minute), Summary: "notify B"},
				{Kind: LogEscalate, At: base.Add(time.Minute), Summary: "escalated"},
			},
			want: []string{"triggered", "notify A", "notify B", "escalated", "resolved"},
		},
		{
			name: "times in UTC",
			log:  []LogEntry{{Kind: LogTrigger, At: base, Summary: "t"}},
			check: func(t *testing.T, tl Timeline) {
				if tl[0].At.Location() != time.UTC || tl[0].At.Hour() != 9 {
					t.Errorf("At = %v, want 09:00 UTC", tl[0].At)
				}
			},
			want: []string{"t"},
		},
		{
			name: "annotate entries show their note inline, one row per log entry",
			log: []LogEntry{
				{Kind: LogTrigger, At: base, Summary: "triggered"},
				{Kind: LogAnnotate, At: base.Add(10 * time.Minute), Actor: "Lee", Summary: "Note added"},
				{Kind: LogAnnotate, At: base.Add(20 * time.Minute), Actor: "Jane", Summary: "Note added"},
			},
			notes: []Note{
				// Listed out of order, clocks a little apart, case differs.
				{ID: "n2", At: base.Add(20*time.Minute + 3*time.Second), Author: "jane ", Content: "second note"},
				{ID: "n1", At: base.Add(10*time.Minute - 2*time.Second), Author: "Lee", Content: "first note"},
			},
			want: []string{"triggered", "first note", "second note"},
			check: func(t *testing.T, tl Timeline) {
				if tl[1].NoteID != "n1" || tl[2].NoteID != "n2" || tl[1].Note || tl[2].Note {
					t.Errorf("matched rows = %+v, %+v", tl[1], tl[2])
				}
			},
		},
		{
			name: "a note without a matching annotate entry gets its own row",
			log: []LogEntry{
				{Kind: LogTrigger, At: base, Summary: "triggered"},
				// Same author, too far apart in time.
				{Kind: LogAnnotate, At: base.Add(10 * time.Minute), Actor: "Lee", Summary: "Note added"},
				{Kind: LogResolve, At: base.Add(30 * time.Minute), Summary: "resolved"},
			},
			notes: []Note{
				{ID: "n1", At: base.Add(15 * time.Minute), Author: "Lee", Content: "standalone"},
				// Right time, other author.
				{ID: "n2", At: base.Add(10 * time.Minute), Author: "Jane", Content: "other author"},
			},
			want:      []string{"triggered", "Note added", "other author", "standalone", "resolved"},
			wantKinds: []LogKind{LogTrigger, LogAnnotate, LogAnnotate, LogAnnotate, LogResolve},
			check: func(t *testing.T, tl Timeline) {
				if tl[1].Note || tl[1].NoteID != "" {
					t.Errorf("unmatched annotate row = %+v", tl[1])
				}
				for _, i := range []int{2, 3} {
					if !tl[i].Note || tl[i].Channel != "note" || tl[i].NoteID == "" {
						t.Errorf("note row %d = %+v", i, tl[i])
					}
				}
			},
		},
		{
			name: "a note matches one annotate entry only, the closest",
			log: []LogEntry{
				{Kind: LogAnnotate, At: base, Actor: "Lee", Summary: "Note added"},
				{Kind: LogAnnotate, At: base.Add(4 * time.Second), Actor: "Lee", Summary: "Note added"},
			},
			notes: []Note{{ID: "n1", At: base.Add(3 * time.Second), Author: "Lee", Content: "the note"}},
			want:  []string{"Note added", "the note"},
		},
		{
			name: "an empty summary falls back to the kind",
			log:  []LogEntry{{Kind: "snooze", At: base}},
			want: []string{"snooze"},
		},
		{
			name: "no log, no notes",
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := BuildTimeline(tt.log, tt.notes)
			var events []string
			var kinds []LogKind
			for _, e := range tl {
				events = append(events, e.Event)
				kinds = append(kinds, e.Kind)
			}
			if !slices.Equal(events, tt.want) && !(len(events) == 0 && len(tt.want) == 0) {
				t.Errorf("events = %q, want %q", events, tt.want)
			}
			if tt.wantKinds != nil && !slices.Equal(kinds, tt.wantKinds) {
				t.Errorf("kinds = %q, want %q", kinds, tt.wantKinds)
			}
			logRows := 0
			for _, e := range tl {
				if !e.Note {
					logRows++
				}
			}
			if logRows != len(tt.log) {
				t.Errorf("%d log rows for %d log entries", logRows, len(tt.log))
			}
			if tt.check != nil {
				tt.check(t, tl)
			}
		})
	}
}

func TestTimelineMilestones(t *testing.T) {
	inc, log, notes := richIncident()
	_ = inc
	tl := BuildTimeline(log, notes)
	if len(tl) != len(log)+1 {
		t.Fatalf("%d rows, want %d (one per log entry plus the unmatched note)", len(tl), len(log)+1)
	}
	got := map[string]Milestone{}
	for _, e := range tl {
		if e.Milestone != MilestoneNone {
			got[e.Event] = e.Milestone
		}
	}
	want := map[string]Milestone{
		"Triggered through the API":       MilestoneDetection,
		"Escalated to level 2 by timeout": MilestoneEscalation,
		"Acknowledged by Lee Turner":      MilestoneAcknowledgement, // the first acknowledge, not Jane's
		notes[1].Content:                  MilestoneMitigation,
		"Resolved by Lee Turner":          MilestoneResolution,
	}
	if len(got) != len(want) {
		t.Errorf("milestones = %v, want %v", got, want)
	}
	for ev, m := range want {
		if got[ev] != m {
			t.Errorf("%q: milestone %q, want %q", ev, got[ev], m)
		}
	}
	for i := 1; i < len(tl); i++ {
		if tl[i].At.Before(tl[i-1].At) {
			t.Errorf("row %d is earlier than row %d", i, i-1)
		}
	}
}

func TestIsMitigationNote(t *testing.T) {
	for in, want := range map[string]bool{
		"Mitigated: rolled back":   true,
		"\n  mitigation: failover": true,
		"MITIGATED: yes":           true,
		"Not mitigated: yet":       false,
		"Investigating\nMitigated: later line does not count": false,
		"": false,
	} {
		if got := IsMitigationNote(in); got != want {
			t.Errorf("IsMitigationNote(%q) = %v, want %v", in, got, want)
		}
	}
}

// An annotate entry without an actor shows its note's author; one with an
// actor keeps it. Each milestone goes to the right row: the first trigger,
// acknowledgement and mitigation note, every escalation, the last resolve.
func TestTimelineActorFallbackAndMilestones(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	log := []LogEntry{
		{Kind: LogTrigger, At: at(0), Summary: "t1"},
		{Kind: LogTrigger, At: at(1), Summary: "t2"},
		{Kind: LogEscalate, At: at(2), Summary: "e1"},
		{Kind: LogAcknowledge, At: at(3), Summary: "a1", Actor: "Ann"},
		{Kind: LogEscalate, At: at(4), Summary: "e2"},
		{Kind: LogAcknowledge, At: at(5), Summary: "a2", Actor: "Bob"},
		{Kind: LogAnnotate, At: at(6), Summary: "n1"},
		{Kind: LogAnnotate, At: at(8), Summary: "n2", Actor: "Bob"},
		{Kind: LogResolve, At: at(9), Summary: "r1"},
		{Kind: LogResolve, At: at(10), Summary: "r2"},
	}
	notes := []Note{
		{ID: "N1", At: at(6), Author: " Cy ", Content: "Mitigated: rolled back"},
		{ID: "N2", At: at(8), Author: "bob", Content: "mitigation: again"},
		{ID: "N3", At: at(7), Author: "Dee", Content: "Mitigated: unmatched, later than N1"},
	}
	tl := BuildTimeline(log, notes)
	got := map[string]Milestone{}
	actor := map[string]string{}
	for _, e := range tl {
		got[e.Event], actor[e.Event] = e.Milestone, e.Actor
	}
	want := map[string]Milestone{
		"t1": MilestoneDetection, "t2": MilestoneNone, "e1": MilestoneEscalation, "e2": MilestoneEscalation,
		"a1": MilestoneAcknowledgement, "a2": MilestoneNone, "Mitigated: rolled back": MilestoneMitigation,
		"mitigation: again": MilestoneNone, "Mitigated: unmatched, later than N1": MilestoneNone,
		"r1": MilestoneNone, "r2": MilestoneResolution,
	}
	for ev, m := range want {
		if got[ev] != m {
			t.Errorf("%q: milestone %q, want %q", ev, got[ev], m)
		}
	}
	if actor["Mitigated: rolled back"] != "Cy" || actor["mitigation: again"] != "Bob" {
		t.Errorf("actors %q", actor)
	}
	if len(tl) != len(log)+1 {
		t.Errorf("%d rows, want %d", len(tl), len(log)+1)
	}
}
