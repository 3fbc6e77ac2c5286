package engine

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/coesync/coesync/sync/metrics"
	"github.com/coesync/coesync/sync/store"
)

// DraftCOEArgs is the durable job that drafts the COE of one incident.
type DraftCOEArgs struct {
	IncidentID string `json:"incident_id"`
}

// Kind implements river.JobArgs.
func (DraftCOEArgs) Kind() string { return "draft_coe" }

// InsertOpts makes the job unique per incident: deliveries of the same
// incident.resolved (or of two events for one incident) never run it twice
// at once, and a completed job keeps refusing duplicates while retained.
func (DraftCOEArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// The kinds of jobs webhooks enqueue: a process may dispatch a delivery
// another one stored (see store.RegisterJobArgs).
func init() { store.RegisterJobArgs(DraftCOEArgs{}, SyncItemArgs{}) }

// DraftCOEJob is the job to enqueue for a resolved incident.
func DraftCOEJob(incidentID string) store.Job {
	return store.Job{Args: DraftCOEArgs{IncidentID: incidentID}}
}

// Backoff is the retry schedule for retryable failures: exponential from
// one second, capped at five minutes, with ±20% jitter so a storm of
// failures does not come back in lockstep.
func Backoff(attempt int) time.Duration { return ExpBackoff(time.Second, 5*time.Minute)(attempt) }

// ExpBackoff is Backoff's schedule from base, capped at max.
func ExpBackoff(base, max time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		d := base << min(attempt-1, 20)
		if d > max || d <= 0 {
			d = max
		}
		return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
}

// Runner turns engine outcomes into River's: it owns retry and backoff.
type Runner struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Backoff overrides the retry schedule (tests); nil means Backoff.
	Backoff func(attempt int) time.Duration
	// Count persists a daily counter for the weekly report (rate-limit
	// waits, failed jobs); may be nil.
	Count func(ctx context.Context, name string, at time.Time, n int) error
	// Gate, if set, is the rate gate the connectors' calls go through: a
	// job that still failed for a rate limit holds it and waits until it
	// opens, with every other job calling that service.
	Gate *RateGate
}

func (r *Runner) count(ctx context.Context, name string) {
	if r.Count == nil {
		return
	}
	if err := r.Count(context.WithoutCancel(ctx), name, time.Now(), 1); err != nil {
		r.Log.Warn("could not count", "counter", name, "err", err)
	}
}

// result maps a job error to River's vocabulary and records the outcome.
func (r *Runner) result(ctx context.Context, kind string, attempt int, err error, log *slog.Logger) error {
	outcome := "ok"
	defer func() {
		if r.Metrics != nil {
			r.Metrics.Jobs.WithLabelValues(kind, outcome).Inc()
		}
	}()
	if err == nil {
		return nil
	}
	var wait *WaitError
	if errors.As(err, &wait) {
		outcome = "snoozed"
		log.Info("job waits", "reason", wait.Reason, "wait", wait.Wait)
		return river.JobSnooze(max(wait.Wait, 10*time.Millisecond))
	}
	k, after := Classify(err)
	switch k {
	case RateLimited:
		outcome = "rate_limited"
		if r.Gate != nil {
			if wait, ok := r.Gate.Observe(ctx, err); ok {
				after = wait
			}
		}
		r.count(ctx, store.CounterRateLimitWaits)
		log.Warn("rate limited, waiting", "wait", after, "err", err)
		return river.JobSnooze(max(after, time.Second))
	case Permanent:
		outcome = "failed"
		r.count(ctx, store.CounterJobsFailed)
		log.Error("job failed permanently", "attempt", attempt, "err", err)
		return river.JobCancel(err)
	default:
		outcome = "retry"
		log.Warn("job failed, will retry", "attempt", attempt, "err", err)
		return err
	}
}

func (r *Runner) nextRetry(attempt int) time.Time {
	b := r.Backoff
	if b == nil {
		b = Backoff
	}
	return time.Now().Add(b(attempt))
}

// DraftCOEWorker runs DraftCOEArgs jobs.
type DraftCOEWorker struct {
	river.WorkerDefaults[DraftCOEArgs]
	Drafter *Drafter
	Runner  *Runner
	// Metrics counts created COEs; may be nil.
	Metrics *metrics.Metrics
}

// Work implements river.Worker.
func (w *DraftCOEWorker) Work(ctx context.Context, job *river.Job[DraftCOEArgs]) error {
	log := w.Runner.Log.With("job", job.ID, "kind", job.Kind, "incident", job.Args.IncidentID)
	outcome, err := w.Drafter.Draft(ctx, job.Args.IncidentID)
	if err == nil && outcome == OutcomeCreated && w.Metrics != nil {
		w.Metrics.COEsCreated.Inc()
	}
	return w.Runner.result(ctx, job.Kind, job.Attempt, err, log)
}

// NextRetry implements river.Worker.
func (w *DraftCOEWorker) NextRetry(job *river.Job[DraftCOEArgs]) time.Time {
	return w.Runner.nextRetry(job.Attempt)
}

// Workers registers the engine's workers for the store's job queue.
func Workers(d *Drafter, r *Runner, m *metrics.Metrics) *river.Workers {
	ws := river.NewWorkers()
	river.AddWorker(ws, &DraftCOEWorker{Drafter: d, Runner: r, Metrics: m})
	return ws
}

// Sync and roll-up jobs are not unique in the queue: River counts a
// running job as a duplicate, so an event arriving while the job for its
// item runs would be dropped and its change missed. Every event gets its
// job; a lease per item or COE in the store makes them run one at a time,
// and each run compares with the last synced state, so repeats are cheap.
var uniqueWhileQueued = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}}

// SeedItem is a proposed action item found in the incident's notes.
type SeedItem struct {
	Summary string `json:"summary"`
	Owner   string `json:"owner"`
}

// SeedItemsArgs creates a COE's proposed action items as Jira sub-tasks.
type SeedItemsArgs struct {
	COEKey string     `json:"coe_key" river:"unique"`
	Items  []SeedItem `json:"items"`
}

// Kind implements river.JobArgs.
func (SeedItemsArgs) Kind() string { return "seed_action_items" }

// InsertOpts: once per COE.
func (SeedItemsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SyncItemArgs brings one action item and its mirror in step.
type SyncItemArgs struct {
	Key    string `json:"key" river:"unique"`
	Source string `json:"source"`
}

// Kind implements river.JobArgs.
func (SyncItemArgs) Kind() string { return "sync_action_item" }

// SyncItemJob is the job to enqueue when something about an item changed.
func SyncItemJob(key, source string) store.Job {
	return store.Job{Args: SyncItemArgs{Key: key, Source: source}}
}

// RollupArgs refreshes a COE's action-item table.
type RollupArgs struct {
	COEKey string `json:"coe_key"`
}

// Kind implements river.JobArgs.
func (RollupArgs) Kind() string { return "rollup_coe" }

// RollupJob is the job to enqueue after an item of coeKey changed.
func RollupJob(coeKey string) store.Job { return store.Job{Args: RollupArgs{COEKey: coeKey}} }

// ReconcileArgs compares Jira, GitHub and the store and repairs drift.
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "reconcile" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: uniqueWhileQueued}
}

// PeriodicReconcileOpts makes the periodic pass unique per interval
// across the cluster: River's leader inserts it, and a new leader's
// run-on-start after a failover or a restart does not add a second pass
// in the same period (periods are aligned to the interval).
func PeriodicReconcileOpts(interval time.Duration) *river.InsertOpts {
	return &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: interval}}
}

// jobWorker adapts a function to a River worker with the engine's retry
// policy and outcome accounting.
type jobWorker[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	run    func(ctx context.Context, args T) error
	runner *Runner
	log    func(T) []any
}

func (w *jobWorker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	attrs := []any{"job", job.ID, "kind", job.Kind}
	if w.log != nil {
		attrs = append(attrs, w.log(job.Args)...)
	}
	return w.runner.result(ctx, job.Kind, job.Attempt, w.run(ctx, job.Args), w.runner.Log.With(attrs...))
}

func (w *jobWorker[T]) NextRetry(job *river.Job[T]) time.Time { return w.runner.nextRetry(job.Attempt) }

// AddItemWorkers registers the action-item jobs.
func AddItemWorkers(ws *river.Workers, s *ItemSyncer, rec *Reconciler, r *Runner) {
	river.AddWorker(ws, &jobWorker[SeedItemsArgs]{runner: r, run: s.Seed,
		log: func(a SeedItemsArgs) []any { return []any{"coe", a.COEKey} }})
	river.AddWorker(ws, &jobWorker[SyncItemArgs]{runner: r,
		run: func(ctx context.Context, a SyncItemArgs) error {
			return s.exclusive(ctx, "item:"+a.Key, func() error { return s.Sync(ctx, a.Key, a.Source) })
		},
		log: func(a SyncItemArgs) []any { return []any{"item", a.Key} }})
	river.AddWorker(ws, &jobWorker[RollupArgs]{runner: r,
		run: func(ctx context.Context, a RollupArgs) error {
			return s.exclusive(ctx, "coe:"+a.COEKey, func() error { return s.Rollup(ctx, a.COEKey) })
		},
		log: func(a RollupArgs) []any { return []any{"coe", a.COEKey} }})
	river.AddWorker(ws, &jobWorker[ReconcileArgs]{runner: r,
		run: func(ctx context.Context, _ ReconcileArgs) error { return rec.Reconcile(ctx) }})
}

// AddReportWorker registers the weekly report delivery.
func AddReportWorker(ws *river.Workers, rep *Reporter, r *Runner) {
	river.AddWorker(ws, &jobWorker[DeliverReportArgs]{runner: r, run: func(ctx context.Context, _ DeliverReportArgs) error {
		return rep.Deliver(ctx)
	}})
}
