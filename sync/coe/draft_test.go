package coe

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

func TestExtractActionItems(t *testing.T) {
	tests := []struct {
		name  string
		notes []Note
		want  []ActionItem
	}{
		{
			name: "prefixes, any case, leading spaces and bullets, one item per line",
			notes: []Note{{ID: "n1", Author: "Lee", Content: "Some context\n" +
				"Action: add a canary stage\n" +
				"  ai: page on p99 latency\n" +
				"TODO:   write   the runbook  \n" +
				"- Action item: fix the pool size\n" +
				"* todo: review alarms\n" +
				"ActionX: not an item\n" +
				"Todo list is long\n" +
				"AI:\n" +
				"the word action: mid-line is not an item"}},
			want: []ActionItem{
				{Summary: "add a canary stage", Owner: "Lee", Source: "n1"},
				{Summary: "page on p99 latency", Owner: "Lee", Source: "n1"},
				{Summary: "write the runbook", Owner: "Lee", Source: "n1"},
				{Summary: "fix the pool size", Owner: "Lee", Source: "n1"},
				{Summary: "review alarms", Owner: "Lee", Source: "n1"},
			},
		},
		{
			name: "notes in time order, owner is each note's author, repeats dropped",
			notes: []Note{
				{ID: "late", At: at(time.Hour), Author: "Jane", Content: "TODO: second"},
				{ID: "early", At: t0, Author: " Lee ", Content: "Action: first\r\nAI: Second"},
				{ID: "dup", At: at(2 * time.Hour), Author: "Kim", Content: "action: FIRST"},
			},
			want: []ActionItem{
				{Summary: "first", Owner: "Lee", Source: "early"},
				{Summary: "Second", Owner: "Lee", Source: "early"},
			},
		},
		{
			name:  "no action lines",
			notes: []Note{{ID: "n", Content: "Investigating."}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExtractActionItems(tt.notes)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d items %+v, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("item %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestNewDraft(t *testing.T) {
	inc, log, notes := richIncident()
	route := Route{Rule: "payments", Project: "PAY", IssueType: "COE"}
	d := NewDraft(inc, log, notes, route)
	if len(d.Timeline) != len(log)+1 {
		t.Errorf("timeline has %d rows", len(d.Timeline))
	}
	if !d.Metrics.Mitigated || d.Metrics.TimeToMitigate != 26*time.Minute {
		t.Errorf("mitigation: %v %v", d.Metrics.Mitigated, d.Metrics.TimeToMitigate)
	}
	wantItems := []string{
		"add a canary stage to checkout-api deploys",
		"page on p99 latency above 2s for checkout-api",
		"write the rollback runbook for checkout-api",
	}
	if len(d.ActionItems) != len(wantItems) {
		t.Fatalf("action items %+v", d.ActionItems)
	}
	for i, w := range wantItems {
		if d.ActionItems[i].Summary != w {
			t.Errorf("item %d = %q, want %q", i, d.ActionItems[i].Summary, w)
		}
	}
	if d.ActionItems[0].Owner != "Jane Doe" || d.ActionItems[0].Source != "N2" || d.ActionItems[2].Owner != "Lee Turner" {
		t.Errorf("owners/sources: %+v", d.ActionItems)
	}
	wantRelated := []RelatedItem{
		{Title: "#4821 Checkout API returning 5xx errors", URL: inc.URL, Kind: RelatedIncident},
		{Title: "checkout-api (production)", URL: inc.ServiceURL, Kind: RelatedService},
	}
	if len(d.Related) != 2 || d.Related[0] != wantRelated[0] || d.Related[1] != wantRelated[1] {
		t.Errorf("related = %+v", d.Related)
	}
	if d.Route.Rule != "payments" {
		t.Errorf("route = %+v", d.Route)
	}
	if got := d.ResolvedAt(); !got.Equal(inc.ResolvedAt) {
		t.Errorf("ResolvedAt = %v", got)
	}
}

func TestIncidentLabel(t *testing.T) {
	for in, want := range map[string]string{
		"PT4KHLK":   "pd-incident-pt4khlk",
		" Q1CKOUT7": "pd-incident-q1ckout7",
		"a b":       "pd-incident-a_20b",
		"a_b":       "pd-incident-a_5fb",
		"x-y":       "pd-incident-x-y",
	} {
		if got := IncidentLabel(in); got != want {
			t.Errorf("IncidentLabel(%q) = %q, want %q", in, got, want)
		}
	}
	long := IncidentLabel(strings.Repeat("é", 200))
	if len(long) > 255 || strings.ContainsAny(long, " \t\n") {
		t.Errorf("long label %q (%d bytes)", long, len(long))
	}
	if IncidentLabel(strings.Repeat("é", 200)) == IncidentLabel(strings.Repeat("é", 199)+"è") {
		t.Error("distinct long ids share a label")
	}
}

func TestTicketSummary(t *testing.T) {
	tests := []struct {
		name string
		inc  Incident
		want string
	}{
		{"plain", Incident{Title: "Checkout API returning 5xx errors", Number: 4821},
			"COE: Checkout API returning 5xx errors (PagerDuty #4821)"},
		{"newlines and controls", Incident{Title: " line one\nline\ttwo\x00\x1b \r\n ", Number: 7},
			"COE: line one line two (PagerDuty #7)"},
		{"empty title", Incident{Number: 1}, "COE: untitled incident (PagerDuty #1)"},
		{"no number", Incident{Title: "x", ID: "PABC123"}, "COE: x (PagerDuty PABC123)"},
		{"invalid utf-8", Incident{Title: "bad\xffbyte", Number: 2}, "COE: bad\ufffdbyte (PagerDuty #2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TicketSummary(tt.inc); got != tt.want {
				t.Errorf("TicketSummary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTicketSummaryTruncation(t *testing.T) {
	for _, title := range []string{
		strings.Repeat("x", 1000),
		strings.Repeat("é", 300),
		strings.Repeat("😀", 300), // two UTF-16 code units each
		strings.Repeat("word ", 100),
	} {
		got := TicketSummary(Incident{Title: title, Number: 123456})
		if n := len(utf16.Encode([]rune(got))); n > MaxSummaryLen {
			t.Errorf("summary of %q… is %d UTF-16 units", title[:10], n)
		}
		if !strings.HasPrefix(got, "COE: ") || !strings.HasSuffix(got, "… (PagerDuty #123456)") {
			t.Errorf("summary %q", got)
		}
		if n := len(utf16.Encode([]rune(got))); n < MaxSummaryLen-2 {
			t.Errorf("summary wastes room: %d units", n)
		}
	}
	// Exactly at the limit: no ellipsis.
	suffix := " (PagerDuty #1)"
	title := strings.Repeat("a", MaxSummaryLen-len("COE: ")-len(suffix))
	if got := TicketSummary(Incident{Title: title, Number: 1}); got != "COE: "+title+suffix {
		t.Errorf("a title that fits was changed: %q", got)
	}
}

func TestWithItemCap(t *testing.T) {
	var notes []Note
	for i := range 5 {
		notes = append(notes, Note{ID: fmt.Sprint(i), At: time.Unix(int64(i), 0), Author: "Bob", Content: fmt.Sprintf("Action: item %d", i)})
	}
	d := NewDraft(Incident{ID: "P1"}, nil, notes, Route{})
	for _, tc := range []struct {
		max, create int
	}{{0, 5}, {5, 5}, {10, 5}, {2, 2}} {
		got := d.WithItemCap(tc.max)
		if n := len(got.ItemsToCreate()); n != tc.create {
			t.Errorf("cap %d: %d items to create, want %d", tc.max, n, tc.create)
		}
		if len(got.ActionItems) != 5 {
			t.Errorf("cap %d: %d items listed, want all 5", tc.max, len(got.ActionItems))
		}
	}
	capped := d.WithItemCap(2)
	if d.ActionItems[4].NotCreated != "" {
		t.Error("WithItemCap modified its receiver's items")
	}
	if got := capped.ActionItems[2].NotCreated; got != "not created: over the cap of 2" {
		t.Errorf("NotCreated = %q", got)
	}
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(capped)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "| Proposed, not created: over the cap of 2 |"); n != 3 {
		t.Errorf("%d rows marked over the cap, want 3:\n%s", n, out)
	}
}
