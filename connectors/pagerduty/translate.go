package pagerduty

import (
	"fmt"
	"strings"
	"time"

	gopd "github.com/PagerDuty/go-pagerduty"

	"github.com/coesync/coesync/sync/coe"
)

// toIncident translates a REST incident.
func toIncident(in *gopd.Incident) (coe.Incident, error) {
	if in == nil {
		return coe.Incident{}, fmt.Errorf("no incident in response")
	}
	out := coe.Incident{
		ID:               in.ID,
		Number:           int(in.IncidentNumber),
		Title:            in.Title,
		URL:              in.HTMLURL,
		Status:           in.Status,
		Urgency:          in.Urgency,
		IncidentKey:      in.IncidentKey,
		ServiceID:        in.Service.ID,
		ServiceName:      in.Service.Summary,
		ServiceURL:       in.Service.HTMLURL,
		EscalationPolicy: in.EscalationPolicy.Summary,
	}
	if out.ID == "" {
		return coe.Incident{}, fmt.Errorf("incident without id")
	}
	if p := in.Priority; p != nil {
		out.Priority = p.Summary
		if out.Priority == "" {
			out.Priority = p.Name
		}
	}
	if b := in.ConferenceBridge; b != nil {
		out.Bridge = coe.ConferenceBridge{URL: strings.TrimSpace(b.ConferenceURL), Number: strings.TrimSpace(b.ConferenceNumber)}
	}
	for _, t := range in.Teams {
		out.Teams = append(out.Teams, coe.Team{ID: t.ID, Name: t.Summary})
	}
	seen := map[string]bool{}
	for _, a := range in.Assignments {
		key := a.Assignee.ID + "\x00" + a.Assignee.Summary
		if seen[key] {
			continue
		}
		seen[key] = true
		out.Assignees = append(out.Assignees, coe.Person{ID: a.Assignee.ID, Name: a.Assignee.Summary})
	}
	var err error
	if out.CreatedAt, err = parseTime("created_at", in.CreatedAt); err != nil {
		return coe.Incident{}, err
	}
	if out.ResolvedAt, err = parseTime("resolved_at", in.ResolvedAt); err != nil {
		return coe.Incident{}, err
	}
	if out.ResolvedAt.IsZero() && in.Status == "resolved" {
		// Older payloads lack resolved_at; the last status change of a
		// resolved incident is its resolution.
		if out.ResolvedAt, err = parseTime("last_status_change_at", in.LastStatusChangeAt); err != nil {
			return coe.Incident{}, err
		}
	}
	return out, nil
}

// toLogEntry translates one log entry.
func toLogEntry(le *gopd.LogEntry) (coe.LogEntry, error) {
	at, err := parseTime("log entry "+le.ID+" created_at", le.CreatedAt)
	if err != nil {
		return coe.LogEntry{}, err
	}
	kind := coe.LogKind(strings.TrimSuffix(le.Type, "_log_entry"))
	if kind == "acknowledgement" {
		// The OpenAPI schema's spelling; the API sends acknowledge_log_entry.
		kind = coe.LogAcknowledge
	}
	out := coe.LogEntry{
		ID:      le.ID,
		Kind:    kind,
		At:      at,
		Actor:   le.Agent.Summary,
		Channel: le.Channel.Type,
		Summary: le.Summary,
	}
	switch kind {
	case coe.LogNotify:
		out.Subject = le.User.Summary
	case coe.LogAssign:
		names := make([]string, 0, len(le.Assignees))
		for _, a := range le.Assignees {
			if a.Summary != "" {
				names = append(names, a.Summary)
			}
		}
		out.Subject = strings.Join(names, ", ")
	}
	return out, nil
}

// toNote translates one note.
func toNote(n *gopd.IncidentNote) (coe.Note, error) {
	at, err := parseTime("note "+n.ID+" created_at", n.CreatedAt)
	if err != nil {
		return coe.Note{}, err
	}
	return coe.Note{ID: n.ID, At: at, Author: n.User.Summary, Content: n.Content}, nil
}

// parseTime parses a PagerDuty timestamp into UTC; empty is the zero time.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// PagerDuty has been seen to omit the colon in the offset.
		t2, err2 := time.Parse("2006-01-02T15:04:05Z0700", s)
		if err2 != nil {
			return time.Time{}, fmt.Errorf("%s: %w", field, err)
		}
		t = t2
	}
	return t.UTC(), nil
}
