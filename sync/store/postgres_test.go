package store_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/coesync/coesync/sync/store"
	"github.com/coesync/coesync/sync/store/storetest"
)

const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// postgresDB creates a fresh, empty database (coesync's tables and
// River's live there) and drops it when the test ends; it skips the test
// when no server answers.
func postgresDB(t *testing.T) string {
	t.Helper()
	base, name := createDatabase(t, "")
	t.Cleanup(func() {
		if err := dropDatabase(base, name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return databaseURL(t, base, name)
}

func databaseURL(t *testing.T, base, name string) string {
	t.Helper()
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
	t.Parallel()
	storetest.Run(t, func(t *testing.T) store.Store { return openPostgres(t, migratedPostgresDB(t)) })
}

func TestPostgresDispatch(t *testing.T) {
	t.Parallel()
	storetest.RunDispatch(t, func(t *testing.T, ws *river.Workers) store.Store {
		s, err := store.OpenPostgres(context.Background(), migratedPostgresDB(t), store.Options{Workers: ws, FetchPollInterval: 20 * time.Millisecond})
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
