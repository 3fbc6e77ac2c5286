package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coesync/coesync/sync/store"
)

// The conformance and dispatch suites open a fresh store per subtest.
// Migrating each one (coesync's schema and River's) costs more than the
// subtest, so each store starts as a copy of one database migrated once
// per test binary. The migrations themselves are tested on empty
// databases in migrate_test.go and TestPostgresTwoReplicas.

var templates struct {
	sqliteOnce sync.Once
	sqlitePath string
	sqliteErr  error

	pgMu   sync.Mutex
	pgName string // created on first use, dropped by TestMain
	pgBase string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if templates.sqlitePath != "" {
		os.RemoveAll(filepath.Dir(templates.sqlitePath))
	}
	if templates.pgName != "" {
		dropDatabase(templates.pgBase, templates.pgName)
	}
	os.Exit(code)
}

// openMigratedSQLite opens a copy of the migrated SQLite template.
func openMigratedSQLite(t *testing.T, opts store.Options) store.Store {
	t.Helper()
	templates.sqliteOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coesync-store-template-")
		if err != nil {
			templates.sqliteErr = err
			return
		}
		templates.sqlitePath = filepath.Join(dir, "coesync.db")
		_, templates.sqliteErr = store.MigrateSQLite(context.Background(), templates.sqlitePath)
	})
	if templates.sqliteErr != nil {
		t.Fatalf("migrate the SQLite template: %v", templates.sqliteErr)
	}
	path := filepath.Join(t.TempDir(), "coesync.db")
	if err := copyFile(templates.sqlitePath, path); err != nil {
		t.Fatal(err)
	}
	s, err := store.OpenSQLite(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func copyFile(from, to string) error {
	// Closing the migrating connection checkpointed the WAL: the main
	// file holds the whole schema.
	if _, err := os.Stat(from + "-wal"); err == nil {
		return errors.New("SQLite template still has a WAL file")
	}
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// migratedPostgresDB is postgresDB made from the migrated template.
func migratedPostgresDB(t *testing.T) string {
	t.Helper()
	templates.pgMu.Lock()
	defer templates.pgMu.Unlock()
	if templates.pgName == "" {
		base, name := createDatabase(t, "")
		if _, err := store.MigratePostgres(context.Background(), databaseURL(t, base, name)); err != nil {
			dropDatabase(base, name)
			t.Fatalf("migrate the PostgreSQL template: %v", err)
		}
		templates.pgBase, templates.pgName = base, name
	}
	base, name := createDatabase(t, templates.pgName)
	t.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return databaseURL(t, base, name)
}

// createDatabase creates a database with a fresh name, a copy of template
// unless that is empty, and returns the server's base URL and the name;
// it skips the test when no server answers.
func createDatabase(t *testing.T, template string) (base, name string) {
	t.Helper()
	base = os.Getenv("COESYNC_TEST_POSTGRES_URL")
	if base == "" {
		base = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// pgxpool's parser accepts the pool_* parameters the URL may carry.
	pcfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		t.Fatal("COESYNC_TEST_POSTGRES_URL: invalid URL")
	}
	admin, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
	if err != nil {
		if os.Getenv("COESYNC_TEST_POSTGRES_URL") != "" {
			t.Fatalf("COESYNC_TEST_POSTGRES_URL: %v", err)
		}
		t.Skip("PostgreSQL not available: set COESYNC_TEST_POSTGRES_URL or run a server on 127.0.0.1:5432 (.ci/run starts one)")
	}
	defer admin.Close(context.Background())
	b := make([]byte, 8)
	rand.Read(b)
	name = "coesync_test_" + hex.EncodeToString(b)
	sql := `CREATE DATABASE ` + name
	if template != "" {
		sql += ` TEMPLATE ` + template
	}
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, sql)
		// The template's last connection may still be closing on the
		// server side: "source database is being accessed by other users".
		var pgErr *pgconn.PgError
		if err == nil || attempt == 50 || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	return base, name
}

func dropDatabase(base, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pcfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return errors.New("invalid URL")
	}
	admin, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
	if err != nil {
		return err
	}
	defer admin.Close(context.Background())
	_, err = admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
	return err
}
