package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/coesync/coesync/sync/coe"
)

// Defaults of ChangeFinder.
const (
	DefaultChangeWindow   = 24 * time.Hour
	DefaultChangeRetryFor = 10 * time.Minute
	// MaxListedChanges bounds the changes a COE lists (the newest); the
	// rest are counted as omitted per repository.
	MaxListedChanges = 30
	// changeParallel bounds the repositories listed at once.
	changeParallel = 4
)

// ChangeFinder lists the deployments and merged pull requests of an
// incident's repositories (coe.Route.ChangeRepos) in the window before the
// incident was triggered.
//
// Failures never stop a COE for long. A permanent failure (no access,
// unknown repository: retrying cannot help) is logged and the COE says the
// repository's changes could not be listed. A transient one (5xx, network,
// rate limit) follows the engine's rules, so the job retries or waits,
// but only while the COE does not exist yet and for RetryFor after the
// incident was resolved (and never for a rate limit that lasts longer):
// after that the COE is created without the list. A change list is worth a
// few minutes' delay, not an hour of GitHub's primary rate limit.
type ChangeFinder struct {
	Source ChangeSource
	// Window is COESYNC_CHANGE_WINDOW; zero means DefaultChangeWindow.
	Window time.Duration
	// RetryFor is how long after the resolution a transient failure makes
	// the job retry; zero means DefaultChangeRetryFor, negative never.
	RetryFor time.Duration
	Log      *slog.Logger
}

func (f *ChangeFinder) window() time.Duration {
	if f.Window > 0 {
		return f.Window
	}
	return DefaultChangeWindow
}

func (f *ChangeFinder) retryFor() time.Duration {
	switch {
	case f.RetryFor < 0:
		return 0
	case f.RetryFor == 0:
		return DefaultChangeRetryFor
	}
	return f.RetryFor
}

// retryUntil is the end of the time in which a transient failure is
// retried for inc (zero: not at all).
func (f *ChangeFinder) retryUntil(inc coe.Incident) time.Time {
	if f.retryFor() == 0 {
		return time.Time{}
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = inc.CreatedAt
	}
	if end.IsZero() {
		return time.Time{}
	}
	return end.Add(f.retryFor())
}

// List returns what changed in repos before inc was triggered. strict
// allows returning a transient error for the engine to retry (see
// ChangeFinder); now is the engine's clock. Without repos it returns an
// empty list and makes no call.
func (f *ChangeFinder) List(ctx context.Context, inc coe.Incident, repos []string, strict bool, now time.Time) (coe.ChangeList, error) {
	if f == nil || f.Source == nil || len(repos) == 0 {
		return coe.ChangeList{}, nil
	}
	until := inc.CreatedAt.UTC()
	if until.IsZero() {
		until = now
	}
	l := coe.ChangeList{Repos: append([]string(nil), repos...), Since: until.Add(-f.window()), Until: until}

	type result struct {
		changes   []coe.Change
		truncated bool
		err       error
	}
	results := make([]result, len(repos))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(changeParallel)
	for i, repo := range repos {
		g.Go(func() error {
			var wg sync.WaitGroup
			var dep, prs result
			wg.Add(2)
			go func() {
				defer wg.Done()
				dep.changes, dep.truncated, dep.err = f.Source.Deployments(gctx, repo, l.Since, l.Until)
				if dep.err != nil {
					dep.err = fmt.Errorf("list deployments of %s: %w", repo, dep.err)
				}
			}()
			go func() {
				defer wg.Done()
				prs.changes, prs.truncated, prs.err = f.Source.MergedPulls(gctx, repo, "", l.Since, l.Until)
				if prs.err != nil {
					prs.err = fmt.Errorf("list merged pull requests of %s: %w", repo, prs.err)
				}
			}()
			wg.Wait()
			mu.Lock()
			results[i] = result{
				changes:   append(dep.changes, prs.changes...),
				truncated: dep.truncated || prs.truncated,
				err:       errors.Join(dep.err, prs.err),
			}
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return coe.ChangeList{}, err
	}

	retryUntil := f.retryUntil(inc)
	for i, r := range results {
		repo := repos[i]
		if r.err != nil {
			kind, after := Classify(r.err)
			retry := strict && kind != Permanent && now.Before(retryUntil) &&
				(kind != RateLimited || !now.Add(after).After(retryUntil))
			if retry {
				return coe.ChangeList{}, fmt.Errorf("list changes of %s for incident %s: %w", repo, inc.ID, r.err)
			}
			f.log().Warn("changes of a repository could not be listed; the COE says so",
				"incident", inc.ID, "repo", repo, "kind", kind.String(), "err", r.err)
			l.Failed = append(l.Failed, coe.RepoFailure{Repo: repo, Reason: failureReason(r.err)})
		}
		if r.truncated {
			l.Truncated = append(l.Truncated, repo)
		}
		for _, c := range r.changes {
			// The connector filters by time already; the window is the
			// engine's promise, so hold it here too.
			if c.At.Before(l.Since) || c.At.After(l.Until) {
				continue
			}
			l.Changes = append(l.Changes, c)
		}
	}
	coe.SortChanges(l.Changes)
	if len(l.Changes) > MaxListedChanges {
		seen := map[string]bool{}
		for _, r := range l.Truncated {
			seen[r] = true
		}
		for _, c := range l.Changes[MaxListedChanges:] {
			if !seen[c.Repo] {
				seen[c.Repo] = true
				l.Truncated = append(l.Truncated, c.Repo)
			}
		}
		l.Changes = l.Changes[:MaxListedChanges]
	}
	return l, nil
}

func (f *ChangeFinder) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.New(slog.DiscardHandler)
}

// failureReason is a short, secret-free reason for a COE reader: the HTTP
// status and the remote's message when known.
func failureReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		s := e.Service
		if e.Status != 0 {
			s += fmt.Sprintf(" HTTP %d", e.Status)
		}
		if e.Msg != "" {
			s += ": " + e.Msg
		}
		return coe.Truncate(s, 200)
	}
	return coe.Truncate(err.Error(), 200)
}
