package coe

import (
	"strings"
	"testing"
	"time"
)

// contextDraft is the rich draft with what PagerDuty adds besides the
// log: alerts (one linking a trusted dashboard, one an untrusted page, one
// hostile), a status update and a conference bridge.
func contextDraft() Draft {
	inc, log, notes := richIncident()
	inc.Bridge = ConferenceBridge{URL: "https://acme.zoom.us/j/123456789", Number: "+1 415-555-1212,,,,1234#"}
	log = append(log, LogEntry{ID: "L15", Kind: LogStatusUpdate, At: at(20 * time.Minute), Actor: "Jane Doe", Channel: "website",
		Summary: "Checkout is failing for about 12% of orders.\nWe are rolling back the last deploy."})
	d := NewDraft(inc, log, notes, Route{Rule: "payments", Project: "PAY", IssueType: "COE"})
	return d.WithAlerts([]Alert{
		{At: at(time.Second), Summary: "checkout-api 5xx rate above 5%", Source: "datadog", Severity: "critical",
			Link: "https://grafana.acme.com/d/checkout?orgId=1&from=now-1h"},
		{At: t0, Summary: "p99 latency above 2s", Source: "prometheus-eu-1", Severity: "warning",
			Link: "https://status.evil.example/login"},
		{At: at(2 * time.Second), Summary: hostileLink + " " + hostileMention, Source: hostileHTML, Link: "javascript:alert(1)"},
	}, "")
}

func TestRenderPagerDutyContextGolden(t *testing.T) {
	d := contextDraft()
	r, err := NewRendererTrusting("", NewTrustedDomains([]string{" Grafana.ACME.com ", "*.zoom.us"}))
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "pagerduty-context.wiki", out)
	trusted := []string{"[https://grafana.acme.com/d/checkout?orgId=1&from=now-1h]", "[https://acme.zoom.us/j/123456789]"}
	for _, want := range append([]string{
		"||Triggered (UTC)||Alert||Source||Severity||Monitoring link||",
		"| 2026-11-23 09:15:02 UTC | p99 latency above 2s | prometheus-eu-1 | warning | https" + zwsp + "://status.evil.example/login |",
		"*Status update:* Checkout is failing for about 12% of orders.",
		"* Conference bridge: [https://acme.zoom.us/j/123456789] \\+1 415-555-1212,,,,1234#",
	}, trusted...) {
		if !strings.Contains(out, want) {
			t.Errorf("rendering lacks %q", want)
		}
	}
	// The alerts come oldest first, under Detection, before Diagnosis.
	det, diag := strings.Index(out, "h3. Detection"), strings.Index(out, "h3. Diagnosis")
	first, second := strings.Index(out, "| p99 latency above 2s |"), strings.Index(out, "| checkout-api 5xx rate above 5% |")
	if !(det < first && first < second && second < diag) {
		t.Errorf("alerts not listed oldest first under Detection (%d %d %d %d)", det, first, second, diag)
	}
	if hz := wikiDocHazards(out, append(allowedLinks(d), trusted...)); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
	if len(d.StatusUpdates) != 1 || d.StatusUpdates[0].Author != "Jane Doe" {
		t.Errorf("status updates %+v", d.StatusUpdates)
	}
}

// TestRenderUntrustedLinksInert: without trusted domains no alert or
// bridge link is clickable.
func TestRenderUntrustedLinksInert(t *testing.T) {
	d := contextDraft()
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, live := range []string{"[https://grafana.acme.com", "[https://acme.zoom.us", "[https://status.evil.example"} {
		if strings.Contains(out, live) {
			t.Errorf("untrusted link %q is clickable", live)
		}
	}
	if !strings.Contains(out, "https"+zwsp+"://grafana.acme.com/d/checkout") {
		t.Error("the untrusted monitoring link is not shown as text")
	}
	if hz := wikiDocHazards(out, allowedLinks(d)); len(hz) > 0 {
		t.Errorf("hazards:\n%s", strings.Join(hz, "\n"))
	}
}

func TestRenderAlertsFailed(t *testing.T) {
	d := richDraft().WithAlerts(nil, "PagerDuty answered HTTP 503")
	out, err := mustRenderer(t).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	want := "_The incident's alerts could not be read from PagerDuty (PagerDuty answered HTTP 503): list the alerts that fired by hand._"
	if !strings.Contains(out, want) {
		t.Errorf("rendering does not name the failure:\n%s", out)
	}
	if strings.Contains(out, "||Triggered (UTC)||Alert") {
		t.Error("an alerts table without alerts")
	}
}

func TestWithAlertsCapsTheList(t *testing.T) {
	var alerts []Alert
	for i := range MaxListedAlerts + 3 {
		alerts = append(alerts, Alert{At: at(time.Duration(i) * time.Second), Summary: "a"})
	}
	d := Draft{}.WithAlerts(alerts, "")
	if len(d.Alerts) != MaxListedAlerts || d.AlertsOmitted != 3 {
		t.Errorf("%d alerts listed, %d omitted", len(d.Alerts), d.AlertsOmitted)
	}
}

func TestTrustedDomains(t *testing.T) {
	td := NewTrustedDomains([]string{"grafana.acme.com", " .ACME.slack.com ", "", "*.zoom.us"})
	tests := []struct {
		url  string
		want bool
	}{
		{"https://grafana.acme.com/d/x", true},
		{"https://eu.grafana.acme.com/d/x", true},
		{"http://GRAFANA.acme.com./d/x", true},
		{"https://acme.slack.com/archives/C1", true},
		{"https://acme.zoom.us/j/1", true},
		{"https://evilgrafana.acme.com/d/x", false},
		{"https://grafana.acme.com.evil.example/d/x", false},
		{"https://acme.com/", false},
		{"https://user:pw@grafana.acme.com/", false},
		{"javascript://grafana.acme.com/%0aalert(1)", false},
		{"ftp://grafana.acme.com/", false},
		{"grafana.acme.com/d/x", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := td.Trusts(tt.url); got != tt.want {
			t.Errorf("Trusts(%q) = %v, want %v", tt.url, got, tt.want)
		}
	}
	if TrustedDomains(nil).Trusts("https://grafana.acme.com/") {
		t.Error("no trusted domains trusts a link")
	}
}

// TestNoteLinksToTrustedDomains: with trusted domains, a note's link to
// one stays clickable; any other link, and everything else in the note,
// stays inert.
func TestNoteLinksToTrustedDomains(t *testing.T) {
	td := NewTrustedDomains([]string{"grafana.acme.com"})
	tests := []struct {
		in, want string
	}{
		{"see https://grafana.acme.com/d/x?a=1&b=2.", "see [https://grafana.acme.com/d/x?a=1&b=2]."},
		{"(https://eu.grafana.acme.com/d/y)", "([https://eu.grafana.acme.com/d/y])"},
		{"https://grafana.acme.com.evil.example/x", "https" + zwsp + "://grafana.acme.com.evil.example/x"},
		// A disguised link keeps its brackets inert; the address itself,
		// shown as its own text, is the link.
		{"[x|https://grafana.acme.com/d/x]", "\\[x│[https://grafana.acme.com/d/x]\\]"},
		{"coesynclnk00x0000x https://grafana.acme.com/a", "coesynclnk00x0000x [https://grafana.acme.com/a]"},
		{"line one\nhttps://grafana.acme.com/a *bold*", "line one \\\\ [https://grafana.acme.com/a] \\*bold\\*"},
	}
	for _, tt := range tests {
		got := escapeNoteTrusting(td, tt.in)
		if !strings.Contains(got, tt.want) && got != tt.want {
			t.Errorf("escapeNoteTrusting(%q) = %q, want it to hold %q", tt.in, got, tt.want)
		}
		if untrusted := escapeNoteTrusting(nil, tt.in); untrusted != EscapeWikiNote(tt.in) {
			t.Errorf("without trusted domains %q renders %q, not EscapeWikiNote's", tt.in, untrusted)
		}
	}
	// Every hostile input stays inert but for the trusted links.
	r, err := NewRendererTrusting("", td)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hostileStrings {
		inc, log, notes := richIncident()
		for j := range notes {
			notes[j].Content = h + " https://grafana.acme.com/d/" + strings.Repeat("z", j) + " " + h
		}
		d := NewDraft(inc, log, notes, Route{})
		out, err := r.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		allowed := append(allowedLinks(d), "[https://grafana.acme.com/d/]", "[https://grafana.acme.com/d/z]", "[https://grafana.acme.com/d/zz]")
		if hz := wikiDocHazards(out, allowed); len(hz) > 0 {
			t.Errorf("hostile string %d %q:\n%s", i, clip(h), strings.Join(hz, "\n"))
		}
		if !strings.Contains(out, "[https://grafana.acme.com/d/z]") && len(h) < 1000 {
			t.Errorf("hostile string %d: the trusted link is not clickable", i)
		}
	}
}
