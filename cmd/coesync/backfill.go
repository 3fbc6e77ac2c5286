package main

import (
	"bufio"
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
	ListResolvedIncidents(ctx context.Context, since, until time.Time, listed func(n int)) ([]coe.Incident, error)
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
	// Service, if set, keeps the incidents of that PagerDuty service (ID
	// or name, case-insensitive).
	Service string
	// Limit, if positive, queues at most that many COEs (oldest first).
	Limit int
	// Confirm, if set, is asked before queueing more than confirmAbove
	// COEs; false queues nothing.
	Confirm func(n int) (bool, error)
	Out     io.Writer
	// TTY draws a progress bar in place; otherwise each incident is a line.
	TTY bool
}

// confirmAbove is how many COEs a backfill on a terminal queues without
// asking.
const confirmAbove = 50

// errDeclined is a backfill the operator did not confirm.
var errDeclined = errors.New("backfill: not confirmed; nothing queued")

// queuedStates are the job states in which a DraftCOE job will still run.
var queuedStates = []string{"available", "pending", "running", "retryable", "scheduled"}

func (b *backfill) run(ctx context.Context, since, until time.Time) (backfillSummary, error) {
	var sum backfillSummary
	fmt.Fprintf(b.Out, "listing resolved incidents created %s .. %s from PagerDuty\n", since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	incs, err := b.Source.ListResolvedIncidents(ctx, since, until, b.listed)
	b.endBar()
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	if b.Service != "" {
		var of []coe.Incident
		for _, i := range incs {
			if strings.EqualFold(i.ServiceID, b.Service) || strings.EqualFold(i.ServiceName, b.Service) {
				of = append(of, i)
			}
		}
		incs = of
	}
	sum.Found = len(incs)
	queued, err := b.queuedIncidents(ctx)
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	service := ""
	if b.Service != "" {
		service = " of service " + termSafe(b.Service, 60)
	}
	fmt.Fprintf(b.Out, "%d resolved incidents%s\n", len(incs), service)
	// Decide first (reads only), then queue: the operator confirms what
	// will be queued, and a limit keeps the oldest.
	var create []coe.Incident
	for i, inc := range incs {
		outcome, why, err := b.decide(ctx, inc, queued)
		if err != nil {
			return sum, fmt.Errorf("backfill %s: %w", inc.ID, err)
		}
		switch {
		case outcome == backfillCreated && b.Limit > 0 && len(create) >= b.Limit:
			outcome, why = "", fmt.Sprintf("left out: over --limit %d", b.Limit)
		case outcome == backfillCreated:
			create = append(create, inc)
			why = "queue a COE draft"
			if b.DryRun {
				why = "would queue a COE draft"
			}
		case outcome == backfillSkipped:
			sum.Skipped++
		case outcome == backfillPresent:
			sum.Present++
		}
		if b.DryRun || !b.TTY {
			// A dry run lists every incident, on a terminal too.
			fmt.Fprintf(b.Out, "[%d/%d] %s #%d %s: %s\n", i+1, len(incs), inc.ID, inc.Number, termSafe(inc.Title, 60), why)
		}
	}
	if !b.DryRun && len(create) > confirmAbove && b.Confirm != nil {
		ok, err := b.Confirm(len(create))
		if err != nil {
			return sum, fmt.Errorf("backfill: %w", err)
		}
		if !ok {
			return sum, errDeclined
		}
	}
	if !b.DryRun {
		for i, inc := range create {
			if err := b.Store.Enqueue(ctx, engine.DraftCOEJob(inc.ID)); err != nil {
				b.endBar()
				return sum, fmt.Errorf("backfill %s: %w", inc.ID, err)
			}
			queued[inc.ID] = true
			if b.TTY {
				b.progress(i+1, len(create), inc, "")
			}
		}
		b.endBar()
	}
	sum.Created = len(create)
	created := "created (queued for the running service)"
	if b.DryRun {
		created = "would be created (dry run: nothing written)"
	}
	fmt.Fprintf(b.Out, "\n%d %s, %d skipped by rule, %d already present\n", sum.Created, created, sum.Skipped, sum.Present)
	return sum, nil
}

// listed shows the listing's progress: in place on a terminal, else a
// line every 100 incidents.
func (b *backfill) listed(n int) {
	switch {
	case b.TTY:
		fmt.Fprintf(b.Out, "\r\x1b[Klisted %d incidents", n)
	case n%100 == 0:
		fmt.Fprintf(b.Out, "listed %d incidents\n", n)
	}
}

// decide says what becomes of one incident; it writes nothing.
func (b *backfill) decide(ctx context.Context, inc coe.Incident, queued map[string]bool) (outcome, why string, err error) {
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
	dry := fs.Bool("dry-run", false, "list every incident and what would be queued; write nothing")
	service := fs.String("service", "", "only incidents of this PagerDuty service (ID or name)")
	limit := fs.Int("limit", 0, "queue at most this many COEs, the oldest first (0: no limit)")
	yes := fs.Bool("yes", false, fmt.Sprintf("do not ask before queueing more than %d on a terminal", confirmAbove))
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if *sinceF == "" || fs.NArg() != 0 {
		return &exitError{2, errors.New("usage: coesync backfill --since 2026-10-01 [--until 2026-11-01] [--service S] [--limit N] [--dry-run] [--yes]")}
	}
	if *limit < 0 {
		return &exitError{2, fmt.Errorf("--limit: want 0 or more, got %d", *limit)}
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
		if *untilF == "" {
			return &exitError{2, fmt.Errorf("--since %s is in the future (--until defaults to now)", *sinceF)}
		}
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
	if *dry && errors.Is(err, store.ErrSchemaOutdated) {
		return fmt.Errorf("the store's schema is not at the latest version and a dry run writes nothing, not even a migration: run `coesync migrate` (or a backfill without --dry-run) first")
	}
	if err != nil {
		return err
	}
	defer st.Close()
	b := &backfill{Source: c.pd, Router: router, Store: st, DryRun: *dry, Service: *service, Limit: *limit,
		Out: stdout, TTY: isTerminal(stdout)}
	if b.TTY && !*yes {
		b.Confirm = func(n int) (bool, error) { return askYes(os.Stdin, stdout, n) }
	}
	_, err = b.run(ctx, since, until)
	if errors.Is(err, errDeclined) {
		return &exitError{1, err}
	}
	return err
}

// askYes asks on the terminal whether to queue n COEs.
func askYes(in io.Reader, out io.Writer, n int) (bool, error) {
	fmt.Fprintf(out, "queue %d COE drafts? [y/N] ", n)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
