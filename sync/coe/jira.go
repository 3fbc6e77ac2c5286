package coe

import "time"

// Jira webhook event kinds (JiraEvent.Kind).
const (
	JiraEventCreated = "created"
	JiraEventUpdated = "updated"
	JiraEventDeleted = "deleted"
)

// JiraItem is a Jira issue seen as a COE action item: a sub-task of the COE
// ticket, or an issue linked to it that carries the action-item label.
type JiraItem struct {
	ID        string
	Key       string
	URL       string // browse URL
	Project   string // project key
	IssueType string
	Subtask   bool
	Summary   string
	// Status is the status name as the workflow spells it.
	Status string
	// Done is true when the status is in Jira's "done" status category,
	// whatever the status is called.
	Done bool
	// Category is the status category key: "new", "indeterminate" or "done".
	Category string
	// The assignee; all empty when unassigned. Jira Cloud hides the email
	// of most users, so AssigneeEmail is often empty.
	AssigneeID    string // accountId
	AssigneeEmail string
	AssigneeName  string // display name
	// Due is the due date at 00:00 UTC; zero when there is none.
	Due time.Time
	// Priority is the priority name; empty when the field is hidden.
	Priority string
	Labels   []string
	// Parent is the parent's key, for sub-tasks.
	Parent string
	// Links are the issue's links to other issues.
	Links   []JiraLink
	Created time.Time
	Updated time.Time
}

// IsDue reports whether the item has a due date.
func (i JiraItem) IsDue() bool { return !i.Due.IsZero() }

// HasLabel reports whether the item carries label (Jira labels are
// case-sensitive).
func (i JiraItem) HasLabel(label string) bool {
	for _, l := range i.Labels {
		if l == label {
			return true
		}
	}
	return false
}

// JiraLink is one issue link of a JiraItem.
type JiraLink struct {
	// Type is the link type name, e.g. "Relates" or "Blocks".
	Type string
	// Key is the other issue's key.
	Key string
	// Outward is true when the item is the link's source: "<item> blocks
	// <Key>" for type Blocks; false for "<item> is blocked by <Key>".
	Outward bool
}

// JiraEvent is a Jira issue webhook delivery: which item changed and, in
// Item, the issue as the payload has it. Deliveries can be lost, late or
// out of order: Item is what the issue was when the event was produced,
// good for telling an event of coesync's own write (nothing differs from
// what coesync recorded) and for the first mirror of a new item, whose
// later changes come as later events; otherwise the item is read back.
type JiraEvent struct {
	// ID is the X-Atlassian-Webhook-Identifier header: the same for every
	// retry of one delivery, so it deduplicates redeliveries.
	ID string
	// Kind is JiraEventCreated, JiraEventUpdated or JiraEventDeleted.
	Kind string
	// At is the payload's timestamp (when Jira produced the event).
	At time.Time
	// Key is the issue's key.
	Key string
	// Parent is the parent's key when the issue is a sub-task.
	Parent string
	// Labels are the issue's labels as the payload has them.
	Labels []string
	// Changed are the ids of the fields the changelog lists (fieldId,
	// falling back to the lower-cased field name): "status", "summary",
	// "duedate", "assignee", "labels", "link", "customfield_10016", ...
	// Empty for comments and for events without a changelog.
	Changed []string
	// Item is the issue as the payload carries it (URL left empty: the
	// payload's links depend on the site's address as Jira sees it); nil
	// when the payload has no fields.
	Item *JiraItem
}

// HasChanged reports whether field is among the changed fields.
func (e JiraEvent) HasChanged(field string) bool {
	for _, f := range e.Changed {
		if f == field {
			return true
		}
	}
	return false
}
