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
)

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
