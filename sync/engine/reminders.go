package engine

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// Reminder defaults.
const (
	// DefaultReminderInterval is the least time between two reminders
	// about one item (COESYNC_REMINDER_INTERVAL).
	DefaultReminderInterval = 7 * 24 * time.Hour
	// ReminderDueSoon: an item due within this is reminded about.
	ReminderDueSoon = 48 * time.Hour
	// ReminderPassInterval is how often the reminder job runs.
	ReminderPassInterval = time.Hour
	// CounterRemindersSent counts reminders for the weekly report.
	CounterRemindersSent = "reminders_sent"
)

// ReminderStore is the part of the store reminders need.
type ReminderStore interface {
	ActionItems(ctx context.Context, coeKey string) ([]store.ActionItem, error)
	State(ctx context.Context, key string) (string, error)
	SetState(ctx context.Context, key, value string) error
	TryLock(ctx context.Context, name, owner string, until time.Time) (bool, error)
	Unlock(ctx context.Context, name, owner string) error
	Count(ctx context.Context, name string, at time.Time, n int) error
	Enqueue(ctx context.Context, jobs ...store.Job) error
}

// ReminderIssues is the part of GitHub reminders need.
type ReminderIssues interface {
	GetIssue(ctx context.Context, repo string, number int) (coe.GitHubIssue, error)
	UpsertComment(ctx context.Context, repo string, number int, marker, body string) error
}

// Reminders chases open action items that are due within two days or
// overdue: a comment on the item's GitHub issue mentioning its assignees,
// at most one per item per Interval, for as long as the item is open
// (whether or not its COE was closed long ago).
//
// Each reminder belongs to a period fixed by the item's due date: "due
// soon" (the two days before it), then "overdue-0", "overdue-1"... (one
// Interval each from the due date). Its comment carries a marker naming
// the item, the due date and the period, and the store records it under
// ReminderKey, so a restart, a crash between the comment and the record,
// or a second replica never sends two: the comment is found by its marker
// and the record is written again. The time of the last reminder per item
// keeps two periods from bunching up (due soon, then overdue two days
// later, is one reminder, not two).
type Reminders struct {
	Store  ReminderStore
	GitHub ReminderIssues
	// Interval is the least time between two reminders about one item;
	// zero means DefaultReminderInterval.
	Interval time.Duration
	// SLA, when set, makes a pass also queue a sync of each open item
	// without a due date that the SLA has not seen yet (items mirrored
	// before the SLA was configured).
	SLA *SLA
	Now func() time.Time
	Log *slog.Logger
}

// ReminderKey is the store key recording the reminder of one period.
func ReminderKey(jiraKey, period string) string { return "reminder:" + jiraKey + ":" + period }

// ReminderLastKey records the time of the last reminder about an item.
func ReminderLastKey(jiraKey string) string { return "reminder:" + jiraKey + ":last" }

func reminderMarker(jiraKey, period string) string {
	return "<!-- coesync:reminder:" + jiraKey + ":" + period + " -->"
}

func (r *Reminders) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

func (r *Reminders) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return DefaultReminderInterval
}

// ReminderPeriod returns the reminder period an item due on due is in at
// now: "<due>:due-soon" in the ReminderDueSoon before the due date,
// "<due>:overdue-N" from it on; ok is false before that.
func ReminderPeriod(due, now time.Time, interval time.Duration) (period string, overdue bool, ok bool) {
	if due.IsZero() {
		return "", false, false
	}
	d := due.Format(time.DateOnly)
	switch {
	case now.Before(due.Add(-ReminderDueSoon)):
		return "", false, false
	case now.Before(due):
		return d + ":due-soon", false, true
	}
	n := int64(now.Sub(due) / interval)
	return fmt.Sprintf("%s:overdue-%d", d, n), true, true
}

// Run makes one pass and returns how many reminders it sent. One pass runs
// at a time across replicas (a lease); a pass that finds the lease taken
// waits and runs again.
func (r *Reminders) Run(ctx context.Context) (int, error) {
	owner := newLeaseOwner()
	got, err := r.Store.TryLock(ctx, "reminders", owner, time.Now().Add(leaseTTL))
	if err != nil {
		return 0, err
	}
	if !got {
		return 0, &WaitError{Wait: time.Second, Reason: "reminders are being sent by another job"}
	}
	defer r.Store.Unlock(context.WithoutCancel(ctx), "reminders", owner)
	items, err := r.Store.ActionItems(ctx, "")
	if err != nil {
		return 0, err
	}
	now := r.now()
	sent := 0
	var errs []error
	var syncs []store.Job
	for _, it := range items {
		if it.Closed || it.State != store.MirrorLinked || it.Number == 0 {
			continue
		}
		if it.Due.IsZero() {
			if r.SLA != nil {
				if v, err := r.Store.State(ctx, SLAStateKey(it.JiraKey)); err == nil && v == "" {
					syncs = append(syncs, SyncItemJob(it.JiraKey, "sla"))
				}
			}
			continue
		}
		ok, err := r.remind(ctx, it, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			sent++
		}
	}
	if len(syncs) > 0 {
		if err := r.Store.Enqueue(ctx, syncs...); err != nil {
			errs = append(errs, err)
		}
	}
	if sent > 0 {
		if err := r.Store.Count(ctx, CounterRemindersSent, now, sent); err != nil {
			r.Log.Warn("could not count", "counter", CounterRemindersSent, "err", err)
		}
	}
	r.Log.Info("reminder pass", "items", len(items), "sent", sent, "failed", len(errs))
	if len(errs) > 0 {
		return sent, fmt.Errorf("reminders: %d failed, first: %w", len(errs), errs[0])
	}
	return sent, nil
}

// remind sends the reminder of it's current period, unless it was sent.
func (r *Reminders) remind(ctx context.Context, it store.ActionItem, now time.Time) (bool, error) {
	period, overdue, ok := ReminderPeriod(it.Due, now, r.interval())
	if !ok {
		return false, nil
	}
	key := ReminderKey(it.JiraKey, period)
	done, err := r.Store.State(ctx, key)
	if err != nil || done != "" {
		return false, err
	}
	last, err := r.Store.State(ctx, ReminderLastKey(it.JiraKey))
	if err != nil {
		return false, err
	}
	if t, err := time.Parse(time.RFC3339, last); err == nil && now.Sub(t) < r.interval() {
		return false, nil // the last reminder was too recent; this period waits
	}
	gi, err := r.GitHub.GetIssue(ctx, it.Repo, it.Number)
	if st := StatusOf(err); st == 404 || st == 410 {
		return false, nil // the sync reports deleted mirrors
	}
	if err != nil {
		return false, fmt.Errorf("remind %s: %w", it.JiraKey, err)
	}
	if gi.State == coe.GitHubStateClosed {
		return false, nil // closed on GitHub; the sync closes the Jira item
	}
	body := reminderBody(it, gi, overdue, now, r.interval())
	if err := r.GitHub.UpsertComment(ctx, gi.Repo, gi.Number, reminderMarker(it.JiraKey, period), body); err != nil {
		return false, fmt.Errorf("remind %s on %s: %w", it.JiraKey, gi.Ref(), err)
	}
	stamp := now.Format(time.RFC3339)
	if err := r.Store.SetState(ctx, key, stamp); err != nil {
		return false, err
	}
	if err := r.Store.SetState(ctx, ReminderLastKey(it.JiraKey), stamp); err != nil {
		return false, err
	}
	r.Log.Info("reminder sent", "item", it.JiraKey, "issue", gi.Ref(), "period", period, "assignees", len(gi.Assignees))
	return true, nil
}

// loginRE is a GitHub login: letters, digits and inner single hyphens.
var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$`)

// reminderBody is the comment. The only mentions coesync ever writes are
// here: the issue's assignees as GitHub reports them (never a name from
// Jira or PagerDuty text), checked to be logins.
func reminderBody(it store.ActionItem, gi coe.GitHubIssue, overdue bool, now time.Time, interval time.Duration) string {
	var mentions []string
	for _, a := range gi.Assignees {
		if loginRE.MatchString(a) {
			mentions = append(mentions, "@"+a)
		}
	}
	who := "This action item has no assignee; please assign an owner."
	if len(mentions) > 0 {
		who = strings.Join(mentions, " ") + ": a reminder about this action item."
	}
	due := it.Due.Format(time.DateOnly)
	var when string
	if overdue {
		days := int(now.Sub(it.Due).Hours() / 24)
		when = fmt.Sprintf("It was due on **%s** and is overdue by %d day(s).", due, days)
	} else {
		when = fmt.Sprintf("It is due on **%s**.", due)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "⏰ %s\n\n%s Please close it when done, or move the due date of the Jira item %s if the plan changed.\n\n",
		who, when, it.JiraKey)
	fmt.Fprintf(&b, "_coesync reminds at most once every %s while the item is open._\n", humanDuration(interval))
	return b.String()
}

func humanDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if n := int(d / (24 * time.Hour)); n == 7 {
			return "week"
		} else if n == 1 {
			return "day"
		} else {
			return fmt.Sprintf("%d days", n)
		}
	}
	return d.String()
}

// RemindArgs runs one reminder pass.
type RemindArgs struct{}

// Kind implements river.JobArgs.
func (RemindArgs) Kind() string { return "remind_action_items" }

// InsertOpts: one pass queued at a time.
func (RemindArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// AddReminderWorker registers the reminder job.
func AddReminderWorker(ws *river.Workers, rem *Reminders, r *Runner) {
	river.AddWorker(ws, &jobWorker[RemindArgs]{runner: r, run: func(ctx context.Context, _ RemindArgs) error {
		_, err := rem.Run(ctx)
		return err
	}})
}
