package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/slack/slacktest"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// reportRig is a store file, fake Slack and GitHub endpoints, and a report
// directory: what two coesync processes would share.
type reportRig struct {
	cfg   config.Config
	slack *slacktest.Server
	gh    *ghtest.Server
	dir   string
}

const reportIssue = 7

func newReportRig(t *testing.T) *reportRig {
	t.Helper()
	r := &reportRig{slack: slacktest.New(), gh: ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1}), dir: t.TempDir()}
	t.Cleanup(r.slack.Close)
	t.Cleanup(r.gh.Close)
	for i := 1; i <= reportIssue; i++ {
		if _, err := r.gh.OpenIssue(demoRepo, "Weekly COE review", "Reports land here."); err != nil {
			t.Fatal(err)
		}
	}
	r.cfg = demoConfig("http://127.0.0.1:1", "http://127.0.0.1:1", r.gh.URL(), filepath.Join(t.TempDir(), "coesync.db"), "")
	r.cfg.ReportSlackWebhookURL = config.Secret(r.slack.URL())
	r.cfg.ReportGitHubIssue = demoRepo + "#7"
	r.cfg.ReportDir = filepath.Join(r.dir, "reports")
	r.cfg.ReportTimezone = "Europe/Berlin"
	r.cfg.PublicURL = "https://coesync.example.com"
	if err := r.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// process opens the shared store and a Reporter as one coesync process
// would, with its clock at now.
func (r *reportRig) process(t *testing.T, now time.Time) *engine.Reporter {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), string(r.cfg.DatabaseURL), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c, err := newClients(r.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := newReporter(r.cfg, c, testLogger(t), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	rp.Store = st
	return rp
}

func (r *reportRig) githubComments(t *testing.T) []string {
	t.Helper()
	is, _ := r.gh.Issue(demoRepo, reportIssue)
	var out []string
	for _, c := range is.Comments {
		out = append(out, c.Body)
	}
	return out
}

func (r *reportRig) files(t *testing.T) []string {
	t.Helper()
	es, _ := os.ReadDir(r.cfg.ReportDir)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestReportDeliveredOncePerPeriod(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rig := newReportRig(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	monday := time.Date(2026, 11, 23, 9, 5, 0, 0, berlin) // 5 minutes after "0 9 * * MON"

	// Before Monday 09:00 the last due report is the previous week's, and
	// Sunday the schedule fired a week ago: W46 is due, W47 is not yet.
	early := rig.process(t, time.Date(2026, 11, 23, 8, 0, 0, 0, berlin))
	if p, _, ok := early.Due(time.Date(2026, 11, 23, 8, 0, 0, 0, berlin)); !ok || p.Label != "2026-W46" {
		t.Fatalf("due at 08:00 = %q, %v; want 2026-W46", p.Label, ok)
	}

	first := rig.process(t, monday)
	if err := first.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rig.slack.Posts()); n != 1 {
		t.Fatalf("%d Slack posts, want 1", n)
	}
	if !strings.Contains(string(rig.slack.Posts()[0]), "2026-W47") || !strings.Contains(string(rig.slack.Posts()[0]), "https://coesync.example.com/report") {
		t.Errorf("Slack post lacks the period or the page link:\n%s", rig.slack.Posts()[0])
	}
	if cs := rig.githubComments(t); len(cs) != 1 || !strings.Contains(cs[0], "2026-W47") {
		t.Fatalf("GitHub comments = %d, want 1 for 2026-W47", len(cs))
	}
	if fs := rig.files(t); len(fs) != 1 || fs[0] != "coesync-report-2026-W47.md" {
		t.Fatalf("report files = %v", fs)
	}

	// A restart: a new process on the same store sends nothing again.
	restarted := rig.process(t, monday.Add(time.Hour))
	if err := restarted.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	// Two processes sharing the store, at the same moment, a week later:
	// the next period goes out exactly once.
	next := monday.AddDate(0, 0, 7)
	a, b := rig.process(t, next), rig.process(t, next)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, rp := range []*engine.Reporter{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The loser of the lease is told to wait; as a job it would
			// run again and find the report delivered.
			for {
				err := rp.Deliver(ctx)
				var w *engine.WaitError
				if asWait(err, &w) {
					time.Sleep(w.Wait / 10)
					continue
				}
				errs[i] = err
				return
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(rig.slack.Posts()); n != 2 {
		t.Fatalf("%d Slack posts after a restart and two concurrent processes, want 2 (W47, W48)", n)
	}
	if cs := rig.githubComments(t); len(cs) != 2 {
		t.Fatalf("%d GitHub comments, want 2", len(cs))
	}

	// A late start: the process was down all Monday of the next week and
	// comes back on Tuesday: the missed report goes out then.
	late := rig.process(t, time.Date(2026, 12, 8, 15, 30, 0, 0, berlin))
	if err := late.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	posts := rig.slack.Posts()
	if len(posts) != 3 || !strings.Contains(string(posts[2]), "2026-W49") {
		t.Fatalf("late start: %d posts, last %q; want the 2026-W49 report", len(posts), posts[len(posts)-1])
	}
	if fs := rig.files(t); len(fs) != 3 {
		t.Fatalf("report files = %v, want three weeks", fs)
	}
}

func TestReportFailedSinkRetriedAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rig := newReportRig(t)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	rp := rig.process(t, time.Date(2026, 11, 23, 10, 0, 0, 0, berlin))
	rig.slack.FailNext(1, 503, 0)
	err := rp.Deliver(ctx)
	if k, _ := engine.Classify(err); err == nil || k != engine.Retryable {
		t.Fatalf("first delivery with Slack down: err = %v, want a retryable error", err)
	}
	if cs := rig.githubComments(t); len(cs) != 1 {
		t.Fatalf("GitHub got %d comments although it was up", len(cs))
	}
	if err := rp.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if n, cs := len(rig.slack.Posts()), rig.githubComments(t); n != 1 || len(cs) != 1 {
		t.Fatalf("after the retry: %d Slack posts and %d GitHub comments, want 1 and 1", n, len(cs))
	}
}

func TestServeDeliversMissedReportOnStart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "reports")
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.ReportDir = dir }})
	if v := gaugeValue(t, e.App, "coesync_report_last_delivery_timestamp_seconds", "dir"); v != 0 {
		t.Fatalf("before any delivery the report gauge is %v, want 0", v)
	}
	// The schedule fired last Monday at the latest, and this process has
	// never delivered: the periodic job runs on start and catches up.
	waitFor(t, "the missed report to be written on start", 20*time.Second, func() bool {
		es, _ := os.ReadDir(dir)
		return len(es) == 1 && strings.HasPrefix(es[0].Name(), "coesync-report-")
	})
	waitFor(t, "the delivery to show on /metrics", 5*time.Second, func() bool {
		v := gaugeValue(t, e.App, "coesync_report_last_delivery_timestamp_seconds", "dir")
		return time.Since(time.Unix(int64(v), 0)) < time.Minute
	})
}

func asWait(err error, w **engine.WaitError) bool {
	if err == nil {
		return false
	}
	we, ok := err.(*engine.WaitError)
	if ok {
		*w = we
	}
	return ok
}
