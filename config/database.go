package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Database drivers returned by Config.Database.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// schemeRE finds a URL scheme followed by "//".
var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)

// Database returns the store's driver ("sqlite" or "postgres") and the DSN
// to open it with, from COESYNC_DATABASE_URL:
//
//	postgres://... postgresql://...   postgres, the URL as is
//	sqlite:path  sqlite://path        sqlite, path (query string kept)
//	sqlite:///abs/path                sqlite, /abs/path
//	file:path?mode=...                sqlite, the file: URI as is
//	path, :memory:                    sqlite, path
//
// A value Validate rejects gives ("", "").
func (c Config) Database() (driver, dsn string) {
	driver, dsn, err := parseDatabase(string(c.DatabaseURL))
	if err != nil {
		return "", ""
	}
	return driver, dsn
}

// parseDatabase implements Database. Its errors never include the value
// itself, which may carry a password.
func parseDatabase(s string) (driver, dsn string, err error) {
	if s == "" {
		return "", "", fmt.Errorf("empty")
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		// No host is fine: pgx then uses PGHOST or its defaults.
		if _, err := url.Parse(s); err != nil {
			return "", "", fmt.Errorf("invalid PostgreSQL URL")
		}
		return DriverPostgres, s, nil
	case strings.HasPrefix(lower, "sqlite:"):
		path := s[len("sqlite:"):]
		// sqlite://path and sqlite:///abs/path: "//" introduces the path
		// (there is no host), so drop it.
		path = strings.TrimPrefix(path, "//")
		if path == "" || strings.HasPrefix(path, "?") {
			return "", "", fmt.Errorf("sqlite: URL has no path")
		}
		return DriverSQLite, path, nil
	case strings.HasPrefix(lower, "file:"):
		if len(s) == len("file:") {
			return "", "", fmt.Errorf("file: URI has no path")
		}
		return DriverSQLite, s, nil
	}
	if m := schemeRE.FindStringSubmatch(s); m != nil {
		return "", "", fmt.Errorf("unsupported scheme %q; want a file path, sqlite:path, file:path or postgres://", m[1])
	}
	return DriverSQLite, s, nil
}
