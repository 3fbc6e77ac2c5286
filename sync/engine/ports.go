// Package engine runs coesync's durable jobs: drafting a COE from a resolved
// incident and, later, mirroring action items. It declares the small
// interfaces it needs from PagerDuty, Jira and the store; the connectors and
// stores implement them and the engine never sees a vendor type.
package engine

import (
	"context"

	"github.com/coesync/coesync/sync/coe"
)

// IncidentSource reads incidents from PagerDuty.
type IncidentSource interface {
	// Incident fetches one incident. A missing incident is a Permanent
	// *Error with Status 404.
	Incident(ctx context.Context, id string) (coe.Incident, error)
	// LogEntries returns every log entry of the incident (all pages), oldest first.
	LogEntries(ctx context.Context, id string) ([]coe.LogEntry, error)
	// Notes returns the incident's notes.
	Notes(ctx context.Context, id string) ([]coe.Note, error)
	// Alerts returns the incident's alerts (all pages), oldest first.
	Alerts(ctx context.Context, id string) ([]coe.Alert, error)
	// AddNote adds a note to the incident.
	AddNote(ctx context.Context, id, content string) error
}

// TicketTracker creates and finds COE tickets in Jira.
type TicketTracker interface {
	// FindByLabel returns the issues carrying label, through
	// /rest/api/2/search/jql. It is eventually consistent: an issue created
	// seconds ago may be missing.
	FindByLabel(ctx context.Context, label string) ([]coe.TicketRef, error)
	// CreateTicket creates an issue.
	CreateTicket(ctx context.Context, spec coe.TicketSpec) (coe.TicketRef, error)
	// EnsureRemoteLink adds or updates the remote link with link.GlobalID.
	EnsureRemoteLink(ctx context.Context, issueKey string, link coe.RemoteLink) error
}

// Router decides where an incident's COE goes.
type Router interface {
	Route(inc coe.Incident) coe.Route
}
