package config_test

import (
	"testing"

	"github.com/coesync/coesync/config"
)

func TestDatabase(t *testing.T) {
	tests := []struct {
		in, driver, dsn string
	}{
		{"coesync.db", "sqlite", "coesync.db"},
		{"/var/lib/coesync/coesync.db", "sqlite", "/var/lib/coesync/coesync.db"},
		{"./data/coe.db", "sqlite", "./data/coe.db"},
		{":memory:", "sqlite", ":memory:"},
		{"sqlite:coesync.db", "sqlite", "coesync.db"},
		{"sqlite:/var/lib/coesync.db", "sqlite", "/var/lib/coesync.db"},
		{"sqlite://coesync.db", "sqlite", "coesync.db"},
		{"sqlite:///var/lib/coesync.db", "sqlite", "/var/lib/coesync.db"},
		{"SQLite:coesync.db?_pragma=busy_timeout(5000)", "sqlite", "coesync.db?_pragma=busy_timeout(5000)"},
		{"sqlite::memory:", "sqlite", ":memory:"},
		{"file:coesync.db?mode=rwc", "sqlite", "file:coesync.db?mode=rwc"},
		{"file:///var/lib/coesync.db", "sqlite", "file:///var/lib/coesync.db"},
		{"postgres://u:pw@db:5432/coesync?sslmode=disable", "postgres", "postgres://u:pw@db:5432/coesync?sslmode=disable"},
		{"postgresql://db/coesync", "postgres", "postgresql://db/coesync"},
		{"POSTGRES://db/coesync", "postgres", "POSTGRES://db/coesync"},
		{"postgres:///coesync?host=/run/postgresql", "postgres", "postgres:///coesync?host=/run/postgresql"},
		// Invalid: Validate reports these; Database gives nothing.
		{"", "", ""},
		{"sqlite:", "", ""},
		{"sqlite://", "", ""},
		{"sqlite:?mode=ro", "", ""},
		{"file:", "", ""},
		{"mysql://u:pw@h/db", "", ""},
		{"postgres://u:pw@[::1/db", "", ""},
	}
	for _, tt := range tests {
		c := config.Config{DatabaseURL: config.DSN(tt.in)}
		driver, dsn := c.Database()
		if driver != tt.driver || dsn != tt.dsn {
			t.Errorf("Database(%q) = %q, %q; want %q, %q", tt.in, driver, dsn, tt.driver, tt.dsn)
		}
	}
}
