package engine

import (
	"context"
	"time"

	"github.com/coesync/coesync/sync/coe"
)

// ItemTracker reads and changes COE action items in Jira: the sub-tasks of a
// COE ticket and the issues linked to it that carry the action-item label.
type ItemTracker interface {
	// GetItem fetches one issue. A missing issue is a Permanent *Error with
	// Status 404.
	GetItem(ctx context.Context, key string) (coe.JiraItem, error)
	// Subtasks returns every sub-task of parentKey, in the parent's order
	// (creation order), including one created a moment ago: the list comes
	// from the parent's subtasks field, which is strongly consistent, not
	// from search alone. A sub-task deleted meanwhile is left out.
	Subtasks(ctx context.Context, parentKey string) ([]coe.JiraItem, error)
	// LinkedItems returns the issues linked to coeKey, in either
	// direction, through a link type named linkType (case-insensitive; any
	// type when empty) that carry label (any issue when empty), in the
	// order of the COE's links. The link list is strongly consistent.
	LinkedItems(ctx context.Context, coeKey, linkType, label string) ([]coe.JiraItem, error)
	// CreateSubtask creates a sub-task of parentKey.
	CreateSubtask(ctx context.Context, parentKey string, spec coe.TicketSpec) (coe.TicketRef, error)
	// CreateSubtasks creates a sub-task of parentKey per spec, in as few
	// calls as the API allows: refs[i] is the one made for specs[i], zero
	// when it was not made. When some were refused the error is a
	// *PartialCreateError naming them, the others were created; after any
	// other error, refs holds what is known to have been created (more may
	// have been).
	CreateSubtasks(ctx context.Context, parentKey string, specs []coe.TicketSpec) (refs []coe.TicketRef, err error)
	// EditItem sets the summary and the due date; a nil pointer leaves the
	// field alone and a zero *due clears the due date. The due date is the
	// calendar date of *due in its own location. Nothing to change makes no
	// call.
	EditItem(ctx context.Context, key string, summary *string, due *time.Time) error
	// Transition moves the issue through the first available transition
	// named one of names and returns the name Jira gave it.
	Transition(ctx context.Context, key string, names []string) (string, error)
	// AddComment adds a comment and returns its id.
	AddComment(ctx context.Context, key, body string) (string, error)
	// UpdateComment replaces the body of comment id.
	UpdateComment(ctx context.Context, key, id, body string) error
	// EnsureRemoteLink adds or updates the remote link with link.GlobalID.
	EnsureRemoteLink(ctx context.Context, key string, link coe.RemoteLink) error
	// UpdatedSince returns the issues of project updated at or after since
	// (every issue of the project when since is zero), all pages. It is a
	// search, so eventually consistent: it looks back a safety margin
	// before since and may return issues updated a little earlier; callers
	// compare JiraItem.Updated with what they know.
	UpdatedSince(ctx context.Context, project string, since time.Time) ([]coe.JiraItem, error)
}

// CommentFinder finds a comment coesync wrote, by a marker in its body.
type CommentFinder interface {
	FindComment(ctx context.Context, key, marker string) (id string, found bool, err error)
}
