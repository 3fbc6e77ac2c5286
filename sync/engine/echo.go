package engine

import (
	"context"
	"strings"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// Webhooks carry the issue as it is after the change they report. Most of
// them, right after coesync mirrors or syncs an item, report coesync's own
// writes: the issue then agrees with what the store recorded after the
// write, and the sync they set off has nothing to do. The job cannot be
// told which delivery set it off (its arguments are the item's key, so
// that it stays unique), so it reads back the deliveries about the item
// received lately and looks at the newest state they report: when that
// agrees with the store, or is older than what the store has from a read,
// any change an earlier delivery reported is already synced or undone.
// When nothing is found (the webhook is older than the window, or came
// in a form that cannot be decoded), the item is read as before.

// echoWindow is how far back the deliveries about an item are read: a job
// normally runs within seconds of its webhook; one queued longer reads
// both sides, as it did before.
const echoWindow = 15 * time.Minute

// echoDeliveries caps the deliveries read per check.
const echoDeliveries = 20

// jiraEvents decodes the Jira deliveries about key of the window, oldest
// first; undecodable ones are left out.
func (s *ItemSyncer) jiraEvents(ctx context.Context, key string) ([]coe.JiraEvent, error) {
	if s.DecodeJira == nil {
		return nil, nil
	}
	ds, err := s.Store.RecentDeliveries(ctx, "jira", key, s.now().Add(-echoWindow), echoDeliveries)
	if err != nil {
		return nil, err
	}
	var evs []coe.JiraEvent
	for _, d := range ds {
		ev, err := s.DecodeJira(d.Body)
		if err != nil || ev.Key != key {
			continue
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// newestJira returns the newest issue states the events report (by the
// issue's updated time; several when they tie, as two changes within one
// timestamp tick do, in delivery order), none when there is none or the
// issue was deleted.
func newestJira(evs []coe.JiraEvent) []coe.JiraItem {
	var newest []coe.JiraItem
	for _, ev := range evs {
		if ev.Kind == coe.JiraEventDeleted {
			return nil
		}
		switch {
		case ev.Item == nil:
		case len(newest) == 0 || ev.Item.Updated.After(newest[0].Updated):
			newest = []coe.JiraItem{*ev.Item}
		case ev.Item.Updated.Equal(newest[0].Updated):
			newest = append(newest, *ev.Item)
		}
	}
	return newest
}

// deliveredItem is the newest state of key that Jira's webhooks reported
// within the window, with the browse URL a read would give: what the
// first mirror of a new item is made from instead of reading it. Its later
// changes come as later events (or the reconcile pass finds them).
func (s *ItemSyncer) deliveredItem(ctx context.Context, key string) (coe.JiraItem, bool, error) {
	evs, err := s.jiraEvents(ctx, key)
	if err != nil {
		return coe.JiraItem{}, false, err
	}
	newest := newestJira(evs)
	if len(newest) == 0 {
		return coe.JiraItem{}, false, nil
	}
	ji := newest[len(newest)-1]
	if len(newest) > 1 {
		// Which of the tied states came last is not known: read.
		return coe.JiraItem{}, false, nil
	}
	if s.JiraURL != nil {
		ji.URL = s.JiraURL(ji.Key)
	}
	return ji, true, nil
}

// jiraEcho reports whether the Jira webhooks about it report nothing the
// sync would act on, and the issue's updated time they report.
func (s *ItemSyncer) jiraEcho(ctx context.Context, it store.ActionItem) (bool, time.Time, error) {
	if it.Problem != "" {
		return false, time.Time{}, nil // a sync retries what failed (a workflow fixed since)
	}
	evs, err := s.jiraEvents(ctx, it.JiraKey)
	if err != nil {
		return false, time.Time{}, err
	}
	newest := newestJira(evs)
	if len(newest) == 0 {
		return false, time.Time{}, nil
	}
	at := newest[0].Updated
	if at.Before(it.JiraUpdated) {
		return true, at, nil // a read since saw (and synced) a later state
	}
	for _, ji := range newest {
		// The fields the sync writes to GitHub or compares with it.
		if ji.Summary != it.Title || ji.Done != it.Closed || ji.AssigneeName != it.Owner ||
			s.users(ji) != it.Assignee || !ji.Due.Equal(it.Due) || ji.Priority != it.Priority {
			return false, time.Time{}, nil
		}
	}
	return true, at, nil
}

// githubEcho reports whether the GitHub webhooks about it's mirror report
// nothing the sync would act on, and the issue's updated time they report.
func (s *ItemSyncer) githubEcho(ctx context.Context, it store.ActionItem) (bool, time.Time, error) {
	if s.DecodeGitHub == nil || it.Problem != "" {
		return false, time.Time{}, nil
	}
	ds, err := s.Store.RecentDeliveries(ctx, "github", coe.GitHubRef(it.Repo, it.Number), s.now().Add(-echoWindow), echoDeliveries)
	if err != nil {
		return false, time.Time{}, err
	}
	// The newest states reported: several when they tie (GitHub's times
	// have whole seconds), and then all must agree with the store.
	var newest []coe.GitHubIssue
	for _, d := range ds {
		event, _, _ := strings.Cut(d.EventType, ".")
		ev, err := s.DecodeGitHub(event, d.Body)
		if err != nil || ev.Issue.Repo != it.Repo || ev.Issue.Number != it.Number {
			continue
		}
		if ev.Action == "deleted" || ev.Action == "transferred" {
			return false, time.Time{}, nil
		}
		switch {
		case len(newest) == 0 || ev.Issue.UpdatedAt.After(newest[0].UpdatedAt):
			newest = []coe.GitHubIssue{ev.Issue}
		case ev.Issue.UpdatedAt.Equal(newest[0].UpdatedAt):
			newest = append(newest, ev.Issue)
		}
	}
	if len(newest) == 0 {
		return false, time.Time{}, nil
	}
	at := newest[0].UpdatedAt
	if at.Before(it.GitHubUpdated) {
		return true, at, nil
	}
	for _, gi := range newest {
		if !githubInStep(it, gi) {
			return false, time.Time{}, nil
		}
	}
	return true, at, nil
}

// githubInStep reports whether the mirror gi agrees with what the store
// recorded of it: what the sync takes from GitHub (title, state) and the
// assignee it keeps there.
func githubInStep(it store.ActionItem, gi coe.GitHubIssue) bool {
	return gi.Title == issueTitle(it.COEKey, it.Title) && (gi.State == coe.GitHubStateClosed) == it.Closed &&
		(it.Assignee == "" || contains(gi.Assignees, it.Assignee))
}
