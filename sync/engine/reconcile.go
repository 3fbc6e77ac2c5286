package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/coesync/coesync/sync/store"
)

// Reconciler repairs what lost webhooks left out of step. GitHub never
// redelivers a failed webhook and Jira's are best effort, so every
// interval it asks both systems what changed since the last pass, as
// cheaply as they allow: one search per Jira project with COEs, and one
// conditional list per GitHub repository (a 304 costs no rate limit).
// Each difference becomes a sync job; the sync counts what it repaired.
type Reconciler struct {
	Jira   ItemTracker
	GitHub IssueTracker
	Store  ItemSyncStore
	Now    func() time.Time
	Log    *slog.Logger
}

// State keys of the last successful pass per system, read by the report.
const (
	StateReconcileJira   = "reconcile:jira:last"
	StateReconcileGitHub = "reconcile:github:last"
)

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Reconcile runs one pass.
func (r *Reconciler) Reconcile(ctx context.Context) error {
	start := r.now()
	coes, err := r.Store.ListCOEs(ctx, time.Time{}, start.Add(time.Hour))
	if err != nil {
		return err
	}
	items, err := r.Store.ActionItems(ctx, "")
	if err != nil {
		return err
	}
	byKey := map[string]store.ActionItem{}
	for _, it := range items {
		byKey[it.JiraKey] = it
	}
	coeKeys := map[string]bool{}
	projects := map[string]bool{}
	for _, c := range coes {
		coeKeys[c.TicketKey] = true
		if c.Project != "" {
			projects[c.Project] = true
		}
	}
	var jobs []store.Job
	enqueued := map[string]bool{}
	add := func(key string) {
		if !enqueued[key] {
			enqueued[key] = true
			jobs = append(jobs, SyncItemJob(key, "reconcile"))
		}
	}
	// Items whose mirror was never finished (a crash, a failed create).
	for _, it := range items {
		if it.State == store.MirrorIntent {
			add(it.JiraKey)
		}
	}

	jiraErr := r.jira(ctx, start, sortedKeys(projects), coeKeys, byKey, add)
	ghErr := r.github(ctx, start, items, add)
	if len(jobs) > 0 {
		if err := r.Store.Enqueue(ctx, jobs...); err != nil {
			return err
		}
	}
	r.Log.Info("reconcile pass", "projects", len(projects), "items", len(items), "repairs_queued", len(jobs),
		"jira_ok", jiraErr == nil, "github_ok", ghErr == nil)
	return errors.Join(jiraErr, ghErr)
}

func (r *Reconciler) jira(ctx context.Context, start time.Time, projects []string, coeKeys map[string]bool,
	byKey map[string]store.ActionItem, add func(string)) error {
	last, err := r.lastPass(ctx, StateReconcileJira)
	if err != nil {
		return err
	}
	for _, p := range projects {
		changed, err := r.Jira.UpdatedSince(ctx, p, last)
		if err != nil {
			return fmt.Errorf("reconcile Jira project %s: %w", p, err)
		}
		for _, ji := range changed {
			if coeKeys[ji.Key] {
				// A COE ticket: remember whether it left its draft state.
				if err := r.Store.SetCOECategory(ctx, ji.Key, ji.Category); err != nil {
					return err
				}
				continue
			}
			_, known := byKey[ji.Key]
			isItem := known || coeKeys[ji.Parent] || ji.HasLabel(ActionItemLabel)
			if !isItem {
				continue
			}
			if it, ok := byKey[ji.Key]; !ok || ji.Updated.After(it.JiraUpdated) {
				add(ji.Key)
			}
		}
	}
	return r.Store.SetState(ctx, StateReconcileJira, start.Format(time.RFC3339Nano))
}

func (r *Reconciler) github(ctx context.Context, start time.Time, items []store.ActionItem, add func(string)) error {
	repos := map[string]bool{}
	for _, it := range items {
		if it.Repo != "" && it.Number != 0 {
			repos[it.Repo] = true
		}
	}
	for _, repo := range sortedKeys(repos) {
		etagKey := "etag:github:" + repo
		etag, err := r.Store.State(ctx, etagKey)
		if err != nil {
			return err
		}
		// The request is the same every pass (no moving "since"), so an
		// unchanged repository answers 304.
		issues, newETag, notModified, err := r.GitHub.ListIssues(ctx, repo, ActionItemLabel, time.Time{}, etag)
		if err != nil {
			return fmt.Errorf("reconcile GitHub %s: %w", repo, err)
		}
		if notModified {
			continue
		}
		for _, gi := range issues {
			key, ok := KeyFromBody(gi.Body)
			it, err := r.Store.ActionItemByIssue(ctx, gi.Repo, gi.Number)
			switch {
			case err == nil:
				key, ok = it.JiraKey, true
				// GitHub's times have whole seconds: a change in the
				// second of coesync's last look (a close right after the
				// mirror was made, its webhook lost) shows only in the
				// issue itself, which the list carries.
				if !gi.UpdatedAt.After(it.GitHubUpdated) && (it.State != store.MirrorLinked || githubInStep(it, gi)) {
					continue
				}
			case !errors.Is(err, store.ErrNotFound):
				return err
			}
			if ok {
				add(key)
			}
		}
		// A mirror missing from the list was deleted or moved: its sync
		// finds out which.
		listed := map[int]bool{}
		for _, gi := range issues {
			if gi.Repo == repo {
				listed[gi.Number] = true
			}
		}
		for _, it := range items {
			if it.Repo == repo && it.Number != 0 && it.State == store.MirrorLinked && !listed[it.Number] {
				add(it.JiraKey)
			}
		}
		if err := r.Store.SetState(ctx, etagKey, newETag); err != nil {
			return err
		}
	}
	return r.Store.SetState(ctx, StateReconcileGitHub, start.Format(time.RFC3339Nano))
}

// lastPass returns when the last successful pass started (zero: never),
// the lower bound of what to ask for.
func (r *Reconciler) lastPass(ctx context.Context, key string) (time.Time, error) {
	v, err := r.Store.State(ctx, key)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
