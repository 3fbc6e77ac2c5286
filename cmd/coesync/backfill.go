package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// backfillSource lists resolved incidents (the PagerDuty connector).
type backfillSource interface {
	ResolvedIncidents(ctx context.Context, since, until time.Time) ([]coe.Incident, error)
}

// backfillStore is what backfill reads and writes.
type backfillStore interface {
	COE(ctx context.Context, incidentID string) (store.COE, error)
	Jobs(ctx context.Context, states ...string) ([]store.JobInfo, error)
	Enqueue(ctx context.Context, jobs ...store.Job) error
}

// Outcomes of one incident in a backfill.
const (
	backfillCreated = "created" // a DraftCOE job was queued (would be, with --dry-run)
	backfillSkipped = "skipped" // a routing rule skips the incident
	backfillPresent = "present" // coesync already has (or has queued) its COE
)

type backfillSummary struct {
	Found, Created, Skipped, Present int
}

// backfill queues the DraftCOE job of every resolved incident in a range
// that coesync has no COE for: the same job, with the same uniqueness per
// incident, that a webhook queues, so a COE is never made twice whatever
// runs at the same time (webhooks, another backfill). The running service
// does the work; the command only queues.
type backfill struct {
	Source backfillSource
	Router engine.Router
	Store  backfillStore
	DryRun bool
	Out    io.Writer
	// TTY draws a progress bar in place; otherwise each incident is a line.
	TTY bool
}

// queuedStates are the job states in which a DraftCOE job will still run.
var queuedStates = []string{"available", "pending", "running", "retryable", "scheduled"}

func (b *backfill) run(ctx context.Context, since, until time.Time) (backfillSummary, error) {
	var sum backfillSummary
	incs, err := b.Source.ResolvedIncidents(ctx, since, until)
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	sum.Found = len(incs)
	queued, err := b.queuedIncidents(ctx)
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	verb := "queued"
	if b.DryRun {
		verb = "would queue"
	}
	fmt.Fprintf(b.Out, "%d resolved incidents created %s .. %s\n", len(incs), since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	for i, inc := range incs {
		outcome, why, err := b.one(ctx, inc, queued)
		if err != nil {
			b.endBar()
			return sum, fmt.Errorf("backfill %s: %w", inc.ID, err)
		}
		switch outcome {
		case backfillCreated:
			sum.Created++
			why = verb + " a COE draft"
		case backfillSkipped:
			sum.Skipped++
		case backfillPresent:
			sum.Present++
		}
		b.progress(i+1, len(incs), inc, why)
	}
	b.endBar()
	created := "created (queued for the running service)"
	if b.DryRun {
		created = "would be created (dry run: nothing written)"
	}
	fmt.Fprintf(b.Out, "\n%d %s, %d skipped by rule, %d already present\n", sum.Created, created, sum.Skipped, sum.Present)
	return sum, nil
}

// one decides about one incident and, unless dry, queues its job.
func (b *backfill) one(ctx context.Context, inc coe.Incident, queued map[string]bool) (outcome, why string, err error) {
	c, err := b.Store.COE(ctx, inc.ID)
	switch {
	case err == nil && c.State == store.COESkipped:
		return backfillSkipped, fmt.Sprintf("skipped by rule %q", c.Rule), nil
	case err == nil && c.TicketKey != "":
		return backfillPresent, "already present: " + c.TicketKey, nil
	case err == nil:
		return backfillPresent, "already present (being created)", nil
	case !errors.Is(err, store.ErrNotFound):
		return "", "", err
	}
	if queued[inc.ID] {
		return backfillPresent, "already queued", nil
	}
	if r := b.Router.Route(inc); r.Skip {
		return backfillSkipped, fmt.Sprintf("skipped by rule %q", r.Rule), nil
	}
	if !b.DryRun {
		if err := b.Store.Enqueue(ctx, engine.DraftCOEJob(inc.ID)); err != nil {
			return "", "", err
		}
		queued[inc.ID] = true
	}
	return backfillCreated, "", nil
}

// queuedIncidents are the incidents with a DraftCOE job waiting or running.
func (b *backfill) queuedIncidents(ctx context.Context) (map[string]bool, error) {
	jobs, err := b.Store.Jobs(ctx, queuedStates...)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, j := range jobs {
		if j.Kind != (engine.DraftCOEArgs{}).Kind() {
			continue
		}
		var a engine.DraftCOEArgs
		if json.Unmarshal([]byte(j.Args), &a) == nil && a.IncidentID != "" {
			out[a.IncidentID] = true
		}
	}
	return out, nil
}

const barWidth = 30

func (b *backfill) progress(done, total int, inc coe.Incident, what string) {
	if !b.TTY {
		fmt.Fprintf(b.Out, "[%d/%d] %s #%d %s: %s\n", done, total, inc.ID, inc.Number, termSafe(inc.Title, 60), what)
		return
	}
	n := barWidth * done / max(total, 1)
	fmt.Fprintf(b.Out, "\r\x1b[K[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", barWidth-n), done, total, inc.ID)
}

func (b *backfill) endBar() {
	if b.TTY {
		fmt.Fprintln(b.Out)
	}
}

// termSafe makes untrusted text (an incident title) safe to print on a
// terminal: control characters (escape sequences) become spaces, cut to max runes.
func termSafe(s string, max int) string {
	r := []rune(s)
	for i, c := range r {
		if unicode.IsControl(c) || c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069') {
			r[i] = ' '
		}
	}
	if len(r) > max {
		return string(r[:max]) + "…"
	}
	return string(r)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// parseDay reads a flag date: 2026-10-01 (UTC midnight) or RFC 3339.
func parseDay(flagName, v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--%s: want a date such as 2026-10-01 or an RFC 3339 time, got %q", flagName, v)
}

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backfill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sinceF := fs.String("since", "", "first day (UTC) of incidents to backfill, e.g. 2026-10-01 (required)")
	untilF := fs.String("until", "", "day after the last one (default: now)")
	dry := fs.Bool("dry-run", false, "print what would be queued; write nothing")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if *sinceF == "" || fs.NArg() != 0 {
		return &exitError{2, errors.New("usage: coesync backfill --since 2026-10-01 [--until 2026-11-01] [--dry-run]")}
	}
	since, err := parseDay("since", *sinceF)
	if err != nil {
		return &exitError{2, err}
	}
	until := time.Now().UTC()
	if *untilF != "" {
		if until, err = parseDay("until", *untilF); err != nil {
			return &exitError{2, err}
		}
	}
	if !until.After(since) {
		return &exitError{2, errors.New("--until must be after --since")}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	router, err := cfg.LoadRouter()
	if err != nil {
		return &exitError{2, err}
	}
	c, err := newClients(cfg, nil)
	if err != nil {
		return err
	}
	if *dry {
		// Writes nothing, not even a schema migration: an outdated store
		// is an error asking for `coesync migrate`.
		cfg.AutoMigrate = false
	}
	st, err := openStore(ctx, cfg, storeOptionsCLI(cfg, stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	b := &backfill{Source: c.pd, Router: router, Store: st, DryRun: *dry, Out: stdout, TTY: isTerminal(stdout)}
	_, err = b.run(ctx, since, until)
	return err
}
