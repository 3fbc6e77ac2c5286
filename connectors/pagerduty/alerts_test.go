package pagerduty_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

func TestAlertsStatusUpdatesAndBridge(t *testing.T) {
	srv := newServer(t)
	base := time.Date(2024, 5, 1, 9, 0, 0, 0, est)
	fx := pdtest.RichIncident("PCTX001", base)
	fx.Bridge = &pdtest.Bridge{URL: "https://acme.zoom.us/j/42", Number: "+1 415-555-1212,,,,42#"}
	fx.Alerts = []pdtest.Alert{
		{At: base.Add(time.Second), Summary: "5xx above 5%", Source: "checkout-api-7.prod", Client: "Datadog",
			ClientURL: "https://app.datadoghq.com/monitors/1", Severity: "error"},
		{At: base, Summary: "latency p99 > 2s", Client: "Grafana", Details: map[string]any{"url": "https://grafana.acme.com/d/x", "n": 3.0}},
		{At: base.Add(2 * time.Second), Summary: "synthetic check failed", Links: []string{"https://status.acme.com/checks/9"}},
	}
	fx.LogEntries = append(fx.LogEntries, pdtest.LogEntry{Kind: "status_update", At: base.Add(20 * time.Minute),
		Agent: pdtest.Bob.AsAgent(), Channel: "website", Summary: "We are rolling back the 10:00 deploy."})
	srv.AddIncident(fx)
	c := newClient(t, srv)
	ctx := context.Background()

	alerts, err := c.Alerts(ctx, fx.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []coe.Alert{
		{At: base.UTC(), Summary: "latency p99 > 2s", Source: "Grafana", Severity: "critical", Link: "https://grafana.acme.com/d/x"},
		{At: base.Add(time.Second).UTC(), Summary: "5xx above 5%", Source: "checkout-api-7.prod", Severity: "error", Link: "https://app.datadoghq.com/monitors/1"},
		{At: base.Add(2 * time.Second).UTC(), Summary: "synthetic check failed", Source: "Events API v2", Severity: "critical", Link: "https://status.acme.com/checks/9"},
	}
	if !reflect.DeepEqual(alerts, want) {
		t.Errorf("Alerts =\n %+v\nwant\n %+v", alerts, want)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodGet || last.Path != "/incidents/PCTX001/alerts" || last.Query.Get("limit") != "100" || !last.Authorized {
		t.Errorf("request %s %s?%s (authorized %v), want GET /incidents/PCTX001/alerts?limit=100", last.Method, last.Path, last.Query.Encode(), last.Authorized)
	}

	inc, err := c.Incident(ctx, fx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (coe.ConferenceBridge{URL: "https://acme.zoom.us/j/42", Number: "+1 415-555-1212,,,,42#"}); inc.Bridge != want {
		t.Errorf("Bridge = %+v, want %+v", inc.Bridge, want)
	}

	log, err := c.LogEntries(ctx, fx.ID)
	if err != nil {
		t.Fatal(err)
	}
	var updates []coe.LogEntry
	for _, e := range log {
		if e.Kind == coe.LogStatusUpdate {
			updates = append(updates, e)
		}
	}
	if len(updates) != 1 || updates[0].Summary != "We are rolling back the 10:00 deploy." || updates[0].Actor != pdtest.Bob.Name {
		t.Errorf("status updates %+v", updates)
	}
}

func TestAlertsPaginate(t *testing.T) {
	srv := newServer(t)
	fx := pdtest.Incident{ID: "PMANY01", ResolvedAt: time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC)}
	for i := range 130 {
		fx.Alerts = append(fx.Alerts, pdtest.Alert{Summary: fmt.Sprint("alert ", i), At: time.Date(2024, 3, 1, 10, 0, i, 0, time.UTC)})
	}
	srv.AddIncident(fx)
	got, err := newClient(t, srv).Alerts(context.Background(), fx.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 130 || got[0].Summary != "alert 0" || got[129].Summary != "alert 129" {
		t.Fatalf("%d alerts, first %+v", len(got), got[0])
	}
	var offsets []string
	for _, r := range srv.Requests() {
		offsets = append(offsets, r.Query.Get("offset"))
	}
	if fmt.Sprint(offsets) != "[ 100]" {
		t.Errorf("offsets asked %q, want the first page then offset=100", offsets)
	}
}

func TestAlertsErrorsClassified(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.RichIncident("PFAIL01", time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)))
	c := newClient(t, srv)
	srv.FailNext(1, http.StatusServiceUnavailable, 0, http.MethodGet, "/alerts")
	_, err := c.Alerts(context.Background(), "PFAIL01")
	noToken(t, err)
	if kind, _ := engine.Classify(err); err == nil || kind != engine.Retryable {
		t.Errorf("503: err %v, kind %v; want a retryable error", err, kind)
	}
	_, err = c.Alerts(context.Background(), "PNOSUCH")
	var e *engine.Error
	if !errors.As(err, &e) || e.Status != http.StatusNotFound || e.Kind != engine.Permanent {
		t.Errorf("unknown incident: %v", err)
	}
	if _, err := c.Alerts(context.Background(), "../x"); err == nil {
		t.Error("an invalid id was accepted")
	}
}

// TestFakeAlertWireShape: the fake's alert carries every field of the
// OpenAPI example, so code written against the fake meets the real shape.
func TestFakeAlertWireShape(t *testing.T) {
	srv := newServer(t)
	srv.AddIncident(pdtest.Incident{ID: "PSHAPE1", Alerts: []pdtest.Alert{{Summary: "x", ClientURL: "https://m.example/1"}}})
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/incidents/PSHAPE1/alerts", nil)
	req.Header.Set("Authorization", "Token token="+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fake, example map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&fake); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(readTestdata(t, "openapi-example-incident-alerts.json"), &example); err != nil {
		t.Fatal(err)
	}
	if missing := missingKeys("", example, fake); len(missing) > 0 {
		t.Errorf("the fake's alerts page lacks %v", missing)
	}
}

// missingKeys lists the object keys of want (recursively, arrays by their
// first element) that got lacks; an alert body's details are the
// monitoring tool's and not compared.
func missingKeys(path string, want, got any) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + " (not an object)"}
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				out = append(out, path+"."+k)
				continue
			}
			if k != "details" { // the monitoring tool's own object
				out = append(out, missingKeys(path+"."+k, v, gv)...)
			}
		}
	case []any:
		g, ok := got.([]any)
		if len(w) > 0 && ok && len(g) > 0 {
			out = append(out, missingKeys(path+"[0]", w[0], g[0])...)
		}
	}
	sort.Strings(out)
	return out
}
