package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
)

// DefaultRetention is how long delivery bodies are kept when
// Options.Retention is zero (COESYNC_RETENTION's default).
const DefaultRetention = 30 * 24 * time.Hour

// MinKeyRetention is the least time a delivery's deduplication keys (its
// id and content key) are kept, bodies or not: longer than any sender
// sends the same delivery again. PagerDuty retries a failed delivery for
// hours; Jira retries a few times within hours; GitHub never retries on
// its own, but a delivery of the last 3 days can be redelivered by hand
// (or replayed by whoever captured it). Forgetting a key sooner would let
// such a redelivery act twice.
const MinKeyRetention = 7 * 24 * time.Hour

// KeyRetention is how long keys are kept for a body retention.
func KeyRetention(retention time.Duration) time.Duration { return max(retention, MinKeyRetention) }

func retentionOf(opts Options) time.Duration {
	if opts.Retention > 0 {
		return opts.Retention
	}
	return DefaultRetention
}

// pruneBatch bounds the rows one prune statement touches, so that the
// single SQLite writer is never held for long.
const pruneBatch = 1000

// PruneArgs is the periodic job that prunes old deliveries (River prunes
// its own finished jobs: Config.*JobRetentionPeriod).
type PruneArgs struct{}

// Kind implements river.JobArgs.
func (PruneArgs) Kind() string { return "prune_store" }

// InsertOpts implements river.JobArgsWithInsertOpts: one at a time.
func (PruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: time.Hour}}
}

// Pruned counts what a prune removed.
type Pruned struct {
	Bodies     int64 // bodies dropped from deliveries kept for their keys
	Deliveries int64 // deliveries deleted, keys and all
}

// pruneDeliveries is the pruning both stores share: drop bodies older than
// retention, then delete deliveries older than KeyRetention, batch by
// batch; step runs one statement for a cut-off and returns the rows it
// touched. A delivery whose jobs are not dispatched yet is never touched.
func pruneDeliveries(ctx context.Context, now time.Time, retention time.Duration,
	dropBodies, deleteRows func(ctx context.Context, before time.Time) (int64, error)) (Pruned, error) {
	var p Pruned
	for _, step := range []struct {
		n      *int64
		before time.Time
		run    func(context.Context, time.Time) (int64, error)
		what   string
	}{
		{&p.Bodies, now.Add(-retention), dropBodies, "drop old delivery bodies"},
		{&p.Deliveries, now.Add(-KeyRetention(retention)), deleteRows, "delete old deliveries"},
	} {
		for {
			n, err := step.run(ctx, step.before)
			if err != nil {
				return p, fmt.Errorf("store: prune: %s: %w", step.what, err)
			}
			*step.n += n
			if n < pruneBatch {
				break
			}
		}
	}
	return p, nil
}

// pruners maps a River client to the prune of the store that owns it (as
// dispatchers does for dispatch).
var pruners sync.Map // *river.Client[TTx] → func(context.Context, time.Time) (Pruned, error)

type pruneWorker struct {
	river.WorkerDefaults[PruneArgs]
}

func (pruneWorker) Work(ctx context.Context, job *river.Job[PruneArgs]) error {
	var client any
	if c, err := river.ClientFromContextSafely[pgxTx](ctx); err == nil {
		client = c
	} else if c, err := river.ClientFromContextSafely[sqlTx](ctx); err == nil {
		client = c
	}
	f, ok := pruners.Load(client)
	if !ok {
		return errors.New("store: prune: no store for this job's client")
	}
	_, err := f.(func(context.Context, time.Time) (Pruned, error))(ctx, time.Now())
	return err
}

func registerPrune(ws *river.Workers) error {
	if ws == nil {
		return nil
	}
	err := river.AddWorkerSafely(ws, pruneWorker{})
	if err != nil && !strings.Contains(err.Error(), "already registered") {
		return fmt.Errorf("store: register prune worker: %w", err)
	}
	return nil
}

// prunePeriodically is the periodic job of a worker store: hourly, and at
// start so that a store that was down catches up.
func prunePeriodically() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return PruneArgs{}, nil },
		&river.PeriodicJobOpts{ID: "prune_store", RunOnStart: true})
}

// Prune applies retention (the store's own, Options.Retention, in the
// periodic job) at now: see pruneDeliveries.
func (s *SQLite) Prune(ctx context.Context, now time.Time, retention time.Duration) (Pruned, error) {
	exec := func(q string) func(context.Context, time.Time) (int64, error) {
		return func(ctx context.Context, before time.Time) (int64, error) {
			res, err := s.db.ExecContext(ctx, q, before.UnixMilli(), pruneBatch)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}
	}
	return pruneDeliveries(ctx, now, retention,
		exec(`UPDATE deliveries SET body = NULL WHERE seq IN (SELECT seq FROM deliveries
			WHERE received_at < ? AND body IS NOT NULL AND jobs IS NULL LIMIT ?)`),
		exec(`DELETE FROM deliveries WHERE seq IN (SELECT seq FROM deliveries
			WHERE received_at < ? AND jobs IS NULL LIMIT ?)`))
}

// Prune applies retention (the store's own, Options.Retention, in the
// periodic job) at now: see pruneDeliveries.
func (s *Postgres) Prune(ctx context.Context, now time.Time, retention time.Duration) (Pruned, error) {
	exec := func(q string) func(context.Context, time.Time) (int64, error) {
		return func(ctx context.Context, before time.Time) (int64, error) {
			tag, err := s.pool.Exec(ctx, q, before, pruneBatch)
			if err != nil {
				return 0, err
			}
			return tag.RowsAffected(), nil
		}
	}
	return pruneDeliveries(ctx, now, retention,
		exec(`UPDATE deliveries SET body = NULL WHERE ctid IN (SELECT ctid FROM deliveries
			WHERE received_at < $1 AND body IS NOT NULL AND jobs IS NULL LIMIT $2 FOR UPDATE SKIP LOCKED)`),
		exec(`DELETE FROM deliveries WHERE ctid IN (SELECT ctid FROM deliveries
			WHERE received_at < $1 AND jobs IS NULL LIMIT $2 FOR UPDATE SKIP LOCKED)`))
}

// Sizer is a store that can tell its size (both stores; coesync status).
type Sizer interface {
	Size(ctx context.Context) (int64, error)
}

var _, _ Sizer = (*SQLite)(nil), (*Postgres)(nil)

// Size is the bytes the store takes on disk: the database file and its WAL.
// Deleted rows leave free pages that SQLite reuses, so the file does not
// shrink after a prune; it stops growing.
func (s *SQLite) Size(context.Context) (int64, error) {
	var total int64
	for _, p := range []string{s.path, s.path + "-wal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) && p != s.path {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("store: size: %w", err)
		}
		total += fi.Size()
	}
	return total, nil
}

// Size is the bytes of the database (pg_database_size), River's tables
// included.
func (s *Postgres) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT pg_database_size(current_database())`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return n, nil
}
