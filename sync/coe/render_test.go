package coe

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sync/coe -run %s -update to create it)", err, t.Name())
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s differs from the rendering at line %d (go test -update rewrites it):\n got %q\nwant %q",
				path, i+1, clip(g), clip(w))
			return
		}
	}
}

func mustRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer("")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func richDraft() Draft {
	inc, log, notes := richIncident()
	return NewDraft(inc, log, notes, Route{Rule: "payments", Project: "PAY", IssueType: "COE"})
}

func hostileDraft() Draft {
	inc, log, notes := hostileIncident()
	return NewDraft(inc, log, notes, Route{Rule: "{html}", Project: "OPS"})
}

// allowedLinks are the links a draft may render: those built from its
// related items' URLs that pass SafeURL.
func allowedLinks(d Draft) []string {
	var out []string
	for _, r := range d.Related {
		if l := wikiLink(r.URL); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestRenderRichGolden(t *testing.T) {
	d := richDraft()
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "rich.wiki", out)
	if hz := wikiDocHazards(out, allowedLinks(d)); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
	// One table row per timeline entry.
	rows := regexp.MustCompile(`(?m)^\| 2026-11-23 \d\d:\d\d:\d\d UTC \|`).FindAllString(out, -1)
	if len(rows) != len(d.Timeline) {
		t.Errorf("%d timeline rows rendered for %d entries", len(rows), len(d.Timeline))
	}
	for _, want := range []string{
		"||Time (UTC)||Actor||Event||Channel||",
		"||Item||Owner||Priority||Due||State||",
		"*Detection:* Triggered through the API",
		"*Acknowledgement:* Acknowledged by Lee Turner",
		"*Mitigation:* Mitigated: rolled back deploy",
		"| Time to acknowledge | 4m 12s |",
		"| Time to mitigate | 26m |",
		"| Time to resolve | 1h 3m |",
		"||Started| 2026-11-23 09:15:02 UTC |",
		"||Resolved| 2026-11-23 10:18:22 UTC |",
		"||Teams| Payments, SRE |",
		"[https://acme.pagerduty.com/incidents/Q1CKOUT7]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
}

func TestRenderSectionOrder(t *testing.T) {
	out, err := mustRenderer(t).Render(richDraft())
	if err != nil {
		t.Fatal(err)
	}
	var h2, h3 []string
	for _, line := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(line, "h2. "); ok {
			h2 = append(h2, s)
		}
		if s, ok := strings.CutPrefix(line, "h3. "); ok {
			h3 = append(h3, s)
		}
	}
	wantH2 := []string{"Summary", "Impact", "Timeline", "Metrics", "Incident questions", "Triggering event", "Five whys",
		"Root causes", "Contributing factors", "Lessons learned", "Action items", "Related items"}
	wantH3 := []string{"Detection", "Diagnosis", "Mitigation", "Prevention", "What went well", "What went wrong", "Where we got lucky"}
	if fmt.Sprint(h2) != fmt.Sprint(wantH2) {
		t.Errorf("sections %q, want %q", h2, wantH2)
	}
	if fmt.Sprint(h3) != fmt.Sprint(wantH3) {
		t.Errorf("questions %q, want %q", h3, wantH3)
	}
	whys := regexp.MustCompile(`(?m)^# Why`).FindAllString(out, -1)
	if len(whys) != 5 {
		t.Errorf("%d whys, want 5", len(whys))
	}
}

func TestRenderHostileGolden(t *testing.T) {
	d := hostileDraft()
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "hostile.wiki", out)
	allowed := allowedLinks(d)
	if len(allowed) != 1 {
		t.Errorf("allowed links %q: want only the service link (the incident URL is javascript:)", allowed)
	}
	if hz := wikiDocHazards(out, allowed); len(hz) > 0 {
		t.Errorf("hostile rendering has %d hazards:\n%s", len(hz), strings.Join(hz, "\n"))
	}
	if n := utf16Len(out); n > MaxDescriptionLen {
		t.Errorf("rendering is %d UTF-16 units, over Jira's %d", n, MaxDescriptionLen)
	}
	if strings.ContainsRune(out, '\ufffd') == false {
		t.Error("invalid UTF-8 was not replaced with U+FFFD")
	}
	for _, bad := range []string{"\x00", "\x1b", "\u202e", "\xff"} {
		if strings.Contains(out, bad) {
			t.Errorf("rendering contains %q", bad)
		}
	}
}

// TestRenderHostileFieldByField puts each hostile string into every field
// alone, so one field's escaping cannot hide behind another's.
func TestRenderHostileFieldByField(t *testing.T) {
	r := mustRenderer(t)
	for i, h := range hostileStrings {
		inc, log, notes := richIncident()
		inc.Title, inc.ServiceName, inc.Priority, inc.Urgency, inc.EscalationPolicy = h, h, h, h, h
		inc.Teams = []Team{{Name: h}}
		for j := range log {
			log[j].Actor, log[j].Summary, log[j].Channel, log[j].Subject = h, h, h, h
		}
		for j := range notes {
			notes[j].Author = h
			notes[j].Content = h + "\nAction: " + h
		}
		d := NewDraft(inc, log, notes, Route{Rule: h})
		out, err := r.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		if hz := wikiDocHazards(out, allowedLinks(d)); len(hz) > 0 {
			t.Errorf("hostile string %d %q:\n%s", i, clip(h), strings.Join(hz, "\n"))
		}
	}
}

func TestMarkdownHostileGolden(t *testing.T) {
	var b strings.Builder
	b.WriteString("Each hostile input, escaped by EscapeMarkdown. Rendered by GitHub, every one must read as plain text.\n")
	for i, h := range hostileStrings {
		out := EscapeMarkdown(h)
		if hz := markdownHazards(out); len(hz) > 0 {
			t.Errorf("input %d: %v", i, hz)
		}
		fmt.Fprintf(&b, "\n### Input %d\n\n%s\n", i+1, out)
	}
	golden(t, "hostile.md", b.String())
}

func TestNewRendererErrors(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
	}{
		{"syntax", "{{.Incident.Title", "unclosed action"},
		{"unknown function", "{{shout .Incident.Title}}", `function "shout" not defined`},
		{"unknown field", "{{wiki .Incident.Nope}}", "can't evaluate field Nope"},
		{"wrong argument", "{{dur .Incident.Title}}", "wrong type"},
		{"renders nothing", "{{/* nothing */}}", "renders nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRenderer(tt.tmpl)
			if err == nil || r != nil {
				t.Fatalf("NewRenderer(%q) = %v, %v; want an error", tt.tmpl, r, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name the problem %q", err, tt.want)
			}
		})
	}
}

func TestRenderOverride(t *testing.T) {
	r, err := NewRenderer(`h1. {{wiki .Incident.Title}}` + "\n" + `{{range .Related}}{{link .URL}}{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	d := richDraft()
	d.Incident.Title = "[evil|http://x]"
	out, err := r.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	want := "h1. \\[evil\\|http" + zwsp + "://x\\]\n" +
		"[https://acme.pagerduty.com/incidents/Q1CKOUT7][https://acme.pagerduty.com/service-directory/PCHKAPI]"
	if out != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	if DefaultTemplate() == "" {
		t.Error("no default template")
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"https://acme.pagerduty.com/incidents/PT4KHLK", "https://acme.pagerduty.com/incidents/PT4KHLK", true},
		{"  HTTP://Acme.example/a?b=c&d=e#f  ", "http://Acme.example/a?b=c&d=e#f", true},
		{"https://x.example/p?q=[a]|{b}!c", "https://x.example/p?q=%5Ba%5D%7C%7Bb%7D%21c", true},
		{"https://x.example/a b", "", false},
		{"javascript:alert(1)", "", false},
		{"data:text/html,<script>", "", false},
		{"//evil.example/x", "", false},
		{"/incidents/x", "", false},
		{"https://user:pw@evil.example/", "", false},
		{"https://[::1]/x", "", false},
		{"https://x.example/\x00", "", false},
		{"ftp://x.example/", "", false},
		{"", "", false},
		{"https://" + strings.Repeat("a", 3000) + ".example", "", false},
	}
	for _, tt := range tests {
		got, ok := SafeURL(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SafeURL(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// bigDraft has n ordinary log entries between the milestones, each with a
// long summary, and notes notes.
func bigDraft(n, notes int) Draft {
	inc, _, _ := richIncident()
	log := []LogEntry{{ID: "T", Kind: LogTrigger, At: t0, Summary: "Triggered"}}
	for i := range n {
		kind := LogNotify
		if i%3 == 0 {
			kind = LogAssign
		}
		log = append(log, LogEntry{Kind: kind, At: at(time.Duration(i+1) * time.Second), Actor: "PagerDuty",
			Summary: fmt.Sprintf("entry %d ", i) + strings.Repeat("detail ", 60), Subject: fmt.Sprintf("P%d", i%7)})
	}
	log = append(log,
		LogEntry{Kind: LogAcknowledge, At: at(time.Duration(n/2) * time.Second), Actor: "Lee", Summary: "Acknowledged"},
		LogEntry{Kind: LogResolve, At: at(time.Duration(n+10) * time.Second), Actor: "Lee", Summary: "Resolved"})
	var ns []Note
	for i := range notes {
		ns = append(ns, Note{ID: fmt.Sprint("N", i), At: at(time.Duration(i) * time.Second), Author: "Lee",
			Content: fmt.Sprintf("note %d ", i) + strings.Repeat("[x|http://evil] ", 300)})
	}
	return NewDraft(inc, log, ns, Route{})
}

func TestRenderFitsJira(t *testing.T) {
	r := mustRenderer(t)
	t.Run("timeline elided around the milestones", func(t *testing.T) {
		d := bigDraft(3000, 2)
		first, rows := d.Timeline[1].Event, len(d.Timeline)
		out, err := r.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf16Len(out); n > MaxDescriptionLen {
			t.Fatalf("%d UTF-16 units", n)
		}
		if !strings.Contains(out, "log entries omitted to fit Jira's size limit (") {
			t.Error("no omitted-rows row")
		}
		for _, m := range []string{"*Detection:*", "*Acknowledgement:*", "*Resolution:*", "h2. Related items"} {
			if !strings.Contains(out, m) {
				t.Errorf("lost %q", m)
			}
		}
		if strings.Contains(out, "cut to fit") {
			t.Error("cut although eliding was enough")
		}
		if hz := wikiDocHazards(out, allowedLinks(d)); len(hz) > 0 {
			t.Errorf("hazards: %v", hz)
		}
		if d.Timeline[1].Event != first || len(d.Timeline) != rows {
			t.Error("Render modified the draft")
		}
	})
	t.Run("cut at a line end as a last resort", func(t *testing.T) {
		d := bigDraft(10, 3000)
		out, err := r.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		if n := utf16Len(out); n > MaxDescriptionLen {
			t.Fatalf("%d UTF-16 units", n)
		}
		if !strings.HasSuffix(out, cutNotice) {
			t.Error("no cut notice")
		}
		if hz := wikiDocHazards(out, allowedLinks(d)); len(hz) > 0 {
			t.Errorf("hazards: %v", hz[:min(5, len(hz))])
		}
	})
}

func TestRenderConcurrent(t *testing.T) {
	r := mustRenderer(t)
	want, err := r.Render(richDraft())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got, err := r.Render(richDraft()); err != nil || got != want {
					t.Errorf("concurrent render differs (err %v)", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestRenderUnresolvedAndEmpty(t *testing.T) {
	r := mustRenderer(t)
	inc := Incident{ID: "PNEW", Title: "Still burning", CreatedAt: t0}
	out, err := r.Render(NewDraft(inc, nil, nil, Route{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"||Resolved| not resolved |",
		"||Duration| ongoing |",
		"_No PagerDuty log entries were available: write the timeline by hand._",
		"| Time to acknowledge | not acknowledged |",
		"_No action items were proposed in the incident notes.",
		"* PagerDuty incident: PNEW Still burning\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	if hz := wikiDocHazards(out, nil); len(hz) > 0 {
		t.Errorf("hazards: %v", hz)
	}
}
