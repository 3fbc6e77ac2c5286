package pagerduty

import (
	"crypto/hmac"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coesync/coesync/connectors/internal/hmacsig"
	"github.com/coesync/coesync/sync/engine"
)

// SignatureHeader carries the V3 webhook signatures.
const SignatureHeader = "X-PagerDuty-Signature"

// MaxSignatureEntries is how many comma-separated entries of the signature
// header are looked at; the rest is ignored.
const MaxSignatureEntries = 16

var (
	// ErrNoSignature: the header is empty or holds no well-formed v1 entry.
	ErrNoSignature = errors.New("pagerduty webhook: no v1 signature")
	// ErrBadSignature: no v1 entry matches the body under any secret.
	ErrBadSignature = errors.New("pagerduty webhook: signature mismatch")
	// ErrNotEnvelope: the body is not a V3 webhook envelope coesync can route.
	ErrNotEnvelope = errors.New("pagerduty webhook: not a V3 event envelope")
)

// Verifier checks V3 webhook signatures against one or more secrets
// (several while a secret is being rotated).
type Verifier struct{ secrets [][]byte }

// NewVerifier returns a Verifier for the non-empty secrets, trimmed of
// surrounding white space.
func NewVerifier(secrets []string) *Verifier {
	v := &Verifier{}
	for _, s := range secrets {
		if s = strings.TrimSpace(s); s != "" {
			v.secrets = append(v.secrets, []byte(s))
		}
	}
	return v
}

// Verify checks signatureHeader (the X-PagerDuty-Signature value) against
// the HMAC-SHA256 of the raw body under every secret. It returns nil when
// any v1 entry matches under any secret, ErrNoSignature when there is no
// usable entry, else ErrBadSignature.
func (v *Verifier) Verify(signatureHeader string, body []byte) error {
	sigs := ParseSignatureHeader(signatureHeader)
	if len(sigs) == 0 {
		if strings.TrimSpace(signatureHeader) == "" {
			return ErrNoSignature
		}
		return fmt.Errorf("%w: no well-formed v1 entry in the header", ErrNoSignature)
	}
	if v == nil || len(v.secrets) == 0 {
		return fmt.Errorf("%w: no secret configured", ErrBadSignature)
	}
	ok := 0
	for _, secret := range v.secrets {
		want := hmacsig.Sum(secret, body)
		for _, sig := range sigs {
			// Every pair is compared: the work does not depend on where
			// (or whether) a match is.
			if hmac.Equal(want, sig) {
				ok++
			}
		}
	}
	if ok == 0 {
		return ErrBadSignature
	}
	return nil
}

// ParseSignatureHeader returns the decoded v1 signatures of an
// X-PagerDuty-Signature value such as "v1=ab..,v1=cd..". It looks at no
// more than MaxSignatureEntries entries, tolerates white space around
// entries and around "=", and skips other versions and anything that is
// not 64 hex digits.
func ParseSignatureHeader(h string) [][]byte {
	var sigs [][]byte
	for i := 0; i < MaxSignatureEntries && h != ""; i++ {
		var entry string
		entry, h, _ = strings.Cut(h, ",")
		key, val, ok := strings.Cut(entry, "=")
		if !ok || strings.TrimSpace(key) != "v1" {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) != hmacsig.HexLen {
			continue
		}
		sig, err := hex.DecodeString(val)
		if err != nil {
			continue
		}
		sigs = append(sigs, sig)
	}
	return sigs
}

// envelope is the part of a V3 webhook body that DecodeEvent reads.
type envelope struct {
	Event *envelopeEvent `json:"event"`
}

type envelopeEvent struct {
	ID         string       `json:"id"`
	EventType  string       `json:"event_type"`
	OccurredAt time.Time    `json:"occurred_at"`
	Data       envelopeData `json:"data"`
}

type envelopeData struct {
	ID       string            `json:"id"`
	Type     string            `json:"type"`
	Incident *envelopeIncident `json:"incident"`
}

type envelopeIncident struct {
	ID string `json:"id"`
}

// DecodeEvent decodes the routing fields of a V3 webhook body. It fails
// with ErrNotEnvelope (wrapped with the reason) when the body is not JSON,
// lacks event.id or event.event_type, or is an incident.* event without an
// incident id (event.data.id for data of type incident, else
// event.data.incident.id).
//
// It runs on the webhook's hot path: a body of the usual shape is read by
// scanEnvelope in one pass; anything else (escapes or non-ASCII in the
// fields read, repeated or differently cased keys, unexpected types) goes
// to encoding/json, which decides. FuzzDecodeEventMatchesEncodingJSON holds
// the two to the same answers.
func DecodeEvent(body []byte) (engine.WebhookEvent, error) {
	if env, ok := scanEnvelope(body); ok {
		return fromEnvelope(env)
	}
	return decodeEventJSON(body)
}

// decodeEventJSON is DecodeEvent by encoding/json alone.
func decodeEventJSON(body []byte) (engine.WebhookEvent, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return engine.WebhookEvent{}, fmt.Errorf("%w: %w", ErrNotEnvelope, err)
	}
	return fromEnvelope(env)
}

func fromEnvelope(env envelope) (engine.WebhookEvent, error) {
	ev := env.Event
	if ev == nil {
		return engine.WebhookEvent{}, fmt.Errorf("%w: no event object", ErrNotEnvelope)
	}
	if ev.ID == "" || ev.EventType == "" {
		return engine.WebhookEvent{}, fmt.Errorf("%w: event.id or event.event_type missing", ErrNotEnvelope)
	}
	out := engine.WebhookEvent{
		ID:           ev.ID,
		Type:         ev.EventType,
		ResourceType: ev.Data.Type,
	}
	if !ev.OccurredAt.IsZero() {
		out.OccurredAt = ev.OccurredAt.UTC()
	}
	if strings.HasPrefix(ev.EventType, "incident.") {
		switch {
		case ev.Data.Type == "incident":
			out.IncidentID = ev.Data.ID
		case ev.Data.Incident != nil:
			out.IncidentID = ev.Data.Incident.ID
		}
		if out.IncidentID == "" {
			return engine.WebhookEvent{}, fmt.Errorf("%w: %q event without an incident id", ErrNotEnvelope, ev.EventType)
		}
	}
	return out, nil
}
