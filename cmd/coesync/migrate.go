package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/store"
)

// databaseFromEnv reads COESYNC_DATABASE_URL alone: migrate needs no
// connector settings, so a migration Job can run with the database secret
// only.
func databaseFromEnv() (driver, dsn string, err error) {
	cfg := config.Defaults()
	if v, ok := os.LookupEnv("COESYNC_DATABASE_URL"); ok {
		cfg.DatabaseURL = config.DSN(v)
	}
	driver, dsn = cfg.Database()
	if driver == "" {
		return "", "", &exitError{2, errors.New("COESYNC_DATABASE_URL: want a SQLite file or a postgres:// URL")}
	}
	return driver, dsn, nil
}

// runMigrate applies the migrations of COESYNC_DATABASE_URL and prints the
// versions applied: the step to run before replicas start with
// COESYNC_AUTO_MIGRATE=false.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("migrate: unexpected argument %q", fs.Arg(0))}
	}
	driver, dsn, err := databaseFromEnv()
	if err != nil {
		return err
	}
	var applied []store.Migration
	switch driver {
	case config.DriverSQLite:
		applied, err = store.MigrateSQLite(ctx, dsn)
	case config.DriverPostgres:
		applied, err = store.MigratePostgres(ctx, dsn)
	}
	printMigrations(stdout, applied)
	return err
}

func printMigrations(w io.Writer, applied []store.Migration) {
	if len(applied) == 0 {
		fmt.Fprintln(w, "schema up to date: no migration to apply")
		return
	}
	for _, m := range applied {
		if m.Name != "" {
			fmt.Fprintf(w, "applied %s %d (%s)\n", m.Component, m.Version, m.Name)
		} else {
			fmt.Fprintf(w, "applied %s %d\n", m.Component, m.Version)
		}
	}
}

// runMigrateStore copies a SQLite store into a PostgreSQL database: every
// delivery, COE, action item, sync state, counter and job still to run, in
// one transaction on the target.
func runMigrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate-store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "source SQLite file (stop coesync serve on it first)")
	to := fs.String("to", "", "target postgres:// URL (migrated here; must be empty)")
	force := fs.Bool("force", false, "replace the contents of a non-empty target")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if fs.NArg() > 0 {
		return &exitError{2, fmt.Errorf("migrate-store: unexpected argument %q", fs.Arg(0))}
	}
	if *from == "" || *to == "" {
		return &exitError{2, errors.New("usage: coesync migrate-store --from coesync.db --to postgres://... [--force]")}
	}
	srcDriver, src := config.Config{DatabaseURL: config.DSN(*from)}.Database()
	if srcDriver != config.DriverSQLite {
		return &exitError{2, errors.New("migrate-store: --from must be a SQLite file")}
	}
	dstDriver, dst := config.Config{DatabaseURL: config.DSN(*to)}.Database()
	if dstDriver != config.DriverPostgres {
		return &exitError{2, errors.New("migrate-store: --to must be a postgres:// URL")}
	}
	n, err := migrateStore(ctx, src, dst, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "copied %d deliveries, %d COEs, %d action items, %d sync states, %d counters, %d queued jobs\n",
		n.Deliveries, n.COEs, n.ActionItems, n.State, n.Counters, n.Jobs)
	return nil
}

// copied counts what migrateStore moved.
type copied struct{ Deliveries, COEs, ActionItems, State, Counters, Jobs int }

func migrateStore(ctx context.Context, srcPath, dstURL string, force bool) (copied, error) {
	if !strings.HasPrefix(srcPath, "file:") {
		if _, err := os.Stat(srcPath); err != nil {
			return copied{}, fmt.Errorf("migrate-store: source: %w", err)
		}
	}
	// The lock `coesync serve` holds: refuse a source in use, and keep a
	// serve from starting on it while copying.
	release, err := store.LockSQLite(srcPath)
	if err != nil {
		return copied{}, fmt.Errorf("migrate-store: %w (stop coesync serve first)", err)
	}
	defer release()
	src, err := store.OpenSQLite(ctx, srcPath, store.Options{})
	if err != nil {
		return copied{}, err
	}
	defer src.Close()
	snap, err := src.Dump(ctx)
	if err != nil {
		return copied{}, err
	}
	dst, err := store.OpenPostgres(ctx, dstURL, store.Options{})
	if err != nil {
		return copied{}, err
	}
	defer dst.Close()
	if err := dst.Load(ctx, snap, force); err != nil {
		if errors.Is(err, store.ErrNotEmpty) {
			return copied{}, &exitError{1, err}
		}
		return copied{}, err
	}
	return copied{len(snap.Deliveries), len(snap.COEs), len(snap.ActionItems), len(snap.State), len(snap.Counters), len(snap.Jobs)}, nil
}
