package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/report"
	"github.com/coesync/coesync/sync/store"
)

func slaDemo(t *testing.T, sla string) *demoEnv {
	t.Helper()
	return startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.ActionSLA = sla }})
}

// The rich incident is P1: its items are due 14 days after they were
// created, in Jira, on the GitHub mirror and in the store.
func TestSLADueDateSetOnBothSides(t *testing.T) {
	t.Parallel()
	e := slaDemo(t, "P1=14d,P2=30d,default=45d")
	ctx := context.Background()
	_, items := coeWithItems(t, e, "PSLA1")
	for _, it := range items {
		ji, _ := e.Jira.Issue(it.JiraKey)
		want := engine.DueFor(ji.Created, 14*24*time.Hour).Format(time.DateOnly)
		if ji.DueDate != want {
			t.Errorf("%s Jira due date = %q, want %q (created %s + 14d)", it.JiraKey, ji.DueDate, want, ji.Created)
		}
		g, _ := e.GitHub.Issue(it.Repo, it.Number)
		if !strings.Contains(g.Body, "| Due | "+want+" |") {
			t.Errorf("%s GitHub body does not show due %s:\n%s", it.JiraKey, want, g.Body)
		}
		if got := it.Due.Format(time.DateOnly); got != want {
			t.Errorf("%s stored due = %s, want %s", it.JiraKey, got, want)
		}
	}

	// A person moves one due date and clears the other: the SLA never
	// overwrites either (it was applied once per item).
	a, b := items[0], items[1]
	e.Jira.SetDue(a.JiraKey, "2030-01-31")
	e.Jira.SetDue(b.JiraKey, "")
	settle(t, e)
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, e)
	ja, _ := e.Jira.Issue(a.JiraKey)
	jb, _ := e.Jira.Issue(b.JiraKey)
	if ja.DueDate != "2030-01-31" || jb.DueDate != "" {
		t.Errorf("due dates after human edits = %q, %q, want 2030-01-31 and empty", ja.DueDate, jb.DueDate)
	}
	g, _ := e.GitHub.Issue(a.Repo, a.Number)
	if !strings.Contains(g.Body, "| Due | 2030-01-31 |") {
		t.Errorf("GitHub body does not follow the human due date:\n%s", g.Body)
	}
	// A reminder pass does not queue the SLA again for the cleared item.
	startPassDone(t, e)
	if _, err := e.App.Reminders.Run(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, e)
	if jb, _ := e.Jira.Issue(b.JiraKey); jb.DueDate != "" {
		t.Errorf("cleared due date came back: %q", jb.DueDate)
	}
}

// Without a priority SLA or default, nothing is set.
func TestSLAWithoutMatchingPriorityLeavesNoDueDate(t *testing.T) {
	t.Parallel()
	e := slaDemo(t, "P3=60d")
	_, items := coeWithItems(t, e, "PSLA2")
	for _, it := range items {
		if ji, _ := e.Jira.Issue(it.JiraKey); ji.DueDate != "" {
			t.Errorf("%s got due date %q from an SLA that does not cover P1", it.JiraKey, ji.DueDate)
		}
	}
}

// startPassDone waits for the reminder pass the service runs on start, so
// that a test's own passes (with their own clock) are the only ones.
func startPassDone(t *testing.T, e *demoEnv) {
	t.Helper()
	waitFor(t, "the start-up reminder pass", 20*time.Second, func() bool {
		jobs, err := e.App.Store.Jobs(context.Background(), "completed")
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.Kind == (engine.RemindArgs{}).Kind() {
				return true
			}
		}
		return false
	})
}

func reminderComments(t *testing.T, e *demoEnv, it store.ActionItem) []string {
	t.Helper()
	g, ok := e.GitHub.Issue(it.Repo, it.Number)
	if !ok {
		t.Fatalf("no issue %s#%d", it.Repo, it.Number)
	}
	var out []string
	for _, c := range g.Comments {
		if strings.Contains(c.Body, "coesync:reminder:") {
			out = append(out, c.Body)
		}
	}
	return out
}

func TestRemindersOncePerPeriodAcrossRestarts(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	_, items := coeWithItems(t, e, "PREMIND")
	late, soon := items[0], items[1]
	startPassDone(t, e) // before any item is due

	now := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	e.Jira.SetDue(late.JiraKey, now.AddDate(0, 0, -3).Format(time.DateOnly))
	e.Jira.SetDue(soon.JiraKey, now.AddDate(0, 0, 1).Format(time.DateOnly))
	// The assignee comes from GitHub; a name in Jira text is never mentioned.
	if err := e.GitHub.Assign(late.Repo, late.Number, "alice-gh"); err != nil {
		t.Fatal(err)
	}
	e.Jira.EditSummary(late.JiraKey, "Ping @everyone and @bob about the breaker")
	settle(t, e)

	clock := now
	rem := &engine.Reminders{Store: e.App.Store, GitHub: e.App.Reminders.GitHub, Log: e.App.Log,
		Now: func() time.Time { return clock }}
	run := func(want int) {
		t.Helper()
		n, err := rem.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("at %s: %d reminders sent, want %d", clock.Format(time.DateTime), n, want)
		}
	}
	run(2) // one overdue, one due tomorrow
	lateC, soonC := reminderComments(t, e, late), reminderComments(t, e, soon)
	if len(lateC) != 1 || len(soonC) != 1 {
		t.Fatalf("reminder comments: %d and %d, want 1 each", len(lateC), len(soonC))
	}
	if !strings.Contains(lateC[0], "@alice-gh") || !strings.Contains(lateC[0], "overdue by 3 day") {
		t.Errorf("overdue reminder does not mention the assignee and the delay:\n%s", lateC[0])
	}
	if strings.Contains(lateC[0], "@everyone") || strings.Contains(lateC[0], "@bob") {
		t.Errorf("reminder mentions someone from untrusted text:\n%s", lateC[0])
	}
	if strings.Count(soonC[0], "@") != 0 || !strings.Contains(soonC[0], "no assignee") {
		t.Errorf("reminder of an unassigned item:\n%s", soonC[0])
	}

	run(0) // same period: nothing
	// A restarted process (a new Reminders on the same store) sends nothing.
	again := &engine.Reminders{Store: e.App.Store, GitHub: rem.GitHub, Now: rem.Now, Log: rem.Log}
	if n, err := again.Run(ctx); err != nil || n != 0 {
		t.Fatalf("after restart: %d sent, err %v; want 0", n, err)
	}
	// A crash between the comment and its record: the marker finds the
	// comment, which is edited, not doubled.
	stored, err := e.App.Store.ActionItem(ctx, late.JiraKey)
	if err != nil {
		t.Fatal(err)
	}
	period, _, _ := engine.ReminderPeriod(stored.Due, clock, engine.DefaultReminderInterval)
	e.App.Store.SetState(ctx, engine.ReminderKey(late.JiraKey, period), "")
	e.App.Store.SetState(ctx, engine.ReminderLastKey(late.JiraKey), "")
	run(1)
	if got := reminderComments(t, e, late); len(got) != 1 {
		t.Fatalf("after a lost record: %d reminder comments, want 1", len(got))
	}

	// Two days later the soon item is overdue, but its reminder was two
	// days ago: at most one a week.
	clock = now.Add(2 * 24 * time.Hour)
	run(0)
	// A week after the first: one more each.
	clock = now.Add(7*24*time.Hour + time.Hour)
	run(2)
	if got := reminderComments(t, e, late); len(got) != 2 {
		t.Errorf("late item: %d reminder comments after a week, want 2", len(got))
	}
	// Closed items are left alone, however overdue.
	e.Jira.SetStatus(late.JiraKey, "Done")
	settle(t, e)
	clock = now.Add(30 * 24 * time.Hour)
	run(1)
	if got := reminderComments(t, e, late); len(got) != 2 {
		t.Errorf("closed item got another reminder: %d comments", len(got))
	}
	counts, err := e.App.Store.Counts(ctx, now.Add(-24*time.Hour), now.Add(60*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if counts[engine.CounterRemindersSent] != 6 {
		t.Errorf("reminders counted = %d, want 6", counts[engine.CounterRemindersSent])
	}
	// The weekly report counts them.
	rep, err := e.App.Reporter.Build(ctx, report.Period{Since: now.Add(-24 * time.Hour), Until: now.Add(60 * 24 * time.Hour), Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var html strings.Builder
	if err := rep.HTML(&html); err != nil {
		t.Fatal(err)
	}
	if rep.Health.RemindersSent != 6 || !strings.Contains(rep.Markdown(), "coesync sent **6** reminders") ||
		!strings.Contains(html.String(), `data-metric="reminders_sent">6<`) {
		t.Errorf("report: %d reminders sent; Markdown or HTML does not show them", rep.Health.RemindersSent)
	}
}
