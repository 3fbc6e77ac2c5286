package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// Migration components.
const (
	ComponentRiver   = "river"
	ComponentCoesync = "coesync"
)

// Migration is one schema version applied by Migrate.
type Migration struct {
	Component string // ComponentRiver or ComponentCoesync
	Version   int
	Name      string // River's migration name; empty for coesync's
}

// ErrSchemaOutdated is returned by the Open functions with
// Options.SkipMigrate when the database lacks migrations.
var ErrSchemaOutdated = errors.New("store: database schema is not at the latest version")

// schemaError reports what is missing and what to do.
func schemaError(pending []string) error {
	return fmt.Errorf("%w (pending: %v); COESYNC_AUTO_MIGRATE is false, so run `coesync migrate` with the same COESYNC_DATABASE_URL first",
		ErrSchemaOutdated, pending)
}

func quietMigrator() *rivermigrate.Config {
	return &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
}

func riverApplied(res *rivermigrate.MigrateResult) []Migration {
	if res == nil {
		return nil
	}
	out := make([]Migration, 0, len(res.Versions))
	for _, v := range res.Versions {
		out = append(out, Migration{Component: ComponentRiver, Version: v.Version, Name: v.Name})
	}
	return out
}

// pendingRiver lists River's versions not applied yet.
func pendingRiver[TTx any](ctx context.Context, m *rivermigrate.Migrator[TTx]) ([]string, error) {
	existing, err := m.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: read job queue schema version: %w", err)
	}
	have := map[int]bool{}
	for _, e := range existing {
		have[e.Version] = true
	}
	var pending []string
	for _, v := range m.AllVersions() {
		if !have[v.Version] {
			pending = append(pending, fmt.Sprintf("river %d", v.Version))
		}
	}
	return pending, nil
}

func pendingCoesync(have, latest int) []string {
	var pending []string
	for v := have + 1; v <= latest; v++ {
		pending = append(pending, fmt.Sprintf("coesync %d", v))
	}
	return pending
}

// checkSchema fails with ErrSchemaOutdated unless every migration is applied.
func (s *SQLite) checkSchema(ctx context.Context) error {
	m, err := rivermigrate.New(riversqlite.New(s.db), quietMigrator())
	if err != nil {
		return fmt.Errorf("store: job queue migrations: %w", err)
	}
	pending, err := pendingRiver(ctx, m)
	if err != nil {
		return err
	}
	var have int
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'coesync_migrations'`).Scan(&tables); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if tables > 0 {
		if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM coesync_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
	}
	pending = append(pending, pendingCoesync(have, len(sqliteMigrations))...)
	if len(pending) > 0 {
		return schemaError(pending)
	}
	return nil
}

// checkSchema fails with ErrSchemaOutdated unless every migration is applied.
func (s *Postgres) checkSchema(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(s.pool), quietMigrator())
	if err != nil {
		return fmt.Errorf("store: job queue migrations: %w", err)
	}
	pending, err := pendingRiver(ctx, m)
	if err != nil {
		return err
	}
	var have int
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass('coesync_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if exists {
		if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM coesync_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
	}
	pending = append(pending, pendingCoesync(have, len(postgresMigrations))...)
	if len(pending) > 0 {
		return schemaError(pending)
	}
	return nil
}

// MigrateSQLite brings the SQLite database at path (created if missing) to
// the latest schema and returns the versions applied (none when it was up
// to date).
func MigrateSQLite(ctx context.Context, path string) ([]Migration, error) {
	db, err := openSQLiteDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	s := &SQLite{db: db}
	return s.migrate(ctx)
}

// MigratePostgres brings the PostgreSQL database at url to the latest
// schema and returns the versions applied. Replicas or other migrate runs
// at the same time wait on the migration advisory lock.
func MigratePostgres(ctx context.Context, url string) ([]Migration, error) {
	pcfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("store: postgres: invalid database URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	defer pool.Close()
	if err := pool.Ping(ctx); err != nil {
		return nil, fmt.Errorf("store: postgres: connect to %s/%s: %w", pcfg.ConnConfig.Host, pcfg.ConnConfig.Database, err)
	}
	s := &Postgres{pool: pool}
	return s.migrate(ctx)
}
