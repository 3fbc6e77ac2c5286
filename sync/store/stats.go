package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// QueueStat counts the jobs of one kind in one state.
type QueueStat struct {
	Kind  string
	State string
	Count int
	// Oldest is the earliest scheduled time among the jobs (UTC, to the
	// second): for available jobs, how long the oldest one has waited.
	Oldest time.Time
}

// queueStatsSQL groups the jobs that are not finished. Completed and
// cancelled jobs are left out: they only grow until River prunes them.
const queueStatsSQL = `SELECT kind, state, COUNT(*), %s
FROM river_job WHERE state IN ('available', 'retryable', 'scheduled', 'running', 'discarded')
GROUP BY kind, state ORDER BY kind, state`

// QueueStats implements Store.
func (s *SQLite) QueueStats(ctx context.Context) ([]QueueStat, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(queueStatsSQL, `CAST(strftime('%s', MIN(scheduled_at)) AS INTEGER)`))
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	return scanQueueStats(rows)
}

// QueueStats implements Store.
func (s *Postgres) QueueStats(ctx context.Context) ([]QueueStat, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(queueStatsSQL, `CAST(EXTRACT(EPOCH FROM MIN(scheduled_at)) AS BIGINT)`))
	if err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	defer rows.Close()
	return scanQueueStats(rows)
}

// rowsScanner is what *sql.Rows and pgx.Rows share.
type rowsScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

func scanQueueStats(rows rowsScanner) ([]QueueStat, error) {
	var out []QueueStat
	for rows.Next() {
		var q QueueStat
		var oldest sql.NullInt64
		if err := rows.Scan(&q.Kind, &q.State, &q.Count, &oldest); err != nil {
			return nil, fmt.Errorf("store: queue stats: %w", err)
		}
		if oldest.Valid {
			q.Oldest = time.Unix(oldest.Int64, 0).UTC()
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: queue stats: %w", err)
	}
	return out, nil
}
