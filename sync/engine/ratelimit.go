package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// RateGate holds every call to a service that has answered "rate limited"
// until the wait it asked for is over: when one job gets a 429 (or
// GitHub's secondary limit) with a Retry-After, all workers of the process,
// and through Shared those of every replica, wait for that moment instead
// of each finding out with a refused call of its own and snoozing on its
// own schedule (a thundering herd that keeps the limit exhausted).
//
// The gated connectors (GateSource, GateTickets, GateItems, GateIssues)
// wait at the gate before each call and, when a call is refused for its
// rate, hold the gate and try that call again once the hold is over: the
// refused call changed nothing, so repeating it is safe. A call that is
// still refused after MaxHold of holding returns its error, and the Runner
// snoozes the job until the gate opens. Their reads are also tried again
// after a server error (gatedRead).
//
// The zero value is ready to use, with the real clock and no sharing. It
// is safe for concurrent use.
type RateGate struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends (tests inject a fake); nil sleeps.
	Sleep func(ctx context.Context, d time.Duration) error
	// Shared, if set, is the store's key/value state: holds are written
	// there and read back at most every SharedRefresh, so that replicas
	// hold together. Nil keeps the holds in this process.
	Shared GateState
	// SharedRefresh is how often Wait reads the shared hold of a service;
	// default one second.
	SharedRefresh time.Duration
	// DefaultWait is the hold when the service did not say how long;
	// default one second.
	DefaultWait time.Duration
	// MaxHold bounds how long one gated call keeps holding and trying
	// again before it returns the rate-limited error; default 30 seconds.
	MaxHold time.Duration
	Log     *slog.Logger
	// Count, if set, persists a daily counter: each hold a gated call
	// waits out counts as a rate-limit wait (store.CounterRateLimitWaits).
	Count func(ctx context.Context, name string, at time.Time, n int) error

	mu      sync.Mutex
	until   map[string]time.Time // end of the hold per service
	written map[string]time.Time // last hold written to Shared
	read    map[string]time.Time // when Shared was last read
}

// GateState is the key/value state the gate shares through (store.ItemStore
// has it).
type GateState interface {
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
}

// GateStateKey is the shared state key of a service's hold.
func GateStateKey(service string) string { return "ratelimit:" + service + ":until" }

func (g *RateGate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *RateGate) sleep(ctx context.Context, d time.Duration) error {
	if g.Sleep != nil {
		return g.Sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

// sleepCtx waits d on the real clock, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *RateGate) maxHold() time.Duration {
	if g.MaxHold > 0 {
		return g.MaxHold
	}
	return 30 * time.Second
}

// Until returns the end of the current hold of service (zero when none
// was ever set; a past time when it is over). It does not read Shared.
func (g *RateGate) Until(service string) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until[service]
}

// Hold holds calls to service until the given time. A hold is only ever
// extended, never shortened. With Shared, a later hold is written there
// (errors are logged: the gate is an optimisation, the calls themselves
// still see the limit).
func (g *RateGate) Hold(ctx context.Context, service string, until time.Time) {
	g.mu.Lock()
	if g.until == nil {
		g.until, g.written, g.read = map[string]time.Time{}, map[string]time.Time{}, map[string]time.Time{}
	}
	if until.After(g.until[service]) {
		g.until[service] = until
	}
	write := g.Shared != nil && until.After(g.written[service])
	if write {
		g.written[service] = until
	}
	g.mu.Unlock()
	if write {
		if err := g.Shared.SetState(context.WithoutCancel(ctx), GateStateKey(service), until.UTC().Format(time.RFC3339Nano)); err != nil && g.Log != nil {
			g.Log.Warn("could not share rate-limit hold", "service", service, "err", err)
		}
	}
}

// Observe holds the gate of the service that refused err for its rate,
// for the wait it asked for (DefaultWait when it did not say), and returns
// how long from now the hold lasts. It returns false, and does nothing,
// for any other error.
func (g *RateGate) Observe(ctx context.Context, err error) (time.Duration, bool) {
	return g.observe(ctx, "", err)
}

// observe is Observe holding service, or the error's own service when
// service is "".
func (g *RateGate) observe(ctx context.Context, service string, err error) (time.Duration, bool) {
	var e *Error
	if !errors.As(err, &e) || e.Kind != RateLimited {
		return 0, false
	}
	if service == "" {
		service = e.Service
	}
	wait := e.RetryAfter
	if wait <= 0 {
		wait = g.DefaultWait
		if wait <= 0 {
			wait = time.Second
		}
	}
	now := g.now()
	g.Hold(ctx, service, now.Add(wait))
	return g.Until(service).Sub(now), true
}

// Wait returns once calls to service may go ahead: at once unless a hold
// is on, else when it ends (or with ctx's error).
func (g *RateGate) Wait(ctx context.Context, service string) error {
	_, err := g.wait(ctx, service)
	return err
}

// wait is Wait, reporting whether it waited.
func (g *RateGate) wait(ctx context.Context, service string) (bool, error) {
	waited := false
	for {
		now := g.now()
		until := g.current(ctx, service, now)
		if !now.Before(until) {
			return waited, nil
		}
		if err := g.sleep(ctx, until.Sub(now)); err != nil {
			return waited, err
		}
		waited = true
	}
}

// waitToAttempt waits for the gate of service and, when it waited or the
// call was tried before, runs the attempt hook of ctx (see beforeAttempt).
func (g *RateGate) waitToAttempt(ctx context.Context, service string, retry bool) error {
	waited, err := g.wait(ctx, service)
	if err != nil {
		return err
	}
	if waited || retry {
		return attempting(ctx)
	}
	return nil
}

// current returns the hold of service, refreshed from Shared when due.
func (g *RateGate) current(ctx context.Context, service string, now time.Time) time.Time {
	g.mu.Lock()
	if g.until == nil {
		g.until, g.written, g.read = map[string]time.Time{}, map[string]time.Time{}, map[string]time.Time{}
	}
	until := g.until[service]
	refresh := g.SharedRefresh
	if refresh <= 0 {
		refresh = time.Second
	}
	due := g.Shared != nil && now.Sub(g.read[service]) >= refresh
	if due {
		g.read[service] = now
	}
	g.mu.Unlock()
	if !due {
		return until
	}
	v, err := g.Shared.State(ctx, GateStateKey(service))
	if err != nil {
		if g.Log != nil {
			g.Log.Warn("could not read shared rate-limit hold", "service", service, "err", err)
		}
		return until
	}
	if v == "" {
		return until
	}
	shared, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return until
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if shared.After(g.until[service]) {
		g.until[service] = shared
		// Another replica wrote it: no need to write it back.
		if shared.After(g.written[service]) {
			g.written[service] = shared
		}
	}
	return g.until[service]
}

// gated runs f through the gate of service: wait for any hold, call, and on
// a rate-limited refusal hold the gate and call again once it opens, for
// at most MaxHold in all.
func gated[T any](ctx context.Context, g *RateGate, service string, f func(context.Context) (T, error)) (T, error) {
	var held time.Duration
	for {
		if err := g.waitToAttempt(ctx, service, held > 0); err != nil {
			var zero T
			return zero, err
		}
		v, err := f(ctx)
		if err == nil {
			return v, nil
		}
		wait, limited := g.observe(ctx, service, err)
		if !limited || held+wait > g.maxHold() {
			return v, err
		}
		held += wait
		if g.Log != nil {
			g.Log.Info("rate limited: holding calls", "service", service, "wait", wait)
		}
		if g.Count != nil {
			if cerr := g.Count(context.WithoutCancel(ctx), store.CounterRateLimitWaits, g.now(), 1); cerr != nil && g.Log != nil {
				g.Log.Warn("could not count", "counter", store.CounterRateLimitWaits, "err", cerr)
			}
		}
	}
}

func gated0(ctx context.Context, g *RateGate, service string, f func(context.Context) error) error {
	_, err := gated(ctx, g, service, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// Service names the gates are kept by (those of Error.Service).
const (
	ServicePagerDuty = "pagerduty"
	ServiceJira      = "jira"
	ServiceGitHub    = "github"
)

// GateSource returns src with its calls through g.
func GateSource(src IncidentSource, g *RateGate) IncidentSource {
	if g == nil || src == nil {
		return src
	}
	return gatedSource{src, g}
}

type gatedSource struct {
	s IncidentSource
	g *RateGate
}

func (x gatedSource) Incident(ctx context.Context, id string) (coe.Incident, error) {
	return gatedRead(ctx, x.g, ServicePagerDuty, func(ctx context.Context) (coe.Incident, error) { return x.s.Incident(ctx, id) })
}

func (x gatedSource) LogEntries(ctx context.Context, id string) ([]coe.LogEntry, error) {
	return gatedRead(ctx, x.g, ServicePagerDuty, func(ctx context.Context) ([]coe.LogEntry, error) { return x.s.LogEntries(ctx, id) })
}

func (x gatedSource) Notes(ctx context.Context, id string) ([]coe.Note, error) {
	return gatedRead(ctx, x.g, ServicePagerDuty, func(ctx context.Context) ([]coe.Note, error) { return x.s.Notes(ctx, id) })
}

func (x gatedSource) Alerts(ctx context.Context, id string) ([]coe.Alert, error) {
	return gated(ctx, x.g, ServicePagerDuty, func(ctx context.Context) ([]coe.Alert, error) { return x.s.Alerts(ctx, id) })
}

func (x gatedSource) AddNote(ctx context.Context, id, content string) error {
	return gated0(ctx, x.g, ServicePagerDuty, func(ctx context.Context) error { return x.s.AddNote(ctx, id, content) })
}

// GateTickets returns t with its calls through g.
func GateTickets(t TicketTracker, g *RateGate) TicketTracker {
	if g == nil || t == nil {
		return t
	}
	return gatedTickets{t, g}
}

type gatedTickets struct {
	t TicketTracker
	g *RateGate
}

func (x gatedTickets) FindByLabel(ctx context.Context, label string) ([]coe.TicketRef, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.TicketRef, error) { return x.t.FindByLabel(ctx, label) })
}

func (x gatedTickets) CreateTicket(ctx context.Context, spec coe.TicketSpec) (coe.TicketRef, error) {
	return gated(ctx, x.g, ServiceJira, func(ctx context.Context) (coe.TicketRef, error) { return x.t.CreateTicket(ctx, spec) })
}

func (x gatedTickets) EnsureRemoteLink(ctx context.Context, issueKey string, link coe.RemoteLink) error {
	return gated0(ctx, x.g, ServiceJira, func(ctx context.Context) error { return x.t.EnsureRemoteLink(ctx, issueKey, link) })
}

// GateItems returns j with its calls through g.
func GateItems(j JiraItems, g *RateGate) JiraItems {
	if g == nil || j == nil {
		return j
	}
	return gatedItems{j, g}
}

type gatedItems struct {
	j JiraItems
	g *RateGate
}

func (x gatedItems) GetItem(ctx context.Context, key string) (coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) (coe.JiraItem, error) { return x.j.GetItem(ctx, key) })
}

func (x gatedItems) Subtasks(ctx context.Context, parentKey string) ([]coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.JiraItem, error) { return x.j.Subtasks(ctx, parentKey) })
}

func (x gatedItems) LinkedItems(ctx context.Context, coeKey, linkType, label string) ([]coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.JiraItem, error) {
		return x.j.LinkedItems(ctx, coeKey, linkType, label)
	})
}

func (x gatedItems) CreateSubtask(ctx context.Context, parentKey string, spec coe.TicketSpec) (coe.TicketRef, error) {
	return gated(ctx, x.g, ServiceJira, func(ctx context.Context) (coe.TicketRef, error) { return x.j.CreateSubtask(ctx, parentKey, spec) })
}

func (x gatedItems) CreateSubtasks(ctx context.Context, parentKey string, specs []coe.TicketSpec) ([]coe.TicketRef, error) {
	// Once, not through gated: gated would repeat the whole call after a
	// rate-limited element, creating the others a second time. The job's
	// retry creates what is missing.
	if err := x.g.waitToAttempt(ctx, ServiceJira, false); err != nil {
		return nil, err
	}
	refs, err := x.j.CreateSubtasks(ctx, parentKey, specs)
	if err != nil {
		x.g.observe(ctx, ServiceJira, err)
	}
	return refs, err
}

func (x gatedItems) EditItem(ctx context.Context, key string, summary *string, due *time.Time) error {
	return gated0(ctx, x.g, ServiceJira, func(ctx context.Context) error { return x.j.EditItem(ctx, key, summary, due) })
}

func (x gatedItems) Transition(ctx context.Context, key string, names []string) (string, error) {
	return gated(ctx, x.g, ServiceJira, func(ctx context.Context) (string, error) { return x.j.Transition(ctx, key, names) })
}

func (x gatedItems) AddComment(ctx context.Context, key, body string) (string, error) {
	return gated(ctx, x.g, ServiceJira, func(ctx context.Context) (string, error) { return x.j.AddComment(ctx, key, body) })
}

func (x gatedItems) UpdateComment(ctx context.Context, key, id, body string) error {
	return gated0(ctx, x.g, ServiceJira, func(ctx context.Context) error { return x.j.UpdateComment(ctx, key, id, body) })
}

func (x gatedItems) EnsureRemoteLink(ctx context.Context, key string, link coe.RemoteLink) error {
	return gated0(ctx, x.g, ServiceJira, func(ctx context.Context) error { return x.j.EnsureRemoteLink(ctx, key, link) })
}

func (x gatedItems) UpdatedSince(ctx context.Context, project string, since time.Time) ([]coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.JiraItem, error) {
		return x.j.UpdatedSince(ctx, project, since)
	})
}

func (x gatedItems) FindComment(ctx context.Context, key, marker string) (string, bool, error) {
	type found struct {
		id string
		ok bool
	}
	f, err := gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) (found, error) {
		id, ok, err := x.j.FindComment(ctx, key, marker)
		return found{id, ok}, err
	})
	return f.id, f.ok, err
}

// GateIssues returns t with its calls through g.
func GateIssues(t IssueTracker, g *RateGate) IssueTracker {
	if g == nil || t == nil {
		return t
	}
	return gatedIssues{t, g}
}

type gatedIssues struct {
	t IssueTracker
	g *RateGate
}

func (x gatedIssues) CreateIssue(ctx context.Context, repo string, spec coe.GitHubIssueSpec) (coe.GitHubIssue, error) {
	return gated(ctx, x.g, ServiceGitHub, func(ctx context.Context) (coe.GitHubIssue, error) { return x.t.CreateIssue(ctx, repo, spec) })
}

func (x gatedIssues) GetIssue(ctx context.Context, repo string, number int) (coe.GitHubIssue, error) {
	return gatedRead(ctx, x.g, ServiceGitHub, func(ctx context.Context) (coe.GitHubIssue, error) { return x.t.GetIssue(ctx, repo, number) })
}

func (x gatedIssues) UpdateIssue(ctx context.Context, repo string, number int, p coe.GitHubIssuePatch) (coe.GitHubIssue, error) {
	return gated(ctx, x.g, ServiceGitHub, func(ctx context.Context) (coe.GitHubIssue, error) {
		return x.t.UpdateIssue(ctx, repo, number, p)
	})
}

func (x gatedIssues) ListIssues(ctx context.Context, repo, label string, since time.Time, etag string) ([]coe.GitHubIssue, string, bool, error) {
	type listed struct {
		issues      []coe.GitHubIssue
		etag        string
		notModified bool
	}
	l, err := gatedRead(ctx, x.g, ServiceGitHub, func(ctx context.Context) (listed, error) {
		is, et, nm, err := x.t.ListIssues(ctx, repo, label, since, etag)
		return listed{is, et, nm}, err
	})
	return l.issues, l.etag, l.notModified, err
}

func (x gatedIssues) FindIssueByMarker(ctx context.Context, repo, label, marker string) (coe.GitHubIssue, bool, error) {
	type found struct {
		issue coe.GitHubIssue
		ok    bool
	}
	f, err := gatedRead(ctx, x.g, ServiceGitHub, func(ctx context.Context) (found, error) {
		is, ok, err := x.t.FindIssueByMarker(ctx, repo, label, marker)
		return found{is, ok}, err
	})
	return f.issue, f.ok, err
}

func (x gatedIssues) UpsertComment(ctx context.Context, repo string, number int, marker, body string) error {
	return gated0(ctx, x.g, ServiceGitHub, func(ctx context.Context) error { return x.t.UpsertComment(ctx, repo, number, marker, body) })
}

// GateHistory holds the recurrence lookups in Jira with every other Jira
// call while Jira is rate-limiting.
func GateHistory(j JiraHistory, g *RateGate) JiraHistory {
	if g == nil || j == nil {
		return j
	}
	return gatedHistory{j, g}
}

type gatedHistory struct {
	j JiraHistory
	g *RateGate
}

func (x gatedHistory) FindByLabel(ctx context.Context, label string) ([]coe.TicketRef, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.TicketRef, error) { return x.j.FindByLabel(ctx, label) })
}

func (x gatedHistory) GetItem(ctx context.Context, key string) (coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) (coe.JiraItem, error) { return x.j.GetItem(ctx, key) })
}

func (x gatedHistory) Subtasks(ctx context.Context, parentKey string) ([]coe.JiraItem, error) {
	return gatedRead(ctx, x.g, ServiceJira, func(ctx context.Context) ([]coe.JiraItem, error) { return x.j.Subtasks(ctx, parentKey) })
}

// GateChanges holds the "what changed" listings with every other GitHub
// call while GitHub is rate-limiting.
func GateChanges(c ChangeSource, g *RateGate) ChangeSource {
	if g == nil || c == nil {
		return c
	}
	return gatedChanges{c, g}
}

type gatedChanges struct {
	c ChangeSource
	g *RateGate
}

// changePage is a ChangeSource answer, for gated's single result.
type changePage struct {
	changes   []coe.Change
	truncated bool
}

func (x gatedChanges) Deployments(ctx context.Context, repo string, since, until time.Time) ([]coe.Change, bool, error) {
	p, err := gatedRead(ctx, x.g, ServiceGitHub, func(ctx context.Context) (changePage, error) {
		c, t, err := x.c.Deployments(ctx, repo, since, until)
		return changePage{c, t}, err
	})
	return p.changes, p.truncated, err
}

func (x gatedChanges) MergedPulls(ctx context.Context, repo, base string, since, until time.Time) ([]coe.Change, bool, error) {
	p, err := gatedRead(ctx, x.g, ServiceGitHub, func(ctx context.Context) (changePage, error) {
		c, t, err := x.c.MergedPulls(ctx, repo, base, since, until)
		return changePage{c, t}, err
	})
	return p.changes, p.truncated, err
}
