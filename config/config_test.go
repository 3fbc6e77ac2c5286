package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/coe"
)

// Router has engine.Router's method set. (engine is not imported so that
// this package's tests do not depend on work in progress there.)
var _ interface{ Route(coe.Incident) coe.Route } = (*config.Router)(nil)

// unset in an env table removes the variable (rather than setting it empty).
const unset = "\x00unset"

// setEnv replaces every COESYNC_ variable with env (and restores them when
// the test ends).
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "COESYNC_") {
			t.Setenv(k, "") // registers the restore
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		if v == unset {
			t.Setenv(k, "")
			os.Unsetenv(k)
			continue
		}
		t.Setenv(k, v)
	}
}

// minimal is the least environment Load accepts.
func minimal() map[string]string {
	return map[string]string{
		"COESYNC_PAGERDUTY_TOKEN":           "pd-token",
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS": "whsec",
		"COESYNC_JIRA_URL":                  "https://acme.atlassian.net",
		"COESYNC_JIRA_TOKEN":                "jira-token",
		"COESYNC_JIRA_PROJECT":              "COE",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestLoadDefaults(t *testing.T) {
	setEnv(t, minimal())
	// Unprefixed names that other tools use must not leak in.
	t.Setenv("GITHUB_TOKEN", "ambient-gh-token")
	t.Setenv("DATABASE_URL", "postgres://ambient/db")
	t.Setenv("LISTEN_ADDR", ":9999")

	got, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Config{
		ListenAddr:              ":8080",
		AdminListenAddr:         "127.0.0.1:9090",
		MaxInflightBytes:        32 << 20,
		DatabaseURL:             "coesync.db",
		AutoMigrate:             true,
		PagerDutyAPIURL:         "https://api.pagerduty.com",
		PagerDutyToken:          "pd-token",
		PagerDutyWebhookSecrets: config.Secrets{"whsec"},
		JiraURL:                 "https://acme.atlassian.net",
		JiraToken:               "jira-token",
		JiraProject:             "COE",
		JiraIssueType:           "Task",
		GitHubAPIURL:            "https://api.github.com/",
		SeedActionItems:         true,
		MaxProposedItems:        20,
		JiraDoneTransitions:     []string{"Done", "Closed", "Resolved"},
		JiraReopenTransitions:   []string{"Reopen", "To Do", "Backlog"},
		JiraSubtaskType:         "Sub-task",
		JiraActionLinkType:      "Relates",
		ReconcileInterval:       5 * time.Minute,
		Workers:                 8,
		HTTPTimeout:             30 * time.Second,
		JiraSearchSettle:        time.Minute,
		JobTimeout:              2 * time.Minute,
		RetryBackoff:            time.Second,
		RetryBackoffMax:         5 * time.Minute,
		LogLevel:                "info",
		LogFormat:               "text",
		ReportTimezone:          "UTC",
		ReportStaleDraftDays:    7,
		ReportSchedule:          "0 9 * * MON",
		ReminderInterval:        168 * time.Hour,
		ChangeWindow:            "24h",
		RecurrenceWindow:        "90d",
		Retention:               "30d",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
	}
	if d, dsn := got.Database(); d != "sqlite" || dsn != "coesync.db" {
		t.Errorf("Database() = %q, %q", d, dsn)
	}
	if got.SlogLevel() != slog.LevelInfo {
		t.Errorf("SlogLevel() = %v", got.SlogLevel())
	}
}

func TestLoadEverything(t *testing.T) {
	setEnv(t, map[string]string{
		"COESYNC_LISTEN_ADDR":               "127.0.0.1:9000",
		"COESYNC_DATABASE_URL":              "postgresql://coesync@db:5432/coesync?sslmode=disable",
		"COESYNC_PAGERDUTY_API_URL":         "https://api.eu.pagerduty.com",
		"COESYNC_PAGERDUTY_TOKEN":           " pd-token\n",
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS": " old , new ,,",
		"COESYNC_PAGERDUTY_FROM":            "coesync@acme.example",
		"COESYNC_INSECURE_SKIP_VERIFY":      "false",
		"COESYNC_AUTO_MIGRATE":              "false",
		"COESYNC_JIRA_URL":                  "https://jira.acme.example/jira",
		"COESYNC_JIRA_USER":                 "bot@acme.example",
		"COESYNC_JIRA_TOKEN":                "jira-token",
		"COESYNC_JIRA_PROJECT":              "OPS",
		"COESYNC_JIRA_ISSUE_TYPE":           "COE",
		"COESYNC_GITHUB_API_URL":            "https://ghe.acme.example/api/v3",
		"COESYNC_GITHUB_TOKEN":              "gh-token",
		"COESYNC_GITHUB_REPO":               "acme/ops",
		"COESYNC_RULES_FILE":                "/etc/coesync/rules.yaml",
		"COESYNC_COE_TEMPLATE":              "/etc/coesync/coe.tmpl",
		"COESYNC_GITHUB_WEBHOOK_SECRET":     "gh-hook",
		"COESYNC_ADMIN_LISTEN_ADDR":         "10.0.0.7:9090",
		"COESYNC_ADMIN_TOKEN":               "admin-token",
		"COESYNC_JIRA_WEBHOOK_SECRET":       "jira-hook",
		"COESYNC_SEED_ACTION_ITEMS":         "false",
		"COESYNC_MAX_PROPOSED_ITEMS":        "5",
		"COESYNC_USER_MAP_FILE":             "/etc/coesync/users.yaml",
		"COESYNC_JIRA_DONE_TRANSITIONS":     " Done , ,Closed",
		"COESYNC_JIRA_REOPEN_TRANSITIONS":   "Reopen",
		"COESYNC_JIRA_WONTDO_TRANSITIONS":   "Won't Do,Declined",
		"COESYNC_JIRA_COE_DONE_TRANSITION":  "Close COE",
		"COESYNC_JIRA_SUBTASK_TYPE":         "Action Item",
		"COESYNC_JIRA_ACTION_LINK_TYPE":     "Blocks",
		"COESYNC_RECONCILE_INTERVAL":        "90s",
		"COESYNC_PUBLIC_URL":                "https://coesync.acme.example",
		"COESYNC_WORKERS":                   "3",
		"COESYNC_HTTP_TIMEOUT":              "10s",
		"COESYNC_LOG_LEVEL":                 "DEBUG",
		"COESYNC_LOG_FORMAT":                "JSON",
	})
	got, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := config.Config{
		ListenAddr:              "127.0.0.1:9000",
		AdminListenAddr:         "10.0.0.7:9090",
		AdminToken:              "admin-token",
		MaxInflightBytes:        32 << 20,
		DatabaseURL:             "postgresql://coesync@db:5432/coesync?sslmode=disable",
		AutoMigrate:             false,
		PagerDutyAPIURL:         "https://api.eu.pagerduty.com",
		PagerDutyToken:          "pd-token",
		PagerDutyWebhookSecrets: config.Secrets{"old", "new"},
		PagerDutyFrom:           "coesync@acme.example",
		JiraURL:                 "https://jira.acme.example/jira",
		JiraUser:                "bot@acme.example",
		JiraToken:               "jira-token",
		JiraProject:             "OPS",
		JiraIssueType:           "COE",
		GitHubAPIURL:            "https://ghe.acme.example/api/v3/",
		GitHubToken:             "gh-token",
		GitHubRepo:              "acme/ops",
		RulesFile:               "/etc/coesync/rules.yaml",
		COETemplate:             "/etc/coesync/coe.tmpl",
		GitHubWebhookSecret:     "gh-hook",
		JiraWebhookSecret:       "jira-hook",
		SeedActionItems:         false,
		MaxProposedItems:        5,
		UserMapFile:             "/etc/coesync/users.yaml",
		JiraDoneTransitions:     []string{"Done", "Closed"},
		JiraReopenTransitions:   []string{"Reopen"},
		JiraWontDoTransitions:   []string{"Won't Do", "Declined"},
		JiraCOEDoneTransition:   "Close COE",
		JiraSubtaskType:         "Action Item",
		JiraActionLinkType:      "Blocks",
		ReconcileInterval:       90 * time.Second,
		PublicURL:               "https://coesync.acme.example",
		Workers:                 3,
		HTTPTimeout:             10 * time.Second,
		JiraSearchSettle:        time.Minute,
		JobTimeout:              2 * time.Minute,
		RetryBackoff:            time.Second,
		RetryBackoffMax:         5 * time.Minute,
		LogLevel:                "DEBUG",
		LogFormat:               "json",
		ReportTimezone:          "UTC",
		ReportStaleDraftDays:    7,
		ReportSchedule:          "0 9 * * MON",
		ReminderInterval:        168 * time.Hour,
		ChangeWindow:            "24h",
		RecurrenceWindow:        "90d",
		Retention:               "30d",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", got, want)
	}
	if got.SlogLevel() != slog.LevelDebug {
		t.Errorf("SlogLevel() = %v", got.SlogLevel())
	}
	if d, dsn := got.Database(); d != "postgres" || dsn != "postgresql://coesync@db:5432/coesync?sslmode=disable" {
		t.Errorf("Database() = %q, %q", d, dsn)
	}
	wantRoute := coe.Route{Project: "OPS", IssueType: "COE", GitHubRepo: "acme/ops"}
	if r := got.DefaultRoute(); !reflect.DeepEqual(r, wantRoute) {
		t.Errorf("DefaultRoute() = %+v, want %+v", r, wantRoute)
	}
	if s := got.PagerDutyWebhookSecrets.Reveal(); !reflect.DeepEqual(s, []string{"old", "new"}) {
		t.Errorf("webhook secrets = %q", s)
	}
}

func TestDefaults(t *testing.T) {
	setEnv(t, minimal())
	loaded, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := config.Defaults()
	want.PagerDutyToken, want.PagerDutyWebhookSecrets = loaded.PagerDutyToken, loaded.PagerDutyWebhookSecrets
	want.JiraURL, want.JiraToken, want.JiraProject = loaded.JiraURL, loaded.JiraToken, loaded.JiraProject
	if !reflect.DeepEqual(loaded, want) {
		t.Errorf("Defaults() disagrees with Load:\n%+v\n%+v", want, loaded)
	}

	// A Config built in code from Defaults validates once the required
	// fields are set.
	c := config.Defaults()
	c.PagerDutyToken, c.PagerDutyWebhookSecrets = "t", config.Secrets{"s"}
	c.JiraURL, c.JiraToken, c.JiraProject = "http://127.0.0.1:1", "t", "OPS"
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  []string // overrides of minimal()
		want string   // the whole error; "" for none
	}{
		// Required.
		{"pd token missing", []string{"COESYNC_PAGERDUTY_TOKEN", unset}, "COESYNC_PAGERDUTY_TOKEN: required"},
		{"pd token empty", []string{"COESYNC_PAGERDUTY_TOKEN", "  "}, "COESYNC_PAGERDUTY_TOKEN: required"},
		{"webhook secrets missing", []string{"COESYNC_PAGERDUTY_WEBHOOK_SECRETS", unset}, "COESYNC_PAGERDUTY_WEBHOOK_SECRETS: required unless COESYNC_INSECURE_SKIP_VERIFY=true"},
		{"webhook secrets only commas", []string{"COESYNC_PAGERDUTY_WEBHOOK_SECRETS", " , ,"}, "COESYNC_PAGERDUTY_WEBHOOK_SECRETS: required unless COESYNC_INSECURE_SKIP_VERIFY=true"},
		{"webhook secrets skipped", []string{"COESYNC_PAGERDUTY_WEBHOOK_SECRETS", unset, "COESYNC_INSECURE_SKIP_VERIFY", "true"}, ""},
		{"jira url missing", []string{"COESYNC_JIRA_URL", unset}, "COESYNC_JIRA_URL: required"},
		{"jira token missing", []string{"COESYNC_JIRA_TOKEN", unset}, "COESYNC_JIRA_TOKEN: required"},
		{"jira project missing", []string{"COESYNC_JIRA_PROJECT", unset}, "COESYNC_JIRA_PROJECT: required unless COESYNC_RULES_FILE is set"},
		{"jira project from rules", []string{"COESYNC_JIRA_PROJECT", unset, "COESYNC_RULES_FILE", "rules.yaml"}, ""},

		// Formats.
		{"listen addr", []string{"COESYNC_LISTEN_ADDR", "8080"}, `COESYNC_LISTEN_ADDR: want host:port such as :8080, got "8080"`},
		{"admin listen addr", []string{"COESYNC_ADMIN_LISTEN_ADDR", "9090"}, `COESYNC_ADMIN_LISTEN_ADDR: want host:port such as 127.0.0.1:9090, got "9090"`},
		{"admin listen addr empty", []string{"COESYNC_ADMIN_LISTEN_ADDR", ""}, `COESYNC_ADMIN_LISTEN_ADDR: empty; unset it for the default "127.0.0.1:9090"`},
		{"admin listen addr same as webhooks", []string{"COESYNC_ADMIN_LISTEN_ADDR", ":8080"}, `COESYNC_ADMIN_LISTEN_ADDR: must differ from COESYNC_LISTEN_ADDR: the admin paths must not be on the webhook listener`},
		{"max inflight bytes small", []string{"COESYNC_MAX_INFLIGHT_BYTES", "1000"}, `COESYNC_MAX_INFLIGHT_BYTES: want at least 1048576 (one 1 MiB body), got 1000`},
		{"listen addr empty", []string{"COESYNC_LISTEN_ADDR", ""}, `COESYNC_LISTEN_ADDR: empty; unset it for the default ":8080"`},
		{"database empty", []string{"COESYNC_DATABASE_URL", ""}, `COESYNC_DATABASE_URL: empty; unset it for the default "coesync.db"`},
		{"database scheme", []string{"COESYNC_DATABASE_URL", "mysql://u:pw@h/db"}, `COESYNC_DATABASE_URL: unsupported scheme "mysql"; want a file path, sqlite:path, file:path or postgres://`},
		{"database sqlite no path", []string{"COESYNC_DATABASE_URL", "sqlite:"}, `COESYNC_DATABASE_URL: sqlite: URL has no path`},
		{"database postgres unparsable", []string{"COESYNC_DATABASE_URL", "postgres://u:pw@[::1/db"}, `COESYNC_DATABASE_URL: invalid PostgreSQL URL`},
		{"database postgres socket", []string{"COESYNC_DATABASE_URL", "postgres:///coesync?host=/run/postgresql"}, ""},
		{"pd api url", []string{"COESYNC_PAGERDUTY_API_URL", "api.pagerduty.com"}, `COESYNC_PAGERDUTY_API_URL: want an http(s) URL, got "api.pagerduty.com"`},
		{"pd api url empty", []string{"COESYNC_PAGERDUTY_API_URL", ""}, `COESYNC_PAGERDUTY_API_URL: empty; unset it for the default "https://api.pagerduty.com"`},
		{"github api url empty", []string{"COESYNC_GITHUB_API_URL", ""}, `COESYNC_GITHUB_API_URL: empty; unset it for the default "https://api.github.com/"`},
		{"jira url empty", []string{"COESYNC_JIRA_URL", ""}, `COESYNC_JIRA_URL: required`},
		{"pd from", []string{"COESYNC_PAGERDUTY_FROM", "coesync"}, `COESYNC_PAGERDUTY_FROM: want an email address, got "coesync"`},
		{"pd from with name", []string{"COESYNC_PAGERDUTY_FROM", "Bot <bot@acme.example>"}, `COESYNC_PAGERDUTY_FROM: want an email address, got "Bot <bot@acme.example>"`},
		{"jira url no scheme", []string{"COESYNC_JIRA_URL", "acme.atlassian.net"}, `COESYNC_JIRA_URL: want an http(s) URL, got "acme.atlassian.net"`},
		{"jira url ftp", []string{"COESYNC_JIRA_URL", "ftp://acme.example"}, `COESYNC_JIRA_URL: want an http(s) URL, got "ftp://acme.example"`},
		{"jira url userinfo not echoed", []string{"COESYNC_JIRA_URL", "ftp://bot:hunter2@acme.example"}, `COESYNC_JIRA_URL: want an http(s) URL, got "ftp://acme.example"`},
		{"jira url user and password not echoed", []string{"COESYNC_JIRA_URL", "ftp://user:password@host/"}, `COESYNC_JIRA_URL: want an http(s) URL, got "ftp://host/"`},
		{"public url query not echoed", []string{"COESYNC_PUBLIC_URL", "ftp://host/?token=hunter2#frag"}, `COESYNC_PUBLIC_URL: want an http(s) URL, got "ftp://host/"`},
		{"jira url unparsable", []string{"COESYNC_JIRA_URL", "https://bot:pw@[::1"}, `COESYNC_JIRA_URL: want an http(s) URL, got an unparsable value`},
		{"jira issue type empty", []string{"COESYNC_JIRA_ISSUE_TYPE", ""}, `COESYNC_JIRA_ISSUE_TYPE: empty; unset it for the default "Task"`},
		{"github api url", []string{"COESYNC_GITHUB_API_URL", "api.github.com"}, `COESYNC_GITHUB_API_URL: want an http(s) URL, got "api.github.com"`},
		{"github repo", []string{"COESYNC_GITHUB_REPO", "foo"}, `COESYNC_GITHUB_REPO: want owner/name, got "foo"`},
		{"github repo three parts", []string{"COESYNC_GITHUB_REPO", "acme/ops/x"}, `COESYNC_GITHUB_REPO: want owner/name, got "acme/ops/x"`},
		{"github repo dotdot", []string{"COESYNC_GITHUB_REPO", "acme/.."}, `COESYNC_GITHUB_REPO: want owner/name, got "acme/.."`},
		{"github repo without token", []string{"COESYNC_GITHUB_REPO", "acme/ops"}, `COESYNC_GITHUB_TOKEN: required when COESYNC_GITHUB_REPO is set`},
		{"github repo ok", []string{"COESYNC_GITHUB_REPO", "acme-corp/ops.api_v2", "COESYNC_GITHUB_TOKEN", "t", "COESYNC_GITHUB_WEBHOOK_SECRET", "s", "COESYNC_JIRA_WEBHOOK_SECRET", "j"}, ""},
		{"report tz", []string{"COESYNC_REPORT_TIMEZONE", "Mars/Olympus"}, `COESYNC_REPORT_TIMEZONE: want an IANA time zone such as Europe/Berlin, got "Mars/Olympus"`},
		{"report issue", []string{"COESYNC_REPORT_GITHUB_ISSUE", "acme/ops"}, `COESYNC_REPORT_GITHUB_ISSUE: want owner/repo#N, got "acme/ops"`},
		{"report slack url not echoed", []string{"COESYNC_REPORT_SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/SECRETSECRET"}, `COESYNC_REPORT_SLACK_WEBHOOK_URL: want an https URL`},
		{"github without webhook secret", []string{"COESYNC_GITHUB_REPO", "acme-corp/ops", "COESYNC_GITHUB_TOKEN", "t", "COESYNC_JIRA_WEBHOOK_SECRET", "j"}, "COESYNC_GITHUB_WEBHOOK_SECRET: required when COESYNC_GITHUB_TOKEN is set, unless COESYNC_INSECURE_SKIP_VERIFY=true"},
		{"jira webhook secret empty", []string{"COESYNC_GITHUB_REPO", "acme-corp/ops", "COESYNC_GITHUB_TOKEN", "t", "COESYNC_GITHUB_WEBHOOK_SECRET", "s", "COESYNC_JIRA_WEBHOOK_SECRET", " "}, "COESYNC_JIRA_WEBHOOK_SECRET: required when COESYNC_GITHUB_TOKEN is set (action items are synced from Jira webhooks), unless COESYNC_INSECURE_SKIP_VERIFY=true"},
		{"jira webhook secret skipped", []string{"COESYNC_GITHUB_REPO", "acme-corp/ops", "COESYNC_GITHUB_TOKEN", "t", "COESYNC_INSECURE_SKIP_VERIFY", "true"}, ""},
		{"subtask type empty", []string{"COESYNC_JIRA_SUBTASK_TYPE", ""}, `COESYNC_JIRA_SUBTASK_TYPE: empty; unset it for the default "Sub-task"`},
		{"link type empty", []string{"COESYNC_JIRA_ACTION_LINK_TYPE", ""}, `COESYNC_JIRA_ACTION_LINK_TYPE: empty; unset it for the default "Relates"`},
		{"reconcile zero", []string{"COESYNC_RECONCILE_INTERVAL", "0s"}, `COESYNC_RECONCILE_INTERVAL: want a positive duration, got 0s`},
		{"public url", []string{"COESYNC_PUBLIC_URL", "coesync.acme.example"}, `COESYNC_PUBLIC_URL: want an http(s) URL, got "coesync.acme.example"`},
		{"workers zero", []string{"COESYNC_WORKERS", "0"}, `COESYNC_WORKERS: want at least 1, got 0`},
		{"proposed items zero", []string{"COESYNC_MAX_PROPOSED_ITEMS", "0"}, `COESYNC_MAX_PROPOSED_ITEMS: want at least 1, got 0 (COESYNC_SEED_ACTION_ITEMS=false creates none)`},
		{"http timeout negative", []string{"COESYNC_HTTP_TIMEOUT", "-1s"}, `COESYNC_HTTP_TIMEOUT: want a positive duration, got -1s`},
		{"log level", []string{"COESYNC_LOG_LEVEL", "verbose"}, `COESYNC_LOG_LEVEL: want debug, info, warn or error, got "verbose"`},
		{"log level offset", []string{"COESYNC_LOG_LEVEL", "warn+2"}, ""},
		{"log format", []string{"COESYNC_LOG_FORMAT", "xml"}, `COESYNC_LOG_FORMAT: want text or json, got "xml"`},

		// envconfig parse errors, reworded.
		{"bool", []string{"COESYNC_INSECURE_SKIP_VERIFY", "yes"}, `COESYNC_INSECURE_SKIP_VERIFY: want true or false, got "yes"`},
		{"bool seed", []string{"COESYNC_SEED_ACTION_ITEMS", "nope"}, `COESYNC_SEED_ACTION_ITEMS: want true or false, got "nope"`},
		{"duration", []string{"COESYNC_HTTP_TIMEOUT", "30"}, `COESYNC_HTTP_TIMEOUT: want a duration such as 30s or 5m, got "30"`},
		{"duration empty", []string{"COESYNC_RECONCILE_INTERVAL", ""}, `COESYNC_RECONCILE_INTERVAL: want a duration such as 30s or 5m, got ""`},
		{"int", []string{"COESYNC_WORKERS", "eight"}, `COESYNC_WORKERS: want an integer, got "eight"`},
		{"long value cut", []string{"COESYNC_WORKERS", strings.Repeat("9", 100)}, `COESYNC_WORKERS: want an integer, got "` + strings.Repeat("9", 80) + `..."`},
		{"value with newline stays one line", []string{"COESYNC_WORKERS", "1\n2"}, `COESYNC_WORKERS: want an integer, got "1\n2"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setEnv(t, with(minimal(), tt.env...))
			cfg, err := config.Load()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Load error\n got %q\nwant %q", err.Error(), tt.want)
			}
			if strings.Contains(err.Error(), "\n") != strings.Contains(tt.want, "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if !reflect.DeepEqual(cfg, config.Config{}) {
				t.Errorf("Load returned a non-zero Config with an error")
			}
		})
	}
}

// All problems are reported, one per line, in the order of Config's fields.
func TestLoadReportsEveryProblemInOrder(t *testing.T) {
	setEnv(t, map[string]string{
		"COESYNC_LOG_FORMAT":  "xml",
		"COESYNC_GITHUB_REPO": "foo",
	})
	_, err := config.Load()
	want := strings.Join([]string{
		"COESYNC_PAGERDUTY_TOKEN: required",
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS: required unless COESYNC_INSECURE_SKIP_VERIFY=true",
		"COESYNC_JIRA_URL: required",
		"COESYNC_JIRA_TOKEN: required",
		"COESYNC_JIRA_PROJECT: required unless COESYNC_RULES_FILE is set",
		`COESYNC_GITHUB_REPO: want owner/name, got "foo"`,
		`COESYNC_LOG_FORMAT: want text or json, got "xml"`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Fatalf("Load error =\n%v\nwant\n%s", err, want)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 7 {
		t.Errorf("want 7 joined errors, got %#v", err)
	}
}

// The distinctive secret values of secretEnv must never be printed.
var secretValues = []string{
	"pd-SEKRIT-1", "wh-SEKRIT-2", "wh-SEKRIT-3", "jira-SEKRIT-4", "gh-SEKRIT-5",
	"ghhook-SEKRIT-6", "jirahook-SEKRIT-7", "db-SEKRIT-8", "db-SEKRIT-9", "admin-SEKRIT-10",
}

func secretEnv() map[string]string {
	return map[string]string{
		"COESYNC_PAGERDUTY_TOKEN":           "pd-SEKRIT-1",
		"COESYNC_ADMIN_TOKEN":               "admin-SEKRIT-10",
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS": "wh-SEKRIT-2, wh-SEKRIT-3",
		"COESYNC_JIRA_URL":                  "https://acme.atlassian.net",
		"COESYNC_JIRA_TOKEN":                "jira-SEKRIT-4",
		"COESYNC_JIRA_PROJECT":              "COE",
		"COESYNC_GITHUB_TOKEN":              "gh-SEKRIT-5",
		"COESYNC_GITHUB_WEBHOOK_SECRET":     "ghhook-SEKRIT-6",
		"COESYNC_JIRA_WEBHOOK_SECRET":       "jirahook-SEKRIT-7",
		"COESYNC_DATABASE_URL":              "postgres://coesync:db-SEKRIT-8@db/coesync?password=db-SEKRIT-9&sslmode=require",
	}
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secretValues {
		if strings.Contains(text, s) {
			t.Errorf("%s leaks %q:\n%s", what, s, text)
		}
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	invalid := [][]string{
		{"COESYNC_JIRA_URL", "jira"},
		{"COESYNC_GITHUB_REPO", "nope", "COESYNC_LOG_FORMAT", "xml", "COESYNC_WORKERS", "0"},
		{"COESYNC_INSECURE_SKIP_VERIFY", "maybe"},
		{"COESYNC_HTTP_TIMEOUT", "soon"},
		{"COESYNC_DATABASE_URL", "mysql://coesync:db-SEKRIT-8@db/x?password=db-SEKRIT-9"},
		{"COESYNC_DATABASE_URL", "postgres://coesync:db-SEKRIT-8@[::1/x"},
		{"COESYNC_JIRA_URL", "ftp://u:jira-SEKRIT-4@acme.example"},
	}
	for _, env := range invalid {
		setEnv(t, with(secretEnv(), env...))
		_, err := config.Load()
		if err == nil {
			t.Fatalf("Load with %q succeeded", env)
		}
		assertNoSecret(t, fmt.Sprintf("error for %q", env), err.Error())
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	setEnv(t, secretEnv())
	cfg, err := config.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	assertNoSecret(t, "fmt", fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg))
	assertNoSecret(t, "fmt pointer", fmt.Sprintf("%v %+v %#v", &cfg, &cfg, &cfg))
	for _, verb := range []string{"%s", "%q", "%x", "%X", "%d"} { // not constants: vet rejects them for a struct
		assertNoSecret(t, "fmt "+verb, fmt.Sprintf(verb, cfg))
	}
	assertNoSecret(t, "fmt", fmt.Sprint(cfg)+fmt.Sprintln(cfg))
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "JSON", string(j))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", cfg, "token", cfg.PagerDutyToken, "db", cfg.DatabaseURL)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg, "token", cfg.PagerDutyToken, "db", cfg.DatabaseURL)
	assertNoSecret(t, "slog", buf.String())
	if !strings.Contains(buf.String(), "[redacted]") || !strings.Contains(buf.String(), "postgres://coesync:xxxxx@db/coesync") {
		t.Errorf("slog output lacks the redacted forms:\n%s", buf.String())
	}

	// The values are all there for the code that needs them.
	if cfg.PagerDutyToken.Reveal() != "pd-SEKRIT-1" || cfg.JiraToken.Reveal() != "jira-SEKRIT-4" ||
		cfg.GitHubToken.Reveal() != "gh-SEKRIT-5" || cfg.GitHubWebhookSecret.Reveal() != "ghhook-SEKRIT-6" ||
		cfg.JiraWebhookSecret.Reveal() != "jirahook-SEKRIT-7" {
		t.Errorf("Reveal lost a value")
	}
	if d, dsn := cfg.Database(); d != "postgres" || dsn != secretEnv()["COESYNC_DATABASE_URL"] {
		t.Errorf("Database() = %q, %q", d, dsn)
	}
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func validConfig() config.Config {
	return config.Config{JiraProject: "COE", JiraIssueType: "Task", GitHubToken: "t"}
}

func TestLoadRouter(t *testing.T) {
	inc := coe.Incident{ServiceName: "Payments", Priority: "P2"}

	// No rules file: the default route.
	r, err := validConfig().LoadRouter()
	if err != nil {
		t.Fatal(err)
	}
	want := coe.Route{Project: "COE", IssueType: "Task", Priority: "High"}
	if got := r.Route(inc); !reflect.DeepEqual(got, want) {
		t.Errorf("Route = %+v, want %+v", got, want)
	}

	path := writeFile(t, "rules.yaml", "rules:\n  - match: {service: payments}\n    jira: {project: PAY}\n")
	cfg := validConfig()
	cfg.RulesFile = path
	r, err = cfg.LoadRouter()
	if err != nil {
		t.Fatal(err)
	}
	want = coe.Route{Rule: "rule 1", Project: "PAY", IssueType: "Task", Priority: "High"}
	if got := r.Route(inc); !reflect.DeepEqual(got, want) {
		t.Errorf("Route = %+v, want %+v", got, want)
	}

	tests := []struct {
		name  string
		rules string // "" for a missing file
		cfg   func(*config.Config)
		want  string // with PATH for the file's path
	}{
		{"missing file", "", nil, "COESYNC_RULES_FILE: open PATH: no such file or directory"},
		{"parse errors prefixed", "rules:\n  - skip: maybe\n  - bogus: 1\n", nil,
			"COESYNC_RULES_FILE: PATH:2: skip: want true or false, got \"maybe\"\n" +
				"COESYNC_RULES_FILE: PATH:3: unknown key \"bogus\""},
		{"no project, no catch-all", "rules:\n  - match: {urgency: high}\n    jira: {project: OPS}\n",
			func(c *config.Config) { c.JiraProject = "" },
			"COESYNC_JIRA_PROJECT: required unless the rules route every incident to a project: PATH has no final catch-all rule (one without match)"},
		{"no project, rule without project", "rules:\n  - match: {urgency: high}\n    skip: true\n  - name: rest\n    jira: {labels: [x]}\n",
			func(c *config.Config) { c.JiraProject = "" },
			"COESYNC_JIRA_PROJECT: required unless the rules route every incident to a project: PATH:4: rule \"rest\" sets no jira.project"},
		{"no project, covered", "rules:\n  - match: {urgency: high}\n    skip: true\n  - jira: {project: OPS}\n",
			func(c *config.Config) { c.JiraProject = "" }, ""},
		{"repo without token", "rules:\n  - match: {urgency: high}\n    github:\n      repo: acme/x\n",
			func(c *config.Config) { c.GitHubToken = "" },
			"COESYNC_GITHUB_TOKEN: required: PATH:4 sets github.repo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if tt.rules != "" {
				path = writeFile(t, "rules.yaml", tt.rules)
			}
			cfg := validConfig()
			cfg.RulesFile = path
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			_, err := cfg.LoadRouter()
			want := strings.ReplaceAll(tt.want, "PATH", path)
			if want == "" {
				if err != nil {
					t.Fatalf("LoadRouter: %v", err)
				}
				return
			}
			if err == nil || err.Error() != want {
				t.Errorf("LoadRouter error\n got %v\nwant %s", err, want)
			}
		})
	}
}
