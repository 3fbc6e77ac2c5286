package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/pagerduty"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
)

// searchSettle is how long coesync trusts Jira's search to lag behind a
// create (see engine.Drafter.SearchSettle). It only delays the retry of a
// create that was cut off; normal runs never wait for it.
const searchSettle = 60 * time.Second

// App is one coesync process: the only place that knows every concrete type.
type App struct {
	Cfg       config.Config
	Log       *slog.Logger
	Metrics   *metrics.Metrics
	Store     store.Store
	Committer *store.Committer
	Drafter   *engine.Drafter
	Handler   http.Handler
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
	switch driver {
	case "sqlite":
		return store.OpenSQLite(ctx, dsn, opts)
	default:
		return nil, fmt.Errorf("COESYNC_DATABASE_URL: %s is not supported yet; use a SQLite file", driver)
	}
}

func newDrafter(cfg config.Config, log *slog.Logger, m *metrics.Metrics) (*engine.Drafter, error) {
	pd, err := pagerduty.New(pagerduty.Options{BaseURL: cfg.PagerDutyAPIURL, Token: cfg.PagerDutyToken.Reveal(),
		From: cfg.PagerDutyFrom, Timeout: cfg.HTTPTimeout, Observer: m})
	if err != nil {
		return nil, err
	}
	jc, err := jira.New(jira.Options{BaseURL: cfg.JiraURL, User: cfg.JiraUser, Token: cfg.JiraToken.Reveal(),
		Timeout: cfg.HTTPTimeout, Observer: m})
	if err != nil {
		return nil, err
	}
	router, err := cfg.LoadRouter()
	if err != nil {
		return nil, err
	}
	var tmpl string
	if cfg.COETemplate != "" {
		b, err := os.ReadFile(cfg.COETemplate)
		if err != nil {
			return nil, fmt.Errorf("COESYNC_COE_TEMPLATE: %w", err)
		}
		tmpl = string(b)
	}
	renderer, err := coe.NewRenderer(tmpl)
	if err != nil {
		return nil, fmt.Errorf("COESYNC_COE_TEMPLATE: %w", err)
	}
	return &engine.Drafter{
		Source: pd, Tracker: jc, Router: router, Renderer: renderer, Log: log,
		SearchSettle: searchSettle, NoteOnIncident: cfg.PagerDutyFrom != "",
	}, nil
}

// NewApp wires a coesync process from its configuration.
func NewApp(ctx context.Context, cfg config.Config, log *slog.Logger, o appOptions) (*App, error) {
	m := metrics.New()
	d, err := newDrafter(cfg, log, m)
	if err != nil {
		return nil, err
	}
	if o.searchSettle > 0 {
		d.SearchSettle = o.searchSettle
	}
	d.Now = o.now
	runner := &engine.Runner{Log: log, Metrics: m, Backoff: o.backoff}
	sopts := store.Options{Logger: log, MaxWorkers: cfg.Workers, FetchPollInterval: o.pollInterval}
	if o.workers {
		sopts.Workers = engine.Workers(d, runner, m)
	}
	st, err := openStore(ctx, cfg, sopts)
	if err != nil {
		return nil, err
	}
	d.Store = st
	a := &App{Cfg: cfg, Log: log, Metrics: m, Store: st, Drafter: d}
	a.Committer = store.NewCommitter(st.Ingest, 256, func(n int) { m.IngestBatch.Observe(float64(n)) })
	srv := &server.Server{
		PagerDutyVerifier:  pagerduty.NewVerifier(cfg.PagerDutyWebhookSecrets.Reveal()),
		DecodePagerDuty:    pagerduty.DecodeEvent,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		Ingest:             a.Committer, Store: st, Metrics: m, Log: log, Now: o.now,
	}
	a.Handler = srv.Handler()
	return a, nil
}

// Serve runs the HTTP server on ln and the job workers until ctx ends, then
// shuts down gracefully: stop accepting, answer the requests in flight,
// commit their deliveries, let running jobs finish (or hand them back to
// the queue), and return nil.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	if err := a.Store.Start(ctx); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	hs := server.HTTPServer(ln.Addr().String(), a.Handler, a.Log)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.Log.Info("coesync serving", "addr", ln.Addr().String())
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		a.Log.Warn("http shutdown", "err", err)
	}
	a.Committer.Close()
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
