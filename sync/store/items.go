package store

import (
	"context"
	"time"
)

// MirrorState is where an action item's GitHub mirror stands.
type MirrorState string

const (
	// MirrorIntent: a GitHub issue is about to be (or may have been)
	// created; a retry looks for it by its hidden marker first.
	MirrorIntent MirrorState = "intent"
	// MirrorLinked: the GitHub issue exists and is in step.
	MirrorLinked MirrorState = "linked"
	// MirrorDeleted: the GitHub issue was deleted; coesync reports it and
	// never recreates it.
	MirrorDeleted MirrorState = "deleted"
	// MirrorGone: the Jira item was deleted.
	MirrorGone MirrorState = "gone"
)

// ActionItem maps a Jira action item to its GitHub issue and keeps the last
// value synced of every field: a change is one that differs from it, so
// coesync's own writes coming back as events change nothing (no echo).
type ActionItem struct {
	JiraKey    string
	JiraID     string
	COEKey     string
	IncidentID string
	Repo       string // owner/name
	Number     int    // 0 until the issue exists
	IssueURL   string
	State      MirrorState
	IntentAt   time.Time

	// Last synced values.
	Title    string // Jira summary (GitHub title without the "[KEY] " prefix)
	Closed   bool
	Assignee string // GitHub login, "" when unassigned or unmapped
	Owner    string // Jira assignee's display name
	Due      time.Time
	Priority string
	BodyHash string
	// Event times of the last synced state of each side.
	JiraUpdated   time.Time
	GitHubUpdated time.Time

	// Problem is an error an operator must see (missing transition,
	// deleted GitHub issue); empty when in step.
	Problem  string
	OpenedAt time.Time
	ClosedAt time.Time
}

// Counter names persisted for the weekly report.
const (
	CounterDriftRepaired     = "drift_repaired"
	CounterMissingTransition = "missing_transition"
	CounterRateLimitWaits    = "rate_limit_waits"
	CounterJobsFailed        = "jobs_failed"
)

// ItemStore is the action-item part of the store.
type ItemStore interface {
	// ActionItem returns the mapping of a Jira item, or ErrNotFound.
	ActionItem(ctx context.Context, jiraKey string) (ActionItem, error)
	// ActionItemByIssue finds the item mirrored by a GitHub issue.
	ActionItemByIssue(ctx context.Context, repo string, number int) (ActionItem, error)
	// PutActionItem inserts or replaces the mapping of it.JiraKey.
	PutActionItem(ctx context.Context, it ActionItem) error
	// ActionItems lists the items of a COE (all COEs when coeKey is "").
	ActionItems(ctx context.Context, coeKey string) ([]ActionItem, error)
	// COEByKey returns the COE whose ticket is key, or ErrNotFound.
	COEByKey(ctx context.Context, key string) (COE, error)
	// SetCOERollup records the roll-up comment and when the COE's last
	// action item closed (zero: not complete).
	SetCOERollup(ctx context.Context, incidentID, commentID string, completedAt time.Time) error
	// State and SetState keep small sync state (ETags, reconcile times).
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
	// TryLock takes the lease name for owner until the given time, if it
	// is free, expired or already owner's; Unlock releases it. Jobs on the
	// same action item or COE use it to run one at a time.
	TryLock(ctx context.Context, name, owner string, until time.Time) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
	// Count adds n to a daily counter; Counts sums counters over [since, until).
	Count(ctx context.Context, name string, at time.Time, n int) error
	Counts(ctx context.Context, since, until time.Time) (map[string]int, error)
	// RecentDeliveries returns the newest limit deliveries from source
	// about resourceID received at or after since, oldest first (by
	// ReceivedAt, then id), without their Jobs. The sync reads back the
	// webhook that set it off: an event of coesync's own write needs no
	// read of Jira or GitHub. since bounds the scan to the received_at
	// index: deliveries have no index by resource.
	RecentDeliveries(ctx context.Context, source, resourceID string, since time.Time, limit int) ([]Delivery, error)
}
