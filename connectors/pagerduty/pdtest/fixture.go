package pdtest

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"
)

// WebBase is the web UI root used in html_url fields.
const WebBase = "https://acme.pagerduty.com"

// APIBase is the REST root used in self fields (as the real API does,
// whatever URL the fake listens on).
const APIBase = "https://api.pagerduty.com"

// Incident is an incident fixture in domain terms; the server renders it
// in PagerDuty's wire format. Zero fields get defaults when added (see
// AddIncident).
type Incident struct {
	ID     string
	Number int    // 0: derived from ID
	Title  string // "": "Incident <ID>"
	// Status is "triggered", "acknowledged" or "resolved"; "" means
	// resolved when ResolvedAt is set, else triggered.
	Status      string
	Urgency     string // "": "high"
	Priority    string // PagerDuty priority name ("P1"); "" means none
	IncidentKey string

	ServiceID, ServiceName string // "": PSVC001 / "Checkout API"

	EscalationPolicyID, EscalationPolicy string // "": PEP0001 / "Default"

	Teams []Team
	// Assignees are the current assignees. PagerDuty clears them when an
	// incident is resolved, so resolved fixtures usually have none.
	Assignees []User

	CreatedAt  time.Time // zero: 2024-03-01T10:00:00Z
	ResolvedAt time.Time

	LogEntries []LogEntry // any order; served newest first
	Notes      []Note
	// Alerts are served by GET /incidents/{id}/alerts; an incident
	// without any still counts one in alert_counts, as before.
	Alerts []Alert
	// Bridge is the incident's conference_bridge; nil renders null.
	Bridge *Bridge
}

// Team is a PagerDuty team.
type Team struct{ ID, Name string }

// User is a PagerDuty user.
type User struct{ ID, Name, Email string }

// Agent is who or what caused a log entry.
type Agent struct {
	// Type is "user", "service" or "integration"; "" means user.
	Type     string
	ID, Name string
}

// AsAgent returns u as a log entry agent.
func (u User) AsAgent() Agent { return Agent{Type: "user", ID: u.ID, Name: u.Name} }

// LogEntry is one incident log entry.
type LogEntry struct {
	ID      string    // "": derived
	Kind    string    // "trigger", "notify", ... (the type without "_log_entry")
	At      time.Time // zero: the incident's CreatedAt
	Agent   Agent
	Channel string // channel.type: "api", "website", "sms", "auto", ...
	Summary string
	// User is the notified user (notify entries).
	User *User
	// Assignees are the users assigned (assign and escalate entries).
	Assignees []User
}

// Note is an incident note.
type Note struct {
	ID      string    // "": derived
	At      time.Time // zero: the incident's CreatedAt
	Author  User
	Content string
}

var defaultCreated = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

// normalize fills defaults and copies every slice, so the result shares
// nothing with fx.
func normalize(fx Incident) Incident {
	if fx.ID == "" {
		panic("pdtest: incident fixture without ID")
	}
	if fx.Number == 0 {
		h := fnv.New32a()
		h.Write([]byte(fx.ID))
		fx.Number = int(h.Sum32()%9000) + 1000
	}
	if fx.Title == "" {
		fx.Title = "Incident " + fx.ID
	}
	if fx.Status == "" {
		fx.Status = "triggered"
		if !fx.ResolvedAt.IsZero() {
			fx.Status = "resolved"
		}
	}
	if fx.Urgency == "" {
		fx.Urgency = "high"
	}
	if fx.IncidentKey == "" {
		fx.IncidentKey = strings.ToLower(fx.ID) + "-key"
	}
	if fx.ServiceID == "" {
		fx.ServiceID = "PSVC001"
	}
	if fx.ServiceName == "" {
		fx.ServiceName = "Checkout API"
	}
	if fx.EscalationPolicyID == "" {
		fx.EscalationPolicyID = "PEP0001"
	}
	if fx.EscalationPolicy == "" {
		fx.EscalationPolicy = "Default"
	}
	if fx.CreatedAt.IsZero() {
		fx.CreatedAt = defaultCreated
	}
	// Whole seconds, wall clock only: the wire carries no more, and fixtures
	// are compared with times parsed off it.
	fx.CreatedAt, fx.ResolvedAt = fx.CreatedAt.Truncate(time.Second), fx.ResolvedAt.Truncate(time.Second)
	fx.Teams = slices.Clone(fx.Teams)
	fx.Assignees = slices.Clone(fx.Assignees)
	les := make([]LogEntry, len(fx.LogEntries))
	for i, le := range fx.LogEntries {
		if le.ID == "" {
			le.ID = fmt.Sprintf("R%s%04d", strings.ToUpper(fx.ID), i+1)
		}
		if le.At.IsZero() {
			le.At = fx.CreatedAt
		}
		le.At = le.At.Truncate(time.Second)
		if le.User != nil {
			u := *le.User
			le.User = &u
		}
		le.Assignees = slices.Clone(le.Assignees)
		les[i] = le
	}
	fx.LogEntries = les
	notes := make([]Note, len(fx.Notes))
	for i, n := range fx.Notes {
		if n.ID == "" {
			n.ID = fmt.Sprintf("N%s%04d", strings.ToUpper(fx.ID), i+1)
		}
		if n.At.IsZero() {
			n.At = fx.CreatedAt
		}
		n.At = n.At.Truncate(time.Second)
		notes[i] = n
	}
	fx.Notes = notes
	normalizeAlerts(&fx)
	return fx
}

// People used by the fixtures.
var (
	Alice = User{ID: "PALICE1", Name: "Alice Smith", Email: "alice@example.com"}
	Bob   = User{ID: "PBOB002", Name: "Bob Jones", Email: "bob@example.com"}
	Carol = User{ID: "PCAROL3", Name: "Carol White", Email: "carol@example.com"}
)

// RichIncident is a resolved P1 incident with a full timeline: triggered
// by Datadog at base, Alice notified, escalated to Bob after 5 minutes,
// Bob notified, Bob acknowledges at +8m, two notes (an "Action:" and a
// "TODO:") with their annotate entries, resolved by Bob at +47m.
func RichIncident(id string, base time.Time) Incident {
	svc := Agent{Type: "service", ID: "PSVC001", Name: "Checkout API"}
	datadog := Agent{Type: "integration", ID: "PINT001", Name: "Datadog"}
	at := func(d time.Duration) time.Time { return base.Add(d) }
	return normalize(Incident{
		ID:                 id,
		Title:              "Checkout API 5xx rate above 5%",
		Urgency:            "high",
		Priority:           "P1",
		IncidentKey:        "checkout-5xx-" + strings.ToLower(id),
		ServiceID:          "PSVC001",
		ServiceName:        "Checkout API",
		EscalationPolicyID: "PEP0001",
		EscalationPolicy:   "Payments On-Call",
		Teams:              []Team{{ID: "PTEAM01", Name: "Payments"}},
		CreatedAt:          base,
		ResolvedAt:         at(47 * time.Minute),
		LogEntries: []LogEntry{
			{Kind: "trigger", At: base, Agent: datadog, Channel: "api", Summary: "Triggered through the API"},
			{Kind: "notify", At: at(5 * time.Second), Agent: svc, Channel: "sms", Summary: "Notified Alice Smith by SMS", User: &Alice},
			{Kind: "escalate", At: at(5 * time.Minute), Agent: svc, Channel: "timeout", Summary: "Escalated to Bob Jones", Assignees: []User{Bob}},
			{Kind: "notify", At: at(5*time.Minute + 5*time.Second), Agent: svc, Channel: "phone", Summary: "Notified Bob Jones by phone", User: &Bob},
			{Kind: "acknowledge", At: at(8 * time.Minute), Agent: Bob.AsAgent(), Channel: "website", Summary: "Acknowledged by Bob Jones"},
			{Kind: "annotate", At: at(15 * time.Minute), Agent: Bob.AsAgent(), Channel: "note", Summary: "Note added"},
			{Kind: "annotate", At: at(30 * time.Minute), Agent: Alice.AsAgent(), Channel: "note", Summary: "Note added"},
			{Kind: "resolve", At: at(47 * time.Minute), Agent: Bob.AsAgent(), Channel: "website", Summary: "Resolved by Bob Jones"},
		},
		Notes: []Note{
			{At: at(15 * time.Minute), Author: Bob, Content: "Action: add a circuit breaker between checkout and the payments database"},
			{At: at(30 * time.Minute), Author: Alice, Content: "TODO: alert on connection pool saturation before the 5xx rate climbs"},
		},
	})
}

// SimpleIncident is a resolved low-urgency incident without priority or
// notes: triggered by Datadog at base, Carol notified, acknowledged at +3m,
// resolved at +12m.
func SimpleIncident(id string, base time.Time) Incident {
	svc := Agent{Type: "service", ID: "PSVC002", Name: "Storage"}
	datadog := Agent{Type: "integration", ID: "PINT001", Name: "Datadog"}
	at := func(d time.Duration) time.Time { return base.Add(d) }
	return normalize(Incident{
		ID:                 id,
		Title:              "Disk usage above 90% on db-7",
		Urgency:            "low",
		ServiceID:          "PSVC002",
		ServiceName:        "Storage",
		EscalationPolicyID: "PEP0002",
		EscalationPolicy:   "Storage On-Call",
		Teams:              []Team{{ID: "PTEAM02", Name: "Storage"}},
		CreatedAt:          base,
		ResolvedAt:         at(12 * time.Minute),
		LogEntries: []LogEntry{
			{Kind: "trigger", At: base, Agent: datadog, Channel: "api", Summary: "Triggered through the API"},
			{Kind: "notify", At: at(10 * time.Second), Agent: svc, Channel: "email", Summary: "Notified Carol White by email", User: &Carol},
			{Kind: "acknowledge", At: at(3 * time.Minute), Agent: Carol.AsAgent(), Channel: "website", Summary: "Acknowledged by Carol White"},
			{Kind: "resolve", At: at(12 * time.Minute), Agent: Carol.AsAgent(), Channel: "website", Summary: "Resolved by Carol White"},
		},
	})
}
