package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
)

// checkStatus is the outcome of one check.
type checkStatus int

const (
	checkOK checkStatus = iota
	checkWarn
	checkFail
)

// checkItem is one line of the checklist.
type checkItem struct {
	Status checkStatus
	What   string
	Detail string
	Fix    string
}

// checklist collects and prints the checks.
type checklist struct {
	out   io.Writer
	items []checkItem
}

func (c *checklist) add(st checkStatus, what, detail, fix string) {
	it := checkItem{Status: st, What: what, Detail: detail, Fix: fix}
	c.items = append(c.items, it)
	mark := map[checkStatus]string{checkOK: "ok  ", checkWarn: "WARN", checkFail: "FAIL"}[st]
	fmt.Fprintf(c.out, "[%s] %s", mark, what)
	if detail != "" {
		fmt.Fprintf(c.out, ": %s", oneLine(detail, 300))
	}
	fmt.Fprintln(c.out)
	if fix != "" && st != checkOK {
		fmt.Fprintf(c.out, "       fix: %s\n", fix)
	}
}

func (c *checklist) ok(what, detail string)                     { c.add(checkOK, what, detail, "") }
func (c *checklist) warn(what, detail, fix string)              { c.add(checkWarn, what, detail, fix) }
func (c *checklist) fail(what, detail, fix string)              { c.add(checkFail, what, detail, fix) }
func (c *checklist) failErr(what string, err error, fix string) { c.fail(what, errText(err), fix) }

func (c *checklist) count(st checkStatus) int {
	n := 0
	for _, it := range c.items {
		if it.Status == st {
			n++
		}
	}
	return n
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// checkJira is what `coesync check` asks Jira.
type checkJira interface {
	Myself(ctx context.Context) (string, error)
	IssueTypes(ctx context.Context, project string) ([]jira.IssueTypeMeta, error)
	CreateFields(ctx context.Context, project, typeID string) ([]jira.FieldMeta, error)
	RecentItems(ctx context.Context, project, label string) ([]coe.JiraItem, error)
	Transitions(ctx context.Context, key string) ([]string, error)
}

// checkGitHub is what `coesync check` asks GitHub.
type checkGitHub interface {
	Viewer(ctx context.Context) (string, error)
	RepoAccess(ctx context.Context, repo string) (github.RepoAccess, error)
}

// checkPagerDuty is what `coesync check` asks PagerDuty.
type checkPagerDuty interface {
	CheckAccess(ctx context.Context) error
	IsUser(ctx context.Context, email string) (bool, error)
	ProbeNoteWrite(ctx context.Context) error
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	cl := &checklist{out: stdout}
	for _, w := range config.UnknownSettings(os.Environ()) {
		cl.fail("configuration", w, "rename or unset it: coesync ignores it and uses the default")
	}
	cfg, err := config.Load()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			cl.fail("configuration", line, "set the variable named at the start of the line as docs/configuration.md says")
		}
		return cl.finish()
	}
	cl.ok("configuration", "every COESYNC_* variable is valid")
	router, err := cfg.LoadRouter()
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			cl.fail("rules", line, "correct the rules file at the line named (see config/testdata/rules.example.yaml)")
		}
		return cl.finish()
	}
	if cfg.RulesFile != "" {
		cl.ok("rules", cfg.RulesFile+" parses and routes every incident")
	}
	c, err := newClients(cfg, nil)
	if err != nil {
		cl.failErr("clients", err, "correct the API URLs and tokens")
		return cl.finish()
	}
	var gh checkGitHub
	if c.github != nil {
		gh = c.github
	}
	runChecks(ctx, cl, cfg, router.Destinations(), c.pd, c.jira, gh)
	return cl.finish()
}

// finish prints the summary; any failure is exit status 1.
func (c *checklist) finish() error {
	failed, warned := c.count(checkFail), c.count(checkWarn)
	fmt.Fprintf(c.out, "\n%d passed, %d warnings, %d failed\n", c.count(checkOK), warned, failed)
	if failed > 0 {
		return &exitError{1, fmt.Errorf("check: %d of %d checks failed", failed, len(c.items))}
	}
	return nil
}

// checkPagerDutyNotes checks what the note on each incident needs: that
// COESYNC_PAGERDUTY_FROM is the email of a user of the account (GET
// /users), and that the key may write, proved by a note on an incident
// that cannot exist (404 passes, 403 is a read-only key): nothing is
// written.
func checkPagerDutyNotes(ctx context.Context, cl *checklist, from string, pd checkPagerDuty) {
	const what = "PagerDuty notes"
	if from == "" {
		cl.ok(what, "COESYNC_PAGERDUTY_FROM is not set: coesync adds no note with the COE link to incidents")
		return
	}
	shown := termSafe(from, 80)
	if ok, err := pd.IsUser(ctx, from); err != nil {
		cl.failErr(what, err, "give the key access to list users, or check COESYNC_PAGERDUTY_FROM")
		return
	} else if !ok {
		cl.fail(what, "COESYNC_PAGERDUTY_FROM "+shown+" is not a user of the PagerDuty account (PagerDuty refuses notes from anyone else)",
			"set COESYNC_PAGERDUTY_FROM to the email of a PagerDuty user (for example a service account user), or unset it to add no notes")
		return
	}
	if err := pd.ProbeNoteWrite(ctx); err != nil {
		fix := "check COESYNC_PAGERDUTY_TOKEN"
		if errors.Is(err, pagerduty.ErrReadOnly) {
			fix = "create a REST API key with full access (Integrations → API Access Keys), or unset COESYNC_PAGERDUTY_FROM to add no notes"
		}
		cl.failErr(what, err, fix)
		return
	}
	cl.ok(what, shown+" is a user of the account and the key may write notes (probed on an incident that cannot exist; nothing written)")
}

// runChecks checks the live systems against the configuration and the
// routes: credentials, Jira projects (issue types, sub-task type, required
// fields, transitions) and GitHub repositories (writable).
func runChecks(ctx context.Context, cl *checklist, cfg config.Config, routes []coe.Route, pd checkPagerDuty, jc checkJira, gh checkGitHub) {
	if err := pd.CheckAccess(ctx); err != nil {
		cl.failErr("PagerDuty credentials", err, credentialFix(err,
			"create a REST API key with read access (Integrations → API Access Keys) and set COESYNC_PAGERDUTY_TOKEN",
			"check COESYNC_PAGERDUTY_API_URL (https://api.pagerduty.com, or https://api.eu.pagerduty.com for EU accounts)"))
	} else {
		cl.ok("PagerDuty credentials", "the token can list incidents")
		checkPagerDutyNotes(ctx, cl, cfg.PagerDutyFrom, pd)
	}

	jiraOK := true
	if who, err := jc.Myself(ctx); err != nil {
		jiraOK = false
		cl.failErr("Jira credentials", err, credentialFix(err,
			"Jira Cloud: set COESYNC_JIRA_USER to the account's email and COESYNC_JIRA_TOKEN to an API token; Data Center: leave COESYNC_JIRA_USER empty and use a personal access token",
			"check COESYNC_JIRA_URL (the site's base URL, e.g. https://acme.atlassian.net)"))
	} else {
		cl.ok("Jira credentials", "authenticated as "+termSafe(who, 80))
	}
	if jiraOK {
		checkJiraProjects(ctx, cl, cfg, routes, jc)
	}

	repos := map[string]bool{}
	for _, r := range routes {
		if r.GitHubRepo != "" {
			repos[r.GitHubRepo] = true
		}
	}
	if repo, _, ok := cfg.ReportIssue(); ok {
		repos[repo] = true
	}
	if gh == nil {
		if len(repos) == 0 {
			cl.ok("GitHub", "not configured (COEs only; action items stay in Jira)")
		}
		return
	}
	if login, err := gh.Viewer(ctx); err != nil && engine.StatusOf(err) != http.StatusForbidden {
		cl.failErr("GitHub credentials", err, credentialFix(err,
			"create a fine-grained token with Issues: read and write on the action-item repositories and set COESYNC_GITHUB_TOKEN",
			"check COESYNC_GITHUB_API_URL (https://HOST/api/v3/ for GitHub Enterprise Server)"))
		return
	} else if err != nil {
		cl.ok("GitHub credentials", "the token is accepted (an installation token: it has no user)")
	} else {
		cl.ok("GitHub credentials", "authenticated as "+termSafe(login, 80))
	}
	for _, repo := range sortedSet(repos) {
		what := "GitHub repository " + repo
		a, err := gh.RepoAccess(ctx, repo)
		switch {
		case engine.StatusOf(err) == http.StatusNotFound:
			cl.fail(what, "not found, or the token cannot see it",
				"check the name in COESYNC_GITHUB_REPO or the rule's github.repo, and give the token access to the repository (fine-grained tokens list their repositories)")
		case err != nil:
			cl.failErr(what, err, "check that GitHub is reachable and the token valid")
		case a.Archived:
			cl.fail(what, "archived: GitHub refuses new issues", "unarchive it, or route action items to another repository")
		case !a.HasIssues:
			cl.fail(what, "issues are turned off", "turn on Issues in the repository's settings (Settings → General → Features)")
		case !a.Push:
			cl.fail(what, "the token can read it but not write issues", "give the token Issues: read and write on "+repo+" (or push access for a classic token)")
		default:
			cl.ok(what, "writable")
		}
	}
}

// credentialFix picks the fix for a failed credential check.
func credentialFix(err error, badToken, unreachable string) string {
	switch engine.StatusOf(err) {
	case http.StatusUnauthorized, http.StatusForbidden:
		return badToken
	case 0:
		return unreachable
	}
	return badToken + "; " + unreachable
}

// fieldsCoesyncSets are the fields coesync fills when it creates a COE or
// an action item; a required field outside them must have a default.
var fieldsCoesyncSets = []string{"summary", "issuetype", "project", "description", "labels", "parent", "reporter"}

func checkJiraProjects(ctx context.Context, cl *checklist, cfg config.Config, routes []coe.Route, jc checkJira) {
	type need struct {
		types      map[string][]string // issue type → rules that route there
		components bool
		priority   bool
	}
	projects := map[string]*need{}
	for _, r := range routes {
		if r.Project == "" {
			continue
		}
		n := projects[r.Project]
		if n == nil {
			n = &need{types: map[string][]string{}}
			projects[r.Project] = n
		}
		rule := r.Rule
		if rule == "" {
			rule = "the default route"
		}
		n.types[r.IssueType] = append(n.types[r.IssueType], rule)
		n.components = n.components || len(r.Components) > 0
		n.priority = n.priority || r.Priority != ""
	}
	for _, p := range sortedKeysOf(projects) {
		n := projects[p]
		types, err := jc.IssueTypes(ctx, p)
		if err != nil {
			fix := "check the project key (COESYNC_JIRA_PROJECT or the rule's jira.project) and give the Jira account Browse and Create issues in it"
			if engine.StatusOf(err) == 0 {
				fix = "check that Jira is reachable"
			}
			cl.failErr("Jira project "+p, err, fix)
			continue
		}
		cl.ok("Jira project "+p, "the account can create issues")
		byName := map[string]jira.IssueTypeMeta{}
		var names []string
		for _, t := range types {
			byName[strings.ToLower(t.Name)] = t
			names = append(names, t.Name)
		}
		available := strings.Join(names, ", ")
		extra := []string{}
		if n.components {
			extra = append(extra, "components")
		}
		if n.priority {
			extra = append(extra, "priority")
		}
		checkType := func(what, name, setting string, subtask bool) {
			t, ok := byName[strings.ToLower(name)]
			switch {
			case !ok:
				cl.fail(what, fmt.Sprintf("issue type %q does not exist in %s (it has: %s)", name, p, available),
					fmt.Sprintf("add %q to the project's issue type scheme, or set %s to one of: %s", name, setting, available))
				return
			case t.Subtask != subtask && subtask:
				cl.fail(what, fmt.Sprintf("%q is not a sub-task type in %s", name, p),
					fmt.Sprintf("set %s to a sub-task type of %s", setting, p))
				return
			case t.Subtask != subtask:
				cl.fail(what, fmt.Sprintf("%q is a sub-task type in %s; a COE must be a standard issue", name, p),
					fmt.Sprintf("set %s to a standard issue type of %s (%s)", setting, p, available))
				return
			}
			fields, err := jc.CreateFields(ctx, p, t.ID)
			if err != nil {
				cl.failErr(what, err, "give the Jira account Create issues in "+p)
				return
			}
			var missing []string
			have := map[string]bool{}
			for _, f := range fields {
				have[f.ID] = true
				if f.Required && !f.HasDefault && !slices.Contains(fieldsCoesyncSets, f.ID) {
					missing = append(missing, fmt.Sprintf("%q (%s)", f.Name, f.ID))
				}
			}
			var absent []string
			for _, f := range extra {
				if !have[f] && !subtask {
					absent = append(absent, f)
				}
			}
			switch {
			case len(missing) > 0:
				cl.fail(what, fmt.Sprintf("required field %s has no default and coesync does not set it", strings.Join(missing, ", ")),
					fmt.Sprintf("give it a default value or make it optional in the field configuration of %s, or route to another issue type", p))
			case len(absent) > 0:
				cl.fail(what, fmt.Sprintf("field %s is not on the create screen but a rule sets it", strings.Join(absent, ", ")),
					fmt.Sprintf("add it to the create screen of %s %s, or remove it from the rule", p, name))
			default:
				cl.ok(what, "exists; every required field is set by coesync or has a default")
			}
		}
		for _, ty := range sortedKeysOf(n.types) {
			setting := "COESYNC_JIRA_ISSUE_TYPE"
			if rules := n.types[ty]; !slices.Contains(rules, "the default route") {
				setting = "jira.issue_type of " + strings.Join(rules, ", ")
			}
			checkType(fmt.Sprintf("Jira %s issue type %q (COE)", p, ty), ty, setting, false)
		}
		if cfg.SeedActionItems {
			checkType(fmt.Sprintf("Jira %s sub-task type %q (action items)", p, cfg.JiraSubtaskType), cfg.JiraSubtaskType, "COESYNC_JIRA_SUBTASK_TYPE", true)
		}
		checkTransitions(ctx, cl, cfg, p, jc)
	}
}

// checkTransitions verifies the configured transitions. Jira offers an
// issue only the transitions out of its current status, and reading a
// workflow needs admin rights, so coesync looks at the most recently
// updated action items of the project (label coe-action-item): an open one
// must offer one of COESYNC_JIRA_DONE_TRANSITIONS, a done one one of
// COESYNC_JIRA_REOPEN_TRANSITIONS. Without such an item the check is a
// warning (not verified), not a failure.
func checkTransitions(ctx context.Context, cl *checklist, cfg config.Config, p string, jc checkJira) {
	items, err := jc.RecentItems(ctx, p, engine.ActionItemLabel)
	if err != nil {
		cl.failErr("Jira "+p+" transitions", err, "give the Jira account Browse in "+p)
		return
	}
	var open, done *coe.JiraItem
	for i := range items {
		if items[i].Done && done == nil {
			done = &items[i]
		}
		if !items[i].Done && open == nil {
			open = &items[i]
		}
	}
	one := func(kind, setting string, sample *coe.JiraItem, want []string, state string) {
		what := fmt.Sprintf("Jira %s %s transition", p, kind)
		if len(want) == 0 {
			return
		}
		if sample == nil {
			cl.warn(what, fmt.Sprintf("not verified: no %s in %s yet", state, p),
				fmt.Sprintf("run coesync check again once there is a %s in %s", state, p))
			return
		}
		avail, err := jc.Transitions(ctx, sample.Key)
		if err != nil {
			cl.failErr(what, err, "give the Jira account Transition issues in "+p)
			return
		}
		for _, w := range want {
			for _, a := range avail {
				if strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(w)) {
					cl.ok(what, fmt.Sprintf("%q is offered on %s (%s)", a, sample.Key, termSafe(sample.Status, 40)))
					return
				}
			}
		}
		cl.fail(what, fmt.Sprintf("none of %s is offered on %s (status %q; offered: %s)", strings.Join(want, ", "), sample.Key,
			termSafe(sample.Status, 40), strings.Join(avail, ", ")),
			fmt.Sprintf("set %s to the transition's name in your workflow (one of: %s), or add such a transition to the workflow of %s", setting, strings.Join(avail, ", "), p))
	}
	one("done", "COESYNC_JIRA_DONE_TRANSITIONS", open, cfg.JiraDoneTransitions, "open action item")
	one("reopen", "COESYNC_JIRA_REOPEN_TRANSITIONS", done, cfg.JiraReopenTransitions, "done action item")
	if len(cfg.JiraWontDoTransitions) > 0 {
		one("won't do", "COESYNC_JIRA_WONTDO_TRANSITIONS", open, cfg.JiraWontDoTransitions, "open action item")
	}
	if t := cfg.JiraCOEDoneTransition; t != "" {
		// The same on an open COE ticket (label coe).
		coes, err := jc.RecentItems(ctx, p, "coe")
		if err != nil {
			cl.failErr("Jira "+p+" COE done transition", err, "give the Jira account Browse in "+p)
			return
		}
		var openCOE *coe.JiraItem
		for i := range coes {
			if !coes[i].Done && coes[i].Parent == "" && !coes[i].HasLabel(engine.ActionItemLabel) {
				openCOE = &coes[i]
				break
			}
		}
		one("COE done", "COESYNC_JIRA_COE_DONE_TRANSITION", openCOE, []string{t}, "open COE")
	}
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
