package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivershared/uniquestates"
	"github.com/riverqueue/river/rivertype"
)

// Snapshot is the durable state of a store, as moved by
// `coesync migrate-store`. Leases are left out (they belong to running
// processes) and so are River's finished jobs (completed, cancelled,
// discarded): only jobs still to run are carried over.
type Snapshot struct {
	Deliveries  []Delivery // Jobs is always empty; jobs not yet dispatched move as they are stored
	COEs        []COE
	ActionItems []ActionItem
	State       map[string]string
	Counters    []Counter
	Jobs        []QueuedJob
}

// Counter is one daily counter bucket.
type Counter struct {
	Name string
	Day  time.Time // UTC midnight
	N    int
}

// QueuedJob is a River job still to run. Its attempt count and error
// history are not carried over: the target runs it as a fresh job (with
// the same kind, args, queue, priority, max attempts, tags, metadata,
// scheduled time, state and uniqueness).
type QueuedJob struct {
	Kind         string
	Args         []byte // JSON
	Queue        string
	Priority     int
	MaxAttempts  int
	Tags         []string
	Metadata     []byte // JSON
	State        string // pending, available, retryable or scheduled
	CreatedAt    time.Time
	ScheduledAt  time.Time
	UniqueKey    []byte
	UniqueStates []string
}

// Dumper reads a store's whole durable state.
type Dumper interface {
	Dump(ctx context.Context) (Snapshot, error)
}

// Loader writes a Snapshot into a freshly migrated store.
type Loader interface {
	// Load writes snap in one transaction. It refuses a store holding any
	// record or job unless force, which replaces the store's contents.
	Load(ctx context.Context, snap Snapshot, force bool) error
}

// ErrNotEmpty is returned by Load when the target holds data.
var ErrNotEmpty = errors.New("store: target database is not empty")

// queuedStates are the job states a snapshot carries. Running jobs of a
// source nobody runs (the migrate-store lock) were cut off: they are moved
// as available.
var queuedStates = []rivertype.JobState{rivertype.JobStatePending, rivertype.JobStateAvailable,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStateRunning}

// LockSQLite takes the lock `coesync serve` holds on the SQLite file at
// path, so that no serve runs on it while the lock is held (and fails if
// one does). release gives it back.
func LockSQLite(path string) (release func(), err error) {
	f, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	return func() { f.Close() }, nil
}

var _ Dumper = (*SQLite)(nil)
var _ Loader = (*Postgres)(nil)

// Dump implements Dumper.
func (s *SQLite) Dump(ctx context.Context) (Snapshot, error) {
	snap := Snapshot{State: map[string]string{}}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT source, id, event_type, resource_id, received_at, body, jobs, COALESCE(content_key, '') FROM deliveries ORDER BY received_at, source, id`)
		if err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}
		for rows.Next() {
			var d Delivery
			var at int64
			if err := rows.Scan(&d.Source, &d.ID, &d.EventType, &d.ResourceID, &at, &d.Body, &d.pending, &d.ContentKey); err != nil {
				rows.Close()
				return fmt.Errorf("deliveries: %w", err)
			}
			d.ReceivedAt = time.UnixMilli(at).UTC()
			snap.Deliveries = append(snap.Deliveries, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("deliveries: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `SELECT `+coeColumns+` FROM coes ORDER BY incident_id`)
		if err != nil {
			return fmt.Errorf("coes: %w", err)
		}
		for rows.Next() {
			c, err := scanCOE(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("coes: %w", err)
			}
			snap.COEs = append(snap.COEs, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("coes: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `SELECT `+itemColumns+` FROM action_items ORDER BY jira_key`)
		if err != nil {
			return fmt.Errorf("action items: %w", err)
		}
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("action items: %w", err)
			}
			snap.ActionItems = append(snap.ActionItems, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("action items: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `SELECT key, value FROM sync_state`)
		if err != nil {
			return fmt.Errorf("sync state: %w", err)
		}
		for rows.Next() {
			var k, v string
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("sync state: %w", err)
			}
			snap.State[k] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sync state: %w", err)
		}

		rows, err = tx.QueryContext(ctx, `SELECT name, day, n FROM counters ORDER BY name, day`)
		if err != nil {
			return fmt.Errorf("counters: %w", err)
		}
		for rows.Next() {
			var c Counter
			var d int64
			if err := rows.Scan(&c.Name, &d, &c.N); err != nil {
				rows.Close()
				return fmt.Errorf("counters: %w", err)
			}
			c.Day = time.UnixMilli(d).UTC()
			snap.Counters = append(snap.Counters, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("counters: %w", err)
		}

		// River's client reads its own table through the same
		// transaction, so the jobs match the records above.
		params := river.NewJobListParams().States(queuedStates...).First(1000)
		for {
			res, err := s.river.JobListTx(ctx, tx, params)
			if err != nil {
				return fmt.Errorf("jobs: %w", err)
			}
			for _, j := range res.Jobs {
				snap.Jobs = append(snap.Jobs, queuedJob(j))
			}
			if len(res.Jobs) < 1000 || res.LastCursor == nil {
				break
			}
			params = params.After(res.LastCursor)
		}
		return nil
	})
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: dump: %w", err)
	}
	return snap, nil
}

func queuedJob(j *rivertype.JobRow) QueuedJob {
	q := QueuedJob{Kind: j.Kind, Args: j.EncodedArgs, Queue: j.Queue, Priority: j.Priority, MaxAttempts: j.MaxAttempts,
		Tags: j.Tags, Metadata: j.Metadata, State: string(j.State), CreatedAt: j.CreatedAt.UTC(),
		ScheduledAt: j.ScheduledAt.UTC(), UniqueKey: j.UniqueKey}
	if j.State == rivertype.JobStateRunning {
		q.State = string(rivertype.JobStateAvailable)
	}
	for _, st := range j.UniqueStates {
		q.UniqueStates = append(q.UniqueStates, string(st))
	}
	return q
}

// loadTables are emptied by a forced Load.
const loadTables = `deliveries, coes, action_items, sync_state, counters, leases, river_job`

// Load implements Loader: everything is written with COPY in one
// transaction, River's jobs through River's driver (state, scheduled time
// and uniqueness kept).
func (s *Postgres) Load(ctx context.Context, snap Snapshot, force bool) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if force {
			if _, err := tx.Exec(ctx, `TRUNCATE `+loadTables); err != nil {
				return err
			}
		} else {
			var used bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM deliveries) OR EXISTS (SELECT 1 FROM coes)
				OR EXISTS (SELECT 1 FROM action_items) OR EXISTS (SELECT 1 FROM sync_state)
				OR EXISTS (SELECT 1 FROM counters) OR EXISTS (SELECT 1 FROM river_job)`).Scan(&used); err != nil {
				return err
			}
			if used {
				return fmt.Errorf("%w (use --force to replace its contents)", ErrNotEmpty)
			}
		}
		copyRows := func(table string, cols []string, n int, row func(i int) []any) error {
			if n == 0 {
				return nil
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() func() ([]any, error) {
				i := 0
				return func() ([]any, error) {
					if i >= n {
						return nil, nil
					}
					i++
					return row(i - 1), nil
				}
			}()))
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			return nil
		}
		if err := copyRows("deliveries", []string{"source", "id", "event_type", "resource_id", "received_at", "body", "jobs", "content_key"},
			len(snap.Deliveries), func(i int) []any {
				d := snap.Deliveries[i]
				return []any{d.Source, d.ID, d.EventType, d.ResourceID, d.ReceivedAt, d.Body, d.pending, contentKey(d)}
			}); err != nil {
			return err
		}
		if err := copyRows("coes", columnList(coeColumns), len(snap.COEs), func(i int) []any {
			c := snap.COEs[i]
			return []any{c.IncidentID, c.State, c.Label, c.Rule, c.Project, c.TicketKey, c.TicketID, c.TicketURL, c.Title,
				c.ServiceID, c.ServiceName, c.Teams, ts(c.IntentAt), ts(c.CreatedAt), ts(c.LinkedAt), ts(c.NotedAt),
				c.RollupComment, ts(c.CompletedAt), c.Repo, c.IncidentURL, c.IncidentNumber, c.TicketCategory,
				c.IncidentKey, c.RecurrenceOf}
		}); err != nil {
			return err
		}
		if err := copyRows("action_items", columnList(itemColumns), len(snap.ActionItems), func(i int) []any {
			return pgItemArgs(snap.ActionItems[i])
		}); err != nil {
			return err
		}
		keys := make([]string, 0, len(snap.State))
		for k := range snap.State {
			keys = append(keys, k)
		}
		if err := copyRows("sync_state", []string{"key", "value"}, len(keys), func(i int) []any {
			return []any{keys[i], snap.State[keys[i]]}
		}); err != nil {
			return err
		}
		if err := copyRows("counters", []string{"name", "day", "n"}, len(snap.Counters), func(i int) []any {
			c := snap.Counters[i]
			return []any{c.Name, c.Day, int64(c.N)}
		}); err != nil {
			return err
		}
		if len(snap.Jobs) == 0 {
			return nil
		}
		jobs := make([]*riverdriver.JobInsertFastParams, len(snap.Jobs))
		for i, j := range snap.Jobs {
			states := make([]rivertype.JobState, len(j.UniqueStates))
			for k, st := range j.UniqueStates {
				states[k] = rivertype.JobState(st)
			}
			created, scheduled := j.CreatedAt, j.ScheduledAt
			jobs[i] = &riverdriver.JobInsertFastParams{
				CreatedAt: &created, EncodedArgs: j.Args, Kind: j.Kind, MaxAttempts: j.MaxAttempts,
				Metadata: j.Metadata, Priority: j.Priority, Queue: j.Queue, ScheduledAt: &scheduled,
				State: rivertype.JobState(j.State), Tags: j.Tags, UniqueKey: j.UniqueKey,
				UniqueStates: uniquestates.UniqueStatesToBitmask(states),
			}
		}
		exec := riverpgxv5.New(s.pool).UnwrapExecutor(tx)
		if _, err := exec.JobInsertFastManyNoReturning(ctx, &riverdriver.JobInsertFastManyParams{Jobs: jobs}); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: load: %w", err)
	}
	return nil
}

// columnList splits a column constant such as coeColumns.
func columnList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
