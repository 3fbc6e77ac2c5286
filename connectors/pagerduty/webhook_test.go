package pagerduty_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/engine"
)

// The signature test vector of go-pagerduty v1.8.0 webhookv3_test.go
// (contracts/pagerduty/webhooks/README.md).
const (
	vectorSecret   = "lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK"
	vectorSig      = "v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd"
	vectorMismatch = "v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5"
	vectorBodyFile = "go-pagerduty-webhookv3-test-incident.priority_updated.body.json"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	body := readTestdata(t, vectorBodyFile)
	if len(body) != 1655 {
		t.Fatalf("vector body is %d bytes, want 1655 (was it edited?)", len(body))
	}
	other := "another-secret-during-rotation"
	otherSig := pdtest.Sign(other, body)
	garbage := "v1=" + strings.Repeat("zz", 32)
	tooMany := strings.Repeat("v0=00,", pagerduty.MaxSignatureEntries) + vectorSig

	tests := []struct {
		name    string
		secrets []string
		header  string
		body    []byte
		want    error
	}{
		{"go-pagerduty vector", []string{vectorSecret}, vectorSig, body, nil},
		{"go-pagerduty mismatch", []string{vectorSecret}, vectorMismatch, body, pagerduty.ErrBadSignature},
		{"body changed by one byte", []string{vectorSecret}, vectorSig, append(body[:len(body):len(body)], ' '), pagerduty.ErrBadSignature},
		{"bare hex without v1=", []string{vectorSecret}, vectorSig[3:], body, pagerduty.ErrNoSignature},
		{"upper-case hex with prefix", []string{vectorSecret}, "v1=" + strings.ToUpper(vectorSig[3:]), body, nil},
		{"two entries, first matches", []string{vectorSecret}, vectorSig + "," + otherSig, body, nil},
		{"two entries, second matches", []string{vectorSecret}, vectorMismatch + "," + vectorSig, body, nil},
		{"two entries vs two secrets: old secret", []string{other, vectorSecret}, vectorMismatch + "," + vectorSig, body, nil},
		{"two entries vs two secrets: new secret", []string{vectorSecret, other}, otherSig + "," + vectorMismatch, body, nil},
		{"rotation: neither secret", []string{"x1", "x2"}, vectorSig + "," + otherSig, body, pagerduty.ErrBadSignature},
		{"spaces around entries", []string{vectorSecret}, "  v1=" + strings.Repeat("ab", 32) + " ,  " + vectorSig + "  ", body, nil},
		{"spaces around =", []string{vectorSecret}, "v1 = " + vectorSig[3:], body, nil},
		{"unknown version ignored", []string{vectorSecret}, "v2=" + vectorSig[3:] + "," + vectorSig, body, nil},
		{"only unknown versions", []string{vectorSecret}, "v2=" + vectorSig[3:], body, pagerduty.ErrNoSignature},
		{"garbage entries ignored", []string{vectorSecret}, "junk,,=,v1=,v1=abc," + garbage + "," + vectorSig, body, nil},
		{"only garbage", []string{vectorSecret}, "junk,v1=xyz," + garbage, body, pagerduty.ErrNoSignature},
		{"truncated signature", []string{vectorSecret}, vectorSig[:len(vectorSig)-2], body, pagerduty.ErrNoSignature},
		{"empty header", []string{vectorSecret}, "", body, pagerduty.ErrNoSignature},
		{"blank header", []string{vectorSecret}, "   ", body, pagerduty.ErrNoSignature},
		{"entries past the cap ignored", []string{vectorSecret}, tooMany, body, pagerduty.ErrNoSignature},
		{"no secrets", nil, vectorSig, body, pagerduty.ErrBadSignature},
		{"blank secrets dropped", []string{"", "  "}, vectorSig, body, pagerduty.ErrBadSignature},
		{"secret with trailing newline", []string{vectorSecret + "\n"}, vectorSig, body, nil},
		{"empty body", []string{vectorSecret}, vectorSig, nil, pagerduty.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pagerduty.NewVerifier(tt.secrets).Verify(tt.header, tt.body)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyPdtestSign(t *testing.T) {
	body := pdtest.ResolvedWebhook(pdtest.RichIncident("PABC123", time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)), "evt-1")
	v := pagerduty.NewVerifier([]string{"s3cret"})
	if err := v.Verify(pdtest.Sign("s3cret", body), body); err != nil {
		t.Fatalf("Verify(Sign) = %v", err)
	}
	if err := v.Verify(pdtest.Sign("other", body), body); !errors.Is(err, pagerduty.ErrBadSignature) {
		t.Fatalf("Verify(wrong secret) = %v, want ErrBadSignature", err)
	}
}

func TestParseSignatureHeader(t *testing.T) {
	a := strings.Repeat("ab", 32)
	b := strings.Repeat("0F", 32)
	tests := []struct {
		name   string
		header string
		want   []string // hex, lower case
	}{
		{"empty", "", nil},
		{"one", "v1=" + a, []string{a}},
		{"two", "v1=" + a + ",v1=" + b, []string{a, strings.ToLower(b)}},
		{"spaces", " v1 = " + a + " , v1=" + b + " ", []string{a, strings.ToLower(b)}},
		{"unknown versions and garbage", "v0=" + a + ",x,v1,v1=zz,v1=" + a[:62] + ",v1=" + a + "00,=" + a + ",v1=" + b, []string{strings.ToLower(b)}},
		{"nested =", "v1=" + a + "=", nil},
		{"capped", strings.Repeat(",", pagerduty.MaxSignatureEntries) + "v1=" + a, nil},
		{"last within cap", strings.Repeat(",", pagerduty.MaxSignatureEntries-1) + "v1=" + a, []string{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pagerduty.ParseSignatureHeader(tt.header)
			var gotHex []string
			for _, g := range got {
				gotHex = append(gotHex, hex.EncodeToString(g))
			}
			if strings.Join(gotHex, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("ParseSignatureHeader = %v, want %v", gotHex, tt.want)
			}
		})
	}
}

// envelopeWith builds a V3 envelope around a documented event.data object.
func envelopeWith(t *testing.T, eventType, dataFile string) []byte {
	t.Helper()
	env := map[string]any{"event": map[string]any{
		"id":            "01EVT" + strings.ToUpper(strings.ReplaceAll(eventType, ".", "")),
		"event_type":    eventType,
		"resource_type": "incident",
		"occurred_at":   "2020-10-02T18:45:22.169Z",
		"agent":         nil,
		"client":        nil,
		"data":          json.RawMessage(readTestdata(t, dataFile)),
	}}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeEventDocSamples(t *testing.T) {
	occurred := time.Date(2020, 10, 2, 18, 45, 22, 169e6, time.UTC)
	tests := []struct {
		name string
		body []byte
		want engine.WebhookEvent
	}{
		{"incident.priority_updated (docs)", readTestdata(t, "developer-docs-incident.priority_updated.json"), engine.WebhookEvent{
			ID: "5ac64822-4adc-4fda-ade0-410becf0de4f", Type: "incident.priority_updated", OccurredAt: occurred,
			ResourceType: "incident", IncidentID: "PGR0VU2"}},
		{"incident.priority_updated (go-pagerduty body)", readTestdata(t, vectorBodyFile), engine.WebhookEvent{
			ID: "01BWDWL3NYY7LUFPZCC28QUCMK", Type: "incident.priority_updated",
			OccurredAt: time.Date(2021, 4, 26, 17, 36, 27, 458e6, time.UTC), ResourceType: "incident", IncidentID: "PGR0VU2"}},
		{"service.updated: no incident id, no error", readTestdata(t, "developer-docs-service.updated.json"), engine.WebhookEvent{
			ID: "01BRB6ZP4M6T8ZG4X6BP63ZB9O", Type: "service.updated",
			OccurredAt: time.Date(2021, 3, 2, 13, 35, 11, 682e6, time.UTC), ResourceType: "service"}},
		{"incident.resolved around the docs incident data", envelopeWith(t, "incident.resolved", "developer-docs-data-incident.json"), engine.WebhookEvent{
			ID: "01EVTINCIDENTRESOLVED", Type: engine.EventIncidentResolved, OccurredAt: occurred,
			ResourceType: "incident", IncidentID: "PGR0VU2"}},
		{"incident.annotated around the docs incident_note data", envelopeWith(t, "incident.annotated", "developer-docs-data-incident_note.json"), engine.WebhookEvent{
			ID: "01EVTINCIDENTANNOTATED", Type: "incident.annotated", OccurredAt: occurred,
			ResourceType: "incident_note", IncidentID: "PGR0VU2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pagerduty.DecodeEvent(tt.body)
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			if got != tt.want {
				t.Fatalf("DecodeEvent =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// Every incident event type of the documented subscription request decodes
// with the incident data, and the note-style ones with incident_note data.
func TestDecodeEventSubscribedTypes(t *testing.T) {
	var req struct {
		WebhookSubscription struct {
			Events []string `json:"events"`
		} `json:"webhook_subscription"`
	}
	if err := json.Unmarshal(readTestdata(t, "developer-docs-create-webhook-subscription-request.json"), &req); err != nil {
		t.Fatal(err)
	}
	if len(req.WebhookSubscription.Events) == 0 {
		t.Fatal("no events in the sample")
	}
	for _, typ := range req.WebhookSubscription.Events {
		for _, data := range []string{"developer-docs-data-incident.json", "developer-docs-data-incident_note.json"} {
			ev, err := pagerduty.DecodeEvent(envelopeWith(t, typ, data))
			if err != nil || ev.Type != typ || ev.IncidentID != "PGR0VU2" {
				t.Errorf("%s with %s: %+v, %v", typ, data, ev, err)
			}
		}
	}
}

func TestDecodeEventPdtestResolved(t *testing.T) {
	fx := pdtest.RichIncident("PRICH01", time.Date(2024, 5, 1, 9, 0, 0, 0, time.FixedZone("EST", -5*3600)))
	ev, err := pagerduty.DecodeEvent(pdtest.ResolvedWebhook(fx, "evt-42"))
	if err != nil {
		t.Fatal(err)
	}
	want := engine.WebhookEvent{ID: "evt-42", Type: engine.EventIncidentResolved, OccurredAt: fx.ResolvedAt.UTC(),
		ResourceType: "incident", IncidentID: "PRICH01"}
	if ev != want {
		t.Fatalf("DecodeEvent = %+v, want %+v", ev, want)
	}
}

func TestDecodeEventRejects(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty", ``},
		{"not JSON", `<html>hello</html>`},
		{"truncated", `{"event":{"id":"x","event_type":"incident.resolved"`},
		{"null", `null`},
		{"array", `[]`},
		{"string", `"event"`},
		{"no event", `{"messages":[]}`},
		{"event null", `{"event":null}`},
		{"event not an object", `{"event":"x"}`},
		{"no id", `{"event":{"event_type":"incident.resolved","data":{"id":"P1","type":"incident"}}}`},
		{"no event_type", `{"event":{"id":"e1","data":{"id":"P1","type":"incident"}}}`},
		{"incident event without data", `{"event":{"id":"e1","event_type":"incident.resolved"}}`},
		{"incident data without id", `{"event":{"id":"e1","event_type":"incident.resolved","data":{"type":"incident"}}}`},
		{"note without incident", `{"event":{"id":"e1","event_type":"incident.annotated","data":{"id":"N1","type":"incident_note"}}}`},
		{"note with empty incident", `{"event":{"id":"e1","event_type":"incident.annotated","data":{"id":"N1","type":"incident_note","incident":{}}}}`},
		{"bad occurred_at", `{"event":{"id":"e1","event_type":"incident.resolved","occurred_at":"yesterday","data":{"id":"P1","type":"incident"}}}`},
		{"id of wrong type", `{"event":{"id":1,"event_type":"incident.resolved","data":{"id":"P1","type":"incident"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := pagerduty.DecodeEvent([]byte(tt.body))
			if !errors.Is(err, pagerduty.ErrNotEnvelope) {
				t.Fatalf("DecodeEvent = %+v, %v; want ErrNotEnvelope", ev, err)
			}
		})
	}
}

func TestDecodeEventNonIncidentWithoutData(t *testing.T) {
	ev, err := pagerduty.DecodeEvent([]byte(`{"event":{"id":"e1","event_type":"pagey.ping","occurred_at":null}}`))
	if err != nil || ev.ID != "e1" || ev.IncidentID != "" || !ev.OccurredAt.IsZero() {
		t.Fatalf("DecodeEvent = %+v, %v", ev, err)
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	body := readTestdata(b, "developer-docs-incident.priority_updated.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pagerduty.DecodeEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	body := readTestdata(b, vectorBodyFile)
	v := pagerduty.NewVerifier([]string{"old-secret", vectorSecret})
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Verify(vectorSig, body); err != nil {
			b.Fatal(err)
		}
	}
}
