package coe

import (
	"strconv"
	"time"
)

// GitHub issue states.
const (
	GitHubStateOpen   = "open"
	GitHubStateClosed = "closed"
)

// GitHub issue state reasons.
const (
	GitHubReasonCompleted  = "completed"
	GitHubReasonNotPlanned = "not_planned"
	GitHubReasonDuplicate  = "duplicate"
	GitHubReasonReopened   = "reopened"
)

// ClosedUndone reports whether a GitHub issue closed with reason was closed
// without the work being done: as not planned, or as a duplicate of another
// issue (which tracks the work). Both close the action item as won't do.
func ClosedUndone(reason string) bool {
	return reason == GitHubReasonNotPlanned || reason == GitHubReasonDuplicate
}

// GitHubIssue is a GitHub issue mirroring an action item.
type GitHubIssue struct {
	Repo   string // "owner/name"
	Number int
	ID     int64
	URL    string // html_url
	Title  string
	Body   string
	// State is GitHubStateOpen or GitHubStateClosed.
	State string
	// StateReason is "completed", "not_planned", "duplicate", "reopened" or "".
	StateReason string
	Assignees   []string // logins
	Labels      []string // names
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ClosedAt is zero while the issue is open.
	ClosedAt time.Time
}

// Ref returns "owner/name#number".
func (i GitHubIssue) Ref() string { return GitHubRef(i.Repo, i.Number) }

// GitHubRef formats an issue reference as "owner/name#number".
func GitHubRef(repo string, number int) string {
	return repo + "#" + strconv.Itoa(number)
}

// GitHubIssueSpec is everything needed to create a GitHub issue.
type GitHubIssueSpec struct {
	Title     string
	Body      string // GitHub-flavoured Markdown
	Labels    []string
	Assignees []string // logins
}

// GitHubIssuePatch changes some fields of a GitHub issue; nil fields are
// left alone. A non-nil pointer to an empty slice clears the field.
type GitHubIssuePatch struct {
	Title       *string
	Body        *string
	State       *string // "open" or "closed"
	StateReason *string // "completed", "not_planned", "duplicate" or "reopened"
	Assignees   *[]string
	Labels      *[]string
}

// IsZero reports whether p changes nothing.
func (p GitHubIssuePatch) IsZero() bool {
	return p.Title == nil && p.Body == nil && p.State == nil && p.StateReason == nil &&
		p.Assignees == nil && p.Labels == nil
}

// GitHubIssueEvent is a GitHub "issues" webhook delivery.
type GitHubIssueEvent struct {
	// Delivery is the X-GitHub-Delivery GUID; GitHub never redelivers on
	// its own, so it identifies one delivery attempt's event.
	Delivery string
	// Action is "opened", "edited", "closed", "reopened", "assigned",
	// "unassigned", "deleted" or "transferred".
	Action string
	// Repo is the repository the event was sent for ("owner/name").
	Repo  string
	Issue GitHubIssue
	// TitleFrom is the previous title (changes.title.from) on "edited",
	// empty when the title did not change.
	TitleFrom string
	// Sender is the login of the user who made the change.
	Sender string
	// NewRepo and NewNumber are where the issue went, on "transferred".
	NewRepo   string
	NewNumber int
}
