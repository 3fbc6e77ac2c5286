// Package coe models a Correction-of-Error review: the incident it is about,
// the timeline and metrics derived from PagerDuty's log, and the draft that
// is rendered into a Jira ticket. Nothing here knows a vendor type; the
// connectors translate at the border.
package coe

import "time"

// Person is someone who took part in an incident.
type Person struct {
	ID    string // PagerDuty user ID
	Name  string // untrusted text
	Email string // empty when unknown
}

// Team is a PagerDuty team.
type Team struct {
	ID   string // PagerDuty team ID
	Name string // untrusted text
}

// Incident is a resolved PagerDuty incident as coesync needs it.
type Incident struct {
	ID          string // PagerDuty incident ID
	Number      int    // incident number, shown as "#1234"
	Title       string // untrusted text
	URL         string // the incident's PagerDuty page
	Status      string // "resolved", "acknowledged" or "triggered"
	Urgency     string // "high" or "low"
	Priority    string // PagerDuty priority name, e.g. "P1"; empty when unset
	IncidentKey string // the de-duplication key
	ServiceID   string // PagerDuty service ID
	ServiceName string // untrusted text
	ServiceURL  string // the service's PagerDuty page
	Teams       []Team // the incident's teams
	// EscalationPolicy is the policy's name.
	EscalationPolicy string
	CreatedAt        time.Time // when it was triggered, UTC
	// ResolvedAt is zero while the incident is not resolved.
	ResolvedAt time.Time
	Assignees  []Person // current assignees (PagerDuty clears them on resolve)
	// Bridge is the incident's conference bridge; zero when it had none.
	Bridge ConferenceBridge
}

// Duration is how long the incident lasted; zero when unresolved.
func (i Incident) Duration() time.Duration {
	if i.ResolvedAt.IsZero() || i.CreatedAt.IsZero() {
		return 0
	}
	return i.ResolvedAt.Sub(i.CreatedAt)
}

// LogKind is the kind of a PagerDuty log entry, its type without the
// "_log_entry" suffix ("trigger", "acknowledge", "notify", ...).
type LogKind string

// Log entry kinds that the timeline and metrics treat specially.
const (
	LogTrigger     LogKind = "trigger"
	LogAcknowledge LogKind = "acknowledge"
	LogResolve     LogKind = "resolve"
	LogEscalate    LogKind = "escalate"
	LogNotify      LogKind = "notify"
	LogAssign      LogKind = "assign"
	LogAnnotate    LogKind = "annotate"
	// LogStatusUpdate is a status update published to stakeholders; its
	// Summary holds the message.
	LogStatusUpdate LogKind = "status_update"
)

// LogEntry is one PagerDuty incident log entry.
type LogEntry struct {
	ID      string
	Kind    LogKind
	At      time.Time
	Actor   string // who or what caused it ("Earline Greenholt", "Datadog", "PagerDuty")
	Channel string // how ("web_trigger", "email", "api", "auto", ...)
	Summary string // PagerDuty's one-line summary; untrusted text
	// Subject is the person the entry is about, for notify and assign entries.
	Subject string
}

// Note is a PagerDuty incident note.
type Note struct {
	ID      string
	At      time.Time
	Author  string
	Content string // untrusted text
}
