package pdtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// V3 webhook envelope, shaped (keys and order) like the documented
// incident.priority_updated example.

type whRef struct {
	HTMLURL string `json:"html_url"`
	ID      string `json:"id"`
	Self    string `json:"self"`
	Summary string `json:"summary"`
	Type    string `json:"type"`
}

type whClient struct {
	Name string `json:"name"`
}

type whConferenceBridge struct {
	ConferenceNumber *string `json:"conference_number"`
	ConferenceURL    *string `json:"conference_url"`
}

type whIncident struct {
	ID               string             `json:"id"`
	Type             string             `json:"type"`
	Self             string             `json:"self"`
	HTMLURL          string             `json:"html_url"`
	Number           int                `json:"number"`
	Status           string             `json:"status"`
	IncidentKey      string             `json:"incident_key"`
	CreatedAt        string             `json:"created_at"`
	ReopenedAt       *string            `json:"reopened_at"`
	Title            string             `json:"title"`
	Service          whRef              `json:"service"`
	Assignees        []whRef            `json:"assignees"`
	EscalationPolicy whRef              `json:"escalation_policy"`
	Teams            []whRef            `json:"teams"`
	Priority         *whRef             `json:"priority"`
	Urgency          string             `json:"urgency"`
	ConferenceBridge whConferenceBridge `json:"conference_bridge"`
	ResolveReason    *struct{}          `json:"resolve_reason"`
}

type whEvent struct {
	ID           string     `json:"id"`
	EventType    string     `json:"event_type"`
	ResourceType string     `json:"resource_type"`
	OccurredAt   string     `json:"occurred_at"`
	Agent        *whRef     `json:"agent"`
	Client       *whClient  `json:"client"`
	Data         whIncident `json:"data"`
}

type whEnvelope struct {
	Event whEvent `json:"event"`
}

// ResolvedWebhook returns the body of a V3 incident.resolved webhook for
// fx (after the defaults AddIncident applies), with event id eventID. The
// agent is the agent of fx's last resolve entry (null without one);
// occurred_at is fx.ResolvedAt, or CreatedAt when that is zero.
func ResolvedWebhook(fx Incident, eventID string) []byte {
	fx = normalize(fx)
	at := fx.ResolvedAt
	if at.IsZero() {
		at = fx.CreatedAt
	}
	data := whIncident{
		ID:          fx.ID,
		Type:        "incident",
		Self:        APIBase + "/incidents/" + fx.ID,
		HTMLURL:     WebBase + "/incidents/" + fx.ID,
		Number:      fx.Number,
		Status:      "resolved",
		IncidentKey: fx.IncidentKey,
		CreatedAt:   fx.CreatedAt.UTC().Format(time.RFC3339),
		Title:       fx.Title,
		Service: whRef{HTMLURL: WebBase + "/services/" + fx.ServiceID, ID: fx.ServiceID,
			Self: APIBase + "/services/" + fx.ServiceID, Summary: fx.ServiceName, Type: "service_reference"},
		Assignees: []whRef{},
		EscalationPolicy: whRef{HTMLURL: WebBase + "/escalation_policies/" + fx.EscalationPolicyID, ID: fx.EscalationPolicyID,
			Self: APIBase + "/escalation_policies/" + fx.EscalationPolicyID, Summary: fx.EscalationPolicy, Type: "escalation_policy_reference"},
		Teams:   []whRef{},
		Urgency: fx.Urgency,
	}
	for _, u := range fx.Assignees {
		data.Assignees = append(data.Assignees, whUser(u.ID, u.Name))
	}
	for _, t := range fx.Teams {
		data.Teams = append(data.Teams, whRef{HTMLURL: WebBase + "/teams/" + t.ID, ID: t.ID,
			Self: APIBase + "/teams/" + t.ID, Summary: t.Name, Type: "team_reference"})
	}
	if fx.Priority != "" {
		data.Priority = &whRef{HTMLURL: WebBase + "/account/incident_priorities", ID: priorityID(fx.Priority),
			Self: APIBase + "/priorities/" + priorityID(fx.Priority), Summary: fx.Priority, Type: "priority_reference"}
	}
	ev := whEvent{
		ID:           eventID,
		EventType:    "incident.resolved",
		ResourceType: "incident",
		OccurredAt:   at.UTC().Format("2006-01-02T15:04:05.000Z"),
		Client:       &whClient{Name: "PagerDuty"},
		Data:         data,
	}
	for _, le := range fx.LogEntries {
		if le.Kind == "resolve" && (le.Agent.ID != "" || le.Agent.Name != "") {
			a := whAgent(le.Agent)
			ev.Agent = &a
		}
	}
	b, err := json.Marshal(whEnvelope{Event: ev})
	if err != nil {
		panic("pdtest: marshal webhook: " + err.Error())
	}
	return b
}

func whUser(id, name string) whRef {
	return whRef{HTMLURL: WebBase + "/users/" + id, ID: id, Self: APIBase + "/users/" + id, Summary: name, Type: "user_reference"}
}

func whAgent(a Agent) whRef {
	switch a.Type {
	case "service":
		return whRef{HTMLURL: WebBase + "/services/" + a.ID, ID: a.ID, Self: APIBase + "/services/" + a.ID, Summary: a.Name, Type: "service_reference"}
	case "integration":
		return whRef{HTMLURL: WebBase + "/integrations/" + a.ID, ID: a.ID, Self: APIBase + "/integrations/" + a.ID, Summary: a.Name, Type: "integration_reference"}
	}
	return whUser(a.ID, a.Name)
}

// Sign returns the X-PagerDuty-Signature value for body under secret:
// "v1=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}
