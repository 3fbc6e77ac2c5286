package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// queue is the River side of a store, the same for every driver: TTx is
// the driver's transaction type (*sql.Tx for SQLite, pgx.Tx for PostgreSQL).
type queue[TTx any] struct {
	river *river.Client[TTx]
	// worker is false for an insert-only store (CLI commands).
	worker bool
}

// appendParams adds jobs to River insert parameters.
func appendParams(params []river.InsertManyParams, jobs []Job) []river.InsertManyParams {
	for _, j := range jobs {
		params = append(params, river.InsertManyParams{Args: j.Args, InsertOpts: j.Opts})
	}
	return params
}

// Enqueue implements Store.
func (q *queue[TTx]) Enqueue(ctx context.Context, jobs ...Job) error {
	if _, err := q.river.InsertMany(ctx, appendParams(nil, jobs)); err != nil {
		return fmt.Errorf("store: enqueue: %w", err)
	}
	return nil
}

// RetryJob implements Store.
func (q *queue[TTx]) RetryJob(ctx context.Context, id int64) error {
	if _, err := q.river.JobRetry(ctx, id); err != nil {
		return fmt.Errorf("store: retry job %d: %w", id, err)
	}
	return nil
}

// Start implements Store.
func (q *queue[TTx]) Start(ctx context.Context) error {
	if !q.worker {
		return errors.New("store: opened without workers")
	}
	return q.river.Start(ctx)
}

// Stop implements Store.
func (q *queue[TTx]) Stop(ctx context.Context) error {
	if !q.worker {
		return nil
	}
	if err := q.river.Stop(ctx); err != nil {
		// Out of patience: cancel the jobs still running. Their workers see
		// a cancelled context and River records them as retryable, so this
		// process (after a restart) or another replica runs them again.
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if cerr := q.river.StopAndCancel(cctx); cerr != nil {
			return fmt.Errorf("store: stop workers: %w", errors.Join(err, cerr))
		}
		return fmt.Errorf("store: stop workers: %w", err)
	}
	return nil
}
