package coe

import (
	"strings"
	"time"
)

// t0 is when the fixture incidents were created.
var t0 = time.Date(2026, 11, 23, 9, 15, 2, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// richIncident is a realistic resolved P1 with escalation, re-assignment,
// notes (one matched to its annotate entry, one not) and action items.
func richIncident() (Incident, []LogEntry, []Note) {
	inc := Incident{
		ID:               "Q1CKOUT7",
		Number:           4821,
		Title:            "Checkout API returning 5xx errors",
		URL:              "https://acme.pagerduty.com/incidents/Q1CKOUT7",
		Status:           "resolved",
		Urgency:          "high",
		Priority:         "P1",
		IncidentKey:      "checkout-5xx",
		ServiceID:        "PCHKAPI",
		ServiceName:      "checkout-api (production)",
		ServiceURL:       "https://acme.pagerduty.com/service-directory/PCHKAPI",
		Teams:            []Team{{ID: "PTPAY", Name: "Payments"}, {ID: "PTSRE", Name: "SRE"}},
		EscalationPolicy: "Checkout escalation policy",
		CreatedAt:        t0,
		ResolvedAt:       at(time.Hour + 3*time.Minute + 20*time.Second),
		Assignees:        []Person{{ID: "PLT", Name: "Lee Turner"}, {ID: "PJD", Name: "Jane Doe"}},
	}
	log := []LogEntry{
		{ID: "L01", Kind: LogTrigger, At: t0, Actor: "Datadog", Channel: "api", Summary: "Triggered through the API"},
		{ID: "L02", Kind: LogNotify, At: at(2 * time.Second), Actor: "PagerDuty", Channel: "sms", Summary: "Notified Earline Greenholt by SMS", Subject: "Earline Greenholt"},
		{ID: "L03", Kind: LogNotify, At: at(2 * time.Second), Actor: "PagerDuty", Channel: "push_notification", Summary: "Notified Earline Greenholt by push notification", Subject: "Earline Greenholt"},
		{ID: "L04", Kind: LogEscalate, At: at(3 * time.Minute), Actor: "PagerDuty", Channel: "timeout", Summary: "Escalated to level 2 by timeout"},
		{ID: "L06", Kind: LogAssign, At: at(3 * time.Minute), Actor: "PagerDuty", Channel: "timeout", Summary: "Assigned to Lee Turner by escalation policy", Subject: "Lee Turner"},
		{ID: "L05", Kind: LogNotify, At: at(3*time.Minute + time.Second), Actor: "PagerDuty", Channel: "phone", Summary: "Notified Lee Turner by phone", Subject: "Lee Turner"},
		{ID: "L07", Kind: LogAcknowledge, At: at(4*time.Minute + 12*time.Second), Actor: "Lee Turner", Channel: "mobile", Summary: "Acknowledged by Lee Turner"},
		{ID: "L08", Kind: LogAnnotate, At: at(9 * time.Minute), Actor: "Lee Turner", Channel: "website", Summary: "Note added"},
		{ID: "L09", Kind: "priority_change", At: at(10 * time.Minute), Actor: "Lee Turner", Channel: "website", Summary: "Priority changed from P3 to P1"},
		{ID: "L10", Kind: LogAssign, At: at(11 * time.Minute), Actor: "Lee Turner", Channel: "website", Summary: "Assigned to Jane Doe by Lee Turner", Subject: "Jane Doe"},
		{ID: "L11", Kind: LogNotify, At: at(11*time.Minute + time.Second), Actor: "PagerDuty", Channel: "email", Summary: "Notified Jane Doe by email", Subject: "Jane Doe"},
		{ID: "L12", Kind: LogAcknowledge, At: at(14 * time.Minute), Actor: "Jane Doe", Channel: "website", Summary: "Acknowledged by Jane Doe"},
		{ID: "L13", Kind: LogAnnotate, At: at(26 * time.Minute), Actor: "Jane Doe", Channel: "website", Summary: "Note added"},
		{ID: "L14", Kind: LogResolve, At: at(time.Hour + 3*time.Minute + 20*time.Second), Actor: "Lee Turner", Channel: "website", Summary: "Resolved by Lee Turner"},
	}
	notes := []Note{
		{ID: "N1", At: at(9*time.Minute + time.Second), Author: "Lee Turner",
			Content: "Investigating elevated 5xx on checkout-api; the error rate went from 0.1% to 12% right after deploy 2026.11.23-1."},
		{ID: "N2", At: at(26*time.Minute + 2*time.Second), Author: "Jane Doe",
			Content: "Mitigated: rolled back deploy 2026.11.23-1; the error rate is back under 0.2%.\nAction: add a canary stage to checkout-api deploys\nAI: page on p99 latency above 2s for checkout-api"},
		{ID: "N3", At: at(45 * time.Minute), Author: "Lee Turner",
			Content: "Root cause looks like a connection pool change (db_pool_size 50 -> 5) in the deploy.\n  todo: write the rollback runbook for checkout-api"},
	}
	return inc, log, notes
}

// Hostile inputs, each a way to turn text into markup.
const (
	hostileLink     = "[x|http://evil.example/login]"
	hostileHTML     = "{html}<script>alert(1)</script>{html}"
	hostileColor    = "{color:red}URGENT: wire money{color}"
	hostileImage    = "!http://evil.example/x.png!"
	hostileMention  = "[~accountid:5b10a2844c20165700ede21g]"
	hostileGHTeam   = "@org/team"
	hostileGHUser   = "@user"
	hostileIssueRef = "#123 owner/repo#1 GH-1"
	hostileImg      = "<img src=x onerror=alert(1)>"
	invalidUTF8     = "bad\xff\xfebytes\xc3"
)

// hostileStrings is every hostile input the property tests start from.
var hostileStrings = []string{
	hostileLink, hostileHTML, hostileColor, hostileImage, hostileMention,
	hostileGHTeam, hostileGHUser, hostileIssueRef, hostileImg, invalidUTF8,
	"[~admin] [^secret.pdf] [#anchor] {anchor:x} [mailto:a@b.example]",
	"{noformat}raw{noformat} {code:java}x{code} {quote}q{quote} {panel}p{panel} {{mono}}",
	"*bold* _italic_ -deleted- +inserted+ ^super^ ~sub~ ??citation?? {*}x{*}",
	"h1. Fake heading",
	"bq. fake quote",
	"* fake list",
	"# fake numbered list",
	"- fake dash list",
	"----",
	"|| fake || header ||\n| fake | row |",
	"(y) (n) (i) (/) (x) (!) (on) (off) (*r) (flag) :) :-) :( :P :D ;)",
	"C:\\temp\\ \\\\server\\share \\[x|http://evil.example] \\\\[y|https://evil.example] trailing\\",
	"http://evil.example https://evil.example/a?b=c ftp://evil.example irc://evil.example mailto:a@evil.example javascript:alert(1) www.evil.example",
	"ctrl\x00\x07\x1b[31mred\x1b[0m\u202eevil\u202c\ufeff\U000E0041tag",
	"line one\nh2. line two\r\n* line three\r| line four\u2028# line five",
	"@user @org/team user@example.com #123 GH-42 owner/repo#7 owner/repo@abc1234",
	"<b>bold</b> &lt;script&gt; &#64;user &amp; `code` ```fence``` $x^2$ ~~strike~~",
	"> quote\n1. one\n2) two\n   - nested\n    indented code\n===\n---\n+ plus",
	"![img](http://evil.example/x.png) [text](javascript:alert(1)) <http://evil.example> [ref]: http://evil.example",
	"| a | b |\n|---|---|\n| c | d |",
	strings.Repeat("A very long title ", 400),
}

// hostileIncident carries hostile text in every PagerDuty field.
func hostileIncident() (Incident, []LogEntry, []Note) {
	all := strings.Join(hostileStrings[:10], " ")
	inc := Incident{
		ID:               "PEVIL01",
		Number:           666,
		Title:            hostileLink + " " + hostileHTML + " " + hostileImage + " " + hostileMention + " " + invalidUTF8 + "\nh1. injected " + strings.Repeat("long ", 1000),
		URL:              "javascript:alert(document.cookie)",
		Status:           "resolved",
		Urgency:          "high|{color:red}",
		Priority:         "P1]",
		ServiceID:        "PSVC",
		ServiceName:      hostileColor + " " + hostileGHTeam + " " + hostileImg,
		ServiceURL:       "https://acme.pagerduty.com/service-directory/PSVC?x=[a]|{b}!c",
		Teams:            []Team{{ID: "T1", Name: "||Team||"}, {ID: "T2", Name: hostileMention}},
		EscalationPolicy: "* list {html}",
		CreatedAt:        t0,
		ResolvedAt:       at(2 * time.Hour),
	}
	log := []LogEntry{
		{ID: "E1", Kind: LogTrigger, At: t0, Actor: hostileMention, Channel: "api|x", Summary: all},
		{ID: "E2", Kind: LogNotify, At: at(time.Second), Actor: "PagerDuty", Channel: "sms", Summary: "Notified " + hostileGHUser + " " + hostileLink, Subject: hostileGHUser},
		{ID: "E3", Kind: LogEscalate, At: at(time.Minute), Actor: "[~admin]", Channel: "auto", Summary: "h1. " + hostileColor},
		{ID: "E4", Kind: LogAcknowledge, At: at(2 * time.Minute), Actor: hostileImage, Channel: "{html}", Summary: "| broken | table |"},
		{ID: "E5", Kind: LogAnnotate, At: at(10 * time.Minute), Actor: hostileImage, Channel: "website", Summary: "note"},
		{ID: "E6", Kind: LogResolve, At: at(2 * time.Hour), Actor: "x\\", Channel: "website", Summary: "Resolved " + hostileIssueRef + " " + hostileImg},
	}
	notes := []Note{
		{ID: "NE1", At: at(10*time.Minute + time.Second), Author: hostileImage,
			Content: strings.Join(hostileStrings[10:25], "\n") + "\nAction: " + hostileLink + " " + hostileMention + "\nTODO: " + hostileHTML},
		{ID: "NE2", At: at(20 * time.Minute), Author: "[~accountid:123]",
			Content: "AI: " + hostileImage + " " + hostileGHTeam + " " + hostileIssueRef + "\n" + strings.Repeat("spam [x|http://evil.example] ", 3000)},
	}
	return inc, log, notes
}
