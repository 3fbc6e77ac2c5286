package pdtest

import (
	"strconv"
	"time"
)

// Wire types: the REST API's JSON as in openapi.json (getIncident,
// listIncidentLogEntries, listIncidentNotes) and the samples in
// contracts/pagerduty/api.

type wireRef struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self,omitempty"`
	HTMLURL string `json:"html_url,omitempty"`
}

type wireAssignment struct {
	At       string  `json:"at"`
	Assignee wireRef `json:"assignee"`
}

type wireAlertCounts struct {
	All       int `json:"all"`
	Triggered int `json:"triggered"`
	Resolved  int `json:"resolved"`
}

type wireIncidentType struct {
	Name string `json:"name"`
}

type wireIncident struct {
	ID                   string           `json:"id"`
	Type                 string           `json:"type"`
	Summary              string           `json:"summary"`
	Self                 string           `json:"self"`
	HTMLURL              string           `json:"html_url"`
	IncidentNumber       int              `json:"incident_number"`
	Title                string           `json:"title"`
	CreatedAt            string           `json:"created_at"`
	UpdatedAt            string           `json:"updated_at"`
	Status               string           `json:"status"`
	IncidentKey          string           `json:"incident_key"`
	Service              wireRef          `json:"service"`
	Assignments          []wireAssignment `json:"assignments"`
	AssignedVia          string           `json:"assigned_via"`
	LastStatusChangeAt   string           `json:"last_status_change_at"`
	ResolvedAt           *string          `json:"resolved_at"`
	FirstTriggerLogEntry *wireRef         `json:"first_trigger_log_entry"`
	AlertCounts          wireAlertCounts  `json:"alert_counts"`
	IsMergeable          bool             `json:"is_mergeable"`
	IncidentType         wireIncidentType `json:"incident_type"`
	EscalationPolicy     wireRef          `json:"escalation_policy"`
	Teams                []wireRef        `json:"teams"`
	PendingActions       []struct{}       `json:"pending_actions"`
	Acknowledgements     []struct{}       `json:"acknowledgements"`
	AlertGrouping        *struct{}        `json:"alert_grouping"`
	LastStatusChangeBy   *wireRef         `json:"last_status_change_by"`
	Priority             *wireRef         `json:"priority"`
	ResolveReason        *struct{}        `json:"resolve_reason"`
	ConferenceBridge     *wireBridge      `json:"conference_bridge"`
	IncidentsResponders  []struct{}       `json:"incidents_responders"`
	ResponderRequests    []struct{}       `json:"responder_requests"`
	Urgency              string           `json:"urgency"`
	CustomFields         []struct{}       `json:"custom_fields"`
}

type wireChannel struct {
	Type string `json:"type"`
}

type wireEventDetails struct {
	Description string `json:"description,omitempty"`
}

type wireLogEntry struct {
	ID                     string            `json:"id"`
	Type                   string            `json:"type"`
	Summary                string            `json:"summary"`
	Self                   string            `json:"self"`
	HTMLURL                *string           `json:"html_url"`
	CreatedAt              string            `json:"created_at"`
	Agent                  *wireRef          `json:"agent"`
	Channel                wireChannel       `json:"channel"`
	Service                wireRef           `json:"service"`
	Incident               wireRef           `json:"incident"`
	Teams                  []wireRef         `json:"teams"`
	Contexts               []struct{}        `json:"contexts"`
	EventDetails           *wireEventDetails `json:"event_details,omitempty"`
	User                   *wireRef          `json:"user,omitempty"`
	Assignees              []wireRef         `json:"assignees,omitempty"`
	AcknowledgementTimeout *int              `json:"acknowledgement_timeout,omitempty"`
}

type wireNoteChannel struct {
	Summary string `json:"summary"`
}

type wireNote struct {
	ID        string          `json:"id"`
	User      wireRef         `json:"user"`
	Channel   wireNoteChannel `json:"channel"`
	Content   string          `json:"content"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
}

type wireLogEntryPage struct {
	LogEntries []wireLogEntry `json:"log_entries"`
	Limit      int            `json:"limit"`
	Offset     int            `json:"offset"`
	More       bool           `json:"more"`
	Total      *int           `json:"total"`
}

type wireErrorBody struct {
	Error wireError `json:"error"`
}

type wireError struct {
	Message string   `json:"message"`
	Code    int      `json:"code,omitempty"`
	Errors  []string `json:"errors,omitempty"`
}

// wireTime renders a time as the API does: RFC 3339, seconds, in the
// time's own zone ("Z" for UTC).
func wireTime(t time.Time) string { return t.Format(time.RFC3339) }

func userRef(u User) wireRef {
	return wireRef{ID: u.ID, Type: "user_reference", Summary: u.Name,
		Self: APIBase + "/users/" + u.ID, HTMLURL: WebBase + "/users/" + u.ID}
}

func agentRef(a Agent) *wireRef {
	if a.ID == "" && a.Name == "" {
		return nil
	}
	switch a.Type {
	case "service":
		return &wireRef{ID: a.ID, Type: "service_reference", Summary: a.Name,
			Self: APIBase + "/services/" + a.ID, HTMLURL: WebBase + "/service-directory/" + a.ID}
	case "integration":
		return &wireRef{ID: a.ID, Type: "integration_reference", Summary: a.Name,
			Self: APIBase + "/integrations/" + a.ID}
	}
	r := userRef(User{ID: a.ID, Name: a.Name})
	return &r
}

func serviceRef(fx *Incident) wireRef {
	return wireRef{ID: fx.ServiceID, Type: "service_reference", Summary: fx.ServiceName,
		Self: APIBase + "/services/" + fx.ServiceID, HTMLURL: WebBase + "/service-directory/" + fx.ServiceID}
}

func teamRefs(fx *Incident) []wireRef {
	out := make([]wireRef, 0, len(fx.Teams))
	for _, t := range fx.Teams {
		out = append(out, wireRef{ID: t.ID, Type: "team_reference", Summary: t.Name,
			Self: APIBase + "/teams/" + t.ID, HTMLURL: WebBase + "/teams/" + t.ID})
	}
	return out
}

func incidentRef(fx *Incident) wireRef {
	return wireRef{ID: fx.ID, Type: "incident_reference", Summary: incidentSummary(fx),
		Self: APIBase + "/incidents/" + fx.ID, HTMLURL: WebBase + "/incidents/" + fx.ID}
}

func incidentSummary(fx *Incident) string {
	return "[#" + strconv.Itoa(fx.Number) + "] " + fx.Title
}

func priorityID(name string) string { return "PPRI" + name }

func renderIncident(fx *Incident) wireIncident {
	w := wireIncident{
		ID:                 fx.ID,
		Type:               "incident",
		Summary:            incidentSummary(fx),
		Self:               APIBase + "/incidents/" + fx.ID,
		HTMLURL:            WebBase + "/incidents/" + fx.ID,
		IncidentNumber:     fx.Number,
		Title:              fx.Title,
		CreatedAt:          wireTime(fx.CreatedAt),
		UpdatedAt:          wireTime(lastChange(fx)),
		Status:             fx.Status,
		IncidentKey:        fx.IncidentKey,
		Service:            serviceRef(fx),
		Assignments:        []wireAssignment{},
		AssignedVia:        "escalation_policy",
		LastStatusChangeAt: wireTime(lastChange(fx)),
		AlertCounts:        wireAlertCounts{All: 1, Triggered: 1},
		IsMergeable:        true,
		IncidentType:       wireIncidentType{Name: "incident_default"},
		EscalationPolicy: wireRef{ID: fx.EscalationPolicyID, Type: "escalation_policy_reference", Summary: fx.EscalationPolicy,
			Self: APIBase + "/escalation_policies/" + fx.EscalationPolicyID, HTMLURL: WebBase + "/escalation_policies/" + fx.EscalationPolicyID},
		Teams:               teamRefs(fx),
		PendingActions:      []struct{}{},
		Acknowledgements:    []struct{}{},
		IncidentsResponders: []struct{}{},
		ResponderRequests:   []struct{}{},
		Urgency:             fx.Urgency,
		CustomFields:        []struct{}{},
	}
	for _, u := range fx.Assignees {
		w.Assignments = append(w.Assignments, wireAssignment{At: wireTime(fx.CreatedAt), Assignee: userRef(u)})
	}
	if fx.Status == "resolved" {
		w.AlertCounts = wireAlertCounts{All: 1, Resolved: 1}
		if !fx.ResolvedAt.IsZero() {
			s := wireTime(fx.ResolvedAt)
			w.ResolvedAt = &s
		}
	}
	for _, le := range fx.LogEntries {
		if le.Kind == "trigger" {
			w.FirstTriggerLogEntry = &wireRef{ID: le.ID, Type: "trigger_log_entry_reference", Summary: le.Summary,
				Self: APIBase + "/log_entries/" + le.ID + "?incident_id=" + fx.ID, HTMLURL: WebBase + "/incidents/" + fx.ID + "/log_entries/" + le.ID}
			break
		}
	}
	if by := lastChangeBy(fx); by != nil {
		w.LastStatusChangeBy = agentRef(*by)
	}
	if fx.Bridge != nil {
		w.ConferenceBridge = &wireBridge{ConferenceNumber: fx.Bridge.Number, ConferenceURL: fx.Bridge.URL}
	}
	if n := len(fx.Alerts); n > 0 {
		w.AlertCounts = wireAlertCounts{All: n, Triggered: n}
		if fx.Status == "resolved" {
			w.AlertCounts = wireAlertCounts{All: n, Resolved: n}
		}
	}
	if fx.Priority != "" {
		w.Priority = &wireRef{ID: priorityID(fx.Priority), Type: "priority_reference", Summary: fx.Priority,
			Self: APIBase + "/priorities/" + priorityID(fx.Priority)}
	}
	return w
}

// lastChange is the time of the last status change: resolution, else the
// latest trigger/acknowledge entry, else creation.
func lastChange(fx *Incident) time.Time {
	if fx.Status == "resolved" && !fx.ResolvedAt.IsZero() {
		return fx.ResolvedAt
	}
	t := fx.CreatedAt
	for _, le := range fx.LogEntries {
		if isStatusChange(le.Kind) && le.At.After(t) {
			t = le.At
		}
	}
	return t
}

func lastChangeBy(fx *Incident) *Agent {
	var (
		by *Agent
		at time.Time
	)
	for i := range fx.LogEntries {
		le := &fx.LogEntries[i]
		if isStatusChange(le.Kind) && !le.At.Before(at) {
			by, at = &le.Agent, le.At
		}
	}
	return by
}

func isStatusChange(kind string) bool {
	switch kind {
	case "trigger", "acknowledge", "unacknowledge", "resolve":
		return true
	}
	return false
}

func renderLogEntry(fx *Incident, le *LogEntry) wireLogEntry {
	w := wireLogEntry{
		ID:        le.ID,
		Type:      le.Kind + "_log_entry",
		Summary:   le.Summary,
		Self:      APIBase + "/log_entries/" + le.ID + "?incident_id=" + fx.ID,
		CreatedAt: wireTime(le.At),
		Agent:     agentRef(le.Agent),
		Channel:   wireChannel{Type: le.Channel},
		Service:   serviceRef(fx),
		Incident:  incidentRef(fx),
		Teams:     teamRefs(fx),
		Contexts:  []struct{}{},
	}
	switch le.Kind {
	case "trigger":
		u := WebBase + "/incidents/" + fx.ID + "/log_entries/" + le.ID
		w.HTMLURL = &u
		w.EventDetails = &wireEventDetails{Description: fx.Title}
	case "acknowledge":
		t := 1800
		w.AcknowledgementTimeout = &t
		w.EventDetails = &wireEventDetails{}
	default:
		w.EventDetails = &wireEventDetails{}
	}
	if le.User != nil {
		r := userRef(*le.User)
		w.User = &r
	}
	for _, u := range le.Assignees {
		w.Assignees = append(w.Assignees, userRef(u))
	}
	return w
}

func renderNote(n *Note) wireNote {
	return wireNote{
		ID:        n.ID,
		User:      userRef(n.Author),
		Channel:   wireNoteChannel{Summary: "The PagerDuty website or APIs"},
		Content:   n.Content,
		CreatedAt: wireTime(n.At),
		UpdatedAt: wireTime(n.At),
	}
}
