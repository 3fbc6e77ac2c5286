package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestMigrateCommand(t *testing.T) {
	t.Setenv("COESYNC_DATABASE_URL", filepath.Join(t.TempDir(), "coesync.db"))
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, &out, &errb); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "applied river ") || !strings.Contains(out.String(), "applied coesync 2") {
		t.Fatalf("first migrate printed:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate printed:\n%s", out.String())
	}
}

func TestMigrateStoreUsage(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"migrate-store", "--from", "x.db"}, &out, &errb)
	if ee, ok := err.(*exitError); !ok || ee.code != 2 {
		t.Fatalf("err = %v; want exit 2", err)
	}
	err = run(context.Background(), []string{"migrate-store", "--from", filepath.Join(t.TempDir(), "missing.db"),
		"--to", "postgres://127.0.0.1/none"}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "source") {
		t.Fatalf("missing source: err = %v", err)
	}
}
