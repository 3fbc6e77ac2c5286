package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Postgres is the shared store: several coesync replicas use one database.
type Postgres struct {
	queue[pgx.Tx]
	pool *pgxpool.Pool
	log  *slog.Logger
	// retention is Options.Retention (Prune).
	retention time.Duration
	health    writeHealth
}

var _ Store = (*Postgres)(nil)

// migrationLockKey is the PostgreSQL advisory lock taken while migrating, so
// that replicas starting at once migrate one after the other ("coesync" in
// ASCII).
const migrationLockKey int64 = 0x636f6573796e63

// OpenPostgres connects to the PostgreSQL database at url (creating and
// migrating coesync's tables and River's) and returns a store.
//
// Everything about the connection comes with the URL (or key=value DSN), as
// understood by pgx:
//
//   - pool size and lifetimes: pool_max_conns, pool_min_conns,
//     pool_max_conn_lifetime, pool_max_conn_idle_time,
//     pool_health_check_period;
//   - server settings for every connection, as runtime parameters, e.g.
//     statement_timeout=30000 (ms) or
//     options=-c%20statement_timeout%3D30s%20-c%20search_path%3Dcoesync;
//   - TLS: sslmode (disable, require, verify-ca, verify-full), sslrootcert,
//     sslcert, sslkey;
//   - connect_timeout, application_name, and libpq's PG* environment
//     variables for what the URL leaves out.
//
// Unlike SQLite, several processes share the database: jobs found running
// and leases found held at start belong to other replicas and are left
// alone; River's rescuer hands back the jobs of a replica that died, once
// they have run longer than the job timeout. Periodic jobs are enqueued by
// River's elected leader only.
func OpenPostgres(ctx context.Context, url string, opts Options) (*Postgres, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors may quote the URL, password included.
		return nil, errors.New("store: postgres: invalid database URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	s := &Postgres{pool: pool, log: opts.Logger, retention: retentionOf(opts), queue: queue[pgx.Tx]{worker: opts.Workers != nil}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres: connect to %s/%s: %w", pcfg.ConnConfig.Host, pcfg.ConnConfig.Database, err)
	}
	if opts.SkipMigrate {
		err = s.checkSchema(ctx)
	} else {
		_, err = s.migrate(ctx)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	if err := registerDispatch(opts.Workers); err != nil {
		pool.Close()
		return nil, err
	}
	if err := registerPrune(opts.Workers); err != nil {
		pool.Close()
		return nil, err
	}
	cfg := riverConfig(opts, s.log)
	// A job running longer than its timeout was cut off with its replica:
	// hand it back a little after the timeout would have ended it.
	if cfg.JobTimeout > 0 {
		cfg.RescueStuckJobsAfter = cfg.JobTimeout + max(cfg.JobTimeout/4, 30*time.Second)
	}
	if s.river, err = river.NewClient(riverpgxv5.New(pool), cfg); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: job queue: %w", err)
	}
	dispatchers.Store(s.river, s.DispatchDeliveries)
	pruners.Store(s.river, func(ctx context.Context, now time.Time) (Pruned, error) { return s.Prune(ctx, now, s.retention) })
	return s, nil
}

var postgresMigrations = []string{
	`CREATE TABLE deliveries (
		source      text NOT NULL,
		id          text NOT NULL,
		event_type  text NOT NULL,
		resource_id text NOT NULL,
		received_at timestamptz NOT NULL,
		body        bytea,
		PRIMARY KEY (source, id)
	);
	CREATE INDEX deliveries_received ON deliveries (received_at);
	CREATE TABLE coes (
		incident_id     text PRIMARY KEY,
		state           text NOT NULL,
		label           text NOT NULL,
		rule            text NOT NULL DEFAULT '',
		project         text NOT NULL DEFAULT '',
		ticket_key      text NOT NULL DEFAULT '',
		ticket_id       text NOT NULL DEFAULT '',
		ticket_url      text NOT NULL DEFAULT '',
		title           text NOT NULL DEFAULT '',
		service_id      text NOT NULL DEFAULT '',
		service_name    text NOT NULL DEFAULT '',
		teams           text NOT NULL DEFAULT '',
		intent_at       timestamptz,
		created_at      timestamptz,
		linked_at       timestamptz,
		noted_at        timestamptz,
		rollup_comment  text NOT NULL DEFAULT '',
		completed_at    timestamptz,
		repo            text NOT NULL DEFAULT '',
		incident_url    text NOT NULL DEFAULT '',
		incident_number integer NOT NULL DEFAULT 0,
		ticket_category text NOT NULL DEFAULT ''
	);
	CREATE INDEX coes_created_at ON coes (created_at);
	CREATE INDEX coes_ticket_key ON coes (ticket_key);
	CREATE TABLE action_items (
		jira_key       text PRIMARY KEY,
		jira_id        text NOT NULL DEFAULT '',
		coe_key        text NOT NULL,
		incident_id    text NOT NULL DEFAULT '',
		repo           text NOT NULL DEFAULT '',
		number         integer NOT NULL DEFAULT 0,
		issue_url      text NOT NULL DEFAULT '',
		state          text NOT NULL,
		intent_at      timestamptz,
		title          text NOT NULL DEFAULT '',
		closed         boolean NOT NULL DEFAULT false,
		assignee       text NOT NULL DEFAULT '',
		owner          text NOT NULL DEFAULT '',
		due            timestamptz,
		priority       text NOT NULL DEFAULT '',
		body_hash      text NOT NULL DEFAULT '',
		jira_updated   timestamptz,
		github_updated timestamptz,
		problem        text NOT NULL DEFAULT '',
		opened_at      timestamptz,
		closed_at      timestamptz
	);
	CREATE INDEX action_items_coe ON action_items (coe_key);
	CREATE INDEX action_items_issue ON action_items (repo, number);
	CREATE TABLE sync_state (key text PRIMARY KEY, value text NOT NULL);
	CREATE TABLE counters (name text NOT NULL, day timestamptz NOT NULL, n bigint NOT NULL, PRIMARY KEY (name, day));
	CREATE TABLE leases (name text PRIMARY KEY, owner text NOT NULL, until timestamptz NOT NULL);`,
	// 2: earlier COEs of a service or incident key (issue 8, recurrence).
	`ALTER TABLE coes ADD COLUMN incident_key text NOT NULL DEFAULT '';
	ALTER TABLE coes ADD COLUMN recurrence_of text NOT NULL DEFAULT '';
	CREATE INDEX coes_service ON coes (service_id, created_at);
	CREATE INDEX coes_incident_key ON coes (incident_key);`,
	// 3: a delivery's jobs wait in its row until dispatched (dispatch.go);
	// the deliveries of an item can be found (RecentDeliveries).
	`ALTER TABLE deliveries ADD COLUMN jobs bytea;
	CREATE INDEX deliveries_pending ON deliveries (received_at) WHERE jobs IS NOT NULL;
	CREATE INDEX deliveries_item ON deliveries (source, resource_id, received_at) WHERE source <> 'pagerduty';`,
	// 4: a second deduplication key (Delivery.ContentKey, issue 13).
	`ALTER TABLE deliveries ADD COLUMN content_key text;
	CREATE UNIQUE INDEX deliveries_content ON deliveries (source, content_key) WHERE content_key IS NOT NULL;`,
}

// migrate runs River's migrations then coesync's, each version in its own
// transaction (some of River's cannot share one) holding an advisory lock:
// a replica starting at the same time waits for each step, then finds it
// done. Holding the lock in the transaction needs no second connection, so
// even pool_max_conns=1 works.
func (s *Postgres) migrate(ctx context.Context) ([]Migration, error) {
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), quietMigrator())
	if err != nil {
		return nil, fmt.Errorf("store: job queue migrations: %w", err)
	}
	var applied []Migration
	locked := func(fn func(pgx.Tx) error) error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
				return fmt.Errorf("migration lock: %w", err)
			}
			return fn(tx)
		})
	}
	for done := false; !done; {
		err := locked(func(tx pgx.Tx) error {
			res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1})
			done = err == nil && len(res.Versions) == 0
			if err == nil {
				applied = append(applied, riverApplied(res)...)
			}
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("store: migrate job queue: %w", err)
		}
	}
	for done := false; !done; {
		err := locked(func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS coesync_migrations (
				version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				return err
			}
			var have int
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM coesync_migrations`).Scan(&have); err != nil {
				return err
			}
			if done = have >= len(postgresMigrations); done {
				return nil
			}
			v := have + 1
			if _, err := tx.Exec(ctx, postgresMigrations[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO coesync_migrations (version) VALUES ($1)`, v); err != nil {
				return err
			}
			applied = append(applied, Migration{Component: ComponentCoesync, Version: v})
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("store: migrate: %w", err)
		}
	}
	return applied, nil
}

// ts is the value stored for t: NULL for the zero time.
func ts(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// fromTS is the time read back: zero for NULL, UTC otherwise.
func fromTS(v pgtype.Timestamptz) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return v.Time.UTC()
}

// Ingest implements Store: one statement inserts the batch and returns the
// keys that were new, then the jobs of the new deliveries are enqueued in
// the same transaction.
func (s *Postgres) Ingest(ctx context.Context, ds []Delivery) ([]bool, error) {
	dup := make([]bool, len(ds))
	if len(ds) == 0 {
		return dup, nil
	}
	n := len(ds)
	sources, ids, types, resources := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	received, bodies, jobs := make([]time.Time, n), make([][]byte, n), make([][]byte, n)
	contents := make([]*string, n)
	for i, d := range ds {
		sources[i], ids[i], types[i], resources[i] = d.Source, d.ID, d.EventType, d.ResourceID
		contents[i] = contentKey(d)
		received[i], bodies[i] = d.ReceivedAt, d.Body
		var err error
		if jobs[i], err = encodeJobs(d.Jobs); err != nil {
			return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), err)
		}
	}
	type key struct{ source, id string }
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// DISTINCT ON keeps the first of the copies inside the batch; the
		// others, like deliveries stored before, are duplicates. Rows are
		// inserted in batch order, so of two with one content key the
		// first is stored (ON CONFLICT DO NOTHING skips the second).
		rows, err := tx.Query(ctx, `INSERT INTO deliveries (source, id, event_type, resource_id, received_at, body, jobs, content_key)
			SELECT source, id, event_type, resource_id, received_at, body, jobs, content_key FROM (
				SELECT DISTINCT ON (source, id) source, id, event_type, resource_id, received_at, body, jobs, content_key, ord
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bytea[], $7::bytea[], $8::text[])
					WITH ORDINALITY AS d(source, id, event_type, resource_id, received_at, body, jobs, content_key, ord)
				ORDER BY source, id, ord) first
			ORDER BY ord
			ON CONFLICT DO NOTHING
			RETURNING source, id, jobs IS NOT NULL`, sources, ids, types, resources, received, bodies, jobs, contents)
		if err != nil {
			return err
		}
		fresh := map[key]bool{}
		pending := false
		for rows.Next() {
			var k key
			var hasJobs bool
			if err := rows.Scan(&k.source, &k.id, &hasJobs); err != nil {
				rows.Close()
				return err
			}
			fresh[k] = true
			pending = pending || hasJobs
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i, d := range ds {
			k := key{d.Source, d.ID}
			if !fresh[k] {
				dup[i] = true
				continue
			}
			delete(fresh, k) // later copies in the batch are duplicates
		}
		if !pending {
			return nil
		}
		_, err = s.river.InsertTx(ctx, tx, DispatchArgs{}, nil)
		return err
	})
	s.health.record(classifyPg(err))
	if err != nil {
		return nil, fmt.Errorf("store: ingest %d deliveries: %w", len(ds), classifyPg(err))
	}
	return dup, nil
}

// DispatchDeliveries implements Store. SKIP LOCKED lets replicas dispatch
// side by side, each taking rows the others do not hold.
func (s *Postgres) DispatchDeliveries(ctx context.Context) (int, error) {
	return dispatchPasses(func(set *dispatchSet) (rows, moved int, err error) {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			r, err := tx.Query(ctx, `SELECT source, id, jobs FROM deliveries WHERE jobs IS NOT NULL
				ORDER BY received_at LIMIT $1 FOR UPDATE SKIP LOCKED`, dispatchBatch)
			if err != nil {
				return err
			}
			var srcs, ids []string
			for r.Next() {
				var source, id string
				var raw []byte
				if err := r.Scan(&source, &id, &raw); err != nil {
					r.Close()
					return err
				}
				rows++
				if set.add(source, id, raw) {
					srcs, ids = append(srcs, source), append(ids, id)
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
			if len(ids) > 0 {
				if _, err := tx.Exec(ctx, `UPDATE deliveries d SET jobs = NULL
					FROM unnest($1::text[], $2::text[]) AS k(source, id)
					WHERE d.source = k.source AND d.id = k.id`, srcs, ids); err != nil {
					return err
				}
			}
			moved = len(ids)
			return nil
		})
		return rows, moved, err
	})
}

func scanPgCOE(r scanner) (COE, error) {
	var c COE
	var intent, created, linked, noted, completed pgtype.Timestamptz
	err := r.Scan(&c.IncidentID, &c.State, &c.Label, &c.Rule, &c.Project, &c.TicketKey, &c.TicketID, &c.TicketURL,
		&c.Title, &c.ServiceID, &c.ServiceName, &c.Teams, &intent, &created, &linked, &noted, &c.RollupComment, &completed,
		&c.Repo, &c.IncidentURL, &c.IncidentNumber, &c.TicketCategory, &c.IncidentKey, &c.RecurrenceOf)
	c.IntentAt, c.CreatedAt, c.LinkedAt, c.NotedAt = fromTS(intent), fromTS(created), fromTS(linked), fromTS(noted)
	c.CompletedAt = fromTS(completed)
	return c, err
}

// oneCOE reads the COE matched by where; ErrNotFound when none.
func (s *Postgres) oneCOE(ctx context.Context, what, where string, args ...any) (COE, error) {
	c, err := scanPgCOE(s.pool.QueryRow(ctx, `SELECT `+coeColumns+` FROM coes WHERE `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return COE{}, ErrNotFound
	}
	if err != nil {
		return COE{}, fmt.Errorf("store: get COE %s: %w", what, err)
	}
	return c, nil
}

// COE implements Store.
func (s *Postgres) COE(ctx context.Context, incidentID string) (COE, error) {
	return s.oneCOE(ctx, "of "+incidentID, `incident_id = $1`, incidentID)
}

func (s *Postgres) insertCOE(ctx context.Context, c COE) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO coes (`+coeColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
		ON CONFLICT (incident_id) DO NOTHING`,
		c.IncidentID, c.State, c.Label, c.Rule, c.Project, c.TicketKey, c.TicketID, c.TicketURL, c.Title,
		c.ServiceID, c.ServiceName, c.Teams, ts(c.IntentAt), ts(c.CreatedAt), ts(c.LinkedAt), ts(c.NotedAt),
		c.RollupComment, ts(c.CompletedAt), c.Repo, c.IncidentURL, c.IncidentNumber, c.TicketCategory,
		c.IncidentKey, c.RecurrenceOf)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// BeginCOE implements Store.
func (s *Postgres) BeginCOE(ctx context.Context, c COE) (COE, bool, error) {
	c.State = COEIntent
	created, err := s.insertCOE(ctx, c)
	if err != nil {
		return COE{}, false, fmt.Errorf("store: record COE intent for %s: %w", c.IncidentID, err)
	}
	stored, err := s.COE(ctx, c.IncidentID)
	return stored, created, err
}

// RenewCOEIntent implements Store.
func (s *Postgres) RenewCOEIntent(ctx context.Context, incidentID string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE coes SET intent_at = $1 WHERE incident_id = $2 AND state = $3`,
		ts(at), incidentID, COEIntent); err != nil {
		return fmt.Errorf("store: renew COE intent for %s: %w", incidentID, err)
	}
	return nil
}

// SkipCOE implements Store.
func (s *Postgres) SkipCOE(ctx context.Context, c COE) error {
	c.State = COESkipped
	if _, err := s.insertCOE(ctx, c); err != nil {
		return fmt.Errorf("store: record skipped COE for %s: %w", c.IncidentID, err)
	}
	return nil
}

// SetCOETicket implements Store.
func (s *Postgres) SetCOETicket(ctx context.Context, incidentID, key, id, url string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE coes SET state = $1, ticket_key = $2, ticket_id = $3, ticket_url = $4, created_at = $5
		WHERE incident_id = $6`, COECreated, key, id, url, ts(at), incidentID)
	if err != nil {
		return fmt.Errorf("store: set ticket %s for %s: %w", key, incidentID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: set ticket %s for %s: %w", key, incidentID, ErrNotFound)
	}
	return nil
}

// MarkCOE implements Store.
func (s *Postgres) MarkCOE(ctx context.Context, incidentID string, step COEStep, at time.Time) error {
	col := map[COEStep]string{StepLinked: "linked_at", StepNoted: "noted_at"}[step]
	if col == "" {
		return fmt.Errorf("store: unknown COE step %q", step)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE coes SET `+col+` = $1 WHERE incident_id = $2`, ts(at), incidentID); err != nil {
		return fmt.Errorf("store: mark %s %s: %w", incidentID, step, err)
	}
	return nil
}

// SetCOECategory implements Store.
func (s *Postgres) SetCOECategory(ctx context.Context, key, category string) error {
	if _, err := s.pool.Exec(ctx, `UPDATE coes SET ticket_category = $1 WHERE ticket_key = $2 AND ticket_key <> ''`,
		category, key); err != nil {
		return fmt.Errorf("store: set category of %s: %w", key, err)
	}
	return nil
}

// ListCOEs implements Store.
func (s *Postgres) ListCOEs(ctx context.Context, since, until time.Time) ([]COE, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+coeColumns+` FROM coes WHERE state = $1 AND created_at >= $2 AND created_at < $3
		ORDER BY created_at DESC, incident_id`, COECreated, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: list COEs: %w", err)
	}
	defer rows.Close()
	var out []COE
	for rows.Next() {
		c, err := scanPgCOE(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list COEs: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list COEs: %w", err)
	}
	return out, nil
}

// DeliveryCounts implements Store.
func (s *Postgres) DeliveryCounts(ctx context.Context, since, until time.Time) (map[string]int, error) {
	out, err := s.countBy(ctx, `SELECT source, COUNT(*) FROM deliveries WHERE received_at >= $1 AND received_at < $2
		GROUP BY source`, since, until)
	if err != nil {
		return nil, fmt.Errorf("store: count deliveries: %w", err)
	}
	return out, nil
}

// countBy runs a query returning (name, bigint) rows.
func (s *Postgres) countBy(ctx context.Context, query string, args ...any) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = int(n)
	}
	return out, rows.Err()
}

// Jobs implements Store.
// Args come back from jsonb, which adds spaces: they are compacted to read
// as they were written (jsonb also orders the keys, shortest first).
func (s *Postgres) Jobs(ctx context.Context, states ...string) ([]JobInfo, error) {
	return s.jobs(ctx, states)
}

// JobsOfKind implements Store.
func (s *Postgres) JobsOfKind(ctx context.Context, kind string, states ...string) ([]JobInfo, error) {
	return s.jobs(ctx, states, kind)
}

func (s *Postgres) jobs(ctx context.Context, states []string, kinds ...string) ([]JobInfo, error) {
	jobs, err := listJobs(ctx, s.river.JobList, states, kinds...)
	for i := range jobs {
		var b bytes.Buffer
		if json.Compact(&b, []byte(jobs[i].Args)) == nil {
			jobs[i].Args = b.String()
		}
	}
	return jobs, err
}

// Ping implements Store.
func (s *Postgres) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close implements Store.
func (s *Postgres) Close() error {
	if s.river != nil {
		dispatchers.Delete(s.river)
		pruners.Delete(s.river)
	}
	s.pool.Close()
	return nil
}
