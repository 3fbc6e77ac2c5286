package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// echoStore holds the stored deliveries the echo checks read back; the
// rest of the store is not used by them.
type echoStore struct {
	ItemSyncStore
	ds  []store.Delivery
	err error
}

func (e *echoStore) RecentDeliveries(_ context.Context, source, resourceID string, since time.Time, limit int) ([]store.Delivery, error) {
	// The echo checks read the last 15 minutes' deliveries, at most 20.
	if want := echoT.Add(time.Minute - 15*time.Minute); !since.Equal(want) || limit != 20 {
		return nil, fmt.Errorf("read deliveries since %v, at most %d; want since %v, at most 20", since, limit, want)
	}
	if e.err != nil {
		return nil, e.err
	}
	var out []store.Delivery
	for _, d := range e.ds {
		if d.Source == source && d.ResourceID == resourceID {
			out = append(out, d)
		}
	}
	return out, nil
}

var echoT = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// echoItem is the store's record after coesync's last sync.
func echoItem() store.ActionItem {
	return store.ActionItem{JiraKey: "OPS-2", COEKey: "OPS-1", Repo: "acme/api", Number: 4, Title: "add alert",
		Owner: "Ann", Assignee: "ann-gh", Due: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), Priority: "High",
		JiraUpdated: echoT, GitHubUpdated: echoT}
}

// jiraSaw is the Jira issue as a webhook reports it, agreeing with echoItem.
func jiraSaw(at time.Time, edit func(*coe.JiraItem)) coe.JiraItem {
	ji := coe.JiraItem{Key: "OPS-2", Summary: "add alert", AssigneeName: "Ann", AssigneeID: "acc-ann",
		Due: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), Priority: "High", Updated: at}
	if edit != nil {
		edit(&ji)
	}
	return ji
}

func jiraDelivery(t *testing.T, ev coe.JiraEvent) store.Delivery {
	t.Helper()
	if ev.Key == "" && ev.Item != nil {
		ev.Key = ev.Item.Key
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return store.Delivery{Source: "jira", ResourceID: "OPS-2", Body: b}
}

func updated(ji coe.JiraItem) coe.JiraEvent {
	return coe.JiraEvent{Kind: coe.JiraEventUpdated, Key: ji.Key, Item: &ji}
}

func echoSyncer(ds []store.Delivery) *ItemSyncer {
	return &ItemSyncer{Store: &echoStore{ds: ds}, Now: func() time.Time { return echoT.Add(time.Minute) },
		Users: func(id, _ string) string {
			return map[string]string{"acc-ann": "ann-gh", "acc-bob": "bob-gh"}[id]
		},
		JiraURL: func(key string) string { return "https://jira.example/browse/" + key },
		DecodeJira: func(b []byte) (ev coe.JiraEvent, err error) {
			if string(b) == "garbage" {
				return ev, errors.New("undecodable")
			}
			err = json.Unmarshal(b, &ev)
			return ev, err
		},
		DecodeGitHub: func(_ string, b []byte) (ev coe.GitHubIssueEvent, err error) {
			if string(b) == "garbage" {
				return ev, errors.New("undecodable")
			}
			err = json.Unmarshal(b, &ev)
			return ev, err
		},
	}
}

// Only webhooks whose newest state agrees with the store in every field
// the sync acts on are echoes; anything else is a change to sync.
func TestJiraEcho(t *testing.T) {
	ctx := context.Background()
	t1, t2 := echoT.Add(10*time.Second), echoT.Add(20*time.Second)
	for _, tc := range []struct {
		name string
		evs  []coe.JiraEvent
		raw  []string // undecodable or foreign bodies, delivered first
		edit func(*store.ActionItem)
		echo bool
		at   time.Time
	}{
		{name: "agrees", evs: []coe.JiraEvent{updated(jiraSaw(t1, nil))}, echo: true, at: t1},
		{name: "none", echo: false},
		{name: "summary", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Summary = "x" }))}},
		{name: "done", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Done = true }))}},
		{name: "owner", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.AssigneeName = "Bob" }))}},
		{name: "assignee", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.AssigneeID = "acc-bob" }))}},
		{name: "due", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Due = j.Due.AddDate(0, 0, 1) }))}},
		{name: "priority", evs: []coe.JiraEvent{updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Priority = "Low" }))}},
		{name: "newest agrees, delivered first", echo: true, at: t2, evs: []coe.JiraEvent{
			updated(jiraSaw(t2, nil)), updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Summary = "old" }))}},
		{name: "newest differs, delivered first", evs: []coe.JiraEvent{
			updated(jiraSaw(t2, func(j *coe.JiraItem) { j.Summary = "new" })), updated(jiraSaw(t1, nil))}},
		{name: "newest differs, delivered last", evs: []coe.JiraEvent{
			updated(jiraSaw(t1, nil)), updated(jiraSaw(t2, func(j *coe.JiraItem) { j.Summary = "new" }))}},
		{name: "tie, one differs", evs: []coe.JiraEvent{
			updated(jiraSaw(t1, nil)), updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Priority = "Low" }))}},
		{name: "tie, first differs", evs: []coe.JiraEvent{
			updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Priority = "Low" })), updated(jiraSaw(t1, nil))}},
		{name: "tie, both agree", echo: true, at: t1, evs: []coe.JiraEvent{updated(jiraSaw(t1, nil)), updated(jiraSaw(t1, nil))}},
		{name: "deleted", evs: []coe.JiraEvent{updated(jiraSaw(t1, nil)), {Kind: coe.JiraEventDeleted, Key: "OPS-2"}}},
		{name: "deleted, then an update", evs: []coe.JiraEvent{{Kind: coe.JiraEventDeleted, Key: "OPS-2"}, updated(jiraSaw(t1, nil))}},
		{name: "no item (a comment)", evs: []coe.JiraEvent{updated(jiraSaw(t1, nil)), {Kind: coe.JiraEventUpdated, Key: "OPS-2"}}, echo: true, at: t1},
		{name: "older than a read", evs: []coe.JiraEvent{updated(jiraSaw(echoT.Add(-time.Second), func(j *coe.JiraItem) { j.Summary = "old" }))},
			echo: true, at: echoT.Add(-time.Second)},
		{name: "as old as a read", evs: []coe.JiraEvent{updated(jiraSaw(echoT, func(j *coe.JiraItem) { j.Summary = "old" }))}},
		{name: "problem", evs: []coe.JiraEvent{updated(jiraSaw(t1, nil))}, edit: func(it *store.ActionItem) { it.Problem = "no transition" }},
		{name: "other issues and garbage ignored", raw: []string{"garbage"}, echo: true, at: t1, evs: []coe.JiraEvent{
			updated(jiraSaw(t1, nil)), updated(jiraSaw(t2, func(j *coe.JiraItem) { j.Key = "OPS-3"; j.Summary = "x" }))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ds []store.Delivery
			for _, r := range tc.raw {
				ds = append(ds, store.Delivery{Source: "jira", ResourceID: "OPS-2", Body: []byte(r)})
			}
			for _, ev := range tc.evs {
				ds = append(ds, jiraDelivery(t, ev))
			}
			it := echoItem()
			if tc.edit != nil {
				tc.edit(&it)
			}
			echo, at, err := echoSyncer(ds).jiraEcho(ctx, it)
			if err != nil || echo != tc.echo || !at.Equal(tc.at) {
				t.Fatalf("jiraEcho = %v, %v, %v; want %v, %v", echo, at, err, tc.echo, tc.at)
			}
		})
	}
	s := echoSyncer(nil)
	s.Store.(*echoStore).err = errStore
	if _, _, err := s.jiraEcho(ctx, echoItem()); !errors.Is(err, errStore) {
		t.Fatalf("store error: %v", err)
	}
	if _, _, err := s.githubEcho(ctx, echoItem()); !errors.Is(err, errStore) {
		t.Fatalf("store error: %v", err)
	}
	if _, _, err := s.deliveredItem(ctx, "OPS-2"); !errors.Is(err, errStore) {
		t.Fatalf("store error: %v", err)
	}
	s = echoSyncer([]store.Delivery{jiraDelivery(t, updated(jiraSaw(t1, nil)))})
	s.DecodeJira = nil
	if echo, _, err := s.jiraEcho(ctx, echoItem()); echo || err != nil {
		t.Fatalf("without a decoder: %v, %v", echo, err)
	}
}

// The first mirror of a new item is made from the one newest delivered
// state; a tie or a delete means a read.
func TestDeliveredItem(t *testing.T) {
	ctx := context.Background()
	t1, t2 := echoT.Add(10*time.Second), echoT.Add(20*time.Second)
	for _, tc := range []struct {
		name    string
		evs     []coe.JiraEvent
		summary string // "" for none
	}{
		{"one", []coe.JiraEvent{updated(jiraSaw(t1, nil))}, "add alert"},
		{"newest first", []coe.JiraEvent{updated(jiraSaw(t2, func(j *coe.JiraItem) { j.Summary = "new" })), updated(jiraSaw(t1, nil))}, "new"},
		{"newest last", []coe.JiraEvent{updated(jiraSaw(t1, nil)), updated(jiraSaw(t2, func(j *coe.JiraItem) { j.Summary = "new" }))}, "new"},
		{"tie", []coe.JiraEvent{updated(jiraSaw(t1, nil)), updated(jiraSaw(t1, func(j *coe.JiraItem) { j.Summary = "new" }))}, ""},
		{"deleted", []coe.JiraEvent{updated(jiraSaw(t1, nil)), {Kind: coe.JiraEventDeleted, Key: "OPS-2"}}, ""},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ds []store.Delivery
			for _, ev := range tc.evs {
				ds = append(ds, jiraDelivery(t, ev))
			}
			ji, ok, err := echoSyncer(ds).deliveredItem(ctx, "OPS-2")
			if err != nil || ok != (tc.summary != "") || ji.Summary != tc.summary {
				t.Fatalf("deliveredItem = %+v, %v, %v; want %q", ji, ok, err, tc.summary)
			}
			if ok && ji.URL != "https://jira.example/browse/OPS-2" {
				t.Errorf("URL %q", ji.URL)
			}
		})
	}
}

func githubSaw(at time.Time, edit func(*coe.GitHubIssueEvent)) coe.GitHubIssueEvent {
	ev := coe.GitHubIssueEvent{Action: "edited", Repo: "acme/api", Issue: coe.GitHubIssue{Repo: "acme/api", Number: 4,
		Title: issueTitle("OPS-1", "add alert"), State: coe.GitHubStateOpen, Assignees: []string{"Ann-GH"}, UpdatedAt: at}}
	if edit != nil {
		edit(&ev)
	}
	return ev
}

func TestGitHubEcho(t *testing.T) {
	ctx := context.Background()
	t1, t2 := echoT.Add(10*time.Second), echoT.Add(20*time.Second)
	for _, tc := range []struct {
		name string
		evs  []coe.GitHubIssueEvent
		raw  bool // an undecodable body first
		edit func(*store.ActionItem)
		echo bool
		at   time.Time
	}{
		{name: "agrees", evs: []coe.GitHubIssueEvent{githubSaw(t1, nil)}, echo: true, at: t1},
		{name: "none"},
		{name: "title", evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "x" })}},
		{name: "closed", evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.State = coe.GitHubStateClosed })}},
		{name: "closed in both", echo: true, at: t1, edit: func(it *store.ActionItem) { it.Closed = true },
			evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.State = coe.GitHubStateClosed })}},
		{name: "assignee removed", evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Assignees = nil })}},
		{name: "unassigned item", echo: true, at: t1, edit: func(it *store.ActionItem) { it.Assignee = "" },
			evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Assignees = []string{"bob"} })}},
		{name: "deleted", evs: []coe.GitHubIssueEvent{githubSaw(t1, nil), githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Action = "deleted" })}},
		{name: "transferred", evs: []coe.GitHubIssueEvent{githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Action = "transferred" }), githubSaw(t2, nil)}},
		{name: "newest differs, delivered first", evs: []coe.GitHubIssueEvent{
			githubSaw(t2, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "new" }), githubSaw(t1, nil)}},
		{name: "newest agrees, delivered first", echo: true, at: t2, evs: []coe.GitHubIssueEvent{
			githubSaw(t2, nil), githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "old" })}},
		{name: "tie, second differs", evs: []coe.GitHubIssueEvent{
			githubSaw(t1, nil), githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "new" })}},
		{name: "tie, first differs", evs: []coe.GitHubIssueEvent{
			githubSaw(t1, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "new" }), githubSaw(t1, nil)}},
		{name: "older than a read", echo: true, at: echoT.Add(-time.Second), evs: []coe.GitHubIssueEvent{
			githubSaw(echoT.Add(-time.Second), func(e *coe.GitHubIssueEvent) { e.Issue.Title = "old" })}},
		{name: "as old as a read", evs: []coe.GitHubIssueEvent{githubSaw(echoT, func(e *coe.GitHubIssueEvent) { e.Issue.Title = "old" })}},
		{name: "problem", evs: []coe.GitHubIssueEvent{githubSaw(t1, nil)}, edit: func(it *store.ActionItem) { it.Problem = "x" }},
		{name: "other issues and garbage ignored", raw: true, echo: true, at: t1, evs: []coe.GitHubIssueEvent{githubSaw(t1, nil),
			githubSaw(t2, func(e *coe.GitHubIssueEvent) { e.Issue.Number = 5; e.Issue.Title = "x" }),
			githubSaw(t2, func(e *coe.GitHubIssueEvent) { e.Issue.Repo = "acme/web"; e.Issue.Title = "x" })}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ds []store.Delivery
			if tc.raw {
				ds = append(ds, store.Delivery{Source: "github", ResourceID: "acme/api#4", EventType: "issues.edited", Body: []byte("garbage")})
			}
			for _, ev := range tc.evs {
				b, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				ds = append(ds, store.Delivery{Source: "github", ResourceID: coe.GitHubRef("acme/api", 4), EventType: "issues." + ev.Action, Body: b})
			}
			it := echoItem()
			if tc.edit != nil {
				tc.edit(&it)
			}
			echo, at, err := echoSyncer(ds).githubEcho(ctx, it)
			if err != nil || echo != tc.echo || !at.Equal(tc.at) {
				t.Fatalf("githubEcho = %v, %v, %v; want %v, %v", echo, at, err, tc.echo, tc.at)
			}
		})
	}
}
