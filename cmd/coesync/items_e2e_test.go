package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle waits until no job is queued or running and the fakes delivered
// their webhooks, twice in a row (a webhook can enqueue a job).
func settle(t *testing.T, e *demoEnv) {
	t.Helper()
	settleWithin(t, e, 40*time.Second)
}

// settleWithin is settle for a test with more work than most.
func settleWithin(t *testing.T, e *demoEnv, timeout time.Duration) {
	t.Helper()
	ctx := context.Background()
	quiet := 0
	waitFor(t, "the sync to settle", timeout, func() bool {
		e.Jira.Flush()
		e.GitHub.Flush()
		jobs, err := e.App.Store.Jobs(ctx, "available", "running", "retryable", "scheduled", "pending")
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			quiet++
		} else {
			quiet = 0
		}
		if quiet < 3 {
			time.Sleep(30 * time.Millisecond)
		}
		return quiet >= 3
	})
}

// startJobsDone waits until the periodic jobs River runs on start
// (reconcile, reminders) have run: their calls would meet faults a test
// meant for another request.
func startJobsDone(t *testing.T, e *demoEnv) {
	t.Helper()
	waitFor(t, "the start-up passes", 20*time.Second, func() bool {
		for _, kind := range []string{"reconcile", "remind_action_items"} {
			jobs, err := e.App.Store.JobsOfKind(context.Background(), kind, "completed")
			if err != nil || len(jobs) == 0 {
				return false
			}
		}
		return true
	})
}

// coeWithItems sends a rich incident (two "Action:"/"TODO:" notes) and
// waits until both proposed items are Jira sub-tasks mirrored on GitHub.
func coeWithItems(t *testing.T, e *demoEnv, id string) (coeKey string, items []store.ActionItem) {
	t.Helper()
	ctx := context.Background()
	fx := pdtest.RichIncident(id, time.Now().UTC().Add(-3*time.Hour).Truncate(time.Second))
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-"+id); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	c, err := e.WaitCOE(ctx, id, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two mirrored action items", 40*time.Second, func() bool {
		items, err = e.App.Store.ActionItems(ctx, c.TicketKey)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if it.State == store.MirrorLinked {
				n++
			}
		}
		return n == 2
	})
	settle(t, e)
	items, _ = e.App.Store.ActionItems(ctx, c.TicketKey)
	return c.TicketKey, items
}

func rollupComment(t *testing.T, e *demoEnv, coeKey string) string {
	t.Helper()
	is, _ := e.Jira.Issue(coeKey)
	var found []string
	for _, c := range is.Comments {
		if strings.Contains(c.Body, "coesync:rollup") {
			found = append(found, c.Body)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d roll-up comments on %s, want exactly 1", len(found), coeKey)
	}
	return found[0]
}

func completionComments(e *demoEnv, coeKey string) int {
	is, _ := e.Jira.Issue(coeKey)
	n := 0
	for _, c := range is.Comments {
		if strings.Contains(c.Body, "coesync:all-actions-done") {
			n++
		}
	}
	return n
}

func ghWrites(e *demoEnv) int {
	n := 0
	for _, r := range e.GitHub.Requests() {
		if r.Method == http.MethodPatch || r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func jiraWrites(e *demoEnv) int {
	n := 0
	for _, r := range e.Jira.Requests() {
		if r.Method != http.MethodGet && !strings.Contains(r.Path, "/search") {
			n++
		}
	}
	return n
}

func TestActionItemsMirroredAndClosedBothWays(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	coeKey, items := coeWithItems(t, e, "PITEMS1")

	// Two sub-tasks, two GitHub issues, remote links, roll-up table.
	var subtasks []jiratest.Issue
	for _, is := range e.Jira.Issues() {
		if is.Parent == coeKey {
			subtasks = append(subtasks, is)
		}
	}
	if len(subtasks) != 2 {
		t.Fatalf("%d sub-tasks of %s, want 2", len(subtasks), coeKey)
	}
	gh := e.GitHub.Issues(demoRepo)
	if len(gh) != 2 {
		t.Fatalf("%d GitHub issues, want 2", len(gh))
	}
	for _, it := range items {
		is, _ := e.Jira.Issue(it.JiraKey)
		if len(is.RemoteLinks) != 1 || is.RemoteLinks[0].GlobalID != "coesync:github-issue:"+it.JiraKey {
			t.Errorf("%s remote links = %+v, want one to its GitHub issue", it.JiraKey, is.RemoteLinks)
		}
		g, _ := e.GitHub.Issue(demoRepo, it.Number)
		if want := "[" + coeKey + "] " + is.Summary; g.Title != want {
			t.Errorf("GitHub title %q, want %q", g.Title, want)
		}
		if !strings.Contains(g.Body, engine.Marker(it.JiraKey)) || !strings.Contains(g.Body, it.JiraKey) {
			t.Errorf("GitHub body lacks the item's link or marker:\n%s", g.Body)
		}
		if !containsStr(g.Labels, engine.ActionItemLabel) {
			t.Errorf("GitHub labels %v lack %s", g.Labels, engine.ActionItemLabel)
		}
	}
	table := rollupComment(t, e, coeKey)
	if !strings.Contains(table, "0 of 2 closed") || !strings.Contains(table, items[0].JiraKey) || !strings.Contains(table, items[1].JiraKey) {
		t.Fatalf("roll-up does not list both open items:\n%s", table)
	}

	sort.Slice(items, func(i, j int) bool { return items[i].JiraKey < items[j].JiraKey })
	first, second := items[0], items[1]
	ghBefore, jiraBefore := ghWrites(e), jiraWrites(e)

	// GitHub closed as completed → the Jira item is done.
	if err := e.GitHub.CloseIssue(demoRepo, first.Number, "completed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Jira item to be done", 10*time.Second, func() bool {
		is, _ := e.Jira.Issue(first.JiraKey)
		return is.Status == "Done"
	})
	// Jira done → the GitHub issue is closed as completed.
	e.Jira.SetStatus(second.JiraKey, "Done")
	waitFor(t, "the GitHub issue to close", 10*time.Second, func() bool {
		g, _ := e.GitHub.Issue(demoRepo, second.Number)
		return g.State == "closed" && g.StateReason == "completed"
	})
	settle(t, e)
	time.Sleep(200 * time.Millisecond) // room for any echo to show
	settle(t, e)

	table = rollupComment(t, e, coeKey)
	if !strings.Contains(table, "2 of 2 closed") {
		t.Fatalf("roll-up after both closed:\n%s", table)
	}
	if n := completionComments(e, coeKey); n != 1 {
		t.Fatalf("%d completion comments, want exactly 1", n)
	}
	// Writes: one GitHub PATCH (close the second issue); in Jira one
	// transition, one roll-up edit per change at most and one completion
	// comment. Echoes of coesync's own writes add nothing.
	if got := ghWrites(e) - ghBefore; got != 1 {
		t.Errorf("%d GitHub writes for two closes, want 1 (no echo):\n%v", got, e.GitHub.Requests()[len(e.GitHub.Requests())-got:])
	}
	transitions := 0
	for _, r := range e.Jira.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/transitions") {
			transitions++
		}
	}
	if transitions != 1 {
		t.Errorf("%d Jira transitions, want 1", transitions)
	}
	if got := jiraWrites(e) - jiraBefore; got > 5 {
		t.Errorf("%d Jira writes for two closes, want at most 5 (transition, 2-3 roll-up edits, completion)", got)
	}

	// Duplicate and stale deliveries cause no writes: replay every webhook
	// GitHub sent, with new delivery ids, and reopen nothing.
	ghBefore, jiraBefore = ghWrites(e), jiraWrites(e)
	for _, it := range items {
		if err := e.App.Store.Enqueue(context.Background(), engine.SyncItemJob(it.JiraKey, "github")); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, e)
	if g, j := ghWrites(e)-ghBefore, jiraWrites(e)-jiraBefore; g != 0 || j != 0 {
		t.Errorf("re-syncing in-step items wrote %d to GitHub and %d to Jira, want 0", g, j)
	}

	// Reopen in GitHub → Jira reopens; the COE is no longer complete.
	if err := e.GitHub.Reopen(demoRepo, first.Number); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Jira item to reopen", 10*time.Second, func() bool {
		is, _ := e.Jira.Issue(first.JiraKey)
		return is.Status == "To Do"
	})
	settle(t, e)
	if table = rollupComment(t, e, coeKey); !strings.Contains(table, "1 of 2 closed") {
		t.Fatalf("roll-up after reopen:\n%s", table)
	}
}

// An issue closed as not planned, or as a duplicate (another issue tracks
// the work), closes its action item as won't do, with a comment saying so.
func TestClosedAsNotPlannedIsDoneWithAComment(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ reason, comment string }{
		{"not_planned", "not planned"},
		{"duplicate", "*duplicate*"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			t.Parallel()
			e := startTestDemo(t, demoOptions{})
			_, items := coeWithItems(t, e, "PNOTPLN")
			it := items[0]
			if err := e.GitHub.CloseIssue(demoRepo, it.Number, tc.reason); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the Jira item to be done with a comment", 10*time.Second, func() bool {
				is, _ := e.Jira.Issue(it.JiraKey)
				for _, c := range is.Comments {
					if is.Status == "Done" && strings.Contains(c.Body, tc.comment) {
						return true
					}
				}
				return false
			})
			settle(t, e)
			if g, _ := e.GitHub.Issue(demoRepo, it.Number); g.StateReason != tc.reason {
				t.Errorf("coesync rewrote the GitHub state reason to %q", g.StateReason)
			}
		})
	}
}

func TestTitleAssigneeDueAndPriorityFlow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	users := filepath.Join(dir, "users.yaml")
	if err := os.WriteFile(users, []byte("acc-alice: alice-gh\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.UserMapFile = users }})
	e.Jira.AddUser("acc-alice", "alice@example.com", "Alice Smith")
	e.Jira.AddUser("acc-bob", "bob@example.com", "Bob Jones")
	_, items := coeWithItems(t, e, "PFIELDS")
	a, b := items[0], items[1]

	// Jira summary, assignee (mapped), due date → GitHub.
	e.Jira.EditSummary(a.JiraKey, "Add a circuit breaker to checkout")
	e.Jira.Assign(a.JiraKey, "acc-alice", "alice@example.com", "Alice Smith")
	e.Jira.SetDue(a.JiraKey, "2026-12-15")
	waitFor(t, "GitHub to follow Jira", 10*time.Second, func() bool {
		g, _ := e.GitHub.Issue(demoRepo, a.Number)
		return strings.HasSuffix(g.Title, "] Add a circuit breaker to checkout") &&
			containsStr(g.Assignees, "alice-gh") && strings.Contains(g.Body, "2026-12-15")
	})
	// Unmapped owner: named in the body, not assigned.
	e.Jira.Assign(b.JiraKey, "acc-bob", "bob@example.com", "Bob Jones")
	waitFor(t, "the unmapped owner in the body", 10*time.Second, func() bool {
		g, _ := e.GitHub.Issue(demoRepo, b.Number)
		return strings.Contains(g.Body, "Bob Jones (no GitHub login mapped") && len(g.Assignees) == 0
	})
	// GitHub title edit → Jira summary.
	if err := e.GitHub.EditTitle(demoRepo, b.Number, "[whatever] Alert on pool saturation early"); err != nil {
		t.Fatal(err)
	}
	if err := e.GitHub.EditTitle(demoRepo, b.Number, "Alert on pool saturation early"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Jira to follow the GitHub title", 10*time.Second, func() bool {
		is, _ := e.Jira.Issue(b.JiraKey)
		return is.Summary == "Alert on pool saturation early"
	})
	settle(t, e)
	g, _ := e.GitHub.Issue(demoRepo, b.Number)
	if !strings.HasPrefix(g.Title, "[") {
		t.Errorf("GitHub title %q lost its COE prefix after sync", g.Title)
	}
}

func TestDroppedWebhookRepairedByReconcile(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	// The start-up reconcile pass can come late (River runs it once this
	// process leads): it must not fall among the passes counted below.
	startJobsDone(t, e)
	_, items := coeWithItems(t, e, "PDROP01")
	it := items[0]
	// A first pass learns the repository's ETag.
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, e)

	e.GitHub.DropWebhooks(true)
	if err := e.GitHub.CloseIssue(demoRepo, it.Number, "completed"); err != nil {
		t.Fatal(err)
	}
	e.GitHub.Flush()
	time.Sleep(200 * time.Millisecond)
	if is, _ := e.Jira.Issue(it.JiraKey); is.Status == "Done" {
		t.Fatal("the Jira item changed although the webhook was dropped")
	}
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reconcile to repair the drift", 10*time.Second, func() bool {
		is, _ := e.Jira.Issue(it.JiraKey)
		return is.Status == "Done"
	})
	settle(t, e)
	counts, err := e.App.Store.Counts(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.CounterDriftRepaired] != 1 {
		t.Errorf("drift repaired = %d, want 1", counts[store.CounterDriftRepaired])
	}

	// Nothing changed since: GitHub answers only 304s to conditional
	// requests, Jira gets one search for its one project, nothing is written.
	if err := e.App.Reconciler.Reconcile(ctx); err != nil { // absorbs coesync's own writes
		t.Fatal(err)
	}
	settle(t, e)
	e.GitHub.ResetRequests()
	e.Jira.ResetRequests()
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	settle(t, e)
	ghReqs := e.GitHub.Requests()
	if len(ghReqs) != 1 {
		t.Fatalf("%d GitHub requests for an unchanged reconcile, want 1 (one repository): %+v", len(ghReqs), ghReqs)
	}
	if r := ghReqs[0]; !r.Conditional || r.Status != http.StatusNotModified {
		t.Fatalf("GitHub request %s %s conditional=%v status=%d, want a conditional 304", r.Method, r.Path, r.Conditional, r.Status)
	}
	var searches, writes int
	for _, r := range e.Jira.Requests() {
		switch {
		case strings.Contains(r.Path, "/search"):
			searches++
		case r.Method != http.MethodGet:
			writes++
		}
	}
	if searches != 1 || writes != 0 {
		t.Fatalf("unchanged reconcile: %d Jira searches (want 1 per project) and %d writes (want 0)", searches, writes)
	}
}

func TestMissingTransitionIsVisible(t *testing.T) {
	// A workflow where To Do cannot go to any of Done, Closed, Resolved.
	wf := []jiratest.Transition{
		{ID: "21", Name: "Start", From: []string{"To Do"}, To: "In Progress"},
		{ID: "31", Name: "Finish", From: []string{"In Progress"}, To: "Done"},
	}
	e := startTestDemo(t, demoOptions{jiraWorkflow: wf})
	ctx := context.Background()
	_, items := coeWithItems(t, e, "PNOTRAN")
	it := items[0]
	if err := e.GitHub.CloseIssue(demoRepo, it.Number, "completed"); err != nil {
		t.Fatal(err)
	}
	var got store.ActionItem
	waitFor(t, "the problem to be recorded", 10*time.Second, func() bool {
		got, _ = e.App.Store.ActionItem(ctx, it.JiraKey)
		return got.Problem != ""
	})
	if !strings.Contains(got.Problem, "no Jira transition named Done, Closed, Resolved") {
		t.Errorf("problem = %q", got.Problem)
	}
	counts, _ := e.App.Store.Counts(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if counts[store.CounterMissingTransition] < 1 {
		t.Error("missing transition not counted for the report")
	}
	settle(t, e)
	if !strings.Contains(rollupComment(t, e, it.COEKey), "no Jira transition") {
		t.Error("the COE roll-up does not show the problem")
	}
	var out strings.Builder
	setDemoEnv(t, e)
	if err := run(ctx, []string{"status"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), it.JiraKey) || !strings.Contains(out.String(), "no Jira transition") {
		t.Errorf("coesync status does not show the problem:\n%s", out.String())
	}
	if !regexp.MustCompile(`(?m)^store size: [0-9.]+ MiB$`).MatchString(out.String()) {
		t.Errorf("coesync status does not show the store size:\n%s", out.String())
	}
}

func TestDeletedGitHubIssueReportedNotRecreated(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	_, items := coeWithItems(t, e, "PDELETE")
	it := items[0]
	if err := e.GitHub.Delete(demoRepo, it.Number); err != nil {
		t.Fatal(err)
	}
	// Whether the deletion webhook arrives or not, a change in Jira makes
	// coesync look at the mirror.
	e.Jira.EditSummary(it.JiraKey, "Renamed after deletion")
	var got store.ActionItem
	waitFor(t, "the deletion to be recorded", 10*time.Second, func() bool {
		got, _ = e.App.Store.ActionItem(ctx, it.JiraKey)
		return got.State == store.MirrorDeleted
	})
	if !strings.Contains(got.Problem, "deleted") {
		t.Errorf("problem = %q", got.Problem)
	}
	creates := e.GitHub.Count(http.MethodPost, "/repos/"+demoRepo+"/issues")
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	e.Jira.EditSummary(it.JiraKey, "Renamed again")
	settle(t, e)
	if after := e.GitHub.Count(http.MethodPost, "/repos/"+demoRepo+"/issues"); after != creates {
		t.Fatalf("GitHub issue recreated: %d creates, then %d", creates, after)
	}
}

func TestTransferredGitHubIssueIsFollowed(t *testing.T) {
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	_, items := coeWithItems(t, e, "PTRANSF")
	it := items[0]
	const other = "acme/platform"
	e.GitHub.AddRepo(other)
	n, err := e.GitHub.Transfer(demoRepo, it.Number, other)
	if err != nil {
		t.Fatal(err)
	}
	e.Jira.EditSummary(it.JiraKey, "Moved to the platform team")
	waitFor(t, "the mapping to follow the transfer", 10*time.Second, func() bool {
		got, _ := e.App.Store.ActionItem(ctx, it.JiraKey)
		return got.Repo == other && got.Number == n
	})
	waitFor(t, "the moved issue to get the new title", 10*time.Second, func() bool {
		g, _ := e.GitHub.Issue(other, n)
		return strings.HasSuffix(g.Title, "Moved to the platform team")
	})
}

// setDemoEnv points the COESYNC_* environment at a demo env's database, so
// CLI commands (status, replay) read the same store.
func setDemoEnv(t *testing.T, e *demoEnv) {
	t.Helper()
	for k, v := range demoEnvVars(e) {
		if k != "COESYNC_PAGERDUTY_API_URL" && k != "COESYNC_PAGERDUTY_FROM" {
			t.Setenv(k, v)
		}
	}
}

func containsStr(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestLinkedLabelledIssueIsAnActionItem(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	coeKey, _ := coeWithItems(t, e, "PLINKED")
	jc, err := jira.New(jira.Options{BaseURL: e.Jira.URL, User: demoJiraUser, Token: demoJiraToken})
	if err != nil {
		t.Fatal(err)
	}
	// A team tracks a follow-up as its own issue, labelled and linked to the COE.
	ref, err := jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task",
		Summary: "Load-test checkout before the holiday peak", Labels: []string{engine.ActionItemLabel}})
	if err != nil {
		t.Fatal(err)
	}
	// An unlabelled linked issue is not an action item.
	other, err := jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "Unrelated chore"})
	if err != nil {
		t.Fatal(err)
	}
	e.Jira.Link(ref.Key, coeKey, "Relates")
	e.Jira.Link(other.Key, coeKey, "Relates")
	var it store.ActionItem
	waitFor(t, "the linked issue to be mirrored", 10*time.Second, func() bool {
		it, err = e.App.Store.ActionItem(ctx, ref.Key)
		return err == nil && it.Number != 0
	})
	if it.COEKey != coeKey {
		t.Errorf("linked item belongs to %q, want %s", it.COEKey, coeKey)
	}
	g, _ := e.GitHub.Issue(demoRepo, it.Number)
	if g.Title != "["+coeKey+"] Load-test checkout before the holiday peak" {
		t.Errorf("GitHub title %q", g.Title)
	}
	settle(t, e)
	if _, err := e.App.Store.ActionItem(ctx, other.Key); err == nil {
		t.Error("an unlabelled linked issue was taken for an action item")
	}
	if n := len(e.GitHub.Issues(demoRepo)); n != 3 {
		t.Errorf("%d GitHub issues, want 3 (two seeded, one linked)", n)
	}
}

// TestMirrorCutOffByTheTimeoutIsNotCreatedTwice: GitHub applies the two
// issue creates after coesync gave up waiting (a slow answer past the HTTP
// timeout). The retries must find them, not create two more: they wait
// until a create that may still land has had time to, then look.
func TestMirrorCutOffByTheTimeoutIsNotCreatedTwice(t *testing.T) {
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.HTTPTimeout = 500 * time.Millisecond }})
	startJobsDone(t, e)
	settle(t, e)
	e.GitHub.SlowNext(2, 800*time.Millisecond, http.MethodPost, "/issues")
	coeKey, items := coeWithItems(t, e, "PSLOW01")
	creates := 0
	for _, r := range e.GitHub.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/issues") {
			creates++
		}
	}
	if creates != 2 {
		t.Errorf("%d issue creates for 2 action items of %s", creates, coeKey)
	}
	perKey := map[string]int{}
	for _, is := range e.GitHub.Issues(demoRepo) {
		if k, ok := engine.KeyFromBody(is.Body); ok {
			perKey[k]++
		}
	}
	for _, it := range items {
		if perKey[it.JiraKey] != 1 {
			t.Errorf("%s has %d GitHub issues, want 1", it.JiraKey, perKey[it.JiraKey])
		}
	}
	if _, d := e.GitHub.Injected(); d.Slow != 2 {
		t.Fatalf("%d slow answers, want 2: the test did not cut the creates off", d.Slow)
	}
}
