package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/connectors/slack"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/version"
)

// App is one coesync process: the only place that knows every concrete type.
type App struct {
	Cfg       config.Config
	Log       *slog.Logger
	Metrics   *metrics.Metrics
	Store     store.Store
	Committer *store.Committer
	Drafter   *engine.Drafter
	// Items and Reconciler are nil when GitHub is not configured.
	Items      *engine.ItemSyncer
	Reconciler *engine.Reconciler
	Reporter   *engine.Reporter
	Counters   *store.CounterBuffer
	// Handler serves the webhook listener (/webhooks/*, /healthz);
	// AdminHandler the admin one (/, /report, /metrics, /readyz).
	Handler      http.Handler
	AdminHandler http.Handler

	// Reminders chases due and overdue action items (nil without GitHub).
	Reminders *engine.Reminders
}

// appOptions tune an App for tests and the demo.
type appOptions struct {
	pollInterval time.Duration
	searchSettle time.Duration
	backoff      func(int) time.Duration
	now          func() time.Time
	// workers false opens the store insert-only (status, preview).
	workers bool
}

func openStore(ctx context.Context, cfg config.Config, opts store.Options) (store.Store, error) {
	driver, dsn := cfg.Database()
	// COESYNC_AUTO_MIGRATE=false: check the schema, leave migrating to
	// `coesync migrate`.
	opts.SkipMigrate = !cfg.AutoMigrate
	switch driver {
	case "sqlite":
		return store.OpenSQLite(ctx, dsn, opts)
	case "postgres":
		// Pool size, statement timeout and TLS come with the URL
		// (pool_max_conns, statement_timeout, sslmode...): see OpenPostgres.
		return store.OpenPostgres(ctx, dsn, opts)
	default:
		return nil, fmt.Errorf("COESYNC_DATABASE_URL: %s is not supported; use a SQLite file or a postgres:// URL", driver)
	}
}

// clients are the connectors of one process.
type clients struct {
	pd     *pagerduty.Client
	jira   *jira.Client
	github *github.Client // nil when COESYNC_GITHUB_TOKEN is not set
}

func newClients(cfg config.Config, m *metrics.Metrics) (clients, error) {
	var c clients
	var err error
	if c.pd, err = pagerduty.New(pagerduty.Options{BaseURL: cfg.PagerDutyAPIURL, Token: cfg.PagerDutyToken.Reveal(),
		From: cfg.PagerDutyFrom, Timeout: cfg.HTTPTimeout, Observer: m}); err != nil {
		return c, err
	}
	if c.jira, err = jira.New(jira.Options{BaseURL: cfg.JiraURL, User: cfg.JiraUser, Token: cfg.JiraToken.Reveal(),
		Timeout: cfg.HTTPTimeout, Observer: m}); err != nil {
		return c, err
	}
	if cfg.GitHubToken != "" {
		if c.github, err = github.New(github.Options{BaseURL: cfg.GitHubAPIURL, Token: cfg.GitHubToken.Reveal(),
			Timeout: cfg.HTTPTimeout, Observer: m}); err != nil {
			return c, err
		}
	}
	return c, nil
}

func newDrafter(cfg config.Config, log *slog.Logger, c clients) (*engine.Drafter, error) {
	router, err := cfg.LoadRouter()
	if err != nil {
		return nil, &exitError{2, err} // a configuration error, like a bad variable
	}
	var tmpl string
	if cfg.COETemplate != "" {
		b, err := os.ReadFile(cfg.COETemplate)
		if err != nil {
			return nil, fmt.Errorf("COESYNC_COE_TEMPLATE: %w", err)
		}
		tmpl = string(b)
	}
	renderer, err := coe.NewRendererTrusting(tmpl, coe.NewTrustedDomains(cfg.TrustedLinkDomains))
	if err != nil {
		return nil, fmt.Errorf("COESYNC_COE_TEMPLATE: %w", err)
	}
	d := &engine.Drafter{
		Source: c.pd, Tracker: c.jira, Router: router, Renderer: renderer, Log: log,
		SearchSettle: cfg.JiraSearchSettle, NoteOnIncident: cfg.PagerDutyFrom != "", DefaultRepo: cfg.GitHubRepo,
		SLA: engine.NewSLA(cfg.SLA()),
	}
	// What changed (rules: services.repos) and has it happened before; the
	// history's store is set once the store is open.
	if c.github != nil {
		d.Changes = &engine.ChangeFinder{Source: github.NewChanges(c.github), Window: cfg.ChangeWindowDuration(), Log: log}
	}
	d.History = &engine.HistoryFinder{Jira: c.jira, Window: cfg.RecurrenceWindowDuration(), Log: log}
	if cfg.SeedActionItems {
		// Items are created only when seeding: only then is the cap news.
		d.MaxProposedItems = cfg.MaxProposedItems
	}
	return d, nil
}

// NewApp wires a coesync process from its configuration.
func NewApp(ctx context.Context, cfg config.Config, log *slog.Logger, o appOptions) (*App, error) {
	m := metrics.New()
	c, err := newClients(cfg, m)
	if err != nil {
		return nil, err
	}
	d, err := newDrafter(cfg, log, c)
	if err != nil {
		return nil, err
	}
	if o.searchSettle > 0 {
		d.SearchSettle = o.searchSettle
	}
	d.Now = o.now
	d.NoteSettle = 2 * cfg.HTTPTimeout
	backoff := o.backoff
	if backoff == nil {
		backoff = engine.ExpBackoff(cfg.RetryBackoff, cfg.RetryBackoffMax)
	}
	runner := &engine.Runner{Log: log, Metrics: m, Backoff: backoff}
	// One rate gate per process, shared with other replicas through the
	// store: a 429 from a service holds every job's calls to it.
	gate := &engine.RateGate{Log: log}
	runner.Gate = gate
	d.Source, d.Tracker = engine.GateSource(d.Source, gate), engine.GateTickets(d.Tracker, gate)
	if d.Changes != nil {
		d.Changes.Source = engine.GateChanges(d.Changes.Source, gate)
	}
	if d.History.Jira != nil {
		d.History.Jira = engine.GateHistory(d.History.Jira, gate)
	}
	reporter, err := newReporter(cfg, c, log, o.now)
	if err != nil {
		return nil, err
	}
	sopts := store.Options{Logger: log, MaxWorkers: cfg.Workers, FetchPollInterval: o.pollInterval, JobTimeout: cfg.JobTimeout,
		Retention: cfg.RetentionDuration()}

	// Action items need GitHub; without a token coesync drafts COEs only.
	var syncer *engine.ItemSyncer
	var rec *engine.Reconciler
	var rem *engine.Reminders
	if c.github != nil {
		users, err := config.LoadUserMap(cfg.UserMapFile)
		if err != nil {
			return nil, &exitError{2, err}
		}
		// A create cut off by the timeout may still land up to about a
		// timeout later: trust an empty answer only after twice that.
		syncer = &engine.ItemSyncer{CreateSettle: 2 * cfg.HTTPTimeout, Jira: c.jira, GitHub: c.github, Users: users.Login, DefaultRepo: cfg.GitHubRepo,
			Transitions: engine.Transitions{Done: cfg.JiraDoneTransitions, Reopen: cfg.JiraReopenTransitions,
				WontDo: cfg.JiraWontDoTransitions, COEDone: cfg.JiraCOEDoneTransition},
			SubtaskType: cfg.JiraSubtaskType, LinkType: cfg.JiraActionLinkType, Now: o.now, Log: log, Metrics: m}
		rec = &engine.Reconciler{Jira: c.jira, GitHub: c.github, Now: o.now, Log: log}
		syncer.Jira, syncer.GitHub = engine.GateItems(syncer.Jira, gate), engine.GateIssues(syncer.GitHub, gate)
		rec.Jira, rec.GitHub = syncer.Jira, syncer.GitHub
		syncer.SLA, syncer.Incidents = engine.NewSLA(cfg.SLA()), c.pd
		// Webhooks read back by the sync: echoes of coesync's own writes
		// cost no reads, and a new sub-task is mirrored from its
		// jira:issue_created payload.
		syncer.DecodeJira = func(body []byte) (coe.JiraEvent, error) { return jira.DecodeWebhook("", body) }
		syncer.DecodeGitHub = func(event string, body []byte) (coe.GitHubIssueEvent, error) {
			return github.DecodeIssuesEvent(event, "", body)
		}
		syncer.JiraURL = c.jira.BrowseURL
		if cfg.JiraWebhookSecret != "" || cfg.InsecureSkipVerify {
			// Jira's webhooks can reach coesync: wait a moment for the
			// created event rather than read each new sub-task.
			syncer.WebhookWait = jiraWebhookWait
		}
		rem = &engine.Reminders{GitHub: c.github, Interval: cfg.ReminderInterval, SLA: syncer.SLA, Now: o.now, Log: log}
	}
	if o.workers {
		sopts.Workers = engine.Workers(d, runner, m)
		engine.AddReportWorker(sopts.Workers, reporter, runner)
		// Run on start as well as on schedule: a process that was down at
		// the scheduled time delivers the missed report when it comes back.
		sopts.PeriodicJobs = append(sopts.PeriodicJobs, river.NewPeriodicJob(reporter.Schedule,
			func() (river.JobArgs, *river.InsertOpts) { return engine.DeliverReportArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "deliver_report"}))
		if syncer != nil {
			engine.AddItemWorkers(sopts.Workers, syncer, rec, runner)
			sopts.PeriodicJobs = append(sopts.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.ReconcileInterval),
				func() (river.JobArgs, *river.InsertOpts) {
					return engine.ReconcileArgs{}, engine.PeriodicReconcileOpts(cfg.ReconcileInterval)
				},
				&river.PeriodicJobOpts{RunOnStart: true, ID: "reconcile"}))
			engine.AddReminderWorker(sopts.Workers, rem, runner)
			sopts.PeriodicJobs = append(sopts.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(engine.ReminderPassInterval),
				func() (river.JobArgs, *river.InsertOpts) { return engine.RemindArgs{}, nil },
				&river.PeriodicJobOpts{RunOnStart: true, ID: "remind_action_items"}))
		}
	}
	st, err := openStore(ctx, cfg, sopts)
	if err != nil {
		return nil, err
	}
	d.Store = st
	d.History.Store = st
	reporter.Store = st
	runner.Count = st.Count
	gate.Shared, gate.Count = st, st.Count
	a := &App{Cfg: cfg, Log: log, Metrics: m, Store: st, Drafter: d, Items: syncer, Reconciler: rec, Reporter: reporter,
		Counters: &store.CounterBuffer{Count: st.Count}}
	if syncer != nil {
		syncer.Store, rec.Store = st, st
		rem.Store, a.Reminders = st, rem
		seed := cfg.SeedActionItems
		d.Created = func(ctx context.Context, c store.COE, draft coe.Draft) error {
			create := draft.ItemsToCreate()
			if !seed || len(create) == 0 {
				return nil
			}
			items := make([]engine.SeedItem, len(create))
			for i, ai := range create {
				items[i] = engine.SeedItem{Summary: ai.Summary, Owner: ai.Owner}
			}
			return st.Enqueue(ctx, store.Job{Args: engine.SeedItemsArgs{COEKey: c.TicketKey, Items: items}})
		}
	}
	a.Committer = store.NewStoreCommitter(st, 256, func(n int) { m.IngestBatch.Observe(float64(n)) })
	pdVerifier := pagerduty.NewVerifier(cfg.PagerDutyWebhookSecrets.Reveal())
	hooks := map[string]*server.Source{
		"/webhooks/pagerduty": server.PagerDuty(pdVerifier.Verify, pagerduty.DecodeEvent),
	}
	if syncer != nil {
		ghSecret, jiraSecret := []byte(cfg.GitHubWebhookSecret.Reveal()), []byte(cfg.JiraWebhookSecret.Reveal())
		hooks["/webhooks/github"] = server.GitHub(
			func(h string, body []byte) error { return github.VerifySignature(ghSecret, h, body) },
			decodeGitHub)
		hooks["/webhooks/jira"] = server.Jira(
			func(h, q string, body []byte) error { return jira.VerifyWebhook(jiraSecret, h, q, body) },
			decodeJira)
	}
	srv := &server.Server{Webhooks: hooks, InsecureSkipVerify: cfg.InsecureSkipVerify,
		Ingest: a.Committer, Store: st, Metrics: m, Log: log, Now: o.now, Reports: reporter, Counter: a.Counters,
		AdminToken: cfg.AdminToken.Reveal(), MaxInflightBytes: int64(cfg.MaxInflightBytes)}
	a.Handler, a.AdminHandler = srv.Handler(), srv.AdminHandler()
	registerMonitoring(m, st, reporter, syncer != nil, log, o.now)
	return a, nil
}

// jobKinds are the kinds of job coesync runs, for the gauges' zero series.
var jobKinds = []string{store.DispatchArgs{}.Kind(), store.PruneArgs{}.Kind(), engine.DraftCOEArgs{}.Kind(), engine.SeedItemsArgs{}.Kind(),
	engine.SyncItemArgs{}.Kind(), engine.RollupArgs{}.Kind(), engine.ReconcileArgs{}.Kind(),
	engine.RemindArgs{}.Kind(), engine.DeliverReportArgs{}.Kind()}

// registerMonitoring makes every series exist from start-up and adds the
// gauges read from the store at each scrape.
func registerMonitoring(m *metrics.Metrics, st store.Store, r *engine.Reporter, items bool, log *slog.Logger, now func() time.Time) {
	sources, services, systems := []string{"pagerduty"}, []string{"pagerduty", "jira"}, []string{}
	if items {
		sources = append(sources, "github", "jira")
		services = append(services, "github")
		systems = append(systems, "jira", "github")
	}
	var sinks []string
	for _, s := range r.Sinks {
		sinks = append(sinks, s.Name())
		if s.Name() == "slack" {
			services = append(services, "slack")
		}
	}
	m.Init(sources, jobKinds, services)
	m.Registry.MustRegister(&engine.QueueCollector{Store: st, Kinds: jobKinds, Systems: systems, Sinks: sinks,
		Services: services, Now: now, Log: log})
}

// newReporter builds the weekly report and its sinks (store set later).
func newReporter(cfg config.Config, c clients, log *slog.Logger, now func() time.Time) (*engine.Reporter, error) {
	sched, err := cfg.ReportCron()
	if err != nil {
		return nil, fmt.Errorf("COESYNC_REPORT_SCHEDULE: %w", err)
	}
	r := &engine.Reporter{Location: cfg.ReportLocation(), StaleDraftDays: cfg.ReportStaleDraftDays, PublicURL: cfg.PublicURL,
		ReconcileInterval: cfg.ReconcileInterval, Schedule: sched, Now: now, Log: log}
	if cfg.ReportSlackWebhookURL != "" {
		sc, err := slack.New(slack.Options{WebhookURL: cfg.ReportSlackWebhookURL.Reveal(), Timeout: cfg.HTTPTimeout})
		if err != nil {
			return nil, fmt.Errorf("COESYNC_REPORT_SLACK_WEBHOOK_URL: %w", err)
		}
		page := ""
		if cfg.PublicURL != "" {
			page = strings.TrimSuffix(cfg.PublicURL, "/") + "/report"
		}
		r.Sinks = append(r.Sinks, engine.SlackReportSink{Poster: sc, PageURL: page})
	}
	if repo, n, ok := cfg.ReportIssue(); ok && c.github != nil {
		r.Sinks = append(r.Sinks, engine.GitHubReportSink{Issues: c.github, Repo: repo, Number: n})
	}
	if cfg.ReportDir != "" {
		r.Sinks = append(r.Sinks, engine.DirReportSink{Dir: cfg.ReportDir})
	}
	return r, nil
}

// jiraWebhookWait is how long the mirror of a new sub-task waits for its
// jira:issue_created webhook before reading it; Jira sends it within a
// second or two of the create.
const jiraWebhookWait = 5 * time.Second

// decodeGitHub adapts the connector's decoder: pings and events coesync
// does not act on are stored and answered, not rejected.
func decodeGitHub(event, delivery string, body []byte) (coe.GitHubIssueEvent, bool, error) {
	ev, err := github.DecodeIssuesEvent(event, delivery, body)
	if errors.Is(err, github.ErrPing) || errors.Is(err, github.ErrIgnoredEvent) {
		return ev, false, nil
	}
	return ev, err == nil, err
}

func decodeJira(delivery string, body []byte) (coe.JiraEvent, bool, error) {
	ev, err := jira.DecodeWebhook(delivery, body)
	if errors.Is(err, jira.ErrIgnoredEvent) {
		return ev, false, nil
	}
	return ev, err == nil, err
}

// Serve runs the webhook listener on ln, the admin listener on adminLn and the
// job workers until ctx ends (or a listener fails), then
// shuts down gracefully: stop accepting, answer the requests in flight,
// commit their deliveries, let running jobs finish (or hand them back to
// the queue), and return nil.
func (a *App) Serve(ctx context.Context, ln, adminLn net.Listener) error {
	// River treats a cancelled start context as "stop and cancel every
	// running job": the signal must not reach it, or SIGTERM would cut
	// jobs off mid-create instead of letting them finish below.
	if err := a.Store.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	hs := server.HTTPServer(ln.Addr().String(), a.Handler, a.Log)
	as := server.HTTPServer(adminLn.Addr().String(), a.AdminHandler, a.Log)
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(ln) }()
	go func() { errc <- as.Serve(adminLn) }()
	bi := version.Get()
	a.Log.Info("coesync serving", "addr", ln.Addr().String(), "admin_addr", adminLn.Addr().String(),
		"version", bi.Version, "revision", bi.Revision)
	var serveErr error
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case serveErr = <-errc:
			break wait
		case now := <-tick.C:
			if err := a.Counters.Flush(ctx, now); err != nil {
				a.Log.Warn("could not persist counters", "err", err)
			}
		}
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		a.Log.Warn("http shutdown", "err", err)
	}
	if err := as.Shutdown(sctx); err != nil {
		a.Log.Warn("admin http shutdown", "err", err)
	}
	a.Committer.Close()
	if err := a.Counters.Flush(sctx, time.Now()); err != nil {
		a.Log.Warn("could not persist counters", "err", err)
	}
	if err := a.Store.Stop(sctx); err != nil {
		// Jobs still running are cancelled; River hands them back to the
		// queue and the next start runs them again (every step is idempotent).
		a.Log.Warn("jobs did not finish in time; handed back to the queue", "err", err)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// Close releases the store.
func (a *App) Close() error { return a.Store.Close() }
