package github

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coesync/coesync/connectors/internal/hmacsig"
	"github.com/coesync/coesync/sync/coe"
)

// Webhook request headers.
const (
	SignatureHeader = "X-Hub-Signature-256"
	EventHeader     = "X-GitHub-Event"
	DeliveryHeader  = "X-GitHub-Delivery"
)

var (
	// ErrNoSecret: no webhook secret is configured. Verification then always
	// fails; it is never skipped (go-github's ValidatePayload skips it).
	ErrNoSecret = errors.New("github webhook: no secret configured")
	// ErrNoSignature: the X-Hub-Signature-256 header is missing or empty.
	ErrNoSignature = errors.New("github webhook: no X-Hub-Signature-256 signature")
	// ErrBadSignature: the signature is malformed or does not match the body.
	ErrBadSignature = errors.New("github webhook: signature mismatch")

	// ErrPing: the delivery is GitHub's "ping", sent when a hook is created.
	// Answer it 2xx and do nothing else.
	ErrPing = errors.New("github webhook: ping")
	// ErrIgnoredEvent: an event type, or an "issues" action, coesync does
	// not act on. Answer it 2xx.
	ErrIgnoredEvent = errors.New("github webhook: ignored event")
	// ErrMalformed: the body is not a well-formed payload of its event.
	ErrMalformed = errors.New("github webhook: malformed payload")
)

// IssuesActions are the "issues" actions DecodeIssuesEvent decodes.
var IssuesActions = []string{"opened", "edited", "closed", "reopened", "assigned", "unassigned", "deleted", "transferred"}

const signaturePrefix = "sha256="

// VerifySignature checks header (the X-Hub-Signature-256 value,
// "sha256=<hex HMAC-SHA256 of body>") against the raw body, in constant
// time. An empty secret always fails with ErrNoSecret.
func VerifySignature(secret []byte, header string, body []byte) error {
	if len(secret) == 0 {
		return ErrNoSecret
	}
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	return hmacsig.Check(secret, header, signaturePrefix, body, ErrBadSignature)
}

// The lean payload: only what coesync reads.
type (
	hookLogin struct {
		Login string `json:"login"`
	}
	hookRepo struct {
		FullName string `json:"full_name"`
	}
	hookIssue struct {
		ID          int64       `json:"id"`
		Number      int         `json:"number"`
		HTMLURL     string      `json:"html_url"`
		Title       string      `json:"title"`
		Body        *string     `json:"body"`
		State       string      `json:"state"`
		StateReason *string     `json:"state_reason"`
		Assignee    hookLogin   `json:"assignee"`
		Assignees   []hookLogin `json:"assignees"`
		Labels      []struct {
			Name string `json:"name"`
		} `json:"labels"`
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
		ClosedAt  time.Time `json:"closed_at"`
	}
	hookIssuesEvent struct {
		Action     string     `json:"action"`
		Issue      *hookIssue `json:"issue"`
		Repository *hookRepo  `json:"repository"`
		Sender     hookLogin  `json:"sender"`
		Changes    struct {
			Title *struct {
				From string `json:"from"`
			} `json:"title"`
			NewIssue      *hookIssue `json:"new_issue"`
			NewRepository *hookRepo  `json:"new_repository"`
		} `json:"changes"`
	}
)

// DecodeIssuesEvent decodes a verified webhook body. eventType is the
// X-GitHub-Event header and deliveryID the X-GitHub-Delivery header.
// It returns ErrPing for "ping", ErrIgnoredEvent for other event types and
// for "issues" actions outside IssuesActions, and ErrMalformed for a body
// that is not a usable payload.
func DecodeIssuesEvent(eventType, deliveryID string, body []byte) (coe.GitHubIssueEvent, error) {
	switch strings.TrimSpace(eventType) {
	case "issues":
	case "ping":
		if !json.Valid(body) {
			return coe.GitHubIssueEvent{}, fmt.Errorf("%w: ping body is not JSON", ErrMalformed)
		}
		return coe.GitHubIssueEvent{}, ErrPing
	case "":
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: no event type", ErrMalformed)
	default:
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: %q", ErrIgnoredEvent, eventType)
	}
	var p hookIssuesEvent
	if err := json.Unmarshal(body, &p); err != nil {
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if p.Action == "" {
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: no action", ErrMalformed)
	}
	known := false
	for _, a := range IssuesActions {
		known = known || a == p.Action
	}
	if !known {
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: issues.%s", ErrIgnoredEvent, p.Action)
	}
	if p.Repository == nil || !validRepo(p.Repository.FullName) {
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: issues.%s without repository.full_name", ErrMalformed, p.Action)
	}
	if p.Issue == nil || p.Issue.Number <= 0 {
		return coe.GitHubIssueEvent{}, fmt.Errorf("%w: issues.%s without issue.number", ErrMalformed, p.Action)
	}
	ev := coe.GitHubIssueEvent{
		Delivery: deliveryID,
		Action:   p.Action,
		Repo:     p.Repository.FullName,
		Issue:    p.Issue.domain(p.Repository.FullName),
		Sender:   p.Sender.Login,
	}
	if p.Changes.Title != nil {
		ev.TitleFrom = p.Changes.Title.From
	}
	if p.Action == "transferred" {
		if p.Changes.NewIssue == nil || p.Changes.NewIssue.Number <= 0 || p.Changes.NewRepository == nil || !validRepo(p.Changes.NewRepository.FullName) {
			return coe.GitHubIssueEvent{}, fmt.Errorf("%w: issues.transferred without changes.new_issue.number and changes.new_repository.full_name", ErrMalformed)
		}
		ev.NewRepo = p.Changes.NewRepository.FullName
		ev.NewNumber = p.Changes.NewIssue.Number
	}
	return ev, nil
}

func validRepo(full string) bool {
	owner, name, ok := strings.Cut(full, "/")
	return ok && validSegment(owner) && validSegment(name)
}

func (is *hookIssue) domain(repo string) coe.GitHubIssue {
	out := coe.GitHubIssue{
		Repo:      repo,
		Number:    is.Number,
		ID:        is.ID,
		URL:       is.HTMLURL,
		Title:     is.Title,
		State:     is.State,
		CreatedAt: is.CreatedAt.UTC(),
		UpdatedAt: is.UpdatedAt.UTC(),
	}
	if !is.ClosedAt.IsZero() {
		out.ClosedAt = is.ClosedAt.UTC()
	}
	if is.Body != nil {
		out.Body = *is.Body
	}
	if is.StateReason != nil {
		out.StateReason = *is.StateReason
	}
	for _, a := range is.Assignees {
		if a.Login != "" {
			out.Assignees = append(out.Assignees, a.Login)
		}
	}
	if len(out.Assignees) == 0 && is.Assignee.Login != "" {
		out.Assignees = []string{is.Assignee.Login}
	}
	for _, l := range is.Labels {
		if l.Name != "" {
			out.Labels = append(out.Labels, l.Name)
		}
	}
	return out
}
