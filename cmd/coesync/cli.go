package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coesync/coesync/sync/version"
)

// runFunc is a subcommand: it parses its own flags from args (each keeps
// its flag set beside the code that reads it) and writes to stdout and
// stderr.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// subcommand describes one command for cobra's help and completion.
type subcommand struct {
	use, short, long, example string
	run                       runFunc
}

const exitCodes = `Exit status: 0 success; 1 a problem found (a failed check, failed jobs with
status --exit-code, a command that failed); 2 a usage or configuration error.`

var subcommands = []subcommand{
	{"demo", "Run coesync against built-in fakes of PagerDuty, Jira and GitHub (no accounts needed)",
		"Starts fakes that speak the real wire format, runs coesync against them on loopback with a\ntemporary SQLite file, sends signed incident.resolved webhooks and prints the COEs, their action\nitems, the mirrors and the weekly report.",
		"  coesync demo\n  coesync demo --keep -v", runDemo},
	{"serve", "Run the service (configured by COESYNC_* environment variables)",
		"Serves the webhooks on COESYNC_LISTEN_ADDR and the status page, report, metrics and probes on\nCOESYNC_ADMIN_LISTEN_ADDR, and runs the durable jobs until SIGTERM.",
		"  COESYNC_PAGERDUTY_TOKEN=… COESYNC_JIRA_URL=https://acme.atlassian.net … coesync serve",
		func(ctx context.Context, args []string, _, stderr io.Writer) error {
			return runServe(ctx, args, stderr)
		}},
	{"preview <incident-id|number|URL>", "Render the COE of a real incident to stdout, writing nothing",
		"Fetches the incident from PagerDuty and prints the COE draft and the route it would take; it\ncreates nothing in Jira and adds no note.",
		"  coesync preview PABC123\n  coesync preview https://acme.pagerduty.com/incidents/PABC123", runPreview},
	{"status", "List failed and waiting jobs with their reasons, and action items out of step",
		"Reads the store (no network): failed and waiting jobs, action items with a sync problem, the\nstore's size.", "  coesync status\n  coesync status --all", runStatus},
	{"report", "Print the weekly sync status report from the store",
		"Builds the report of a week or a date range from the store (no network).",
		"  coesync report --week 2026-W47\n  coesync report --since 2026-11-01 --until 2026-12-01 --format json", runReport},
	{"replay <job-id>", "Run a failed job again, or every failed job with --failed",
		"Makes a failed or waiting job run now; a running serve picks it up.", "  coesync replay 42\n  coesync replay --failed", runReplay},
	{"reconcile", "Queue one reconciliation pass now (a running serve picks it up)",
		"Reconcile asks Jira and GitHub what changed since the last pass and repairs what lost webhooks\nleft out of step.", "  coesync reconcile", runReconcile},
	{"chaos", "Run the real binary against failing fakes, kill it, and count COEs and mirrors",
		"A harness: injects faults and kills, then checks exactly one COE and one mirror each.",
		"  coesync chaos --incidents 40 --kills 2", runChaosCommand},
	{"bench", "Measure ingest, latency, API calls, reconcile cost, a storm, the footprint and a flood",
		"A harness: runs the scenarios against built-in fakes and prints a table (--json for machines).",
		"  coesync bench --quick\n  coesync bench --only flood --binary ./coesync", runBench},
	{"migrate", "Apply the database migrations of COESYNC_DATABASE_URL and print them",
		"Needed when replicas run with COESYNC_AUTO_MIGRATE=false (the Helm chart runs it as a hook).",
		"  COESYNC_DATABASE_URL=postgres://… coesync migrate", runMigrate},
	{"migrate-store", "Copy a SQLite store into a fresh PostgreSQL database",
		"Moves an SQLite deployment to PostgreSQL, queued jobs included.",
		"  coesync migrate-store --from coesync.db --to postgres://…", runMigrateStore},
	{"backfill", "Queue COEs for resolved incidents that were missed",
		"Lists resolved incidents in a window from PagerDuty and queues a COE for each one without.",
		"  coesync backfill --since 2026-10-01 --dry-run\n  coesync backfill --since 2026-10-01 --until 2026-11-01", runBackfill},
	{"check", "Validate the configuration, the rules and access to PagerDuty, Jira and GitHub",
		"Prints a checklist with a fix per failure and exits 1 on any failure.", "  coesync check", runCheck},
	{"version", "Print the version, the VCS revision and the Go version",
		"", "  coesync version", func(_ context.Context, args []string, stdout, _ io.Writer) error {
			if len(args) > 0 {
				return &exitError{2, fmt.Errorf("version takes no arguments, got %q", args)}
			}
			fmt.Fprintln(stdout, version.Get())
			return nil
		}},
}

// newRootCommand builds the CLI. Each subcommand keeps parsing its own
// flags; cobra gives the tree, help, completion and suggestions.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "coesync",
		Short: "Turn resolved PagerDuty incidents into COE reviews in Jira and keep their actions moving",
		Long: "coesync turns resolved PagerDuty incidents into Correction-of-Error reviews in Jira and keeps\n" +
			"their corrective actions moving until they are done. Start with `coesync demo`.\n\n" + exitCodes,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version.Get().String(),
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, sc := range subcommands {
		root.AddCommand(sc.command(stdout, stderr))
	}
	return root
}

func (sc subcommand) command(stdout, stderr io.Writer) *cobra.Command {
	long := sc.short + "."
	if sc.long != "" {
		long += "\n\n" + sc.long
	}
	c := &cobra.Command{
		Use: sc.use, Short: sc.short, Long: long + "\n\n" + exitCodes, Example: sc.example,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if a == "--" {
					break
				}
				if a == "-h" || a == "--help" || a == "-help" {
					return cmd.Help()
				}
			}
			return sc.run(cmd.Context(), args, stdout, stderr)
		},
	}
	c.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		w := cmd.OutOrStdout()
		fmt.Fprintf(w, "%s\n\nUsage:\n  coesync %s [flags]\n", cmd.Long, sc.use)
		if sc.example != "" {
			fmt.Fprintf(w, "\nExamples:\n%s\n", sc.example)
		}
		// The flags are the subcommand's own flag set's.
		var flags strings.Builder
		_ = sc.run(context.Background(), []string{"-h"}, io.Discard, &flags)
		if _, rest, ok := strings.Cut(flags.String(), "\n"); ok && strings.TrimSpace(rest) != "" {
			fmt.Fprintf(w, "\nFlags:\n%s", rest)
		}
	})
	return c
}

// run executes the command line args (without the program name).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRootCommand(stdout, stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		_ = root.Help()
		return &exitError{2, errors.New("no command")}
	}
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee *exitError
	if err != nil && !errors.As(err, &ee) && isUsageError(err) {
		return &exitError{2, err}
	}
	return err
}

// isUsageError tells cobra's own errors (an unknown command or flag) from
// a command's.
func isUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.Contains(msg, "accepts ") && strings.Contains(msg, " arg(s)")
}
