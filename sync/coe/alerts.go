package coe

import (
	"sort"
	"strings"
	"time"
)

// Alert is one alert grouped into an incident: what the monitoring tool
// reported. Every field is untrusted text.
type Alert struct {
	At       time.Time // when it was first triggered, UTC; zero when unknown
	Summary  string    // what the monitoring tool reported
	Source   string    // the monitoring tool or host that raised it
	Severity string    // "critical", "error", "warning", "info", or empty
	// Link is the monitoring tool's page for the alert (a graph, a
	// dashboard); it stays inert unless its domain is trusted (see
	// TrustedDomains).
	Link string
}

// StatusUpdate is a status update published to the incident's
// stakeholders. Message is untrusted text.
type StatusUpdate struct {
	At      time.Time // UTC
	Author  string    // who published it
	Message string    // the update's text
}

// ConferenceBridge is where the responders met: a call-in number, a web
// conference or chat link. Both fields are untrusted; URL stays inert
// unless its domain is trusted.
type ConferenceBridge struct {
	URL    string // conference_url: a web conference or chat link
	Number string // conference_number, e.g. "+1 415-555-1212,,,,1234#"
}

// IsZero reports whether the incident had no bridge.
func (b ConferenceBridge) IsZero() bool {
	return strings.TrimSpace(b.URL) == "" && strings.TrimSpace(b.Number) == ""
}

// MaxListedAlerts bounds the alerts a draft lists; the rest are counted.
const MaxListedAlerts = 20

// WithAlerts returns d with the incident's alerts under Detection, oldest
// first, at most MaxListedAlerts of them (AlertsOmitted counts the rest).
// failed, when not empty, says why the alerts could not be read; the draft
// names it instead of blocking.
func (d Draft) WithAlerts(alerts []Alert, failed string) Draft {
	list := make([]Alert, len(alerts))
	copy(list, alerts)
	for i := range list {
		list[i].At = list[i].At.UTC()
		list[i].Summary = Truncate(strings.TrimSpace(list[i].Summary), MaxFieldRunes)
		list[i].Source = Truncate(strings.TrimSpace(list[i].Source), MaxFieldRunes)
		list[i].Link = strings.TrimSpace(list[i].Link)
	}
	sort.SliceStable(list, func(a, b int) bool { return list[a].At.Before(list[b].At) })
	if len(list) > MaxListedAlerts {
		d.AlertsOmitted = len(list) - MaxListedAlerts
		list = list[:MaxListedAlerts]
	}
	d.Alerts, d.AlertsFailed = list, strings.TrimSpace(failed)
	return d
}

// statusUpdates are the status updates in the incident's log, oldest first.
func statusUpdates(log []LogEntry) []StatusUpdate {
	var out []StatusUpdate
	for _, e := range log {
		if e.Kind == LogStatusUpdate {
			out = append(out, StatusUpdate{At: e.At.UTC(), Author: strings.TrimSpace(e.Actor), Message: e.Summary})
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].At.Before(out[b].At) })
	return out
}
