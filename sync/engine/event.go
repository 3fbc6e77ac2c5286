package engine

import "time"

// WebhookEvent is the part of a PagerDuty V3 webhook envelope that routing
// needs. The hot path decodes only this; the job fetches the rest.
type WebhookEvent struct {
	ID         string // event.id
	Type       string // event.event_type, e.g. "incident.resolved"
	OccurredAt time.Time
	// ResourceType is event.data.type ("incident", "incident_note", ...).
	ResourceType string
	// IncidentID is event.data.id for incident events, and
	// event.data.incident.id for incident_note and similar events.
	IncidentID string
}

// EventIncidentResolved is the event type that starts a COE.
const EventIncidentResolved = "incident.resolved"
