package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coesync/coesync/connectors/internal/hmacsig"
	"github.com/coesync/coesync/sync/coe"
)

// Webhook request headers and the query parameter of automation webhooks.
const (
	// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the body>" when
	// the webhook was registered with a secret.
	SignatureHeader = "X-Hub-Signature"
	// DeliveryHeader identifies a delivery; retries repeat it.
	DeliveryHeader = "X-Atlassian-Webhook-Identifier"
	// RetryHeader counts redelivery attempts (absent on the first).
	RetryHeader = "X-Atlassian-Webhook-Retry"
	// SecretParam is the query parameter holding the shared secret, for
	// senders that cannot sign or set headers (Jira automation's "Send web
	// request").
	SecretParam = "secret"
)

var (
	// ErrNoSecret: no webhook secret is configured. Verification then always
	// fails; it is never skipped. Whether to accept unverified webhooks is
	// the server's decision, not this package's.
	ErrNoSecret = errors.New("jira webhook: no secret configured")
	// ErrNoSignature: neither a signature header nor a secret query
	// parameter came with the request.
	ErrNoSignature = errors.New("jira webhook: no X-Hub-Signature signature and no secret parameter")
	// ErrBadSignature: the signature header is malformed or does not match
	// the body (and no valid secret parameter came either).
	ErrBadSignature = errors.New("jira webhook: signature mismatch")
	// ErrBadSecret: the secret query parameter is wrong (and no valid
	// signature came either).
	ErrBadSecret = errors.New("jira webhook: wrong secret parameter")

	// ErrIgnoredEvent: a webhookEvent coesync does not act on (comments,
	// issue links, projects...). Answer it 2xx.
	ErrIgnoredEvent = errors.New("jira webhook: ignored event")
	// ErrMalformed: the body is not a well-formed issue event.
	ErrMalformed = errors.New("jira webhook: malformed payload")
)

const signaturePrefix = "sha256="

// VerifyWebhook authenticates a webhook request. It accepts either a valid
// signatureHeader (the X-Hub-Signature value, "sha256=<hex HMAC-SHA256 of
// body keyed with secret>") or a querySecret (the SecretParam query
// parameter) equal to secret, both compared in constant time: Jira's system
// webhooks sign, Jira automation webhooks cannot set headers and put the
// secret in the URL instead. An empty secret always fails with ErrNoSecret.
func VerifyWebhook(secret []byte, signatureHeader, querySecret string, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	signatureHeader = strings.TrimSpace(signatureHeader)
	var sigErr error
	if signatureHeader != "" {
		if sigErr = hmacsig.Check(secret, signatureHeader, signaturePrefix, body, ErrBadSignature); sigErr == nil {
			return nil
		}
	}
	if querySecret != "" {
		// Hash both sides so that the comparison does not leak the
		// secret's length either.
		got := sha256.Sum256([]byte(querySecret))
		want := sha256.Sum256(secret)
		if hmac.Equal(got[:], want[:]) {
			return nil
		}
		if sigErr == nil {
			return ErrBadSecret
		}
	}
	if sigErr != nil {
		return sigErr
	}
	return ErrNoSignature
}

// Sign returns the SignatureHeader value for body: what Jira sends, and
// what tests and the demo use to sign their own deliveries.
func Sign(secret, body []byte) string {
	return hmacsig.Sign(signaturePrefix, secret, body)
}

// webhookKinds maps the webhookEvents DecodeWebhook decodes to JiraEvent kinds.
var webhookKinds = map[string]string{
	"jira:issue_created": coe.JiraEventCreated,
	"jira:issue_updated": coe.JiraEventUpdated,
	"jira:issue_deleted": coe.JiraEventDeleted,
}

// hookEvent is the lean payload: only what coesync reads.
type hookEvent struct {
	Timestamp    *int64 `json:"timestamp"`
	WebhookEvent string `json:"webhookEvent"`
	// Issue is decoded as GET issue's answer is: a webhook carries the
	// same issue bean.
	Issue     *wireItem `json:"issue"`
	Changelog *struct {
		Items []struct {
			Field   string `json:"field"`
			FieldID string `json:"fieldId"`
		} `json:"items"`
	} `json:"changelog"`
}

// DecodeWebhook decodes a verified issue webhook body. deliveryID is the
// DeliveryHeader value. It decodes jira:issue_created, jira:issue_updated
// and jira:issue_deleted, returns ErrIgnoredEvent for other webhookEvents
// and ErrMalformed for a body that is not such an event.
func DecodeWebhook(deliveryID string, body []byte) (coe.JiraEvent, error) {
	var p hookEvent
	if err := json.Unmarshal(body, &p); err != nil {
		return coe.JiraEvent{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.WebhookEvent == "" {
		return coe.JiraEvent{}, fmt.Errorf("%w: no webhookEvent", ErrMalformed)
	}
	kind, ok := webhookKinds[p.WebhookEvent]
	if !ok {
		return coe.JiraEvent{}, fmt.Errorf("%w: %q", ErrIgnoredEvent, p.WebhookEvent)
	}
	if p.Issue == nil || p.Issue.Key == "" {
		return coe.JiraEvent{}, fmt.Errorf("%w: %s without issue.key", ErrMalformed, p.WebhookEvent)
	}
	ev := coe.JiraEvent{
		ID:     deliveryID,
		Kind:   kind,
		Key:    p.Issue.Key,
		Labels: p.Issue.Fields.Labels,
	}
	if p.Timestamp != nil && *p.Timestamp > 0 {
		ev.At = time.UnixMilli(*p.Timestamp).UTC()
	}
	if p.Issue.Fields.Parent != nil {
		ev.Parent = p.Issue.Fields.Parent.Key
	}
	if p.Issue.Fields.Summary != "" && p.Issue.Fields.Status != nil {
		// A payload with the issue's fields (Jira's own webhooks always
		// send them; an automation rule's custom body may not).
		it := itemOf(p.Issue, "")
		ev.Item = &it
	}
	if p.Changelog != nil {
		for _, it := range p.Changelog.Items {
			f := it.FieldID
			if f == "" {
				f = strings.ToLower(strings.TrimSpace(it.Field))
			}
			if f != "" && !ev.HasChanged(f) {
				ev.Changed = append(ev.Changed, f)
			}
		}
	}
	return ev, nil
}
