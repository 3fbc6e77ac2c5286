// Command coesync turns resolved PagerDuty incidents into COE drafts in Jira
// and keeps their action items moving.
//
//	coesync demo          run everything against built-in fakes (start here)
//	coesync serve         run the service
//	coesync preview ID    render the COE of a real incident, writing nothing
//	coesync status        list failed and waiting jobs
//	coesync report        print the weekly sync status report
//	coesync replay ID|--failed   run failed jobs again
//	coesync bench         measure webhook ingest against built-in fakes
//	coesync backfill --since DATE   COEs for resolved incidents that were missed
//	coesync check         validate configuration and access to PagerDuty, Jira and GitHub
//	coesync migrate       apply database migrations
//	coesync migrate-store --from coesync.db --to postgres://...   copy SQLite state to PostgreSQL
//	coesync version       print the version, VCS revision and Go version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/version"
)

const usage = `usage: coesync <command> [flags]

commands:
  demo      run coesync against built-in fakes of PagerDuty and Jira (no accounts needed)
  serve     run the service (configured by COESYNC_* environment variables)
  preview   render the COE for a real incident to stdout, writing nothing
  status    list failed and waiting jobs with their reasons, and action items out of step
  report    print the weekly sync status report (--week 2026-W47 | --since DATE [--until DATE]) [--format markdown|html|json]
  replay    retry a job by id, or every failed job with --failed
  reconcile queue one reconciliation pass now (picked up by a running serve)
  chaos     run the real binary against failing fakes, kill it, count: exactly one COE and one mirror each [--incidents N] [--kills K] [--replicas R --database-url postgres://...]
  bench     measure webhook ingest and footprint against built-in fakes [--quick] [--json] [--concurrency N] [--duration D]
  migrate   apply the database migrations of COESYNC_DATABASE_URL and print the versions applied
  backfill  queue COEs for resolved incidents that were missed (--since 2026-10-01 [--until DATE] [--dry-run])
  check     validate the configuration, the rules and access to PagerDuty, Jira and GitHub; exits 1 on any failure
  migrate-store  copy a SQLite store into a fresh PostgreSQL database (--from coesync.db --to postgres://... [--force])
  version   print the version, the VCS revision and the Go version coesync was built with
`

// exitError carries an exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "coesync:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{2, errors.New("no command")}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stderr)
	case "chaos":
		return runChaosCommand(ctx, rest, stdout, stderr)
	case "reconcile":
		return runReconcile(ctx, rest, stdout, stderr)
	case "preview":
		return runPreview(ctx, rest, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, stdout, stderr)
	case "report":
		return runReport(ctx, rest, stdout, stderr)
	case "replay":
		return runReplay(ctx, rest, stdout, stderr)
	case "bench":
		return runBench(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "migrate-store":
		return runMigrateStore(ctx, rest, stdout, stderr)
	case "backfill":
		return runBackfill(ctx, rest, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, stdout, stderr)
	case "version", "--version":
		if len(rest) > 0 {
			return &exitError{2, fmt.Errorf("version takes no arguments, got %q", rest)}
		}
		fmt.Fprintln(stdout, version.Get())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{2, fmt.Errorf("unknown command %q", cmd)}
}

// loadConfig reads the environment; a bad setting is exit status 2 with one
// line naming the variable. A COESYNC_* variable coesync does not read is
// named with the closest setting (a misspelt one is otherwise ignored).
func loadConfig() (config.Config, error) {
	for _, w := range config.UnknownSettings(os.Environ()) {
		fmt.Fprintln(os.Stderr, "coesync: warning:", w)
	}
	cfg, err := config.Load()
	if err != nil {
		return cfg, &exitError{2, err}
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
