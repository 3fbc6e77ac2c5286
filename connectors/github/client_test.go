package github_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

const repo = ghtest.DefaultRepo

func newPair(t *testing.T, opts ghtest.Options) (*ghtest.Server, *github.Client) {
	t.Helper()
	srv := ghtest.New(opts)
	t.Cleanup(srv.Close)
	c, err := github.New(github.Options{BaseURL: srv.URL(), Token: srv.Token(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func ptr[T any](v T) *T { return &v }

func engineError(t *testing.T, err error) *engine.Error {
	t.Helper()
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) carries no *engine.Error", err, err)
	}
	return e
}

func TestCreateGetUpdate(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{})
	ctx := context.Background()

	created, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{
		Title: "Add a runbook", Body: "body <!-- coesync:ai:1 -->",
		Labels: []string{"coe", "coe:PD1"}, Assignees: []string{"alice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.Repo != repo || created.Number != 1 || created.ID == 0 || created.State != "open" ||
		created.Title != "Add a runbook" || !slices.Equal(created.Labels, []string{"coe", "coe:PD1"}) ||
		!slices.Equal(created.Assignees, []string{"alice"}) || created.CreatedAt.IsZero() ||
		!strings.HasSuffix(created.URL, "/"+repo+"/issues/1") || !created.ClosedAt.IsZero() {
		t.Fatalf("created = %+v", created)
	}
	got, err := c.GetIssue(ctx, repo, created.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != created.Title || got.Body != created.Body || got.ID != created.ID {
		t.Fatalf("get = %+v, want %+v", got, created)
	}

	tests := []struct {
		name  string
		patch coe.GitHubIssuePatch
		check func(coe.GitHubIssue) bool
	}{
		{"close not planned", coe.GitHubIssuePatch{State: ptr("closed"), StateReason: ptr("not_planned")}, func(i coe.GitHubIssue) bool {
			return i.State == "closed" && i.StateReason == "not_planned" && !i.ClosedAt.IsZero()
		}},
		{"reopen", coe.GitHubIssuePatch{State: ptr("open")}, func(i coe.GitHubIssue) bool {
			return i.State == "open" && i.StateReason == "reopened" && i.ClosedAt.IsZero()
		}},
		{"close completed by default", coe.GitHubIssuePatch{State: ptr("closed")}, func(i coe.GitHubIssue) bool {
			return i.State == "closed" && i.StateReason == "completed"
		}},
		{"title and body", coe.GitHubIssuePatch{Title: ptr("Renamed"), Body: ptr("new body")}, func(i coe.GitHubIssue) bool {
			return i.Title == "Renamed" && i.Body == "new body"
		}},
		{"assignees replaced", coe.GitHubIssuePatch{Assignees: &[]string{"bob", "carol"}}, func(i coe.GitHubIssue) bool {
			return slices.Equal(i.Assignees, []string{"bob", "carol"})
		}},
		{"assignees cleared by nil slice", coe.GitHubIssuePatch{Assignees: new([]string)}, func(i coe.GitHubIssue) bool {
			return len(i.Assignees) == 0
		}},
		{"labels replaced", coe.GitHubIssuePatch{Labels: &[]string{"coe"}}, func(i coe.GitHubIssue) bool {
			return slices.Equal(i.Labels, []string{"coe"})
		}},
		{"empty patch reads", coe.GitHubIssuePatch{}, func(i coe.GitHubIssue) bool {
			return i.Title == "Renamed"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.UpdateIssue(ctx, repo, created.Number, tt.patch)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Fatalf("after update: %+v", got)
			}
			again, err := c.GetIssue(ctx, repo, created.Number)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(again) {
				t.Fatalf("after get: %+v", again)
			}
		})
	}
	fake, ok := srv.Issue(repo, 1)
	if !ok || fake.Title != "Renamed" || fake.State != "closed" {
		t.Fatalf("fake issue = %+v", fake)
	}
}

func TestInvalidInputIsPermanentWithoutACall(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{"bad repo", func() error { _, err := c.GetIssue(ctx, "no-slash", 1); return err }},
		{"dot repo", func() error { _, err := c.GetIssue(ctx, "../x", 1); return err }},
		{"bad number", func() error { _, err := c.GetIssue(ctx, repo, 0); return err }},
		{"empty title", func() error { _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: " "}); return err }},
		{"bad state", func() error {
			_, err := c.UpdateIssue(ctx, repo, 1, coe.GitHubIssuePatch{State: ptr("done")})
			return err
		}},
		{"bad reason", func() error {
			_, err := c.UpdateIssue(ctx, repo, 1, coe.GitHubIssuePatch{StateReason: ptr("wontfix")})
			return err
		}},
		{"comma label", func() error { _, _, _, err := c.ListIssues(ctx, repo, "a,b", time.Time{}, ""); return err }},
		{"empty marker", func() error { _, _, err := c.FindIssueByMarker(ctx, repo, "coe", ""); return err }},
		{"empty comment marker", func() error { return c.UpsertComment(ctx, repo, 1, " ", "x") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if k, _ := engine.Classify(err); k != engine.Permanent {
				t.Fatalf("kind = %v, want permanent: %v", k, err)
			}
			if !strings.HasPrefix(err.Error(), "github: ") {
				t.Fatalf("error %q lacks the operation", err)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests made", n)
	}
}

func TestListIssuesPaginates(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{MaxPerPage: 2})
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: fmt.Sprint("labelled ", i), Labels: []string{"coe"}}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: fmt.Sprint("other ", i), Labels: []string{"bug"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.CloseIssue(repo, 2, "completed"); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()

	tests := []struct {
		label     string
		wantN     int
		wantPages int
	}{
		{"coe", 5, 3},
		{"bug", 2, 1},
		{"", 7, 4},
		{"none", 0, 1},
	}
	for _, tt := range tests {
		t.Run("label="+tt.label, func(t *testing.T) {
			srv.ResetRequests()
			issues, etag, notModified, err := c.ListIssues(ctx, repo, tt.label, time.Time{}, "")
			if err != nil {
				t.Fatal(err)
			}
			if notModified || etag == "" {
				t.Fatalf("notModified=%v etag=%q", notModified, etag)
			}
			if len(issues) != tt.wantN {
				t.Fatalf("got %d issues, want %d", len(issues), tt.wantN)
			}
			seen := map[int]bool{}
			for _, is := range issues {
				if seen[is.Number] {
					t.Fatalf("issue %d twice", is.Number)
				}
				seen[is.Number] = true
				if tt.label != "" && !slices.Contains(is.Labels, tt.label) {
					t.Fatalf("issue %d lacks label %q", is.Number, tt.label)
				}
			}
			if tt.label == "coe" && !seen[2] {
				t.Fatal("closed issue 2 missing: state=all not sent")
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantPages {
				t.Fatalf("%d requests, want %d pages", len(reqs), tt.wantPages)
			}
			for i, r := range reqs {
				if r.Query.Get("state") != "all" || r.Query.Get("page") != fmt.Sprint(i+1) || r.Query.Get("sort") != "updated" {
					t.Fatalf("request %d query = %v", i, r.Query)
				}
			}
		})
	}
}

func TestListIssuesSince(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv, c := newPair(t, ghtest.Options{Now: clock})
	ctx := context.Background()
	for range 3 {
		if _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "x", Labels: []string{"coe"}}); err != nil {
			t.Fatal(err)
		}
	}
	advance(time.Hour)
	cut := clock()
	if err := srv.EditTitle(repo, 2, "changed"); err != nil {
		t.Fatal(err)
	}
	issues, _, _, err := c.ListIssues(ctx, repo, "coe", cut, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 1 || issues[0].Number != 2 || issues[0].Title != "changed" {
		t.Fatalf("since: %+v", issues)
	}
}

func TestListIssuesConditional(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{MaxPerPage: 2})
	ctx := context.Background()
	for i := range 3 {
		if _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: fmt.Sprint("item ", i), Labels: []string{"coe"}}); err != nil {
			t.Fatal(err)
		}
	}
	issues, etag, notModified, err := c.ListIssues(ctx, repo, "coe", time.Time{}, "")
	if err != nil || notModified || len(issues) != 3 || etag == "" {
		t.Fatalf("first list: %d issues, etag %q, notModified %v, err %v", len(issues), etag, notModified, err)
	}

	before := srv.RateRemaining()
	srv.ResetRequests()
	issues, etag2, notModified, err := c.ListIssues(ctx, repo, "coe", time.Time{}, etag)
	if err != nil {
		t.Fatal(err)
	}
	if !notModified || len(issues) != 0 || etag2 != etag {
		t.Fatalf("second list: notModified %v, %d issues, etag %q (was %q)", notModified, len(issues), etag2, etag)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || !reqs[0].Conditional || reqs[0].IfNoneMatch != etag || reqs[0].Status != http.StatusNotModified {
		t.Fatalf("requests = %+v", reqs)
	}
	if after := srv.RateRemaining(); after != before {
		t.Fatalf("a 304 spent rate limit: %d → %d", before, after)
	}

	// A change to an issue on the last page moves it to the first page
	// (sort=updated), so the first page's ETag changes.
	if err := srv.CloseIssue(repo, 1, "not_planned"); err != nil {
		t.Fatal(err)
	}
	srv.ResetRequests()
	issues, etag3, notModified, err := c.ListIssues(ctx, repo, "coe", time.Time{}, etag)
	if err != nil {
		t.Fatal(err)
	}
	if notModified || etag3 == etag || len(issues) != 3 {
		t.Fatalf("after change: notModified %v, etag %q, %d issues", notModified, etag3, len(issues))
	}
	var one coe.GitHubIssue
	for _, is := range issues {
		if is.Number == 1 {
			one = is
		}
	}
	if one.State != "closed" || one.StateReason != "not_planned" {
		t.Fatalf("issue 1 = %+v", one)
	}
	reqs = srv.Requests()
	if len(reqs) < 1 || reqs[0].Status != http.StatusOK || !reqs[0].Conditional {
		t.Fatalf("requests = %+v", reqs)
	}
	for _, r := range reqs[1:] {
		if r.Conditional {
			t.Fatalf("page %s sent If-None-Match", r.Query.Get("page"))
		}
	}
}

func TestTransferredIssueFollowsToNewLocation(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{})
	ctx := context.Background()
	is, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "moving"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpsertComment(ctx, repo, is.Number, "<!-- m -->", "status v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.OpenIssue("acme/platform", "already there", ""); err == nil {
		t.Fatal("expected unknown repo error")
	}
	if err := srv.AddRepo("acme/platform"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.OpenIssue("acme/platform", "already there", ""); err != nil {
		t.Fatal(err)
	}
	newN, err := srv.Transfer(repo, is.Number, "acme/platform")
	if err != nil {
		t.Fatal(err)
	}
	if newN != 2 {
		t.Fatalf("new number = %d", newN)
	}

	got, err := c.GetIssue(ctx, repo, is.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Repo != "acme/platform" || got.Number != newN || got.Title != "moving" {
		t.Fatalf("get after transfer = %+v", got)
	}

	// net/http would turn the PATCH answered 301 into a GET; the connector
	// must repeat the PATCH at the new location.
	srv.ResetRequests()
	upd, err := c.UpdateIssue(ctx, repo, is.Number, coe.GitHubIssuePatch{State: ptr("closed")})
	if err != nil {
		t.Fatal(err)
	}
	if upd.Repo != "acme/platform" || upd.Number != newN || upd.State != "closed" {
		t.Fatalf("update after transfer = %+v", upd)
	}
	if fake, _ := srv.Issue("acme/platform", newN); fake.State != "closed" {
		t.Fatalf("fake not closed: %+v", fake)
	}
	var methods []string
	for _, r := range srv.Requests() {
		methods = append(methods, fmt.Sprintf("%s %d", r.Method, r.Status))
	}
	if !slices.Equal(methods, []string{"PATCH 301", "PATCH 200"}) {
		t.Fatalf("requests = %v", methods)
	}

	// The comment moved with the issue and is edited, not duplicated.
	if err := c.UpsertComment(ctx, repo, is.Number, "<!-- m -->", "status v2"); err != nil {
		t.Fatal(err)
	}
	fake, _ := srv.Issue("acme/platform", newN)
	if len(fake.Comments) != 1 || !strings.HasPrefix(fake.Comments[0].Body, "status v2") {
		t.Fatalf("comments after transfer = %+v", fake.Comments)
	}
	if _, ok := srv.Issue(repo, is.Number); ok {
		t.Fatal("old location still live")
	}
}

func TestDeletedIssueIsPermanent410(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{})
	ctx := context.Background()
	is, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "doomed"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Delete(repo, is.Number); err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { _, err := c.GetIssue(ctx, repo, is.Number); return err },
		func() error {
			_, err := c.UpdateIssue(ctx, repo, is.Number, coe.GitHubIssuePatch{Title: ptr("x")})
			return err
		},
		func() error { return c.UpsertComment(ctx, repo, is.Number, "<!-- m -->", "x") },
	} {
		err := call()
		e := engineError(t, err)
		if e.Kind != engine.Permanent || e.Status != http.StatusGone || e.Service != "github" {
			t.Fatalf("error = %#v", e)
		}
		if !strings.Contains(err.Error(), "This issue was deleted") {
			t.Fatalf("error text %q lacks GitHub's message", err)
		}
	}
	_, err = c.GetIssue(ctx, repo, 99)
	if e := engineError(t, err); e.Kind != engine.Permanent || e.Status != http.StatusNotFound {
		t.Fatalf("missing issue error = %#v", e)
	}
}

func TestErrorClassification(t *testing.T) {
	reset := time.Now().Add(90 * time.Second).Truncate(time.Second)
	tests := []struct {
		name       string
		setup      func(*ghtest.Server)
		token      string
		kind       engine.ErrorKind
		status     int
		retryAfter func(time.Duration) bool
	}{
		{"429 with Retry-After", func(s *ghtest.Server) { s.FailNext(1, 429, 7*time.Second) }, "",
			engine.RateLimited, 429, func(d time.Duration) bool { return d == 7*time.Second }},
		{"403 primary quota exhausted", func(s *ghtest.Server) { s.Quota(0, reset) }, "",
			engine.RateLimited, 403, func(d time.Duration) bool { return d > 60*time.Second && d <= 90*time.Second }},
		{"403 secondary with Retry-After", func(s *ghtest.Server) { s.FailNext(1, 403, 30*time.Second) }, "",
			engine.RateLimited, 403, func(d time.Duration) bool { return d == 30*time.Second }},
		{"403 forbidden", func(s *ghtest.Server) { s.FailNext(1, 403, 0) }, "",
			engine.Permanent, 403, func(d time.Duration) bool { return d == 0 }},
		{"500", func(s *ghtest.Server) { s.FailNext(1, 500, 0) }, "",
			engine.Retryable, 500, func(d time.Duration) bool { return d == 0 }},
		{"502", func(s *ghtest.Server) { s.FailNext(1, 502, 0) }, "",
			engine.Retryable, 502, func(d time.Duration) bool { return d == 0 }},
		{"401 bad token", func(*ghtest.Server) {}, "ghp_wrongwrongwrong",
			engine.Permanent, 401, func(d time.Duration) bool { return d == 0 }},
		{"404 unknown repo", func(*ghtest.Server) {}, "",
			engine.Permanent, 404, func(d time.Duration) bool { return d == 0 }},
		{"secondary rate limit via RateLimit", func(s *ghtest.Server) { s.RateLimit(0.001) }, "",
			engine.RateLimited, 403, func(d time.Duration) bool { return d > 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ghtest.New(ghtest.Options{})
			defer srv.Close()
			token := srv.Token()
			if tt.token != "" {
				token = tt.token
			}
			c, err := github.New(github.Options{BaseURL: srv.URL(), Token: token})
			if err != nil {
				t.Fatal(err)
			}
			r := repo
			if tt.status == 404 {
				r = "acme/nope"
			}
			tt.setup(srv)
			if tt.name == "secondary rate limit via RateLimit" {
				// The burst admits one request.
				_, _, _, _ = c.ListIssues(context.Background(), r, "", time.Time{}, "")
			}
			_, _, _, err = c.ListIssues(context.Background(), r, "", time.Time{}, "")
			e := engineError(t, err)
			if e.Kind != tt.kind || e.Status != tt.status || !tt.retryAfter(e.RetryAfter) {
				t.Fatalf("got kind %v status %d retryAfter %v (%v), want %v %d", e.Kind, e.Status, e.RetryAfter, err, tt.kind, tt.status)
			}
			if k, d := engine.Classify(err); k != tt.kind || d != e.RetryAfter {
				t.Fatalf("Classify = %v %v", k, d)
			}
			if !strings.HasPrefix(err.Error(), "github: list issues in "+r+": ") {
				t.Fatalf("error text %q", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("token in %q", err)
			}
		})
	}
}

// After a response saying no calls remain, go-github refuses the next call
// itself with a *RateLimitError; it must come out RateLimited too.
func TestRateLimitRefusedLocallyIsRateLimited(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{})
	ctx := context.Background()
	srv.Quota(1, time.Now().Add(2*time.Minute))
	if _, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "last call"}); err != nil {
		t.Fatal(err)
	}
	n := len(srv.Requests())
	_, err := c.GetIssue(ctx, repo, 1)
	e := engineError(t, err)
	if e.Kind != engine.RateLimited || e.RetryAfter <= time.Minute || e.RetryAfter > 2*time.Minute {
		t.Fatalf("error = %#v", e)
	}
	if len(srv.Requests()) != n {
		t.Fatal("go-github called GitHub despite the exhausted quota")
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	srv := ghtest.New(ghtest.Options{})
	u, tok := srv.URL(), srv.Token()
	srv.Close()
	c, err := github.New(github.Options{BaseURL: u, Token: tok, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetIssue(context.Background(), repo, 1)
	if e := engineError(t, err); e.Kind != engine.Retryable || e.Status != 0 {
		t.Fatalf("error = %#v", e)
	}
	if strings.Contains(err.Error(), tok) {
		t.Fatalf("token in %q", err)
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	const token = "ghp_SuperSecretTokenValue1234567890abcd"
	// A hostile or buggy server that echoes the credentials everywhere.
	var status int
	var mu sync.Mutex
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		st := status
		mu.Unlock()
		auth := r.Header.Get("Authorization")
		w.Header().Set("X-Echo", auth)
		w.Header().Set("Content-Type", "application/json")
		if st == http.StatusMovedPermanently {
			w.Header().Set("Location", "/repos/acme/x/issues/2?token="+token)
		}
		w.WriteHeader(st)
		fmt.Fprintf(w, `{"message":"you sent %s","errors":[{"resource":"Issue","field":"%s","code":"invalid"}]}`, auth, token)
	}))
	defer echo.Close()
	c, err := github.New(github.Options{BaseURL: echo.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []int{400, 401, 403, 404, 410, 422, 429, 500, 503, 301} {
		mu.Lock()
		status = st
		mu.Unlock()
		errs := []error{}
		_, err := c.GetIssue(ctx, repo, 1)
		errs = append(errs, err)
		_, err = c.UpdateIssue(ctx, repo, 1, coe.GitHubIssuePatch{Title: ptr("t")})
		errs = append(errs, err)
		_, err = c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "t"})
		errs = append(errs, err)
		_, _, _, err = c.ListIssues(ctx, repo, "coe", time.Time{}, `W/"x"`)
		errs = append(errs, err)
		errs = append(errs, c.UpsertComment(ctx, repo, 1, "<!-- m -->", "b"))
		for i, err := range errs {
			if err == nil {
				t.Fatalf("status %d call %d: no error", st, i)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, token) {
					t.Fatalf("status %d call %d: token in %q", st, i, s)
				}
			}
			var e *engine.Error
			if errors.As(err, &e) && (strings.Contains(e.Msg, token) || strings.Contains(e.Error(), token)) {
				t.Fatalf("status %d call %d: token in engine.Error %q", st, i, e.Msg)
			}
		}
	}

	o := github.Options{BaseURL: echo.URL, Token: token}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), o.String()} {
		if strings.Contains(s, token) {
			t.Fatalf("token in %q", s)
		}
	}
	if _, err := github.New(github.Options{BaseURL: "https://user:" + token + "@example.com/", Token: token}); err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("New with credentials in URL: %v", err)
	}
	if _, err := github.New(github.Options{Token: token + "\nX-Evil: 1"}); err == nil || strings.Contains(err.Error(), token) {
		t.Fatalf("New with newline token: %v", err)
	}
}

// The token is added below http.Client, so a redirect to another host
// would carry it: such redirects are refused.
func TestRedirectToAnotherHostRefused(t *testing.T) {
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store("auth", r.Header.Get("Authorization"))
		w.WriteHeader(200)
		fmt.Fprint(w, `{"number":1}`)
	}))
	defer other.Close()
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer first.Close()
	c, err := github.New(github.Options{BaseURL: first.URL, Token: "ghp_abc"})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error { _, err := c.GetIssue(context.Background(), repo, 1); return err },
		func() error {
			_, err := c.UpdateIssue(context.Background(), repo, 1, coe.GitHubIssuePatch{Title: ptr("x")})
			return err
		},
	} {
		err := call()
		if e := engineError(t, err); e.Kind != engine.Permanent {
			t.Fatalf("error = %#v", e)
		}
	}
	if v, ok := leaked.Load("auth"); ok {
		t.Fatalf("other host received a request (Authorization %q)", v)
	}
}

func TestFindIssueByMarker(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{MaxPerPage: 2})
	ctx := context.Background()
	specs := []coe.GitHubIssueSpec{
		{Title: "a", Body: "x <!-- coesync:ai:A -->", Labels: []string{"coe"}},
		{Title: "b", Body: "x <!-- coesync:ai:B -->", Labels: []string{"coe"}},
		{Title: "c", Body: "x <!-- coesync:ai:C -->", Labels: []string{"other"}},
		{Title: "d", Body: "y", Labels: []string{"coe"}},
		{Title: "b again", Body: "dup <!-- coesync:ai:B -->", Labels: []string{"coe"}},
	}
	for _, s := range specs {
		if _, err := c.CreateIssue(ctx, repo, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.CloseIssue(repo, 1, ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		marker    string
		wantFound bool
		wantN     int
	}{
		{"<!-- coesync:ai:A -->", true, 1}, // closed issues are found too
		{"<!-- coesync:ai:B -->", true, 2}, // lowest number wins
		{"<!-- coesync:ai:C -->", false, 0},
		{"<!-- coesync:ai:Z -->", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.marker, func(t *testing.T) {
			is, found, err := c.FindIssueByMarker(ctx, repo, "coe", tt.marker)
			if err != nil {
				t.Fatal(err)
			}
			if found != tt.wantFound || (found && is.Number != tt.wantN) {
				t.Fatalf("found %v #%d, want %v #%d", found, is.Number, tt.wantFound, tt.wantN)
			}
		})
	}
}

func TestUpsertCommentCreatesOnceThenEdits(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{MaxPerPage: 2})
	ctx := context.Background()
	is, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: "x"})
	if err != nil {
		t.Fatal(err)
	}
	// Other comments push ours past the first page.
	for range 3 {
		if err := c.UpsertComment(ctx, repo, is.Number, fmt.Sprintf("<!-- other:%d -->", srv.Count("", "")), "noise"); err != nil {
			t.Fatal(err)
		}
	}
	const marker = "<!-- coesync:status -->"
	steps := []struct {
		body                string
		wantPOST, wantPATCH int
	}{
		{"Status: open", 1, 0},
		{"Status: closed", 1, 1},
		{"Status: closed", 1, 1}, // unchanged: no call
		{"Status: reopened\n\n" + marker, 1, 2},
	}
	srv.ResetRequests()
	for i, st := range steps {
		if err := c.UpsertComment(ctx, repo, is.Number, marker, st.body); err != nil {
			t.Fatal(err)
		}
		posts := srv.Count(http.MethodPost, "/repos/"+repo+"/issues/1/comments")
		patches := srv.Count(http.MethodPatch, "/repos/"+repo+"/issues/comments/")
		if posts != st.wantPOST || patches != st.wantPATCH {
			t.Fatalf("step %d: %d POST, %d PATCH; want %d, %d", i, posts, patches, st.wantPOST, st.wantPATCH)
		}
	}
	fake, _ := srv.Issue(repo, is.Number)
	var ours []ghtest.Comment
	for _, cm := range fake.Comments {
		if strings.Contains(cm.Body, marker) {
			ours = append(ours, cm)
		}
	}
	if len(fake.Comments) != 4 || len(ours) != 1 || ours[0].Body != "Status: reopened\n\n"+marker {
		t.Fatalf("comments = %+v", fake.Comments)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name string
		o    github.Options
		ok   bool
	}{
		{"default base", github.Options{Token: "t"}, true},
		{"enterprise", github.Options{BaseURL: "https://ghe.example.com/api/v3", Token: "t"}, true},
		{"no token", github.Options{BaseURL: "https://api.github.com/"}, false},
		{"relative", github.Options{BaseURL: "api.github.com", Token: "t"}, false},
		{"ftp", github.Options{BaseURL: "ftp://x/", Token: "t"}, false},
		{"query", github.Options{BaseURL: "https://x/?a=b", Token: "t"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := github.New(tt.o)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

type countingObserver struct {
	mu       sync.Mutex
	outcomes map[string]int
}

func (o *countingObserver) ObserveAPICall(service, outcome string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.outcomes == nil {
		o.outcomes = map[string]int{}
	}
	o.outcomes[service+"/"+outcome]++
}

func TestConcurrentUseAndObserver(t *testing.T) {
	srv := ghtest.New(ghtest.Options{})
	defer srv.Close()
	obs := &countingObserver{}
	c, err := github.New(github.Options{BaseURL: srv.URL(), Token: srv.Token(), Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer recv.Close()
	srv.SendWebhooks(recv.URL, "s3cret")
	srv.SetFaultRate(0.1, 0.05, 42)

	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				is, err := c.CreateIssue(ctx, repo, coe.GitHubIssueSpec{Title: fmt.Sprint(w, "-", i), Labels: []string{"coe"}})
				if err != nil {
					if k, _ := engine.Classify(err); k == engine.Permanent {
						t.Error(err)
					}
					continue
				}
				_, _ = c.UpdateIssue(ctx, repo, is.Number, coe.GitHubIssuePatch{State: ptr("closed")})
				_, _, _, _ = c.ListIssues(ctx, repo, "coe", time.Time{}, "")
				_ = c.UpsertComment(ctx, repo, is.Number, "<!-- m -->", "hi")
			}
		}()
	}
	wg.Wait()
	srv.Flush()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.outcomes["github/ok"] == 0 || obs.outcomes["github/retryable"] == 0 {
		t.Fatalf("observer saw %v", obs.outcomes)
	}
}
