package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/store/storetest"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresDB creates a fresh database (coesync's tables and River's live
// there) and drops it when the test ends; it skips the test when no server
// answers.
func postgresDB(t *testing.T) string {
	t.Helper()
	base := os.Getenv("COESYNC_TEST_POSTGRES_URL")
	if base == "" {
		base = defaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
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
	name := "coesync_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("COESYNC_TEST_POSTGRES_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

func openPostgres(t *testing.T, dsn string) *store.Postgres {
	t.Helper()
	s, err := store.OpenPostgres(context.Background(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, postgresDB(t)) })
}

func TestPostgresDispatch(t *testing.T) {
	storetest.RunDispatch(t, func(t *testing.T, ws *river.Workers) store.Store {
		s, err := store.OpenPostgres(context.Background(), postgresDB(t), store.Options{Workers: ws, FetchPollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Two replicas starting at once on an empty database: both migrate (one
// waits for the other's advisory lock), and a delivery ingested by both is
// new for exactly one.
func TestPostgresTwoReplicas(t *testing.T) {
	dsn := postgresDB(t)
	ctx := context.Background()
	stores := make([]*store.Postgres, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = store.OpenPostgres(ctx, dsn, store.Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	d := store.Delivery{Source: "pagerduty", ID: "evt-1", EventType: "incident.resolved", ResourceID: "P1",
		ReceivedAt: time.Now(), Body: []byte(`{}`), Jobs: []store.Job{{Args: storetest.TestArgs{Key: "P1"}}}}
	dups := make([][]bool, 2)
	start := make(chan struct{})
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			dups[i], errs[i] = s.Ingest(ctx, []store.Delivery{d})
		}()
	}
	close(start)
	wg.Wait()
	fresh := 0
	for i := range stores {
		if errs[i] != nil {
			t.Fatalf("replica %d ingest: %v", i, errs[i])
		}
		if !dups[i][0] {
			fresh++
		}
	}
	if fresh != 1 {
		t.Fatalf("dup = %v, %v: want exactly one new", dups[0], dups[1])
	}
	jobs, err := stores[1].Jobs(ctx)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs = %+v, %v; want one", jobs, err)
	}
	// Opening again finds everything migrated.
	openPostgres(t, dsn)
	if err := stores[0].Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// PostgreSQL refuses NUL in text: the refusal is marked ErrUnstorable (the
// server answers 400, PagerDuty stops retrying) and names no value.
func TestPostgresRefusalOfDataIsUnstorable(t *testing.T) {
	s := openPostgres(t, postgresDB(t))
	d := store.Delivery{Source: "pagerduty", ID: "evt-\x00", EventType: "incident.resolved", ResourceID: "P1",
		ReceivedAt: time.Now(), Body: []byte(`{}`)}
	_, err := s.Ingest(context.Background(), []store.Delivery{d})
	if !errors.Is(err, store.ErrUnstorable) {
		t.Fatalf("Ingest of a NUL id: %v, want ErrUnstorable", err)
	}
	if !strings.Contains(err.Error(), "SQLSTATE 22021") || strings.Contains(err.Error(), "evt-") {
		t.Errorf("message %q: want the SQLSTATE and no value", err)
	}
}
