package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// SQLite is the embedded store: one file, one process.
type SQLite struct {
	queue[*sql.Tx]
	db   *sql.DB
	path string
	lock *os.File
	log  *slog.Logger
	// retention is Options.Retention (Prune).
	retention time.Duration
	health    writeHealth

	// insertDelivery and dispatchWaiting are Ingest's statements, prepared
	// once: parsing them for every batch showed in the ingest profile.
	insertDelivery, dispatchWaiting *sql.Stmt
}

var _ Store = (*SQLite)(nil)

// OpenSQLite opens (creating and migrating) the SQLite database at path.
// With opts.Workers set the process becomes the file's only job runner: it
// takes an exclusive lock beside the file, so a second `coesync serve` on
// the same file fails fast instead of corrupting the queue's invariants.
func OpenSQLite(ctx context.Context, path string, opts Options) (*SQLite, error) {
	// WAL with synchronous=FULL fsyncs every commit: a 202 means the event
	// is on disk. _txlock=immediate takes the write lock at BEGIN, so a
	// transaction never fails half-way on a lock upgrade.
	db, err := openSQLiteDB(path)
	if err != nil {
		return nil, err
	}
	s := &SQLite{db: db, path: path, log: opts.Logger, retention: retentionOf(opts), queue: queue[*sql.Tx]{worker: opts.Workers != nil}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.worker {
		if s.lock, err = lockFile(path + ".lock"); err != nil {
			db.Close()
			return nil, err
		}
	}
	if opts.SkipMigrate {
		err = s.checkSchema(ctx)
	} else {
		_, err = s.migrate(ctx)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.worker {
		// Only this process runs jobs on this file, so a job still marked
		// running was cut off by a crash: hand it back now instead of
		// waiting for River's stuck-job rescuer (an hour by default).
		res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("store: requeue interrupted jobs: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			s.log.Info("requeued jobs interrupted by a previous crash", "jobs", n)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM leases`); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: clear leases of a previous run: %w", err)
		}
	}
	if s.insertDelivery, err = db.PrepareContext(ctx, `INSERT INTO deliveries (source, id, event_type, resource_id, received_at, body, jobs, content_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: prepare ingest: %w", err)
	}
	if s.dispatchWaiting, err = db.PrepareContext(ctx, `SELECT EXISTS (SELECT 1 FROM river_job WHERE state = 'available' AND queue = ?)`); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: prepare ingest: %w", err)
	}
	if err := registerDispatch(opts.Workers); err != nil {
		s.Close()
		return nil, err
	}
	if err := registerPrune(opts.Workers); err != nil {
		s.Close()
		return nil, err
	}
	if opts.FetchPollInterval == 0 {
		opts.FetchPollInterval = sqliteFetchPollInterval
	}
	cfg := riverConfig(opts, s.log)
	if s.river, err = river.NewClient(riversqlite.New(db), cfg); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: job queue: %w", err)
	}
	dispatchers.Store(s.river, s.DispatchDeliveries)
	pruners.Store(s.river, func(ctx context.Context, now time.Time) (Pruned, error) { return s.Prune(ctx, now, s.retention) })
	return s, nil
}

// sqliteFetchPollInterval is how often idle SQLite workers look for jobs.
// SQLite has no LISTEN/NOTIFY, and River wakes its workers only for jobs
// inserted outside a transaction; a webhook's jobs are inserted inside the
// batch's transaction (to be durable with it) and then dispatched inside
// another, so River's default second would be spent twice on the way from
// webhook to COE. An idle poll costs one indexed query on the local file.
const sqliteFetchPollInterval = 25 * time.Millisecond

// openSQLiteDB opens the database/sql handle of the file at path.
func openSQLiteDB(path string) (*sql.DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, err
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	// SQLite has one writer; River's SQLite driver asks for one connection
	// so that its concurrent internals queue instead of failing SQLITE_BUSY.
	db.SetMaxOpenConns(1)
	return db, nil
}

func riverConfig(opts Options, log *slog.Logger) *river.Config {
	cfg := &river.Config{
		PeriodicJobs:      opts.PeriodicJobs,
		Logger:            slog.New(quietHandler{log.Handler(), slog.LevelWarn}).With("component", "river"),
		ErrorHandler:      opts.ErrorHandler,
		JobTimeout:        opts.JobTimeout,
		FetchPollInterval: opts.FetchPollInterval,
		MaxAttempts:       25,
		// Completed jobs keep their unique key for a day, so a late
		// duplicate delivery is refused by the queue as well as the store.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		// Failed jobs stay listed (coesync status, the weekly report) as
		// long as delivery bodies (COESYNC_RETENTION), not River's default
		// day. River's job cleaner (run by the elected leader) deletes
		// finished jobs past these periods.
		CancelledJobRetentionPeriod: retentionOf(opts),
		DiscardedJobRetentionPeriod: retentionOf(opts),
	}
	if cfg.JobTimeout == 0 {
		cfg.JobTimeout = 2 * time.Minute
	}
	if opts.FetchPollInterval > 0 {
		cfg.FetchCooldown = min(opts.FetchPollInterval, 100*time.Millisecond)
	}
	if opts.Workers != nil {
		n := opts.MaxWorkers
		if n <= 0 {
			n = 8
		}
		cfg.Workers = opts.Workers
		// Dispatching has a queue of its own: in a storm every default
		// slot may be waiting on a slow API, and the webhooks' jobs must
		// still reach the queue.
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: n}, dispatchQueue: {MaxWorkers: 1}}
		// A safety net: whatever is pending (a dispatch job cancelled by
		// hand, say) is dispatched within a minute.
		cfg.PeriodicJobs = append(slices.Clone(cfg.PeriodicJobs), river.NewPeriodicJob(river.PeriodicInterval(time.Minute),
			func() (river.JobArgs, *river.InsertOpts) { return DispatchArgs{}, nil },
			&river.PeriodicJobOpts{ID: "dispatch_deliveries"}), prunePeriodically())
	}
	return cfg
}

// ownerOnly creates the database file 0600 if missing, and makes it and
// an existing -wal and -shm 0600: they hold incident data and webhook
// bodies. SQLite creates -wal and -shm with the mode of the database
// file, so those made later are 0600 too.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: sqlite %s: make it owner-only: %w", p, err)
		}
	}
	return nil
}

func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %s is in use by another coesync process (SQLite serves one process; use PostgreSQL for replicas)", strings.TrimSuffix(path, ".lock"))
	}
	return f, nil
}

var sqliteMigrations = []string{
	`CREATE TABLE deliveries (
		source      TEXT NOT NULL,
		id          TEXT NOT NULL,
		event_type  TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		body        BLOB,
		PRIMARY KEY (source, id)
	) WITHOUT ROWID;
	CREATE TABLE coes (
		incident_id  TEXT PRIMARY KEY,
		state        TEXT NOT NULL,
		label        TEXT NOT NULL,
		rule         TEXT NOT NULL DEFAULT '',
		project      TEXT NOT NULL DEFAULT '',
		ticket_key   TEXT NOT NULL DEFAULT '',
		ticket_id    TEXT NOT NULL DEFAULT '',
		ticket_url   TEXT NOT NULL DEFAULT '',
		title        TEXT NOT NULL DEFAULT '',
		service_id   TEXT NOT NULL DEFAULT '',
		service_name TEXT NOT NULL DEFAULT '',
		teams        TEXT NOT NULL DEFAULT '',
		intent_at    INTEGER NOT NULL DEFAULT 0,
		created_at   INTEGER NOT NULL DEFAULT 0,
		linked_at    INTEGER NOT NULL DEFAULT 0,
		noted_at     INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX coes_created_at ON coes (created_at);`,
	`ALTER TABLE coes ADD COLUMN rollup_comment TEXT NOT NULL DEFAULT '';
	ALTER TABLE coes ADD COLUMN completed_at INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE coes ADD COLUMN repo TEXT NOT NULL DEFAULT '';
	ALTER TABLE coes ADD COLUMN incident_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE coes ADD COLUMN incident_number INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX coes_ticket_key ON coes (ticket_key);
	CREATE TABLE action_items (
		jira_key       TEXT PRIMARY KEY,
		jira_id        TEXT NOT NULL DEFAULT '',
		coe_key        TEXT NOT NULL,
		incident_id    TEXT NOT NULL DEFAULT '',
		repo           TEXT NOT NULL DEFAULT '',
		number         INTEGER NOT NULL DEFAULT 0,
		issue_url      TEXT NOT NULL DEFAULT '',
		state          TEXT NOT NULL,
		intent_at      INTEGER NOT NULL DEFAULT 0,
		title          TEXT NOT NULL DEFAULT '',
		closed         INTEGER NOT NULL DEFAULT 0,
		assignee       TEXT NOT NULL DEFAULT '',
		owner          TEXT NOT NULL DEFAULT '',
		due            INTEGER NOT NULL DEFAULT 0,
		priority       TEXT NOT NULL DEFAULT '',
		body_hash      TEXT NOT NULL DEFAULT '',
		jira_updated   INTEGER NOT NULL DEFAULT 0,
		github_updated INTEGER NOT NULL DEFAULT 0,
		problem        TEXT NOT NULL DEFAULT '',
		opened_at      INTEGER NOT NULL DEFAULT 0,
		closed_at      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX action_items_coe ON action_items (coe_key);
	CREATE INDEX action_items_issue ON action_items (repo, number);
	CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
	CREATE TABLE counters (name TEXT NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (name, day));
	CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL);
	ALTER TABLE coes ADD COLUMN ticket_category TEXT NOT NULL DEFAULT '';
	CREATE INDEX deliveries_received ON deliveries (received_at);`,
	// 3: earlier COEs of a service or incident key (issue 8, recurrence).
	`ALTER TABLE coes ADD COLUMN incident_key TEXT NOT NULL DEFAULT '';
	ALTER TABLE coes ADD COLUMN recurrence_of TEXT NOT NULL DEFAULT '';
	CREATE INDEX coes_service ON coes (service_id, created_at);
	CREATE INDEX coes_incident_key ON coes (incident_key);`,
	// 4: a delivery's jobs wait in its row until dispatched (dispatch.go);
	// deliveries of an item can be found (RecentDeliveries; PagerDuty's,
	// the bulk of the ingest load, are left out of that index); and
	// deliveries become a rowid table. WITHOUT ROWID keeps a row in an
	// index b-tree, whose rows spill past about 1 KB: every 1.6 KB webhook
	// body took its own overflow page, more than doubling the pages each
	// ingest batch writes and fsyncs. A rowid table appends rows in order
	// and keeps them whole; (source, id) stays unique through an index.
	`CREATE TABLE deliveries_v4 (
		seq         INTEGER PRIMARY KEY,
		source      TEXT NOT NULL,
		id          TEXT NOT NULL,
		event_type  TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		body        BLOB,
		jobs        BLOB,
		UNIQUE (source, id)
	);
	INSERT INTO deliveries_v4 (source, id, event_type, resource_id, received_at, body)
		SELECT source, id, event_type, resource_id, received_at, body FROM deliveries ORDER BY received_at;
	DROP TABLE deliveries;
	ALTER TABLE deliveries_v4 RENAME TO deliveries;
	CREATE INDEX deliveries_received ON deliveries (received_at);
	CREATE INDEX deliveries_pending ON deliveries (received_at) WHERE jobs IS NOT NULL;
	CREATE INDEX deliveries_item ON deliveries (source, resource_id, received_at) WHERE source <> 'pagerduty';`,
	// 5: a second deduplication key (Delivery.ContentKey, issue 13).
	`ALTER TABLE deliveries ADD COLUMN content_key TEXT;
	CREATE UNIQUE INDEX deliveries_content ON deliveries (source, content_key) WHERE content_key IS NOT NULL;`,
}

// migrate runs River's migrations then coesync's and returns the versions
// applied.
func (s *SQLite) migrate(ctx context.Context) ([]Migration, error) {
	m, err := rivermigrate.New(riversqlite.New(s.db), quietMigrator())
	if err != nil {
		return nil, fmt.Errorf("store: job queue migrations: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("store: migrate job queue: %w", err)
	}
	applied := riverApplied(res)
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS coesync_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return applied, fmt.Errorf("store: migrate: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM coesync_migrations`).Scan(&have); err != nil {
		return applied, fmt.Errorf("store: migrate: %w", err)
	}
	for v := have + 1; v <= len(sqliteMigrations); v++ {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, sqliteMigrations[v-1]); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO coesync_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("store: migration %d: %w", v, err)
		}
		applied = append(applied, Migration{Component: ComponentCoesync, Version: v})
	}
	return applied, nil
}

func (s *SQLite) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Ingest implements Store: the deliveries with their pending jobs, and one
// dispatch job for the batch, in one fsync'd transaction (see dispatch.go).
func (s *SQLite) Ingest(ctx context.Context, ds []Delivery) ([]bool, error) {
	var dup []bool
	err := s.inTx(ctx, func(tx *sql.Tx) (err error) {
		dup, err = s.ingestTx(ctx, tx, ds)
		return err
	})
	s.health.record(err)
	if err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
	}
	return dup, nil
}

// IngestUnsynced implements UnsyncedIngester: Ingest's transaction,
// committed with synchronous=NORMAL (in WAL mode: written to the WAL, not
// fsync'd). The connection returns to synchronous=FULL before anything
// else can use it, so no other write is ever left unsynced.
func (s *SQLite) IngestUnsynced(ctx context.Context, ds []Delivery) (dup []bool, err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
	}
	defer func() {
		if _, rerr := conn.ExecContext(context.Background(), `PRAGMA synchronous=FULL`); rerr != nil {
			// Never hand back a connection that does not fsync commits.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("store: ingest: restore synchronous=FULL: %w", rerr)
			}
		}
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous=NORMAL`); err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
	}
	dup, err = s.ingestTx(ctx, tx, ds)
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Rollback()
	}
	s.health.record(err)
	if err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
	}
	return dup, nil
}

// SyncIngested implements UnsyncedIngester: fdatasync of the WAL, where
// every commit so far is. Should the WAL be gone (SQLite checkpoints and
// removes it when its last connection closes, after syncing the database
// file), the database file is synced instead. The file is opened each
// time: a WAL made again after such a removal is another file.
func (s *SQLite) SyncIngested(context.Context) (err error) {
	defer func() { s.health.record(err) }()
	f, err := os.Open(s.path + "-wal")
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.Open(s.path)
	}
	if err != nil {
		return fmt.Errorf("store: sync ingested: %w", err)
	}
	defer f.Close()
	if err := datasync(f); err != nil {
		return fmt.Errorf("store: sync ingested: %w", err)
	}
	return nil
}

// contentKey is the column value of d.ContentKey: NULL when unset, so
// that deliveries without one never collide on it.
func contentKey(d Delivery) *string {
	if d.ContentKey == "" {
		return nil
	}
	return &d.ContentKey
}

// ingestTx is Ingest's work inside tx.
func (s *SQLite) ingestTx(ctx context.Context, tx *sql.Tx, ds []Delivery) ([]bool, error) {
	dup := make([]bool, len(ds))
	stmt := tx.StmtContext(ctx, s.insertDelivery)
	defer stmt.Close()
	pending := false
	for i, d := range ds {
		jobs, err := encodeJobs(d.Jobs)
		if err != nil {
			return nil, err
		}
		res, err := stmt.ExecContext(ctx, d.Source, d.ID, d.EventType, d.ResourceID, d.ReceivedAt.UnixMilli(), d.Body, jobs, contentKey(d))
		if err != nil {
			return nil, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, err
		}
		dup[i] = n == 0
		pending = pending || (n == 1 && jobs != nil)
	}
	if !pending {
		return dup, nil
	}
	// A dispatch job not yet started will read these rows: it can only
	// start (River's fetch is a write) after this transaction, SQLite
	// having one writer. Then this batch needs none of its own, which
	// spares River's insert on most batches of a storm (it was the largest
	// cost left on the writer).
	var waiting bool
	waitingStmt := tx.StmtContext(ctx, s.dispatchWaiting)
	defer waitingStmt.Close()
	if err := waitingStmt.QueryRowContext(ctx, dispatchQueue).Scan(&waiting); err != nil {
		return nil, err
	}
	if waiting {
		return dup, nil
	}
	if _, err := s.river.InsertTx(ctx, tx, DispatchArgs{}, nil); err != nil {
		return nil, err
	}
	return dup, nil
}

// DispatchDeliveries implements Store.
func (s *SQLite) DispatchDeliveries(ctx context.Context) (int, error) {
	return dispatchPasses(func(set *dispatchSet) (rows, moved int, err error) {
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			r, err := tx.QueryContext(ctx, `SELECT source, id, jobs FROM deliveries WHERE jobs IS NOT NULL
				ORDER BY received_at LIMIT ?`, dispatchBatch)
			if err != nil {
				return err
			}
			type key struct{ source, id string }
			var done []key
			for r.Next() {
				var k key
				var raw []byte
				if err := r.Scan(&k.source, &k.id, &raw); err != nil {
					r.Close()
					return err
				}
				rows++
				if set.add(k.source, k.id, raw) {
					done = append(done, k)
				}
			}
			r.Close()
			if err := r.Err(); err != nil {
				return err
			}
			if len(set.params) > 0 {
				if _, err := s.river.InsertManyTx(ctx, tx, set.params); err != nil {
					return err
				}
			}
			for _, k := range done {
				if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET jobs = NULL WHERE source = ? AND id = ?`, k.source, k.id); err != nil {
					return err
				}
			}
			moved = len(done)
			return nil
		})
		return rows, moved, err
	})
}

const coeColumns = `incident_id, state, label, rule, project, ticket_key, ticket_id, ticket_url, title,
	service_id, service_name, teams, intent_at, created_at, linked_at, noted_at, rollup_comment, completed_at,
	repo, incident_url, incident_number, ticket_category, incident_key, recurrence_of`

type scanner interface{ Scan(dest ...any) error }

func scanCOE(r scanner) (COE, error) {
	var c COE
	var intent, created, linked, noted, completed int64
	err := r.Scan(&c.IncidentID, &c.State, &c.Label, &c.Rule, &c.Project, &c.TicketKey, &c.TicketID, &c.TicketURL,
		&c.Title, &c.ServiceID, &c.ServiceName, &c.Teams, &intent, &created, &linked, &noted, &c.RollupComment, &completed,
		&c.Repo, &c.IncidentURL, &c.IncidentNumber, &c.TicketCategory, &c.IncidentKey, &c.RecurrenceOf)
	c.IntentAt, c.CreatedAt, c.LinkedAt, c.NotedAt = fromMilli(intent), fromMilli(created), fromMilli(linked), fromMilli(noted)
	c.CompletedAt = fromMilli(completed)
	return c, err
}

func fromMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func toMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// COE implements Store.
func (s *SQLite) COE(ctx context.Context, incidentID string) (COE, error) {
	c, err := scanCOE(s.db.QueryRowContext(ctx, `SELECT `+coeColumns+` FROM coes WHERE incident_id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return COE{}, ErrNotFound
	}
	if err != nil {
		return COE{}, fmt.Errorf("store: get COE of %s: %w", incidentID, err)
	}
	return c, nil
}

func (s *SQLite) insertCOE(ctx context.Context, c COE) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO coes (`+coeColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (incident_id) DO NOTHING`,
		c.IncidentID, c.State, c.Label, c.Rule, c.Project, c.TicketKey, c.TicketID, c.TicketURL, c.Title,
		c.ServiceID, c.ServiceName, c.Teams, toMilli(c.IntentAt), toMilli(c.CreatedAt), toMilli(c.LinkedAt), toMilli(c.NotedAt),
		c.RollupComment, toMilli(c.CompletedAt), c.Repo, c.IncidentURL, c.IncidentNumber, c.TicketCategory,
		c.IncidentKey, c.RecurrenceOf)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// BeginCOE implements Store.
func (s *SQLite) BeginCOE(ctx context.Context, c COE) (COE, bool, error) {
	c.State = COEIntent
	created, err := s.insertCOE(ctx, c)
	if err != nil {
		return COE{}, false, fmt.Errorf("store: record COE intent for %s: %w", c.IncidentID, err)
	}
	stored, err := s.COE(ctx, c.IncidentID)
	return stored, created, err
}

// RenewCOEIntent implements Store.
func (s *SQLite) RenewCOEIntent(ctx context.Context, incidentID string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE coes SET intent_at = ? WHERE incident_id = ? AND state = ?`,
		toMilli(at), incidentID, COEIntent); err != nil {
		return fmt.Errorf("store: renew COE intent for %s: %w", incidentID, err)
	}
	return nil
}

// SkipCOE implements Store.
func (s *SQLite) SkipCOE(ctx context.Context, c COE) error {
	c.State = COESkipped
	if _, err := s.insertCOE(ctx, c); err != nil {
		return fmt.Errorf("store: record skipped COE for %s: %w", c.IncidentID, err)
	}
	return nil
}

// SetCOETicket implements Store.
func (s *SQLite) SetCOETicket(ctx context.Context, incidentID, key, id, url string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE coes SET state = ?, ticket_key = ?, ticket_id = ?, ticket_url = ?, created_at = ?
		WHERE incident_id = ?`, COECreated, key, id, url, toMilli(at), incidentID)
	if err != nil {
		return fmt.Errorf("store: set ticket %s for %s: %w", key, incidentID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set ticket %s for %s: %w", key, incidentID, ErrNotFound)
	}
	return nil
}

// MarkCOE implements Store.
func (s *SQLite) MarkCOE(ctx context.Context, incidentID string, step COEStep, at time.Time) error {
	col := map[COEStep]string{StepLinked: "linked_at", StepNoted: "noted_at"}[step]
	if col == "" {
		return fmt.Errorf("store: unknown COE step %q", step)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE coes SET `+col+` = ? WHERE incident_id = ?`, toMilli(at), incidentID); err != nil {
		return fmt.Errorf("store: mark %s %s: %w", incidentID, step, err)
	}
	return nil
}

// ListCOEs implements Store.
func (s *SQLite) ListCOEs(ctx context.Context, since, until time.Time) ([]COE, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+coeColumns+` FROM coes WHERE state = ? AND created_at >= ? AND created_at < ?
		ORDER BY created_at DESC, incident_id`, COECreated, since.UnixMilli(), until.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("store: list COEs: %w", err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list COEs: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Jobs implements Store.
func (s *SQLite) Jobs(ctx context.Context, states ...string) ([]JobInfo, error) {
	return listJobs(ctx, s.river.JobList, states)
}

// JobsOfKind implements Store.
func (s *SQLite) JobsOfKind(ctx context.Context, kind string, states ...string) ([]JobInfo, error) {
	return listJobs(ctx, s.river.JobList, states, kind)
}

func listJobs(ctx context.Context, list func(context.Context, *river.JobListParams) (*river.JobListResult, error), states []string, kinds ...string) ([]JobInfo, error) {
	params := river.NewJobListParams().First(1000)
	if len(kinds) > 0 {
		params = params.Kinds(kinds...)
	}
	if len(states) > 0 {
		st := make([]rivertype.JobState, len(states))
		for i, v := range states {
			st[i] = rivertype.JobState(v)
		}
		params = params.States(st...)
	}
	res, err := list(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("store: list jobs: %w", err)
	}
	out := make([]JobInfo, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		ji := JobInfo{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
			Args: string(j.EncodedArgs), CreatedAt: j.CreatedAt, ScheduledAt: j.ScheduledAt}
		if n := len(j.Errors); n > 0 {
			ji.LastError = j.Errors[n-1].Error
		}
		out = append(out, ji)
	}
	return out, nil
}

// Ping implements Store.
func (s *SQLite) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close implements Store.
func (s *SQLite) Close() error {
	if s.river != nil {
		dispatchers.Delete(s.river)
		pruners.Delete(s.river)
	}
	for _, st := range []*sql.Stmt{s.insertDelivery, s.dispatchWaiting} {
		if st != nil {
			st.Close()
		}
	}
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}
