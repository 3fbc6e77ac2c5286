package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// COEStore is the part of the store the drafter needs.
type COEStore interface {
	COE(ctx context.Context, incidentID string) (store.COE, error)
	BeginCOE(ctx context.Context, c store.COE) (store.COE, bool, error)
	SetCOETicket(ctx context.Context, incidentID, key, id, url string, at time.Time) error
	RenewCOEIntent(ctx context.Context, incidentID string, at time.Time) error
	SkipCOE(ctx context.Context, c store.COE) error
	MarkCOE(ctx context.Context, incidentID string, step store.COEStep, at time.Time) error
	// State and SetState keep the note's intent (noteOnce).
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// Renderer turns a draft into Jira wiki markup.
type Renderer interface {
	Render(d coe.Draft) (string, error)
}

// Drafter turns one resolved incident into exactly one COE ticket.
type Drafter struct {
	Source   IncidentSource
	Tracker  TicketTracker
	Router   Router
	Store    COEStore
	Renderer Renderer
	Now      func() time.Time
	// Sleep waits on the clock Now reads; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	Log   *slog.Logger
	// SearchSettle is how long Jira's search may lag behind a create. A
	// retry that finds an unfinished create and no ticket by label polls
	// the search with backoff (pollByLabel) until the settle window after
	// the intent has passed before it trusts the empty answer: this long
	// until a lag has been observed, then twice the observed lag within
	// [SearchSettleFloor, SearchSettle] (see searchSettle).
	SearchSettle time.Duration
	// DefaultRepo is COESYNC_GITHUB_REPO: a route that names another
	// repository was set by a rule, which wins over an item's repo label.
	DefaultRepo string
	// NoteOnIncident adds a note with the COE link to the PagerDuty
	// incident (needs COESYNC_PAGERDUTY_FROM).
	NoteOnIncident bool
	// NoteSettle is how long after a note that may have landed (the call
	// timed out) a retry that does not see it waits before adding it again
	// (PagerDuty may apply a request after the client gave up).
	NoteSettle time.Duration
	// MaxProposedItems is COESYNC_MAX_PROPOSED_ITEMS: the draft marks the
	// proposed action items beyond it as not created (coe.Draft.WithItemCap);
	// zero caps nothing.
	MaxProposedItems int
	// Created, if set, is called once the ticket exists (metrics, seeding
	// action items). It must be idempotent: a retry may call it again.
	Created func(ctx context.Context, c store.COE, d coe.Draft) error
	// Changes lists the deployments and merged pull requests of the
	// route's ChangeRepos before the incident; nil lists none.
	Changes *ChangeFinder
	// History finds earlier COEs of the incident's service or incident
	// key (recurrence); nil finds none.
	History *HistoryFinder
	// SLA (COESYNC_ACTION_SLA) gives the draft's proposed action items the
	// incident's priority and a due date, the day of drafting plus the
	// SLA; nil leaves both for the team to set.
	SLA *SLA
}

// Outcome of Draft, for logs and tests.
type Outcome string

const (
	OutcomeCreated Outcome = "created" // this run created the ticket
	OutcomeFound   Outcome = "found"   // a ticket from an interrupted run was found in Jira
	OutcomeExists  Outcome = "exists"  // the store already had the ticket
	OutcomeSkipped Outcome = "skipped" // a routing rule said no COE
)

// WaitError asks the engine to run the job again after Wait without
// counting a failure (eventual consistency, rate limits).
type WaitError struct {
	Wait   time.Duration
	Reason string
}

func (w *WaitError) Error() string { return fmt.Sprintf("wait %s: %s", w.Wait, w.Reason) }

func (d *Drafter) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// GlobalID is the stable identity of the remote link from a COE ticket to
// its PagerDuty incident: Jira keeps one link per globalId.
func GlobalID(incidentID string) string { return "coesync:pagerduty-incident:" + incidentID }

type fetched struct {
	inc     coe.Incident
	log     []coe.LogEntry
	notes   []coe.Note
	changes coe.ChangeList
	history coe.History
	alerts  []coe.Alert
	// alertsErr is why the alerts could not be read: the COE names it
	// rather than wait for them.
	alertsErr error
	// at is when inc and log were read; haveInc and haveLog say they
	// were (an attempt that failed on another read keeps them, see
	// keepFetched); cached says they came from an earlier attempt.
	at               time.Time
	haveInc, haveLog bool
	cached           bool
}

// fetch reads the incident, its log entries, notes and alerts in
// parallel; once the incident is known, its changes and earlier COEs are
// looked up while the rest is still being read. strict lets those lookups
// fail the run on transient errors (see ChangeFinder); it is false once
// the ticket exists and for previews. Without withContext they and the
// alerts are skipped (the ticket exists: its description is not written
// again). A failure to read the alerts never fails the fetch: the COE
// names it. With reuse, the incident and log entries an earlier attempt
// of the job kept are used instead of read again (see cachedFetch).
func (d *Drafter) fetch(ctx context.Context, id string, strict, withContext, reuse bool) (fetched, error) {
	f := fetched{at: d.now()}
	if reuse {
		if c, ok := d.loadFetched(ctx, id); ok {
			f.inc, f.log, f.at, f.haveInc, f.haveLog, f.cached = c.Incident, c.Log, c.At, true, true, true
		}
	}
	// The reads are independent: one round trip of latency, not three.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if !f.haveInc {
			if f.inc, err = d.Source.Incident(gctx, id); err != nil {
				return err
			}
			f.haveInc = true
		}
		if !withContext {
			return nil
		}
		return d.fetchContext(gctx, &f, strict)
	})
	if !f.haveLog {
		g.Go(func() (err error) {
			if f.log, err = d.Source.LogEntries(gctx, id); err == nil {
				f.haveLog = true
			}
			return err
		})
	}
	g.Go(func() (err error) { f.notes, err = d.Source.Notes(gctx, id); return err })
	if withContext {
		g.Go(func() error {
			f.alerts, f.alertsErr = d.Source.Alerts(gctx, id)
			return nil
		})
	}
	err := g.Wait()
	if err == nil && f.alertsErr != nil && d.Log != nil {
		d.Log.Warn("alerts could not be read; the COE says so", "incident", id, "err", f.alertsErr)
	}
	return f, err
}

// fetchContext looks up what changed before the incident and its earlier
// COEs, in parallel.
func (d *Drafter) fetchContext(ctx context.Context, f *fetched, strict bool) error {
	if d.Changes == nil && d.History == nil {
		return nil
	}
	route := d.Router.Route(f.inc)
	if route.Skip {
		return nil // no COE to write them into
	}
	now, repos := d.now(), route.ChangeRepos
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { f.changes, err = d.Changes.List(gctx, f.inc, repos, strict, now); return err })
	g.Go(func() (err error) { f.history, err = d.History.Find(gctx, f.inc, strict, now); return err })
	return g.Wait()
}

// BuildDraft fetches an incident and builds its draft and description
// without writing anything (coesync preview uses it too).
func (d *Drafter) BuildDraft(ctx context.Context, incidentID string) (coe.Draft, string, error) {
	f, err := d.fetch(ctx, incidentID, false, true, false)
	if err != nil {
		return coe.Draft{}, "", err
	}
	return d.render(f)
}

func (d *Drafter) render(f fetched) (coe.Draft, string, error) {
	route := d.Router.Route(f.inc)
	var alertsFailed string
	if f.alertsErr != nil {
		alertsFailed = alertsFailure(f.alertsErr)
	}
	draft := coe.NewDraft(f.inc, f.log, f.notes, route).WithChanges(f.changes).WithHistory(f.history).
		WithAlerts(f.alerts, alertsFailed).WithItemCap(d.MaxProposedItems)
	if dur, ok := d.SLA.For(f.inc.Priority); ok {
		draft = draft.WithItemDefaults(f.inc.Priority, DueFor(d.now(), dur))
	} else if d.SLA != nil {
		draft = draft.WithItemDefaults(f.inc.Priority, time.Time{})
	}
	desc, err := d.Renderer.Render(draft)
	if err != nil {
		return draft, "", Permanently(fmt.Errorf("render COE for %s: %w", f.inc.ID, err))
	}
	return draft, desc, nil
}

// Draft makes sure incidentID has its COE ticket, following the
// exactly-once protocol: the store is the truth, Jira's label search the
// witness of a create that was interrupted before its key was stored.
// An attempt that fails keeps the incident and log entries it read for the
// next attempt (see cachedFetch).
func (d *Drafter) Draft(ctx context.Context, incidentID string) (outcome Outcome, err error) {
	log := d.Log.With("incident", incidentID)
	rec, err := d.Store.COE(ctx, incidentID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return "", err
	case rec.State == store.COESkipped:
		return OutcomeSkipped, nil
	}

	f, err := d.fetch(ctx, incidentID, true, rec.State != store.COECreated, true)
	defer func() {
		if err != nil && f.haveInc && f.haveLog {
			d.keepFetched(ctx, f)
		} else if err == nil {
			d.dropFetched(ctx, f)
		}
	}()
	if err != nil {
		return "", fmt.Errorf("fetch incident %s: %w", incidentID, err)
	}
	draft, desc, err := d.render(f)
	if err != nil {
		return "", err
	}
	route := draft.Route
	label := coe.IncidentLabel(incidentID)
	base := store.COE{
		IncidentID: incidentID, Label: label, Rule: route.Rule, Project: route.Project,
		Title: f.inc.Title, ServiceID: f.inc.ServiceID, ServiceName: f.inc.ServiceName,
		Teams: teamNames(f.inc.Teams), IntentAt: d.now(), IncidentURL: f.inc.URL, IncidentNumber: f.inc.Number,
		IncidentKey: f.inc.IncidentKey,
	}
	if e, ok := draft.History.Recurrence(); ok {
		base.RecurrenceOf = e.TicketKey
	}
	if route.GitHubRepo != d.DefaultRepo {
		base.Repo = route.GitHubRepo
	}
	if rec.State == "" && route.Skip {
		log.Info("no COE: skipped by routing rule", "rule", route.Rule)
		return OutcomeSkipped, d.Store.SkipCOE(ctx, base)
	}

	outcome = OutcomeExists
	if rec.State != store.COECreated {
		var fresh bool
		rec, fresh, err = d.Store.BeginCOE(ctx, base)
		if err != nil {
			return "", err
		}
		if !fresh {
			// An earlier run stopped after recording its intent: its
			// create may have reached Jira. Look before creating.
			if rec, outcome, err = d.recover(ctx, rec); err != nil {
				return "", err
			}
			if rec.State != store.COECreated {
				// About to create again: this create's settle window
				// starts now, should it be cut off too.
				if err := d.Store.RenewCOEIntent(ctx, incidentID, d.now()); err != nil {
					return "", err
				}
			}
		}
		if rec.State != store.COECreated {
			spec := coe.TicketSpec{
				Project: route.Project, IssueType: route.IssueType, Summary: coe.TicketSummary(f.inc),
				Description: desc, Labels: ticketLabels(label, append(historyLabels(draft), route.Labels...)), Components: route.Components,
				Priority: route.Priority,
			}
			// A create held at the rate gate starts its settle window when
			// it is finally sent (see beforeAttempt).
			cctx := beforeAttempt(ctx, func(ctx context.Context) error {
				return d.Store.RenewCOEIntent(ctx, incidentID, d.now())
			})
			ref, err := d.Tracker.CreateTicket(cctx, spec)
			if err != nil {
				if refused(err) {
					// Jira answered and refused (429 included): nothing
					// was created, so the retry need not wait for search
					// to settle. Timeouts and 5xx leave the outcome unknown.
					if cerr := d.Store.RenewCOEIntent(ctx, incidentID, time.Time{}); cerr != nil {
						err = errors.Join(err, cerr)
					}
				}
				return "", fmt.Errorf("create COE for %s: %w", incidentID, err)
			}
			if err := d.Store.SetCOETicket(ctx, incidentID, ref.Key, ref.ID, ref.URL, d.now()); err != nil {
				return "", err
			}
			rec.State, rec.TicketKey, rec.TicketID, rec.TicketURL, rec.CreatedAt = store.COECreated, ref.Key, ref.ID, ref.URL, d.now()
			outcome = OutcomeCreated
			log.Info("COE created", "ticket", ref.Key)
		}
	}
	if err := d.followUp(ctx, rec, f); err != nil {
		return "", err
	}
	if d.Created != nil {
		if err := d.Created(ctx, rec, draft); err != nil {
			return "", err
		}
	}
	return outcome, nil
}

// recover looks in Jira for the ticket of an interrupted create.
func (d *Drafter) recover(ctx context.Context, rec store.COE) (store.COE, Outcome, error) {
	if rec.State == store.COECreated {
		return rec, OutcomeExists, nil
	}
	if rec.IntentAt.IsZero() {
		// The last create was refused by Jira: none is in flight.
		return rec, "", nil
	}
	refs, err := d.pollByLabel(ctx, rec)
	if err != nil {
		return rec, "", err
	}
	if len(refs) > 0 {
		// Should two exist (a create that Jira applied twice), the oldest
		// is the COE; keys grow with creation order within a project.
		sort.Slice(refs, func(i, j int) bool { return keyLess(refs[i].Key, refs[j].Key) })
		ref := refs[0]
		if err := d.Store.SetCOETicket(ctx, rec.IncidentID, ref.Key, ref.ID, ref.URL, d.now()); err != nil {
			return rec, "", err
		}
		d.Log.Info("COE found after interrupted create", "incident", rec.IncidentID, "ticket", ref.Key)
		rec.State, rec.TicketKey, rec.TicketID, rec.TicketURL, rec.CreatedAt = store.COECreated, ref.Key, ref.ID, ref.URL, d.now()
		return rec, OutcomeFound, nil
	}
	// Empty once the window has passed: no create landed.
	return rec, "", nil
}

// Polling Jira's search for the ticket of an interrupted create: the first
// look again after searchPollFirst, each wait twice the last up to
// searchPollMax, for at most searchPollBudget in one attempt (a job does
// not hold its worker for the whole settle window; a WaitError has the
// job look again later).
const (
	searchPollFirst  = 250 * time.Millisecond
	searchPollMax    = 4 * time.Second
	searchPollBudget = 15 * time.Second
)

// pollByLabel searches Jira for rec's ticket until it shows, the settle
// window after rec's intent has passed (an empty answer is then the
// truth), or this attempt's polling budget is spent. Jira's search
// typically lags a few seconds, so a ticket that landed is found within
// seconds instead of after the whole window.
func (d *Drafter) pollByLabel(ctx context.Context, rec store.COE) ([]coe.TicketRef, error) {
	settle := d.searchSettle(ctx)
	settled := rec.IntentAt.Add(settle)
	start, wait := d.now(), searchPollFirst
	for {
		refs, err := d.Tracker.FindByLabel(ctx, rec.Label)
		if err != nil {
			return nil, fmt.Errorf("look for COE of %s by label: %w", rec.IncidentID, err)
		}
		now := d.now()
		left := settled.Sub(now)
		if len(refs) > 0 {
			d.recordSearchLag(ctx, now.Sub(rec.IntentAt))
			return refs, nil
		}
		if settle <= 0 || left <= 0 {
			return refs, nil
		}
		if spent := now.Sub(start); spent+min(wait, left) > searchPollBudget {
			reason := "Jira search may not show a ticket created " + now.Sub(rec.IntentAt).Round(time.Millisecond).String() + " ago"
			return nil, &WaitError{Wait: min(wait, left), Reason: reason}
		}
		if err := d.sleep(ctx, min(wait, left)); err != nil {
			return nil, err
		}
		wait = min(2*wait, searchPollMax)
	}
}

// sleep waits d on the Drafter's clock.
func (d *Drafter) sleep(ctx context.Context, dur time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dur)
	}
	return sleepCtx(ctx, dur)
}

// followUp runs the steps after the ticket exists; each is an upsert or is
// recorded once done.
func (d *Drafter) followUp(ctx context.Context, rec store.COE, f fetched) error {
	g, gctx := errgroup.WithContext(ctx)
	if rec.LinkedAt.IsZero() {
		g.Go(func() error {
			link := coe.RemoteLink{GlobalID: GlobalID(rec.IncidentID), URL: f.inc.URL,
				Title: fmt.Sprintf("PagerDuty incident #%d", f.inc.Number), Summary: f.inc.Title}
			if err := d.Tracker.EnsureRemoteLink(gctx, rec.TicketKey, link); err != nil {
				return fmt.Errorf("link %s to incident %s: %w", rec.TicketKey, rec.IncidentID, err)
			}
			return d.Store.MarkCOE(gctx, rec.IncidentID, store.StepLinked, d.now())
		})
	}
	if d.NoteOnIncident && rec.NotedAt.IsZero() {
		g.Go(func() error {
			// A note is not an upsert: a run cut off after adding it
			// would add a second one, so look for ours first.
			for _, n := range f.notes {
				if strings.Contains(n.Content, rec.TicketURL) {
					return d.Store.MarkCOE(gctx, rec.IncidentID, store.StepNoted, d.now())
				}
			}
			// An earlier attempt's note may still land: wait for it.
			key := "note:intent:" + rec.IncidentID
			earlier, err := loadIntent(gctx, d.Store, key)
			if err != nil {
				return err
			}
			if err := landing(earlier, d.NoteSettle, d.now(), "the note on incident "+rec.IncidentID+" may still land"); err != nil {
				return err
			}
			nctx, err := intending(gctx, func(ctx context.Context) error { return saveIntent(ctx, d.Store, key, d.now()) })
			if err != nil {
				return err
			}
			note := fmt.Sprintf("COE draft %s: %s", rec.TicketKey, rec.TicketURL)
			if err := d.Source.AddNote(nctx, rec.IncidentID, note); err != nil {
				if refused(err) {
					saveIntent(context.WithoutCancel(gctx), d.Store, key, time.Time{}) // nothing to wait for
				}
				return fmt.Errorf("note COE %s on incident %s: %w", rec.TicketKey, rec.IncidentID, err)
			}
			return d.Store.MarkCOE(gctx, rec.IncidentID, store.StepNoted, d.now())
		})
	}
	return g.Wait()
}

func ticketLabels(incidentLabel string, extra []string) []string {
	labels := []string{"coe", incidentLabel}
	for _, l := range extra {
		if l != "" && l != "coe" && l != incidentLabel {
			labels = append(labels, l)
		}
	}
	return labels
}

func teamNames(ts []coe.Team) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}

// keyLess orders Jira keys by project, then by number.
func keyLess(a, b string) bool {
	pa, na := splitKey(a)
	pb, nb := splitKey(b)
	if pa != pb {
		return pa < pb
	}
	return na < nb
}

func splitKey(k string) (string, int) {
	i := strings.LastIndexByte(k, '-')
	if i < 0 {
		return k, 0
	}
	n := 0
	for _, r := range k[i+1:] {
		if r < '0' || r > '9' {
			return k, 0
		}
		n = n*10 + int(r-'0')
	}
	return k[:i], n
}

// alertsFailure is what the COE says about a failed read of the alerts:
// the HTTP status PagerDuty answered, or that it could not be reached or
// answered something unusable; never the response body or a URL.
func alertsFailure(err error) string {
	var e *Error
	switch {
	case !errors.As(err, &e):
		return "the request failed"
	case e.Status != 0:
		return fmt.Sprintf("PagerDuty answered HTTP %d", e.Status)
	case e.Kind == Permanent:
		return "PagerDuty's answer could not be used"
	default:
		return "PagerDuty could not be reached"
	}
}
