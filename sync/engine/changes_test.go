package engine_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

var (
	trigger  = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	resolved = trigger.Add(time.Hour)
	incident = coe.Incident{ID: "PINC1", ServiceID: "PSVC", CreatedAt: trigger, ResolvedAt: resolved}
)

func newChangeFinder(t *testing.T, repos ...string) (*ghtest.Server, *engine.ChangeFinder) {
	t.Helper()
	srv := ghtest.New(ghtest.Options{Repos: repos})
	t.Cleanup(srv.Close)
	c, err := github.New(github.Options{BaseURL: srv.URL(), Token: srv.Token(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, &engine.ChangeFinder{Source: github.NewChanges(c), Window: 6 * time.Hour}
}

func TestChangeFinderWindow(t *testing.T) {
	srv, f := newChangeFinder(t, "acme/api", "acme/web")
	add := func(repo, title string, at time.Time) {
		if _, err := srv.AddPullRequest(repo, ghtest.PullRequest{Title: title, MergedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	add("acme/api", "in window, api", trigger.Add(-time.Hour))
	add("acme/web", "in window, web", trigger.Add(-5*time.Hour))
	add("acme/api", "before the window", trigger.Add(-7*time.Hour))
	add("acme/web", "after the trigger", trigger.Add(time.Minute))
	if _, err := srv.AddDeployment("acme/web", ghtest.Deployment{Ref: "v9", CreatedAt: trigger.Add(-30 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddDeployment("acme/web", ghtest.Deployment{Ref: "v8", CreatedAt: trigger.Add(-8 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	l, err := f.List(context.Background(), incident, []string{"acme/api", "acme/web"}, true, resolved)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range l.Changes {
		got = append(got, c.Repo+" "+string(c.Kind)+" "+c.Title+c.Ref)
	}
	want := "acme/web deploy v9 | acme/api pr in window, apimain | acme/web pr in window, webmain"
	if strings.Join(got, " | ") != want {
		t.Errorf("changes:\n%s\nwant\n%s", strings.Join(got, " | "), want)
	}
	if !l.Since.Equal(trigger.Add(-6*time.Hour)) || !l.Until.Equal(trigger) || len(l.Failed) != 0 {
		t.Errorf("window %s..%s, failed %v", l.Since, l.Until, l.Failed)
	}
	// Bounded cost: per repository, the repository (read once for both
	// lists), one page of deployments, one of pull requests.
	if n := len(srv.Requests()); n != 6 {
		t.Errorf("%d requests for 2 repositories, want 6", n)
	}
	// A second COE of the same day asks again, conditionally: 304s, free.
	srv.ResetRequests()
	remaining := srv.RateRemaining()
	if _, err := f.List(context.Background(), incident, []string{"acme/api", "acme/web"}, true, resolved); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Status != http.StatusNotModified {
			t.Errorf("second listing: %s %s answered %d, want 304", r.Method, r.Path, r.Status)
		}
	}
	if srv.RateRemaining() != remaining {
		t.Errorf("second listing spent %d of the rate limit", remaining-srv.RateRemaining())
	}
	// No repositories: no call at all.
	srv.ResetRequests()
	if l, err := f.List(context.Background(), incident, nil, true, resolved); err != nil || l.Repos != nil {
		t.Fatalf("no repos: %+v %v", l, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests without repositories", n)
	}
}

// Failures: permanent ones are noted in the COE; transient ones make the
// job retry only while the COE does not exist, within RetryFor of the
// resolution, and not for a rate limit that outlasts it.
func TestChangeFinderFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		repo      string
		fail      func(*ghtest.Server)
		strict    bool
		now       time.Time
		wantErr   engine.ErrorKind // 0: no error, the repository is listed as failed
		wantFails int
	}{
		{"unknown repository", "acme/gone", nil, true, resolved, 0, 1},
		{"5xx while the COE is new", "acme/api", func(s *ghtest.Server) { s.FailNext(3, http.StatusBadGateway, 0) }, true, resolved.Add(time.Minute), engine.Retryable, 0},
		{"5xx once the ticket exists", "acme/api", func(s *ghtest.Server) { s.FailNext(3, http.StatusBadGateway, 0) }, false, resolved.Add(time.Minute), 0, 1},
		{"5xx after the retry budget", "acme/api", func(s *ghtest.Server) { s.FailNext(3, http.StatusBadGateway, 0) }, true, resolved.Add(11 * time.Minute), 0, 1},
		{"short rate limit", "acme/api", func(s *ghtest.Server) { s.FailNext(3, http.StatusForbidden, 30*time.Second) }, true, resolved.Add(time.Minute), engine.RateLimited, 0},
		{"rate limit beyond the budget", "acme/api", func(s *ghtest.Server) { s.FailNext(3, http.StatusTooManyRequests, time.Hour) }, true, resolved.Add(time.Minute), 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, f := newChangeFinder(t, "acme/api")
			if tc.fail != nil {
				tc.fail(srv)
			}
			l, err := f.List(ctx, incident, []string{tc.repo}, tc.strict, tc.now)
			if tc.wantErr != 0 {
				if k, _ := engine.Classify(err); err == nil || k != tc.wantErr {
					t.Fatalf("err = %v, want a %s error", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), "list changes of acme/api for incident PINC1") {
					t.Errorf("error does not name the operation: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want the COE to go ahead", err)
			}
			if len(l.Failed) != tc.wantFails || l.Failed[0].Repo != tc.repo || l.Failed[0].Reason == "" {
				t.Fatalf("failed = %+v", l.Failed)
			}
			if strings.Contains(l.Failed[0].Reason, srv.Token()) {
				t.Error("reason leaks the token")
			}
		})
	}
}

func TestChangeFinderCapsTheList(t *testing.T) {
	srv, f := newChangeFinder(t, "acme/api")
	for i := range engine.MaxListedChanges + 5 {
		if _, err := srv.AddDeployment("acme/api", ghtest.Deployment{Ref: "r", CreatedAt: trigger.Add(-time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	l, err := f.List(context.Background(), incident, []string{"acme/api"}, true, resolved)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Changes) != engine.MaxListedChanges || len(l.Truncated) != 1 || !l.Changes[0].At.Equal(trigger.Add(-time.Minute)) {
		t.Fatalf("%d changes, truncated %v, newest %s", len(l.Changes), l.Truncated, l.Changes[0].At)
	}
}
