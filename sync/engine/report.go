package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coesync/coesync/sync/report"
	"github.com/coesync/coesync/sync/store"
)

// ReportStore is what the report reads: everything comes from the store,
// so `coesync report` needs no network.
type ReportStore interface {
	ListCOEs(ctx context.Context, since, until time.Time) ([]store.COE, error)
	ActionItems(ctx context.Context, coeKey string) ([]store.ActionItem, error)
	Counts(ctx context.Context, since, until time.Time) (map[string]int, error)
	DeliveryCounts(ctx context.Context, since, until time.Time) (map[string]int, error)
	Jobs(ctx context.Context, states ...string) ([]store.JobInfo, error)
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
	TryLock(ctx context.Context, name, owner string, until time.Time) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
}

// ReportSink is a place the weekly report is delivered to.
type ReportSink interface {
	// Name identifies the sink in the delivery record ("slack", "github", "dir").
	Name() string
	// Deliver sends the report. It should be idempotent where the target
	// allows (a GitHub comment with a marker, a file); Slack cannot be.
	Deliver(ctx context.Context, r report.Report) error
}

// Schedule is a cron schedule (robfig/cron's Schedule satisfies it, and so
// do River's periodic schedules).
type Schedule interface {
	Next(time.Time) time.Time
}

// Counter names the server and runner add to.
const (
	CounterWebhookRejected  = "webhook_rejected:"  // + reason
	CounterWebhookDuplicate = "webhook_duplicate:" // + source
	// CounterWebhookBadSignature counts deliveries whose signature header
	// did not verify (unsigned ones are not counted here).
	CounterWebhookBadSignature = "webhook_bad_signature:" // + source
)

// Reporter builds the weekly sync status report and delivers it once per
// period to every sink.
type Reporter struct {
	Store             ReportStore
	Location          *time.Location
	StaleDraftDays    int
	PublicURL         string
	ReconcileInterval time.Duration
	Schedule          Schedule
	Sinks             []ReportSink
	Now               func() time.Time
	Log               *slog.Logger
}

func (r *Reporter) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reporter) loc() *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return time.UTC
}

// Build reads the store and builds the report for p.
func (r *Reporter) Build(ctx context.Context, p report.Period) (report.Report, error) {
	in, err := r.Input(ctx, p)
	if err != nil {
		return report.Report{}, err
	}
	return report.Build(in), nil
}

// Input gathers the report's data for p.
func (r *Reporter) Input(ctx context.Context, p report.Period) (report.Input, error) {
	now := r.now()
	// The trend looks back 8 weeks from the period's end.
	coes, err := r.Store.ListCOEs(ctx, p.Until.AddDate(0, 0, -7*9), p.Until.Add(time.Nanosecond))
	if err != nil {
		return report.Input{}, err
	}
	// Stale drafts are judged as of now, whatever their age.
	older, err := r.Store.ListCOEs(ctx, time.Time{}, p.Until.AddDate(0, 0, -7*9))
	if err != nil {
		return report.Input{}, err
	}
	coes = append(coes, older...)
	items, err := r.Store.ActionItems(ctx, "")
	if err != nil {
		return report.Input{}, err
	}
	in := report.Input{Now: now, Period: p, Location: r.loc(), StaleDraftDays: r.StaleDraftDays, PublicURL: r.PublicURL}
	team := map[string]string{}
	incident := map[string]store.COE{}
	for _, c := range coes {
		t := firstTeam(c.Teams)
		team[c.TicketKey] = t
		incident[c.TicketKey] = c
		in.COEs = append(in.COEs, report.COE{IncidentID: c.IncidentID, Key: c.TicketKey, URL: c.TicketURL, Title: c.Title,
			Service: c.ServiceName, Team: t, Created: c.CreatedAt,
			Reviewed: c.TicketCategory != "" && c.TicketCategory != "new", Recurrence: c.RecurrenceOf != ""})
	}
	for _, it := range items {
		if it.State == store.MirrorGone {
			continue
		}
		in.Items = append(in.Items, report.ActionItem{Key: it.JiraKey, URL: jiraBrowse(incident[it.COEKey].TicketURL, it.JiraKey),
			COEKey: it.COEKey, Title: it.Title, Team: team[it.COEKey], Repo: it.Repo, Owner: it.Owner,
			IssueURL: it.IssueURL, Opened: it.OpenedAt, Closed: it.ClosedAt, Due: it.Due, Problem: it.Problem})
	}
	in.Health, err = r.health(ctx, p)
	return in, err
}

// jiraBrowse derives an item's browse URL from its COE's.
func jiraBrowse(coeURL, key string) string {
	i := strings.LastIndex(coeURL, "/browse/")
	if i < 0 {
		return ""
	}
	return coeURL[:i] + "/browse/" + key
}

func firstTeam(teams string) string {
	t, _, _ := strings.Cut(teams, ",")
	return t
}

func (r *Reporter) health(ctx context.Context, p report.Period) (report.Health, error) {
	h := report.Health{WebhooksRejected: map[string]int{}, WebhooksBadSignature: map[string]int{}, LastReconcile: map[string]time.Time{},
		ReconcileInterval: r.ReconcileInterval}
	var err error
	if h.WebhooksReceived, err = r.Store.DeliveryCounts(ctx, p.Since, p.Until); err != nil {
		return h, err
	}
	counts, err := r.Store.Counts(ctx, p.Since, p.Until)
	if err != nil {
		return h, err
	}
	for name, n := range counts {
		if reason, ok := strings.CutPrefix(name, CounterWebhookRejected); ok {
			h.WebhooksRejected[reason] += n
		}
		if src, ok := strings.CutPrefix(name, CounterWebhookBadSignature); ok {
			h.WebhooksBadSignature[src] += n
		}
		// Duplicates were received too; the store keeps one of each.
		if src, ok := strings.CutPrefix(name, CounterWebhookDuplicate); ok {
			h.WebhooksReceived[src] += n
		}
	}
	h.DriftRepaired = counts[store.CounterDriftRepaired]
	h.MissingTransitions = counts[store.CounterMissingTransition]
	h.RateLimitWaits = counts[store.CounterRateLimitWaits]
	h.RemindersSent = counts[CounterRemindersSent]
	failed, err := r.Store.Jobs(ctx, "cancelled", "discarded")
	if err != nil {
		return h, err
	}
	h.JobsFailed = len(failed)
	waiting, err := r.Store.Jobs(ctx, "retryable")
	if err != nil {
		return h, err
	}
	h.JobsWaiting = len(waiting)
	for system, key := range map[string]string{"jira": StateReconcileJira, "github": StateReconcileGitHub} {
		v, err := r.Store.State(ctx, key)
		if err != nil {
			return h, err
		}
		if v == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			h.LastReconcile[system] = t
		}
	}
	return h, nil
}

// Due returns the period whose delivery is due at now: the last full week
// before the latest scheduled time at or before now. ok is false when no
// scheduled time fell in the last eight days.
func (r *Reporter) Due(now time.Time) (p report.Period, fired time.Time, ok bool) {
	if r.Schedule == nil {
		return p, fired, false
	}
	for t := r.Schedule.Next(now.Add(-8 * 24 * time.Hour)); !t.IsZero() && !t.After(now); t = r.Schedule.Next(t) {
		fired, ok = t, true
	}
	if !ok {
		return p, fired, false
	}
	return report.LastFullWeek(fired, r.loc()), fired, true
}

// DeliveredKey is the store key recording that a period went to a sink.
func DeliveredKey(period, sink string) string { return "report:delivered:" + period + ":" + sink }

// Deliver sends the report that is due to every sink that has not had it.
// It runs from a periodic job (on the cluster leader only) and on start,
// so a missed schedule catches up when the process comes back; the record
// per period and sink makes a restart or a second replica send nothing twice.
func (r *Reporter) Deliver(ctx context.Context) error {
	p, fired, ok := r.Due(r.now())
	if !ok || len(r.Sinks) == 0 {
		return nil
	}
	// Two replicas (or a replay next to the periodic job) must not both
	// read "not delivered" and send: one holds the period's lease.
	lease, owner := "report:"+p.Label, newLeaseOwner()
	got, err := r.Store.TryLock(ctx, lease, owner, time.Now().Add(leaseTTL))
	if err != nil {
		return err
	}
	if !got {
		return &WaitError{Wait: time.Second, Reason: "report " + p.Label + " is being delivered by another job"}
	}
	defer r.Store.Unlock(context.WithoutCancel(ctx), lease, owner)
	var rep *report.Report
	var errs []error
	for _, s := range r.Sinks {
		key := DeliveredKey(p.Label, s.Name())
		done, err := r.Store.State(ctx, key)
		if err != nil {
			return err
		}
		if done != "" {
			continue
		}
		if rep == nil {
			built, err := r.Build(ctx, p)
			if err != nil {
				return err
			}
			rep = &built
		}
		if err := s.Deliver(ctx, *rep); err != nil {
			errs = append(errs, fmt.Errorf("deliver report %s to %s: %w", p.Label, s.Name(), err))
			continue
		}
		at := r.now().UTC().Format(time.RFC3339)
		if err := r.Store.SetState(ctx, key, at); err != nil {
			return err
		}
		if err := r.Store.SetState(ctx, LastDeliveryKey(s.Name()), at); err != nil {
			return err
		}
		r.Log.Info("weekly report delivered", "period", p.Label, "sink", s.Name(), "scheduled", fired)
	}
	return errors.Join(errs...)
}
