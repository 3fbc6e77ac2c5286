package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
)

// changesRules routes the rich fixture's service (PSVC001) to the demo
// repository for "what changed".
const changesRules = `services:
  - service: PSVC001
    repos: [` + demoRepo + `]
`

// TestChangesAndRecurrenceEndToEnd: a service with repositories in the rules
// gets its deployments and merged pull requests of the 24 hours before the
// trigger in its COE (and nothing outside them); a second incident of the
// same service is flagged as a recurrence, labelled coe-recurrence, links
// the first COE with its open action item, and the weekly report counts it;
// preview shows the same.
func TestChangesAndRecurrenceEndToEnd(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(changesRules), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.RulesFile = rules }})
	ctx := context.Background()

	// coeWithItems triggers its incident 3 hours ago.
	now := time.Now().UTC()
	trigger1 := now.Add(-3 * time.Hour)
	for _, d := range []ghtest.Deployment{
		{Ref: "v2.31.0", SHA: "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c", Description: "release 2.31.0", Creator: "deploy-bot", CreatedAt: trigger1.Add(-time.Hour)},
		{Ref: "v2.32.0", Description: "after both triggers", CreatedAt: now.Add(-10 * time.Minute)},
	} {
		if _, err := e.GitHub.AddDeployment(demoRepo, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []ghtest.PullRequest{
		{Title: "Raise DB pool size {color:red}now{color} [~admin]", Author: "alice", MergedAt: trigger1.Add(-3 * time.Hour)},
		{Title: "Ancient refactor", Author: "bob", MergedAt: trigger1.Add(-30 * time.Hour)},
		{Title: "Never merged", Author: "carol", ClosedAt: trigger1.Add(-time.Hour)},
	} {
		if _, err := e.GitHub.AddPullRequest(demoRepo, p); err != nil {
			t.Fatal(err)
		}
	}

	// The first incident: changes listed, no recurrence.
	key1, items := coeWithItems(t, e, "PRECUR1")
	first, ok := e.Jira.Issue(key1)
	if !ok {
		t.Fatalf("no ticket %s", key1)
	}
	related := section(first.Description, "Related items")
	for _, want := range []string{
		"* *Changes in the 1d before the incident was triggered* in " + demoRepo + ", newest first:",
		"Deployment of v2.31.0 (9b8c7d6) to production in acme/checkout: release 2.31.0 (by deploy-bot) [https://github.com/acme/checkout/commit/9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c]",
		`merged into main: Raise DB pool size \{color:red\}now\{color\} \[\~admin\] (by alice) [https://github.com/acme/checkout/pull/`,
		"* *Earlier COEs* of this service or incident key: none found.",
	} {
		if !strings.Contains(related, want) {
			t.Errorf("first COE's related items lack %q:\n%s", want, related)
		}
	}
	for _, absent := range []string{"Ancient refactor", "Never merged", "after both triggers"} {
		if strings.Contains(first.Description, absent) {
			t.Errorf("first COE lists %q, outside the window or not merged", absent)
		}
	}
	if n := strings.Count(timelineSection(first.Description), "*Change:*"); n != 2 {
		t.Errorf("timeline marks %d changes, want 2", n)
	}
	if !contains(first.Labels, coe.ServiceLabel("PSVC001")) || contains(first.Labels, coe.RecurrenceLabel) {
		t.Errorf("first COE labels = %v, want the service label and no recurrence", first.Labels)
	}

	// One of its two action items is done; the other stays open.
	if err := e.GitHub.CloseIssue(items[0].Repo, items[0].Number, "completed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the closed item in the store", 20*time.Second, func() bool {
		it, err := e.App.Store.ActionItem(ctx, items[0].JiraKey)
		return err == nil && it.Closed
	})
	settle(t, e)

	// The same service fails again an hour ago.
	fx2 := pdtest.RichIncident("PRECUR2", now.Add(-time.Hour).Truncate(time.Second))
	e.PD.AddIncident(fx2)
	if code, err := e.SendResolved(ctx, fx2, "evt-recur2"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	c2, err := e.WaitCOE(ctx, fx2.ID, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if c2.RecurrenceOf != key1 {
		t.Errorf("store: second COE RecurrenceOf = %q, want %s", c2.RecurrenceOf, key1)
	}
	second, _ := e.Jira.Issue(c2.TicketKey)
	if !contains(second.Labels, coe.RecurrenceLabel) || !contains(second.Labels, coe.ServiceLabel("PSVC001")) {
		t.Errorf("second COE labels = %v, want %s and the service label", second.Labels, coe.RecurrenceLabel)
	}
	summary := section(second.Description, "Summary")
	for _, want := range []string{
		"*Recurrence:* this incident repeats the COE " + key1,
		"*An action item of the earlier COE " + key1 + " is still open.*",
		"* " + items[1].JiraKey + " " + coe.EscapeWiki(items[1].Title),
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("second COE's summary lacks %q:\n%s", want, summary)
		}
	}
	if strings.Contains(summary, items[0].JiraKey+" ") {
		t.Errorf("the closed item %s is called out as open:\n%s", items[0].JiraKey, summary)
	}
	related = section(second.Description, "Related items")
	if !strings.Contains(related, "** "+key1+" ") || !strings.Contains(related, "*recurrence*; action items: 1 open, 1 done") {
		t.Errorf("second COE's related items do not link %s with its items' state:\n%s", key1, related)
	}
	// Its window (the 24 hours before its own trigger) still holds both changes.
	if n := strings.Count(related, "** 20"); n != 2 {
		t.Errorf("second COE lists %d changes, want 2:\n%s", n, related)
	}
	settle(t, e)

	// The weekly report counts the recurrence.
	setDemoEnv(t, e)
	t.Setenv("COESYNC_RULES_FILE", rules)
	t.Setenv("COESYNC_PAGERDUTY_API_URL", e.PD.URL())
	var out, errOut strings.Builder
	since := now.Add(-24 * time.Hour).Format("2006-01-02")
	if err := run(ctx, []string{"report", "--since", since, "--format", "json"}, &out, &errOut); err != nil {
		t.Fatalf("report: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Summary["coes_created"] != float64(2) || rep.Summary["recurrences"] != float64(1) {
		t.Errorf("report summary = %v, want 2 COEs, 1 recurrence", rep.Summary)
	}

	// Preview of the second incident shows the same, and writes nothing.
	issuesBefore := len(e.Jira.Issues())
	out.Reset()
	if err := run(ctx, []string{"preview", fx2.ID}, &out, &errOut); err != nil {
		t.Fatalf("preview: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"*Recurrence:* this incident repeats the COE " + key1,
		"Deployment of v2.31.0 (9b8c7d6) to production in acme/checkout",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("preview lacks %q", want)
		}
	}
	if len(e.Jira.Issues()) != issuesBefore {
		t.Error("preview wrote to Jira")
	}
}

// GitHub failing never costs the COE: a repository coesync cannot list is
// named in the COE; a 5xx makes the job retry while the incident is fresh
// (the retry lists the changes), and is noted in the COE of an incident
// resolved longer ago than the retry budget (backfill, a late webhook).
func TestChangesFailuresDoNotBlockTheCOE(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("services:\n  - service: PSVC001\n    repos: ["+demoRepo+", acme/secret]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.RulesFile = rules }})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	if _, err := e.GitHub.AddPullRequest(demoRepo, ghtest.PullRequest{Title: "Tune timeouts", Author: "alice", MergedAt: now.Add(-3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	draft := func(id string, trigger time.Time, failures int) string {
		t.Helper()
		// The first request of the job meets a bad gateway: nothing else
		// may be talking to GitHub (the passes River runs on start, the
		// first COE's items being mirrored).
		startJobsDone(t, e)
		settle(t, e)
		e.GitHub.FailNext(failures, http.StatusBadGateway, 0)
		fx := pdtest.RichIncident(id, trigger) // resolved 47 minutes after the trigger
		e.PD.AddIncident(fx)
		if code, err := e.SendResolved(ctx, fx, "evt-"+id); err != nil || code != http.StatusAccepted {
			t.Fatalf("webhook: %d %v", code, err)
		}
		c, err := e.WaitCOE(ctx, fx.ID, 40*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		is, _ := e.Jira.Issue(c.TicketKey)
		return section(is.Description, "Related items")
	}

	// Resolved 3 minutes ago: the job retries and the COE lists the change.
	related := draft("PFRESH1", now.Add(-50*time.Minute), 1)
	for _, want := range []string{
		"merged into main: Tune timeouts (by alice)",
		"** _acme/secret: changes could not be listed (github HTTP 404",
	} {
		if !strings.Contains(related, want) {
			t.Errorf("fresh incident: related items lack %q:\n%s", want, related)
		}
	}
	if strings.Contains(related, "HTTP 502") {
		t.Errorf("fresh incident: the 502 reached the COE instead of being retried:\n%s", related)
	}

	// Resolved an hour ago: no retry of the job, the COE says what failed.
	// A read is tried three times within the attempt, so the gateway fails
	// long enough for every try (two repositories, deployments and pull
	// requests each, listed in parallel). acme/secret's line may name its
	// 404 (the first of its errors) instead.
	const olderFailures = 12
	related = draft("POLDER1", now.Add(-2*time.Hour), olderFailures)
	hit := ""
	for _, r := range e.GitHub.Requests() {
		if r.Status == http.StatusBadGateway {
			hit = strings.Split(strings.TrimPrefix(r.Path, "/repos/"), "/")[1]
		}
	}
	want := `\*\* _acme/` + regexp.QuoteMeta(hit) + `: changes could not be listed \(github HTTP 502`
	if hit == "secret" {
		want = `\*\* _acme/secret: changes could not be listed \(github HTTP (502|404)`
	}
	if !regexp.MustCompile(want).MatchString(related) {
		t.Errorf("older incident: related items do not name the failure of acme/%s:\n%s", hit, related)
	}
	var bad int
	for _, r := range e.GitHub.Requests() {
		if r.Status == http.StatusBadGateway {
			bad++
		}
	}
	// The fresh incident's one 502, and at least one read that met it on
	// each of its three tries; never more than were injected.
	if bad < 1+3 || bad > 1+olderFailures {
		t.Errorf("%d answers 502, want between %d and %d", bad, 1+3, 1+olderFailures)
	}
	if n := len(coeTickets(e)); n != 2 {
		t.Errorf("%d COE tickets, want 2", n)
	}
}

// The demo's seed (for the lead's demo step): three changes in the window,
// two outside it.
func TestDemoChangesSeed(t *testing.T) {
	t.Parallel()
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte(demoServicesRules), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.RulesFile = rules }})
	ctx := context.Background()
	trigger := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	if err := seedDemoChanges(e.GitHub, trigger); err != nil {
		t.Fatal(err)
	}
	fx := pdtest.RichIncident("PDEMOCH", trigger)
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-demo-changes"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	c, err := e.WaitCOE(ctx, fx.ID, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	is, _ := e.Jira.Issue(c.TicketKey)
	related := section(is.Description, "Related items")
	if n := strings.Count(related, "** 20"); n != 3 {
		t.Errorf("%d changes listed, want 3:\n%s", n, related)
	}
	for _, absent := range []string{"2.30.0", "Refactor the cart service"} {
		if strings.Contains(is.Description, absent) {
			t.Errorf("lists %q, which is outside the window", absent)
		}
	}
}
