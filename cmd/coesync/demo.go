package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/report"
	"github.com/coesync/coesync/sync/store"
)

// Credentials of the demo's fakes; they exist only inside this process.
const (
	demoPDToken   = "demo-pagerduty-token"
	demoSecret    = "demo-webhook-secret"
	demoJiraUser  = "coesync@example.com"
	demoJiraToken = "demo-jira-token"
	demoGHSecret  = "demo-github-webhook-secret"
	demoJiraHook  = "demo-jira-webhook-secret"
	demoRepo      = "acme/checkout"
)

// demoWorkflow is a Jira workflow where any status can go to Done, as in
// Jira's simplified workflows, with Reopen back from Done.
func demoWorkflow() []jiratest.Transition {
	return []jiratest.Transition{
		{ID: "11", Name: "To Do", From: []string{"In Progress"}, To: "To Do"},
		{ID: "21", Name: "In Progress", From: []string{"To Do"}, To: "In Progress"},
		{ID: "31", Name: "Done", From: []string{"To Do", "In Progress"}, To: "Done"},
		{ID: "41", Name: "Reopen", From: []string{"Done"}, To: "To Do"},
	}
}

// demoEnv is a coesync process wired to fakes of PagerDuty and Jira.
type demoEnv struct {
	PD     *pdtest.Server
	Jira   *jiratest.Server
	GitHub *ghtest.Server
	App    *App
	URL    string // coesync's base URL (webhooks)
	// AdminURL is the admin listener's base URL (/, /report, /metrics, /readyz).
	AdminURL string
	dir      string
	stop     context.CancelFunc
	stopped  chan error
}

type demoOptions struct {
	dbPath       string
	log          *slog.Logger
	searchLag    time.Duration
	searchSettle time.Duration
	pdFrom       string
	// edit adjusts the configuration (tests).
	edit func(*config.Config)
	// jiraWorkflow overrides demoWorkflow (tests of missing transitions).
	jiraWorkflow []jiratest.Transition
	// noWebhooks leaves the fakes silent: only reconcile sees changes.
	noWebhooks bool
}

// demoConfig is the configuration a real deployment would give through
// COESYNC_* variables, pointing at the fakes.
func demoConfig(pdURL, jiraURL, ghURL, dbPath, from string) config.Config {
	c := config.Defaults()
	c.ListenAddr = "127.0.0.1:0"
	c.DatabaseURL = config.DSN(dbPath)
	c.PagerDutyAPIURL = pdURL
	c.PagerDutyToken = demoPDToken
	c.PagerDutyWebhookSecrets = config.Secrets{demoSecret}
	c.PagerDutyFrom = from
	c.JiraURL = jiraURL
	c.JiraUser = demoJiraUser
	c.JiraToken = demoJiraToken
	c.JiraProject = "OPS"
	c.GitHubAPIURL = ghURL
	c.GitHubToken = ghtest.DefaultToken
	c.GitHubRepo = demoRepo
	c.GitHubWebhookSecret = demoGHSecret
	c.JiraWebhookSecret = demoJiraHook
	c.Workers = 4
	c.HTTPTimeout = 10 * time.Second
	c.ReconcileInterval = time.Hour // the demo and tests run reconcile by hand
	return c
}

func coeTicketKeys(e *demoEnv) []string {
	var keys []string
	for _, is := range e.Jira.Issues() {
		if is.Parent == "" {
			keys = append(keys, is.Key)
		}
	}
	return keys
}

// demoActionItems shows the action items of the rich incident's COE
// mirrored to GitHub, and one of them closed on GitHub flowing back to Jira.
func demoActionItems(ctx context.Context, e *demoEnv, stdout io.Writer) error {
	c, err := e.App.Store.COE(ctx, "PDEMO01")
	if err != nil {
		return err
	}
	var items []store.ActionItem
	deadline := time.Now().Add(20 * time.Second)
	for {
		if items, err = e.App.Store.ActionItems(ctx, c.TicketKey); err != nil {
			return err
		}
		linked := 0
		for _, it := range items {
			if it.Number != 0 {
				linked++
			}
		}
		if linked == 2 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("action items of %s were not mirrored in time (%d of 2)", c.TicketKey, linked)
		}
		time.Sleep(25 * time.Millisecond)
	}
	fmt.Fprintf(stdout, "=== Action items of %s: proposed in PagerDuty notes, created as Jira sub-tasks, mirrored to GitHub\n", c.TicketKey)
	for _, it := range items {
		fmt.Fprintf(stdout, "    %-7s → %s#%d  %q\n", it.JiraKey, it.Repo, it.Number, it.Title)
	}
	it := items[0]
	fmt.Fprintf(stdout, "\nSomeone closes %s#%d on GitHub as completed...\n", it.Repo, it.Number)
	if err := e.GitHub.CloseIssue(it.Repo, it.Number, "completed"); err != nil {
		return err
	}
	for deadline = time.Now().Add(20 * time.Second); ; {
		is, _ := e.Jira.Issue(it.JiraKey)
		if is.Status == "Done" {
			fmt.Fprintf(stdout, "    → coesync transitioned %s to %s in Jira (webhook → sync job), without echoing back.\n\n", it.JiraKey, is.Status)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not follow its GitHub issue", it.JiraKey)
		}
		time.Sleep(25 * time.Millisecond)
	}
	// The roll-up comment on the COE is edited in place.
	for deadline = time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(25 * time.Millisecond) {
		is, _ := e.Jira.Issue(c.TicketKey)
		for _, cm := range is.Comments {
			if strings.Contains(cm.Body, "coesync:rollup") && strings.Contains(cm.Body, "1 of 2 closed") {
				fmt.Fprintf(stdout, "The COE %s shows the roll-up (one comment, kept current):\n\n%s\n\n", c.TicketKey, cm.Body)
				return nil
			}
		}
	}
	return fmt.Errorf("roll-up on %s not updated", c.TicketKey)
}

// addBot makes from (COESYNC_PAGERDUTY_FROM; "" for none) a user of the
// fake PagerDuty account: PagerDuty refuses a note from anyone else.
func addBot(pd *pdtest.Server, from string) {
	if from != "" {
		pd.AddUser(pdtest.User{ID: "PCOESYNC", Name: "coesync", Email: from})
	}
}

// startDemo starts the fakes and coesync on loopback.
func startDemo(ctx context.Context, o demoOptions) (*demoEnv, error) {
	e := &demoEnv{PD: pdtest.New(demoPDToken)}
	wf := o.jiraWorkflow
	if wf == nil {
		wf = demoWorkflow()
	}
	e.Jira = jiratest.New(jiratest.Options{User: demoJiraUser, Token: demoJiraToken, SearchLag: o.searchLag, Transitions: wf})
	e.GitHub = ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	if o.dbPath == "" {
		dir, err := os.MkdirTemp("", "coesync-demo-")
		if err != nil {
			e.Close()
			return nil, err
		}
		e.dir = dir
		o.dbPath = filepath.Join(dir, "coesync.db")
	}
	addBot(e.PD, o.pdFrom)
	cfg := demoConfig(e.PD.URL(), e.Jira.URL, e.GitHub.URL(), o.dbPath, o.pdFrom)
	if o.edit != nil {
		o.edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		e.Close()
		return nil, err
	}
	app, err := NewApp(ctx, cfg, o.log, appOptions{workers: true, pollInterval: 20 * time.Millisecond,
		searchSettle: o.searchSettle, backoff: func(int) time.Duration { return 200 * time.Millisecond }})
	if err != nil {
		e.Close()
		return nil, err
	}
	e.App = app
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.Close()
		return nil, err
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ln.Close()
		e.Close()
		return nil, err
	}
	e.URL, e.AdminURL = "http://"+ln.Addr().String(), "http://"+adminLn.Addr().String()
	if !o.noWebhooks {
		e.Jira.SendWebhooks(e.URL+"/webhooks/jira", demoJiraHook)
		e.GitHub.SendWebhooks(e.URL+"/webhooks/github", demoGHSecret)
	}
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e.stop, e.stopped = stop, make(chan error, 1)
	go func() { e.stopped <- app.Serve(sctx, ln, adminLn) }()
	return e, nil
}

// Close stops coesync gracefully, then the fakes.
func (e *demoEnv) Close() error {
	var err error
	if e.stop != nil {
		e.stop()
		err = <-e.stopped
		e.stop = nil
	}
	if e.App != nil {
		e.App.Close()
		e.App = nil
	}
	e.PD.Close()
	e.Jira.Close()
	e.GitHub.Close()
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
	return err
}

// SendResolved posts a signed incident.resolved webhook and returns the status.
func (e *demoEnv) SendResolved(ctx context.Context, fx pdtest.Incident, eventID string) (int, error) {
	body := pdtest.ResolvedWebhook(fx, eventID)
	return e.Post(ctx, "/webhooks/pagerduty", body, pdtest.Sign(demoSecret, body))
}

// Post sends a webhook body with a signature header.
func (e *demoEnv) Post(ctx context.Context, path string, body []byte, signature string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-PagerDuty-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// WaitCOE polls the store until the incident's COE ticket exists.
func (e *demoEnv) WaitCOE(ctx context.Context, incidentID string, timeout time.Duration) (store.COE, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		c, err := e.App.Store.COE(ctx, incidentID)
		if err == nil && c.State == store.COECreated && !c.LinkedAt.IsZero() {
			return c, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return c, fmt.Errorf("no COE for %s after %s", incidentID, timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keep := fs.Bool("keep", false, "leave coesync and the fakes running and print their URLs")
	verbose := fs.Bool("v", false, "log what coesync does")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	level := slog.LevelWarn
	if *verbose || *keep {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	start := time.Now()
	// The rules give the Checkout API service its repository, for the
	// COE's "what changed".
	rules, err := os.CreateTemp("", "coesync-demo-rules-*.yaml")
	if err != nil {
		return err
	}
	defer os.Remove(rules.Name())
	if _, err := rules.WriteString(demoServicesRules); err != nil {
		return err
	}
	rules.Close()
	e, err := startDemo(ctx, demoOptions{log: log, pdFrom: "coesync@example.com",
		edit: func(c *config.Config) { c.RulesFile = rules.Name() }})
	if err != nil {
		return err
	}
	defer e.Close()

	base := time.Now().UTC().Add(-5 * time.Hour).Truncate(time.Second)
	incidents := []pdtest.Incident{pdtest.RichIncident("PDEMO01", base), pdtest.SimpleIncident("PDEMO02", base.Add(30*time.Minute))}
	fmt.Fprintf(stdout, "coesync demo: fakes of PagerDuty (%s), Jira (%s) and GitHub (%s), coesync on %s\n\n", e.PD.URL(), e.Jira.URL, e.GitHub.URL(), e.URL)
	for _, fx := range incidents {
		e.PD.AddIncident(fx)
	}
	// What changed before the first incident: deployments and merged pull
	// requests in the repository, some inside the 24h window, some not.
	if err := seedDemoChanges(e.GitHub, base); err != nil {
		return err
	}
	// Each incident is delivered three times at once, as PagerDuty's
	// retries and a second subscription would: one COE each all the same.
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for _, fx := range incidents {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, err := e.SendResolved(ctx, fx, "evt-"+fx.ID)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					statuses[-1]++
					return
				}
				statuses[code]++
			}()
		}
	}
	wg.Wait()
	fmt.Fprintf(stdout, "sent %d signed incident.resolved webhooks (3 deliveries per incident): answers %v\n\n", 3*len(incidents), statuses)

	for _, fx := range incidents {
		c, err := e.WaitCOE(ctx, fx.ID, 20*time.Second)
		if err != nil {
			return err
		}
		is, _ := e.Jira.Issue(c.TicketKey)
		fmt.Fprintf(stdout, "=== %s  %s\n    labels %v, priority %s, remote links %d, PagerDuty note added: %v\n\n%s\n\n",
			is.Key, is.Summary, is.Labels, is.Priority, len(is.RemoteLinks), !c.NotedAt.IsZero(), is.Description)
	}
	fmt.Fprintf(stdout, "Jira holds %d COE tickets for %d incidents (%d webhook deliveries, 1 create each).\n\n",
		len(coeTicketKeys(e)), len(incidents), 3*len(incidents))

	if err := demoActionItems(ctx, e, stdout); err != nil {
		return err
	}
	if err := demoRecurrence(ctx, e, stdout, base.Add(3*time.Hour)); err != nil {
		return err
	}
	if err := demoReminder(ctx, e, stdout); err != nil {
		return err
	}
	// One reconcile pass, as the periodic job would run it, so the report's
	// sync health has something to say.
	if err := e.App.Reconciler.Reconcile(ctx); err != nil {
		return err
	}
	e.App.Counters.Flush(ctx, time.Now())
	rep, err := e.App.Reporter.Build(ctx, report.Period{Since: base.Add(-24 * time.Hour), Until: time.Now().UTC().Add(time.Minute), Label: "demo run"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "=== The weekly sync status report, for what the demo just did (coesync report; GET /report)\n\n%s\n", rep.Markdown())
	fmt.Fprintf(stdout, "demo finished in %s\n", time.Since(start).Round(time.Millisecond))
	if *keep {
		week := base.Add(-24 * time.Hour).UTC().Format(time.DateOnly)
		fmt.Fprintf(stdout, "\n--keep: running until interrupted\n  coesync    %s (webhooks /webhooks/{pagerduty,jira,github}, /healthz)\n  admin      %s (status page /, /metrics, /readyz)\n  report     %s/report?since=%s (the demo's days)\n  PagerDuty  %s\n  Jira       %s\n  GitHub     %s\n",
			e.URL, e.AdminURL, e.AdminURL, week, e.PD.URL(), e.Jira.URL, e.GitHub.URL())
		fmt.Fprintf(stdout, "\nTo try coesync check, status, preview PDEMO01 or report against it, in another shell:\n\n")
		writeExports(stdout, demoEnvVars(e))
		<-ctx.Done()
	}
	return nil
}

// demoEnvVars is the configuration of the demo's coesync, as the COESYNC_*
// variables another command needs to work against it.
func demoEnvVars(e *demoEnv) map[string]string {
	cfg := e.App.Cfg
	return map[string]string{
		"COESYNC_DATABASE_URL":              string(cfg.DatabaseURL),
		"COESYNC_PAGERDUTY_API_URL":         cfg.PagerDutyAPIURL,
		"COESYNC_PAGERDUTY_TOKEN":           demoPDToken,
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS": demoSecret,
		"COESYNC_PAGERDUTY_FROM":            cfg.PagerDutyFrom,
		"COESYNC_JIRA_URL":                  cfg.JiraURL,
		"COESYNC_JIRA_USER":                 demoJiraUser,
		"COESYNC_JIRA_TOKEN":                demoJiraToken,
		"COESYNC_JIRA_PROJECT":              "OPS",
		"COESYNC_GITHUB_API_URL":            cfg.GitHubAPIURL,
		"COESYNC_GITHUB_TOKEN":              ghtest.DefaultToken,
		"COESYNC_GITHUB_WEBHOOK_SECRET":     demoGHSecret,
		"COESYNC_JIRA_WEBHOOK_SECRET":       demoJiraHook,
		"COESYNC_GITHUB_REPO":               demoRepo,
	}
}

// writeExports prints vars as shell export lines, sorted, single-quoted.
func writeExports(w io.Writer, vars map[string]string) {
	keys := make([]string, 0, len(vars))
	for k, v := range vars {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "export %s='%s'\n", k, strings.ReplaceAll(vars[k], "'", `'\''`))
	}
}

// demoRecurrence resolves a second incident of the Checkout API service:
// its COE is flagged as a recurrence of PDEMO01's, names the action item
// of that COE that is still open, and carries the coe-recurrence label.
func demoRecurrence(ctx context.Context, e *demoEnv, stdout io.Writer, at time.Time) error {
	fx := pdtest.RichIncident("PDEMO03", at)
	e.PD.AddIncident(fx)
	if _, err := e.SendResolved(ctx, fx, "evt-"+fx.ID); err != nil {
		return err
	}
	c, err := e.WaitCOE(ctx, fx.ID, 20*time.Second)
	if err != nil {
		return err
	}
	is, _ := e.Jira.Issue(c.TicketKey)
	fmt.Fprintf(stdout, "=== Three hours later the Checkout API fails again: %s, labels %v\n", is.Key, is.Labels)
	for _, l := range strings.Split(is.Description, "\n") {
		if strings.Contains(l, "Recurrence") || strings.Contains(l, "still open") || strings.Contains(l, "Earlier COEs") ||
			(strings.HasPrefix(l, "** ") && strings.Contains(l, "recurrence")) {
			fmt.Fprintf(stdout, "    %s\n", l)
		}
	}
	fmt.Fprintln(stdout)
	return nil
}

// demoReminder makes the open action item of PDEMO01 overdue (its owner set
// a due date three days ago in Jira) and runs the reminder pass: one
// comment on its GitHub issue, and none on a second pass.
func demoReminder(ctx context.Context, e *demoEnv, stdout io.Writer) error {
	c, err := e.App.Store.COE(ctx, "PDEMO01")
	if err != nil {
		return err
	}
	items, err := e.App.Store.ActionItems(ctx, c.TicketKey)
	if err != nil {
		return err
	}
	var open store.ActionItem
	for _, it := range items {
		if !it.Closed && it.Number != 0 {
			open = it
		}
	}
	if open.JiraKey == "" {
		return fmt.Errorf("no open action item on %s", c.TicketKey)
	}
	due := time.Now().UTC().AddDate(0, 0, -3).Format(time.DateOnly)
	e.Jira.SetDue(open.JiraKey, due)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		it, err := e.App.Store.ActionItem(ctx, open.JiraKey)
		if err == nil && it.Due.Format(time.DateOnly) == due {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the due date of %s did not reach coesync", open.JiraKey)
		}
	}
	sent, err := e.App.Reminders.Run(ctx)
	if err != nil {
		return err
	}
	again, err := e.App.Reminders.Run(ctx)
	if err != nil {
		return err
	}
	gi, _ := e.GitHub.Issue(open.Repo, open.Number)
	fmt.Fprintf(stdout, "=== %s was due %s and is still open: the reminder pass sent %d reminder (a second pass: %d)\n", open.JiraKey, due, sent, again)
	for _, cm := range gi.Comments {
		if strings.Contains(cm.Body, "coesync:reminder") {
			fmt.Fprintf(stdout, "    comment on %s#%d:\n", open.Repo, open.Number)
			for _, l := range strings.Split(strings.TrimSpace(cm.Body), "\n") {
				if !strings.HasPrefix(l, "<!--") {
					fmt.Fprintf(stdout, "      %s\n", l)
				}
			}
		}
	}
	fmt.Fprintln(stdout)
	return nil
}
