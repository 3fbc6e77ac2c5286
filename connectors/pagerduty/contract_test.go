package pagerduty_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/sync/coe"
)

// sampleServer serves the REST samples of contracts/pagerduty/api as they
// are, one file per path.
func sampleServer(t *testing.T) (*httptest.Server, *[]*http.Request) {
	t.Helper()
	files := map[string]string{
		"/incidents/PT4KHLK":             "openapi-example-get-incident.json",
		"/incidents/PT4KHLK/log_entries": "openapi-example-incident-log-entries.json",
		"/incidents/PT4KHLK/notes":       "openapi-example-incident-notes.json",
		"/incidents/PT4KHLK/alerts":      "openapi-example-incident-alerts.json",
		"/incidents/PRORDTY/log_entries": "developer-docs-v2-webhook-log-entries.json",
	}
	var (
		mu   sync.Mutex
		reqs []*http.Request
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Clone(context.Background()))
		mu.Unlock()
		name, ok := files[r.URL.Path]
		if !ok || r.Method != http.MethodGet || r.Header.Get("Authorization") != "Token token="+testToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":{"message":"Not Found","code":2100}}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if off := r.URL.Query().Get("offset"); name == "openapi-example-incident-alerts.json" && off != "" && off != "0" {
			// The example is the first page of a longer list (more:
			// true); the pages after it are empty, as the list's end.
			fmt.Fprintf(w, `{"alerts":[],"limit":100,"offset":%s,"more":false}`, off)
			return
		}
		w.Write(readTestdata(t, name))
	}))
	t.Cleanup(srv.Close)
	return srv, &reqs
}

func TestContractSamplesDecode(t *testing.T) {
	srv, reqs := sampleServer(t)
	c, err := pagerduty.New(pagerduty.Options{BaseURL: srv.URL, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}

	t.Run("GET /incidents/{id}", func(t *testing.T) {
		got, err := c.Incident(ctx, "PT4KHLK")
		if err != nil {
			t.Fatal(err)
		}
		want := coe.Incident{
			ID: "PT4KHLK", Number: 1234, Title: "The server is on fire.",
			URL: "https://subdomain.pagerduty.com/incidents/PT4KHLK", Status: "acknowledged",
			Urgency: "high", Priority: "P2", IncidentKey: "baf7cf21b1da41b4b0221008339ff357",
			ServiceID: "PIJ90N7", ServiceName: "My Mail Service",
			ServiceURL:       "https://subdomain.pagerduty.com/service-directory/PIJ90N7",
			Teams:            []coe.Team{{ID: "PQ9K7I8", Name: "Engineering"}},
			EscalationPolicy: "Another Escalation Policy",
			CreatedAt:        utc("2015-10-06T21:30:42Z"),
			Assignees:        []coe.Person{{ID: "PXPGF42", Name: "Earline Greenholt"}},
			Bridge:           coe.ConferenceBridge{URL: "https://example.com/acb-123", Number: "+1-415-555-1212,,,,1234#"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Incident =\n %+v\nwant\n %+v", got, want)
		}
	})

	t.Run("GET /incidents/{id}/log_entries (openapi)", func(t *testing.T) {
		got, err := c.LogEntries(ctx, "PT4KHLK")
		if err != nil {
			t.Fatal(err)
		}
		want := []coe.LogEntry{{ID: "Q02JTSNZWHSEKV", Kind: coe.LogTrigger, At: utc("2015-11-07T00:14:20Z"),
			Actor: "My Mail Service", Channel: "api", Summary: "Triggered through the API"}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("LogEntries =\n %+v\nwant\n %+v", got, want)
		}
	})

	t.Run("log entries from the developer docs, oldest first", func(t *testing.T) {
		got, err := c.LogEntries(ctx, "PRORDTY")
		if err != nil {
			t.Fatal(err)
		}
		want := []coe.LogEntry{
			{ID: "R2XGXEI3W0FHMSDXHDIBQGBQ5E", Kind: coe.LogTrigger, At: utc("2017-09-26T15:14:36Z"),
				Actor: "Laura Haley", Channel: "web_trigger", Summary: "Triggered through the website"},
			{ID: "RRPP3746OFFZZ742NSP1G67AWC", Kind: coe.LogAcknowledge, At: utc("2017-09-26T15:15:17Z"),
				Actor: "Laura Haley", Channel: "website", Summary: "Acknowledged by Laura Haley"},
			{ID: "R6XNGC35VF6U1TUSVIE2DWXD4Z", Kind: coe.LogAssign, At: utc("2017-09-26T15:16:05Z"),
				Actor: "Laura Haley", Channel: "website", Summary: "Assigned to Wiley Jacobson by Laura Haley", Subject: "Wiley Jacobson"},
			{ID: "RNAJ8DLJGWHBXXYX1CC5G50C9O", Kind: coe.LogResolve, At: utc("2017-09-26T15:18:09Z"),
				Actor: "Laura Haley", Channel: "website", Summary: "Resolved by Laura Haley"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("LogEntries =\n %+v\nwant\n %+v", got, want)
		}
	})

	t.Run("GET /incidents/{id}/notes, oldest first, in UTC", func(t *testing.T) {
		got, err := c.Notes(ctx, "PT4KHLK")
		if err != nil {
			t.Fatal(err)
		}
		want := []coe.Note{
			{ID: "PCQC25", At: utc("2013-03-06T20:28:42Z"), Author: "A Global Event Rule", Content: "Initial alert information indicates a 1-alarm fire"},
			{ID: "PWL7QXS", At: utc("2013-03-06T20:28:51Z"), Author: "Earline Greenholt", Content: "Firefighters are on the scene."},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Notes =\n %+v\nwant\n %+v", got, want)
		}
		for _, n := range got {
			if n.At.Location() != time.UTC {
				t.Errorf("note %s time not in UTC: %v", n.ID, n.At)
			}
		}
	})

	t.Run("GET /incidents/{id}/alerts (openapi)", func(t *testing.T) {
		got, err := c.Alerts(ctx, "PT4KHLK")
		if err != nil {
			t.Fatal(err)
		}
		// The example has no cef_details and a link context without an
		// href: no monitoring link; the source is the integration.
		want := []coe.Alert{{At: utc("2015-10-06T21:30:42Z"), Summary: "The server is on fire.", Source: "Email Integration", Severity: "critical"}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Alerts =\n %+v\nwant\n %+v", got, want)
		}
	})

	// What went over the wire.
	for _, r := range *reqs {
		if r.Header.Get("Accept") != "application/vnd.pagerduty+json;version=2" {
			t.Errorf("%s %s: Accept = %q", r.Method, r.URL, r.Header.Get("Accept"))
		}
		if r.URL.Path == "/incidents/PT4KHLK/alerts" {
			if q := r.URL.Query(); r.Method != http.MethodGet || q.Get("limit") != "100" || (q.Get("offset") != "" && q.Get("offset") != "1") {
				t.Errorf("alerts request = %s %s, want GET with limit=100, then offset=1", r.Method, r.URL.RequestURI())
			}
		}
		if r.URL.Path == "/incidents/PRORDTY/log_entries" {
			q := r.URL.Query()
			if q.Get("limit") != "100" || q.Get("is_overview") == "true" {
				t.Errorf("log entries query = %q, want limit=100 and no is_overview=true", r.URL.RawQuery)
			}
		}
	}
}
