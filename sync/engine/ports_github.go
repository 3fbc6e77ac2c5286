package engine

import (
	"context"
	"time"

	"github.com/coesync/coesync/sync/coe"
)

// IssueTracker mirrors action items as GitHub issues. repo is "owner/name".
type IssueTracker interface {
	// CreateIssue creates an issue. It is not idempotent: put a hidden
	// marker in spec.Body and look for it with FindIssueByMarker before
	// creating again after a crash.
	CreateIssue(ctx context.Context, repo string, spec coe.GitHubIssueSpec) (coe.GitHubIssue, error)
	// GetIssue fetches one issue. A deleted issue is a Permanent *Error with
	// Status 410 (404 when GitHub no longer knows it); a transferred issue
	// is returned from its new location, with Repo and Number updated.
	GetIssue(ctx context.Context, repo string, number int) (coe.GitHubIssue, error)
	// UpdateIssue applies p and returns the issue as it is afterwards
	// (from its new location when it was transferred).
	UpdateIssue(ctx context.Context, repo string, number int, p coe.GitHubIssuePatch) (coe.GitHubIssue, error)
	// ListIssues returns the issues of repo in every state carrying label
	// (every issue when label is empty) updated at or after since (all of
	// them when since is zero), across all pages, most recently updated
	// first. When etag is not empty the first page is asked for with
	// If-None-Match; a 304 answer (which costs no rate limit) returns
	// notModified true, no issues and newETag == etag. newETag is the ETag
	// of the first page, to pass next time.
	ListIssues(ctx context.Context, repo, label string, since time.Time, etag string) (issues []coe.GitHubIssue, newETag string, notModified bool, err error)
	// FindIssueByMarker returns the issue of repo carrying label whose body
	// contains marker (a hidden HTML comment put there at creation): the
	// witness of an issue created before a crash that lost its number.
	// When several match, the lowest number wins.
	FindIssueByMarker(ctx context.Context, repo, label, marker string) (coe.GitHubIssue, bool, error)
	// UpsertComment edits the comment of the issue whose body contains
	// marker, or creates it. body gets marker appended when it does not
	// contain it already, so that the next call finds it.
	UpsertComment(ctx context.Context, repo string, number int, marker, body string) error
}

// ChangeSource lists what changed in a GitHub repository ("owner/name")
// in a time window, for the "what changed" part of a COE. Each call costs
// a bounded number of requests (a few pages at most); truncated reports
// that the window held more than was read (the newest are returned).
type ChangeSource interface {
	// Deployments returns the deployments of repo created in
	// [since, until], newest first.
	Deployments(ctx context.Context, repo string, since, until time.Time) (changes []coe.Change, truncated bool, err error)
	// MergedPulls returns the pull requests of repo merged into base (the
	// repository's default branch when base is "") in [since, until],
	// newest first.
	MergedPulls(ctx context.Context, repo, base string, since, until time.Time) (changes []coe.Change, truncated bool, err error)
}
