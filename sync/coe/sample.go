package coe

import "time"

// sampleDraft is a small but complete draft that NewRenderer tries a
// template on, so that a template error shows at start-up rather than in a
// job. It has every milestone, a note row, action items with priority and due
// date, related items, alerts, a failed alert read and a conference bridge.
func sampleDraft() Draft {
	t0 := time.Date(2026, 11, 23, 9, 15, 2, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	inc := Incident{
		ID:               "PSAMPLE",
		Number:           1,
		Title:            "Sample incident",
		URL:              "https://example.pagerduty.com/incidents/PSAMPLE",
		Status:           "resolved",
		Urgency:          "high",
		Priority:         "P1",
		ServiceID:        "PSERVICE",
		ServiceName:      "Sample service",
		ServiceURL:       "https://example.pagerduty.com/service-directory/PSERVICE",
		Teams:            []Team{{ID: "PTEAM", Name: "Sample team"}},
		EscalationPolicy: "Sample policy",
		CreatedAt:        t0,
		ResolvedAt:       at(time.Hour),
		Assignees:        []Person{{ID: "PUSER", Name: "Sam Sample"}},
		Bridge:           ConferenceBridge{URL: "https://example.zoom.us/j/1", Number: "+1 555-0100,,1#"},
	}
	log := []LogEntry{
		{ID: "L1", Kind: LogTrigger, At: t0, Actor: "Sample service", Channel: "api", Summary: "Triggered through the API"},
		{ID: "L2", Kind: LogNotify, At: at(time.Second), Actor: "PagerDuty", Channel: "sms", Summary: "Notified Sam Sample by SMS", Subject: "Sam Sample"},
		{ID: "L3", Kind: LogEscalate, At: at(5 * time.Minute), Actor: "PagerDuty", Channel: "auto", Summary: "Escalated to level 2"},
		{ID: "L4", Kind: LogAcknowledge, At: at(6 * time.Minute), Actor: "Sam Sample", Channel: "website", Summary: "Acknowledged by Sam Sample"},
		{ID: "L5", Kind: LogAnnotate, At: at(20 * time.Minute), Actor: "Sam Sample", Channel: "website", Summary: "Note added"},
		{ID: "L7", Kind: LogStatusUpdate, At: at(10 * time.Minute), Actor: "Sam Sample", Channel: "website", Summary: "Rolling back."},
		{ID: "L6", Kind: LogResolve, At: at(time.Hour), Actor: "Sam Sample", Channel: "website", Summary: "Resolved by Sam Sample"},
	}
	notes := []Note{
		{ID: "N1", At: at(20 * time.Minute), Author: "Sam Sample", Content: "Mitigated: rolled back.\nAction: add an alarm"},
		{ID: "N2", At: at(30 * time.Minute), Author: "Sam Sample", Content: "TODO: write a runbook"},
	}
	changes := ChangeList{Repos: []string{"acme/sample"}, Since: t0.Add(-24 * time.Hour), Until: t0, Changes: []Change{
		{Kind: ChangeDeploy, Repo: "acme/sample", Title: "release 1.2.3", Author: "deployer", Ref: "v1.2.3",
			SHA: "0123456789abcdef0123456789abcdef01234567", Environment: "production", At: at(-time.Hour),
			URL: "https://github.com/acme/sample/commit/0123456789abcdef0123456789abcdef01234567"},
		{Kind: ChangePR, Repo: "acme/sample", Number: 7, Title: "Sample change", Author: "author", Ref: "main",
			At: at(-2 * time.Hour), URL: "https://github.com/acme/sample/pull/7"},
	}}
	history := History{Searched: true, Window: 90 * 24 * time.Hour, Earlier: []EarlierCOE{{
		TicketKey: "OPS-1", TicketURL: "https://example.atlassian.net/browse/OPS-1", Title: "Earlier sample incident",
		IncidentNumber: 0, CreatedAt: at(-7 * 24 * time.Hour), SameService: true, ItemsKnown: true, OpenItems: 1,
		Open: []EarlierItem{{Key: "OPS-2", Summary: "Sample open action", Owner: "Sam Sample"}}, InWindow: true,
	}}}
	alerts := []Alert{{At: t0, Summary: "Sample alert", Source: "monitor", Severity: "critical", Link: "https://monitor.example/a/1"}}
	d := NewDraft(inc, log, notes, Route{Project: "OPS", IssueType: "Task"}).WithChanges(changes).WithHistory(history).WithAlerts(alerts, "")
	d.AlertsFailed = "sample failure" // so that a template's use of it is tried too
	for i := range d.ActionItems {
		d.ActionItems[i].Priority, d.ActionItems[i].Due = "P1", at(14*24*time.Hour)
	}
	return d
}
