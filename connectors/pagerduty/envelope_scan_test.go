package pagerduty

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

// envelopeSamples are the recorded webhook bodies in testdata.
func envelopeSamples(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no testdata samples: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

// tricky bodies: each must get encoding/json's answer, most of them by
// falling back to it.
var trickyEnvelopes = []struct {
	name string
	body string
	fast bool // scanEnvelope takes it itself
}{
	{"plain", `{"event":{"id":"E1","event_type":"incident.resolved","occurred_at":"2026-11-20T08:00:00.123Z","data":{"type":"incident","id":"P1","service":{"id":"S","x":[1,-2.5e3,true,null,{}]}}}}`, true},
	{"note event", ` {"event": {"id": "E1", "event_type": "incident.annotated", "data": {"type": "incident_note", "incident": {"id": "P1", "html_url": "u"}}}} `, true},
	{"escapes and non-ASCII outside the envelope's fields", `{"x":{"a\"b":1},"event":{"id":"E1","event_type":"t","data":{"type":"x","service":{"s\u00e9":"\ud83d\ude00 é"}}}}`, true},
	{"escaped key at an envelope level", `{"x\"y":1,"event":{"id":"E1","event_type":"t"}}`, false},
	{"key in another case", `{"event":{"ID":"E1","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"top key in another case", `{"Event":{"id":"E1","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"repeated key", `{"event":{"id":"E1","id":"E2","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"repeated event", `{"event":{"id":"E1"},"event":{"event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"escaped key", `{"event":{"\u0069d":"E1","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"escaped value", `{"event":{"id":"E\u0031","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"non-ASCII value", `{"event":{"id":"É1","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"invalid UTF-8 value", "{\"event\":{\"id\":\"E\xff\",\"event_type\":\"incident.resolved\",\"data\":{\"type\":\"incident\",\"id\":\"P1\"}}}", false},
	{"number id", `{"event":{"id":1,"event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`, false},
	{"null id", `{"event":{"id":null,"event_type":"t"}}`, false},
	{"null event", `{"event":null}`, false},
	{"null data", `{"event":{"id":"E1","event_type":"t","data":null}}`, false},
	{"bad time", `{"event":{"id":"E1","event_type":"t","occurred_at":"yesterday"}}`, false},
	{"no event", `{"foo":1}`, true},
	{"array", `[{"event":{}}]`, false},
	{"trailing garbage", `{"event":{"id":"E1","event_type":"t"}} x`, false},
	{"trailing comma", `{"event":{"id":"E1","event_type":"t",}}`, false},
	{"leading zero", `{"n":01,"event":{"id":"E1","event_type":"t"}}`, false},
	{"bad escape", `{"n":"\x","event":{"id":"E1","event_type":"t"}}`, false},
	{"control character", "{\"n\":\"a\tb\",\"event\":{\"id\":\"E1\",\"event_type\":\"t\"}}", false},
	{"truncated", `{"event":{"id":"E1","event_type":"t"`, false},
	{"deep", `{"x":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `,"event":{"id":"E1","event_type":"t"}}`, false},
	{"empty", ``, false},
}

func TestScanEnvelopeAgreesWithEncodingJSON(t *testing.T) {
	for name, body := range envelopeSamples(t) {
		t.Run(name, func(t *testing.T) {
			if _, ok := scanEnvelope(body); !ok {
				t.Errorf("a recorded PagerDuty body took the slow path")
			}
			checkDecodeAgrees(t, body)
		})
	}
	// What the fake sends (and the benchmark's load generator) is what
	// PagerDuty sends: it takes the fast path.
	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	for _, body := range [][]byte{
		pdtest.ResolvedWebhook(pdtest.RichIncident("PRICH01", at), "evt-1"),
		pdtest.ResolvedWebhook(pdtest.SimpleIncident("PSIMP01", at), "evt-2"),
	} {
		if _, ok := scanEnvelope(body); !ok {
			t.Errorf("the fake's webhook took the slow path: %s", body)
		}
		checkDecodeAgrees(t, body)
	}
	for _, tc := range trickyEnvelopes {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := scanEnvelope([]byte(tc.body)); ok != tc.fast {
				t.Errorf("scanEnvelope ok = %v, want %v", ok, tc.fast)
			}
			checkDecodeAgrees(t, []byte(tc.body))
		})
	}
}

func checkDecodeAgrees(t *testing.T, body []byte) {
	t.Helper()
	got, gotErr := DecodeEvent(body)
	want, wantErr := decodeEventJSON(body)
	if (gotErr == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeEvent = %+v, %v\nencoding/json: %+v, %v", got, gotErr, want, wantErr)
	}
	if env, ok := scanEnvelope(body); ok {
		var std envelope
		if err := json.Unmarshal(body, &std); err != nil || !reflect.DeepEqual(env, std) {
			t.Fatalf("scanEnvelope took a body encoding/json reads otherwise:\n scan %+v\n json %+v, %v", env, std, err)
		}
	}
}

// FuzzDecodeEventMatchesEncodingJSON: whatever the body, the fast path
// gives encoding/json's answer.
func FuzzDecodeEventMatchesEncodingJSON(f *testing.F) {
	for _, body := range envelopeSamples(f) {
		f.Add(body)
	}
	for _, tc := range trickyEnvelopes {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecodeAgrees(t, body) })
}

func BenchmarkDecodeEvent(b *testing.B) {
	body := pdtest.ResolvedWebhook(pdtest.RichIncident("PRICH01", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)), "evt-1")
	for _, bc := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{
		{"scan", func(b []byte) (any, error) { return DecodeEvent(b) }},
		{"encoding-json", func(b []byte) (any, error) { return decodeEventJSON(b) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
