package pdtest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Alert is an alert of an incident fixture, rendered as GET
// /incidents/{id}/alerts does: Source becomes body.cef_details.source_origin
// and Client body.cef_details.client, ClientURL
// body.cef_details.client_url (where the Events API v2 puts them), Details
// body.details and Links body.contexts links.
type Alert struct {
	ID        string    // "": derived
	At        time.Time // zero: the incident's CreatedAt
	Summary   string
	Severity  string // "": "critical"
	Source    string
	Client    string
	ClientURL string
	Details   map[string]any
	Links     []string
}

// Bridge is an incident's conference_bridge.
type Bridge struct{ URL, Number string }

type wireBridge struct {
	ConferenceNumber string `json:"conference_number,omitempty"`
	ConferenceURL    string `json:"conference_url,omitempty"`
}

type wireContext struct {
	Type string `json:"type"`
	Href string `json:"href,omitempty"`
	Text string `json:"text,omitempty"`
}

type wireAlertBody struct {
	Type       string         `json:"type"`
	Contexts   []wireContext  `json:"contexts"`
	Details    map[string]any `json:"details"`
	CEFDetails map[string]any `json:"cef_details,omitempty"`
}

type wireAlert struct {
	ID          string        `json:"id"`
	Type        string        `json:"type"`
	Summary     string        `json:"summary"`
	Self        string        `json:"self"`
	HTMLURL     string        `json:"html_url"`
	CreatedAt   string        `json:"created_at"`
	Status      string        `json:"status"`
	AlertKey    string        `json:"alert_key"`
	Service     wireRef       `json:"service"`
	Body        wireAlertBody `json:"body"`
	Incident    wireRef       `json:"incident"`
	Suppressed  bool          `json:"suppressed"`
	Severity    string        `json:"severity"`
	Integration wireRef       `json:"integration"`
}

type wireAlertPage struct {
	Alerts []wireAlert `json:"alerts"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
	More   bool        `json:"more"`
	Total  *int        `json:"total"`
}

func normalizeAlerts(fx *Incident) {
	alerts := make([]Alert, len(fx.Alerts))
	for i, a := range fx.Alerts {
		if a.ID == "" {
			a.ID = fmt.Sprintf("Q%s%04d", strings.ToUpper(fx.ID), i+1)
		}
		if a.At.IsZero() {
			a.At = fx.CreatedAt
		}
		a.At = a.At.Truncate(time.Second)
		if a.Severity == "" {
			a.Severity = "critical"
		}
		a.Links = slices.Clone(a.Links)
		alerts[i] = a
	}
	fx.Alerts = alerts
	if fx.Bridge != nil {
		b := *fx.Bridge
		fx.Bridge = &b
	}
}

func renderAlert(fx *Incident, a *Alert) wireAlert {
	body := wireAlertBody{Type: "alert_body", Contexts: []wireContext{}, Details: a.Details}
	if body.Details == nil {
		body.Details = map[string]any{}
	}
	for _, l := range a.Links {
		body.Contexts = append(body.Contexts, wireContext{Type: "link", Href: l})
	}
	cef := map[string]any{}
	for k, v := range map[string]string{"source_origin": a.Source, "client": a.Client, "client_url": a.ClientURL} {
		if v != "" {
			cef[k] = v
		}
	}
	if len(cef) > 0 {
		body.CEFDetails = cef
	}
	status := "triggered"
	if fx.Status == "resolved" {
		status = "resolved"
	}
	return wireAlert{
		ID: a.ID, Type: "alert", Summary: a.Summary,
		Self:      APIBase + "/incidents/" + fx.ID + "/alerts/" + a.ID,
		HTMLURL:   WebBase + "/alerts/" + a.ID,
		CreatedAt: wireTime(a.At), Status: status, AlertKey: strings.ToLower(a.ID) + "-key",
		Service: serviceRef(fx), Body: body, Incident: incidentRef(fx), Severity: a.Severity,
		Integration: wireRef{ID: "PINT001", Type: "generic_events_api_inbound_integration_reference", Summary: "Events API v2",
			Self: APIBase + "/services/" + fx.ServiceID + "/integrations/PINT001", HTMLURL: WebBase + "/services/" + fx.ServiceID + "/integrations/PINT001"},
	}
}

// listAlerts serves GET /incidents/{id}/alerts (offset, limit, total),
// oldest first.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, id string) {
	q := r.URL.Query()
	offset, err1 := intParam(q, "offset", 0)
	limit, err2 := intParam(q, "limit", 25)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001,
			Errors: []string{"offset and limit must be non-negative integers, limit at least 1"}})
		return
	}
	limit = min(limit, 100)
	s.mu.Lock()
	fx := s.incidents[id]
	var page wireAlertPage
	if fx != nil {
		alerts := slices.Clone(fx.Alerts)
		slices.SortStableFunc(alerts, func(a, b Alert) int { return a.At.Compare(b.At) })
		lo, hi := min(offset, len(alerts)), min(offset+limit, len(alerts))
		page = wireAlertPage{Alerts: make([]wireAlert, 0, hi-lo), Limit: limit, Offset: offset, More: hi < len(alerts)}
		for i := lo; i < hi; i++ {
			page.Alerts = append(page.Alerts, renderAlert(fx, &alerts[i]))
		}
		if q.Get("total") == "true" {
			n := len(alerts)
			page.Total = &n
		}
	}
	s.mu.Unlock()
	if fx == nil {
		writeError(w, http.StatusNotFound, notFound)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
