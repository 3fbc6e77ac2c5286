package github_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// trigger is when the incident of these tests was triggered; the window is
// the 24 hours before.
var (
	trigger = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	since   = trigger.Add(-24 * time.Hour)
)

func seedChanges(t *testing.T, srv *ghtest.Server, repo string) {
	t.Helper()
	deps := []ghtest.Deployment{
		{Ref: "v1.4.1", SHA: "aaaaaaa1111111111111111111111111111111aa", Environment: "production", Description: "old release", CreatedAt: since.Add(-time.Hour)},
		{Ref: "v1.4.2", SHA: "bbbbbbb2222222222222222222222222222222bb", Environment: "production", Description: "release 1.4.2", Creator: "deploy-bot", CreatedAt: trigger.Add(-2 * time.Hour)},
		{Ref: "v1.4.3", SHA: "ccccccc3333333333333333333333333333333cc", Environment: "staging", CreatedAt: trigger.Add(30 * time.Minute)}, // after the trigger
	}
	for _, d := range deps {
		if _, err := srv.AddDeployment(repo, d); err != nil {
			t.Fatal(err)
		}
	}
	prs := []ghtest.PullRequest{
		{Title: "Raise pool size", Author: "alice", MergedAt: trigger.Add(-3 * time.Hour)},
		{Title: "Old change", Author: "bob", MergedAt: since.Add(-2 * time.Hour)},
		{Title: "Closed, never merged", Author: "carol", ClosedAt: trigger.Add(-time.Hour)},
		{Title: "Into a release branch", Author: "dave", Base: "release-1.4", MergedAt: trigger.Add(-time.Hour)},
		{Title: "Still open", Author: "erin"},
		{Title: "Merged after the trigger", Author: "frank", MergedAt: trigger.Add(time.Hour)},
		// Merged long ago, commented on today: updated inside the window.
		{Title: "Old but discussed", Author: "grace", MergedAt: since.Add(-48 * time.Hour), UpdatedAt: trigger.Add(-time.Minute)},
		{Title: "Fix [~accountid:123] {color:red}x{color} @here", Author: "mallory", MergedAt: trigger.Add(-10 * time.Minute)},
	}
	for _, p := range prs {
		if _, err := srv.AddPullRequest(repo, p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChangesInWindow(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{Repos: []string{"acme/payments"}})
	seedChanges(t, srv, "acme/payments")
	ch := github.NewChanges(c)
	ctx := context.Background()

	deps, truncated, err := ch.Deployments(ctx, "acme/payments", since, trigger)
	if err != nil || truncated {
		t.Fatalf("Deployments: truncated=%v err=%v", truncated, err)
	}
	if len(deps) != 1 {
		t.Fatalf("deployments = %+v, want the one of v1.4.2", deps)
	}
	want := coe.Change{Kind: coe.ChangeDeploy, Repo: "acme/payments", Title: "release 1.4.2", Author: "deploy-bot",
		Ref: "v1.4.2", SHA: "bbbbbbb2222222222222222222222222222222bb", Environment: "production", At: trigger.Add(-2 * time.Hour),
		URL: "https://github.com/acme/payments/commit/bbbbbbb2222222222222222222222222222222bb"}
	if deps[0] != want {
		t.Errorf("deployment =\n%+v\nwant\n%+v", deps[0], want)
	}

	prs, truncated, err := ch.MergedPulls(ctx, "acme/payments", "", since, trigger)
	if err != nil || truncated {
		t.Fatalf("MergedPulls: truncated=%v err=%v", truncated, err)
	}
	var titles []string
	for _, p := range prs {
		titles = append(titles, p.Title)
		if p.Kind != coe.ChangePR || p.Ref != "main" || !strings.HasPrefix(p.URL, "https://github.com/acme/payments/pull/") || p.SHA == "" {
			t.Errorf("pull request %+v: want kind pr, base main, a pull URL and a merge SHA", p)
		}
	}
	if got, want := strings.Join(titles, " | "), "Fix [~accountid:123] {color:red}x{color} @here | Raise pool size"; got != want {
		t.Errorf("merged pull requests = %s\nwant %s (newest first, merged to main inside the window)", got, want)
	}
	if prs[1].Author != "alice" || !prs[1].At.Equal(trigger.Add(-3*time.Hour)) {
		t.Errorf("Raise pool size: author %q at %s", prs[1].Author, prs[1].At)
	}

	// What was asked: the repository (default branch), one page of each list.
	var paths []string
	for _, r := range srv.Requests() {
		p := r.Method + " " + r.Path
		if r.Path == "/repos/acme/payments/pulls" {
			p += fmt.Sprintf(" state=%s base=%s sort=%s direction=%s", r.Query.Get("state"), r.Query.Get("base"), r.Query.Get("sort"), r.Query.Get("direction"))
		}
		paths = append(paths, p)
	}
	wantPaths := "GET /repos/acme/payments, GET /repos/acme/payments/deployments, GET /repos/acme/payments, " +
		"GET /repos/acme/payments/pulls state=closed base=main sort=updated direction=desc"
	if got := strings.Join(paths, ", "); got != wantPaths {
		t.Errorf("requests:\n%s\nwant\n%s", got, wantPaths)
	}
}

func TestChangesConditionalSecondTime(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{Repos: []string{"acme/payments"}})
	seedChanges(t, srv, "acme/payments")
	ch := github.NewChanges(c)
	ctx := context.Background()
	first, _, err := ch.MergedPulls(ctx, "acme/payments", "", since, trigger)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	before := srv.RateRemaining()
	second, _, err := ch.MergedPulls(ctx, "acme/payments", "", since, trigger)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(first) != fmt.Sprint(second) {
		t.Errorf("second listing differs:\n%v\n%v", first, second)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("second listing made %d requests, want 2 (repository and pulls)", len(reqs))
	}
	for _, r := range reqs {
		if !r.Conditional || r.Status != http.StatusNotModified {
			t.Errorf("%s %s: conditional=%v status=%d, want If-None-Match answered 304", r.Method, r.Path, r.Conditional, r.Status)
		}
	}
	if srv.RateRemaining() != before {
		t.Errorf("rate limit spent: %d -> %d", before, srv.RateRemaining())
	}

	// A new merge changes the page: it is read again and shows.
	if _, err := srv.AddPullRequest("acme/payments", ghtest.PullRequest{Title: "Hotfix", MergedAt: trigger.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	third, _, err := ch.MergedPulls(ctx, "acme/payments", "", since, trigger)
	if err != nil || len(third) != len(first)+1 || third[0].Title != "Hotfix" {
		t.Fatalf("after a new merge: %v, %v", third, err)
	}
}

func TestChangesPagingStopsAtWindow(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{Repos: []string{"acme/busy"}, MaxPerPage: 2})
	// Ten merges an hour apart ending at the trigger, and five older ones.
	for i := range 15 {
		if _, err := srv.AddPullRequest("acme/busy", ghtest.PullRequest{Title: fmt.Sprintf("pr %d", i),
			MergedAt: trigger.Add(-time.Duration(i*3) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	ch := github.NewChanges(c)
	prs, truncated, err := ch.MergedPulls(context.Background(), "acme/busy", "main", since, trigger)
	if err != nil {
		t.Fatal(err)
	}
	// Pages of 2: three pages (6 pull requests) are read, the window holds 9.
	if !truncated || len(prs) != 6 {
		t.Fatalf("got %d, truncated=%v; want the 6 newest and truncated", len(prs), truncated)
	}
	if n := srv.Count(http.MethodGet, "/repos/acme/busy/pulls"); n != github.MaxChangePages {
		t.Errorf("%d pages read, want %d", n, github.MaxChangePages)
	}

	// A window that ends on the first page stops there.
	srv.ResetRequests()
	prs, truncated, err = ch.MergedPulls(context.Background(), "acme/busy", "main", trigger.Add(-4*time.Hour), trigger)
	if err != nil || truncated || len(prs) != 2 {
		t.Fatalf("short window: %d, truncated=%v, %v", len(prs), truncated, err)
	}
	if n := srv.Count(http.MethodGet, "/repos/acme/busy/pulls"); n != 2 {
		t.Errorf("short window read %d pages, want 2 (the second shows one older than the window)", n)
	}
}

func TestChangesErrorsClassified(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{Repos: []string{"acme/payments"}})
	ch := github.NewChanges(c)
	ctx := context.Background()
	_, _, err := ch.Deployments(ctx, "acme/unknown", since, trigger)
	if e := engineError(t, err); e.Kind != engine.Permanent || e.Status != http.StatusNotFound {
		t.Errorf("unknown repository: %v", err)
	}
	srv.FailNext(1, http.StatusBadGateway, 0)
	_, _, err = ch.MergedPulls(ctx, "acme/payments", "main", since, trigger)
	if e := engineError(t, err); e.Kind != engine.Retryable {
		t.Errorf("502: %v", err)
	}
	srv.FailNext(1, http.StatusForbidden, 30*time.Second)
	_, _, err = ch.MergedPulls(ctx, "acme/payments", "main", since, trigger)
	if e := engineError(t, err); e.Kind != engine.RateLimited || e.RetryAfter != 30*time.Second {
		t.Errorf("secondary rate limit: %v", err)
	}
	if _, _, err = ch.MergedPulls(ctx, "not a repo", "main", since, trigger); engineKind(err) != engine.Permanent {
		t.Errorf("bad repository name: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), srv.Token()) {
		t.Errorf("error leaks the token: %v", err)
	}
}

func engineKind(err error) engine.ErrorKind {
	k, _ := engine.Classify(err)
	return k
}
