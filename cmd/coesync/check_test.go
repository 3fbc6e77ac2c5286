package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// checkFakes are fakes of the three systems, configurable per case.
type checkFakes struct {
	jiraOpts jiratest.Options
	// item creates an open action item in OPS (for the transition check).
	item bool
	// coe creates an open COE ticket in OPS.
	coe bool
	// gh adjusts the fake GitHub.
	gh func(*ghtest.Server)
	// pd adjusts the fake PagerDuty.
	pd func(*pdtest.Server)
	// cfg adjusts the configuration pointing at the fakes.
	cfg func(*config.Config)
}

// runCheckAgainst runs every live check against fresh fakes and returns
// the checklist's output and whether it failed.
func runCheckAgainst(t *testing.T, f checkFakes) (string, bool) {
	t.Helper()
	ctx := context.Background()
	pd := pdtest.New(demoPDToken)
	t.Cleanup(pd.Close)
	addBot(pd, checkBot)
	if f.pd != nil {
		f.pd(pd)
	}
	if f.jiraOpts.User == "" {
		f.jiraOpts.User, f.jiraOpts.Token = demoJiraUser, demoJiraToken
	}
	js := jiratest.New(f.jiraOpts)
	t.Cleanup(js.Close)
	gs := ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	t.Cleanup(gs.Close)
	if f.gh != nil {
		f.gh(gs)
	}
	cfg := demoConfig(pd.URL(), js.URL, gs.URL(), filepath.Join(t.TempDir(), "x.db"), checkBot)
	if f.cfg != nil {
		f.cfg(&cfg)
	}
	router, err := cfg.LoadRouter()
	if err != nil {
		t.Fatal(err)
	}
	c, err := newClients(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.item {
		if _, err := c.jira.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "an action item",
			Labels: []string{engine.ActionItemLabel}}); err != nil {
			t.Fatal(err)
		}
	}
	if f.coe {
		if _, err := c.jira.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE: an incident",
			Labels: []string{"coe"}}); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	cl := &checklist{out: &out}
	var gh checkGitHub
	if c.github != nil {
		gh = c.github
	}
	runChecks(ctx, cl, cfg, router.Destinations(), c.pd, c.jira, gh)
	err = cl.finish()
	return out.String(), err != nil
}

// checkBot is the COESYNC_PAGERDUTY_FROM of the checks, a user of the fake account.
const checkBot = "coesync@example.com"

func TestCheckReportsEachMisconfigurationWithItsFix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    checkFakes
		want []string // lines that must appear, in this order
	}{
		{"pagerduty token", checkFakes{cfg: func(c *config.Config) { c.PagerDutyToken = "wrong" }},
			[]string{"[FAIL] PagerDuty credentials", "fix: create a REST API key with read access", "COESYNC_PAGERDUTY_TOKEN"}},
		{"pagerduty from not a user", checkFakes{cfg: func(c *config.Config) { c.PagerDutyFrom = "stranger@example.com" }},
			[]string{"[FAIL] PagerDuty notes: COESYNC_PAGERDUTY_FROM stranger@example.com is not a user of the PagerDuty account",
				"fix: set COESYNC_PAGERDUTY_FROM to the email of a PagerDuty user"}},
		{"pagerduty read-only key", checkFakes{pd: func(s *pdtest.Server) { s.ReadOnly(true) }},
			[]string{"[FAIL] PagerDuty notes: pagerduty: probe note write: the API key may not write",
				"fix: create a REST API key with full access"}},
		{"jira token", checkFakes{cfg: func(c *config.Config) { c.JiraToken = "wrong" }},
			[]string{"[FAIL] Jira credentials", "fix: Jira Cloud: set COESYNC_JIRA_USER"}},
		{"jira project", checkFakes{cfg: func(c *config.Config) { c.JiraProject = "NOPE" }},
			[]string{"[FAIL] Jira project NOPE", "fix: check the project key (COESYNC_JIRA_PROJECT or the rule's jira.project)"}},
		{"coe issue type", checkFakes{cfg: func(c *config.Config) { c.JiraIssueType = "COE" }},
			[]string{`[FAIL] Jira OPS issue type "COE" (COE): issue type "COE" does not exist in OPS (it has: Task, Bug, Sub-task)`,
				`fix: add "COE" to the project's issue type scheme, or set COESYNC_JIRA_ISSUE_TYPE to one of: Task, Bug, Sub-task`}},
		{"sub-task type", checkFakes{jiraOpts: jiratest.Options{Projects: []jiratest.Project{{Key: "OPS", Name: "Ops",
			IssueTypes: []jiratest.IssueType{{Name: "Task"}}}}}},
			[]string{`[FAIL] Jira OPS sub-task type "Sub-task" (action items)`, "fix: add \"Sub-task\" to the project's issue type scheme, or set COESYNC_JIRA_SUBTASK_TYPE"}},
		{"sub-task type that is not one", checkFakes{cfg: func(c *config.Config) { c.JiraSubtaskType = "Bug" }},
			[]string{`[FAIL] Jira OPS sub-task type "Bug" (action items): "Bug" is not a sub-task type in OPS`, "fix: set COESYNC_JIRA_SUBTASK_TYPE to a sub-task type of OPS"}},
		{"required field", checkFakes{jiraOpts: jiratest.Options{Projects: []jiratest.Project{{Key: "OPS", Name: "Ops",
			IssueTypes: []jiratest.IssueType{{Name: "Task", RequiredFields: []string{"Customer impact"}}, {Name: "Sub-task", Subtask: true}}}}}},
			[]string{`[FAIL] Jira OPS issue type "Task" (COE): required field "Customer impact" (customfield_10100) has no default and coesync does not set it`,
				"fix: give it a default value or make it optional in the field configuration of OPS"}},
		{"done transition", checkFakes{item: true},
			[]string{"[FAIL] Jira OPS done transition: none of Done, Closed, Resolved is offered on OPS-1",
				"fix: set COESYNC_JIRA_DONE_TRANSITIONS to the transition's name in your workflow (one of: In Progress)",
				"[WARN] Jira OPS reopen transition: not verified: no done action item in OPS yet"}},
		{"coe done transition", checkFakes{item: true, coe: true, jiraOpts: jiratest.Options{Transitions: demoWorkflow()},
			cfg: func(c *config.Config) { c.JiraCOEDoneTransition = "Close COE" }},
			[]string{`[ok  ] Jira OPS done transition: "Done" is offered on OPS-1`,
				"[FAIL] Jira OPS COE done transition: none of Close COE is offered on OPS-2",
				"fix: set COESYNC_JIRA_COE_DONE_TRANSITION to the transition's name in your workflow (one of: In Progress, Done)"}},
		{"github token", checkFakes{cfg: func(c *config.Config) { c.GitHubToken = "wrong" }},
			[]string{"[FAIL] GitHub credentials", "fix: create a fine-grained token with Issues: read and write"}},
		{"github repo missing", checkFakes{cfg: func(c *config.Config) { c.GitHubRepo = "acme/nope" }},
			[]string{"[FAIL] GitHub repository acme/nope: not found, or the token cannot see it", "fix: check the name in COESYNC_GITHUB_REPO"}},
		{"github read only", checkFakes{gh: func(s *ghtest.Server) { s.SetRepoAccess(demoRepo, ghtest.RepoAccess{ReadOnly: true}) }},
			[]string{"[FAIL] GitHub repository acme/checkout: the token can read it but not write issues", "fix: give the token Issues: read and write on acme/checkout"}},
		{"github archived", checkFakes{gh: func(s *ghtest.Server) { s.SetRepoAccess(demoRepo, ghtest.RepoAccess{Archived: true}) }},
			[]string{"[FAIL] GitHub repository acme/checkout: archived", "fix: unarchive it"}},
		{"github issues off", checkFakes{gh: func(s *ghtest.Server) { s.SetRepoAccess(demoRepo, ghtest.RepoAccess{NoIssues: true}) }},
			[]string{"[FAIL] GitHub repository acme/checkout: issues are turned off", "fix: turn on Issues"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, failed := runCheckAgainst(t, tt.f)
			if !failed {
				t.Errorf("check passed:\n%s", out)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if n := strings.Count(out, "[FAIL]"); n != 1 {
				t.Errorf("%d failures, want exactly the one configured:\n%s", n, out)
			}
			for _, secret := range []string{demoPDToken, demoJiraToken, ghtest.DefaultToken, "wrong"} {
				if strings.Contains(out, secret) {
					t.Errorf("output contains the secret %q", secret)
				}
			}
		})
	}
}

func TestCheckPassesOnAGoodSetup(t *testing.T) {
	t.Parallel()
	out, failed := runCheckAgainst(t, checkFakes{item: true, jiraOpts: jiratest.Options{Transitions: demoWorkflow()}})
	if failed {
		t.Fatalf("check failed:\n%s", out)
	}
	for _, want := range []string{"[ok  ] PagerDuty credentials",
		"[ok  ] PagerDuty notes: coesync@example.com is a user of the account and the key may write notes", "[ok  ] Jira credentials", "[ok  ] Jira project OPS",
		`[ok  ] Jira OPS issue type "Task" (COE)`, `[ok  ] Jira OPS sub-task type "Sub-task" (action items)`,
		`[ok  ] Jira OPS done transition: "Done" is offered on OPS-1`, "[ok  ] GitHub credentials: authenticated as coesync-bot",
		"[ok  ] GitHub repository acme/checkout: writable", "0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The command: configuration and rules errors are checklist lines too,
// and any failure exits 1.
func TestCheckCommand(t *testing.T) {
	e := startTestDemo(t, demoOptions{})
	setDemoEnv(t, e)
	t.Setenv("COESYNC_PAGERDUTY_API_URL", e.PD.URL())
	ctx := context.Background()
	var out, errOut strings.Builder
	if err := run(ctx, []string{"check"}, &out, &errOut); err != nil {
		t.Fatalf("check on the demo setup: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "[ok  ] configuration") || !strings.Contains(out.String(), "0 failed") {
		t.Errorf("output:\n%s", out.String())
	}

	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte("rules:\n  - name: x\n    servce: y\n"), 0o600)
	t.Setenv("COESYNC_RULES_FILE", rules)
	out.Reset()
	err := run(ctx, []string{"check"}, &out, &errOut)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out.String(), "[FAIL] rules: COESYNC_RULES_FILE: ") ||
		!strings.Contains(out.String(), "fix: correct the rules file at the line named") {
		t.Errorf("bad rules: err %v, output:\n%s", err, out.String())
	}
	t.Setenv("COESYNC_RULES_FILE", "")
	t.Setenv("COESYNC_JIRA_URL", "not a url")
	out.Reset()
	err = run(ctx, []string{"check"}, &out, &errOut)
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(out.String(), "[FAIL] configuration: COESYNC_JIRA_URL: want an http(s) URL") {
		t.Errorf("bad configuration: err %v, output:\n%s", err, out.String())
	}
}

// A misspelt variable is ignored by the configuration (its default is
// used): check names it with the setting it was probably meant to be.
func TestCheckNamesAMisspeltVariable(t *testing.T) {
	t.Setenv("COESYNC_JIRA_PROJET", "OPS")
	var out, errb strings.Builder
	err := run(context.Background(), []string{"check"}, &out, &errb)
	if err == nil {
		t.Fatal("check passed with a misspelt variable")
	}
	if !strings.Contains(out.String(), "COESYNC_JIRA_PROJET is not a coesync setting; did you mean COESYNC_JIRA_PROJECT?") {
		t.Errorf("check does not name the misspelt variable:\n%s", out.String())
	}
}
