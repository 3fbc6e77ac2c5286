package pagerduty_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
)

const fuzzSecret = "fuzz-webhook-secret"

// testdataBodies are the contract samples copied into testdata.
func testdataBodies(f *testing.F) [][]byte {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no testdata samples: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzVerifySignature(f *testing.F) {
	for _, body := range testdataBodies(f) {
		f.Add(pdtest.Sign(fuzzSecret, body), body)
		f.Add("v1=00ff, "+pdtest.Sign(fuzzSecret, body), body)
		f.Add(pdtest.Sign("another-secret", body), body)
		f.Add(strings.Repeat("v1=zz,", 20)+pdtest.Sign(fuzzSecret, body), body)
	}
	f.Add("", []byte(nil))
	f.Add("v1=zz, v2=, ,,,=", []byte("{}"))
	f.Add(" v1 = "+strings.Repeat("A", 64)+" ", []byte("x"))
	v := pagerduty.NewVerifier([]string{fuzzSecret, "  "})
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		sigs := pagerduty.ParseSignatureHeader(header)
		if len(sigs) > pagerduty.MaxSignatureEntries {
			t.Fatalf("%d signatures parsed, at most %d entries are looked at", len(sigs), pagerduty.MaxSignatureEntries)
		}
		mac := hmac.New(sha256.New, []byte(fuzzSecret))
		mac.Write(body)
		want := mac.Sum(nil)
		made := false // the header carries the HMAC made with the secret
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("parsed signature of %d bytes", len(s))
			}
			made = made || hmac.Equal(s, want)
		}
		err := v.Verify(header, body)
		if err == nil && !made {
			t.Fatalf("Verify(%q) accepted a header not made with the secret", header)
		}
		if err == nil && !strings.Contains(strings.ToLower(header), hex.EncodeToString(want)) {
			t.Fatalf("Verify(%q) accepted a header without the hex HMAC", header)
		}
		if err != nil && made {
			t.Fatalf("Verify(%q) rejected a header holding the right signature: %v", header, err)
		}
		if err != nil && !errors.Is(err, pagerduty.ErrNoSignature) && !errors.Is(err, pagerduty.ErrBadSignature) {
			t.Fatalf("Verify error %v is neither ErrNoSignature nor ErrBadSignature", err)
		}
		// The right signature verifies whatever garbage comes after it
		// within the entries looked at.
		if err := v.Verify(pdtest.Sign(fuzzSecret, body)+","+header, body); err != nil {
			t.Fatalf("a correct signature followed by %q did not verify: %v", header, err)
		}
		// A verifier without secrets accepts nothing.
		if pagerduty.NewVerifier(nil).Verify(header, body) == nil {
			t.Fatal("a verifier without secrets accepted a delivery")
		}
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, body := range testdataBodies(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"event":{"id":"E1","event_type":"incident.resolved","data":{"type":"incident","id":"P1"}}}`))
	f.Add([]byte(`{"event":{"id":"E1","event_type":"incident.annotated","data":{"type":"incident_note","incident":{"id":"P1"}}}}`))
	f.Add([]byte(`{"event":{"id":"","event_type":"x"}}`))
	f.Add([]byte(`{"event":null}`))
	f.Add([]byte(strings.Repeat("[", 20000)))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := pagerduty.DecodeEvent(body)
		if err != nil {
			if !errors.Is(err, pagerduty.ErrNotEnvelope) {
				t.Fatalf("error %v does not wrap ErrNotEnvelope", err)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("accepted event without id or type: %+v", ev)
		}
		if strings.HasPrefix(ev.Type, "incident.") && ev.IncidentID == "" {
			t.Fatalf("accepted %s without an incident id: %+v", ev.Type, ev)
		}
	})
}
