// Package config reads coesync's configuration: the COESYNC_* environment
// variables (Config, Load) and the optional routing rules file (Rules,
// Router).
//
// Errors are one line each and name what is wrong where: the variable
// ("COESYNC_JIRA_URL: required") or the file and line
// ("rules.yaml:12: unknown key \"servce\""). When several things are wrong
// they are all reported, joined one per line (errors.Join), in a fixed
// order. No error ever contains a secret's value, and Config prints its
// secrets as "[redacted]" in every format, so it can be logged whole.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kelseyhightower/envconfig"
	"github.com/robfig/cron/v3"

	"github.com/coesync/coesync/sync/coe"
)

// Config is coesync's configuration, read from COESYNC_* environment
// variables. The variable names are a public contract; each field's tag
// names its variable and default. Names are given in full (not as a
// prefix plus suffix) so that envconfig never falls back to an unprefixed
// variable such as GITHUB_TOKEN or DATABASE_URL.
//
// A variable that is set to the empty string is empty, not unset: it does
// not get the default. Validate says so for the variables that must not be
// empty.
type Config struct {
	// ListenAddr is the webhook listener's host:port: the one PagerDuty,
	// GitHub and Jira reach from the internet. It serves /webhooks/* and
	// /healthz only.
	ListenAddr string `envconfig:"COESYNC_LISTEN_ADDR" default:":8080"`
	// AdminListenAddr is the admin listener's host:port: the status page,
	// /report, /metrics and /readyz, which show incident data and must not
	// face the internet. The manifests bind it on the pod IP for probes
	// and scraping.
	AdminListenAddr string `envconfig:"COESYNC_ADMIN_LISTEN_ADDR" default:"127.0.0.1:9090"`
	// AdminToken, when set, is a bearer token every admin request must
	// carry, for teams that must expose the admin port.
	AdminToken Secret `envconfig:"COESYNC_ADMIN_TOKEN"`
	// MaxInflightBytes bounds the webhook body bytes held at once; a
	// delivery beyond it gets 503 with Retry-After before its body is
	// read (at least 1 MiB, the largest body).
	MaxInflightBytes int `envconfig:"COESYNC_MAX_INFLIGHT_BYTES" default:"33554432"`
	// DatabaseURL is a SQLite file path (or sqlite:, file: URL) or a
	// postgres:// URL; see Database. It prints with its password redacted.
	DatabaseURL DSN `envconfig:"COESYNC_DATABASE_URL" default:"coesync.db"`
	// AutoMigrate migrates the database when a command opens it. With
	// false, opening checks that the schema is at the latest version and
	// fails otherwise: the operator runs `coesync migrate` (a Kubernetes
	// Job, say) before rolling out replicas.
	AutoMigrate bool `envconfig:"COESYNC_AUTO_MIGRATE" default:"true"`

	// PagerDutyAPIURL is PagerDuty's REST API base URL.
	PagerDutyAPIURL string `envconfig:"COESYNC_PAGERDUTY_API_URL" default:"https://api.pagerduty.com"`
	// PagerDutyToken is a PagerDuty REST API key (required).
	PagerDutyToken Secret `envconfig:"COESYNC_PAGERDUTY_TOKEN"`
	// PagerDutyWebhookSecrets are the V3 webhook signing secrets
	// (comma-separated); a signature valid for any of them is accepted.
	// Required unless InsecureSkipVerify.
	PagerDutyWebhookSecrets Secrets `envconfig:"COESYNC_PAGERDUTY_WEBHOOK_SECRETS"`
	// PagerDutyFrom is the email address sent as the From header, which
	// PagerDuty requires for writes (notes) with an account-level key.
	PagerDutyFrom string `envconfig:"COESYNC_PAGERDUTY_FROM"`
	// InsecureSkipVerify accepts PagerDuty webhooks without checking their
	// signature. For local testing only.
	InsecureSkipVerify bool `envconfig:"COESYNC_INSECURE_SKIP_VERIFY" default:"false"`

	// JiraURL is the Jira site's base URL (required).
	JiraURL string `envconfig:"COESYNC_JIRA_URL"`
	// JiraUser is the account for basic auth with an API token (Jira
	// Cloud). Empty means JiraToken is a personal access token sent as a
	// bearer token (Jira Data Center).
	JiraUser string `envconfig:"COESYNC_JIRA_USER"`
	// JiraToken is the Jira API token or personal access token (required).
	JiraToken Secret `envconfig:"COESYNC_JIRA_TOKEN"`
	// JiraProject is the default route's project key. Required unless
	// RulesFile is set; LoadRouter then checks that the rules route every
	// incident to a project.
	JiraProject string `envconfig:"COESYNC_JIRA_PROJECT"`
	// JiraIssueType is the default route's issue type.
	JiraIssueType string `envconfig:"COESYNC_JIRA_ISSUE_TYPE" default:"Task"`

	// GitHubAPIURL is GitHub's REST API base URL, always with a trailing
	// slash (https://ghe.example.com/api/v3/ for GitHub Enterprise Server).
	GitHubAPIURL string `envconfig:"COESYNC_GITHUB_API_URL" default:"https://api.github.com/"`
	// GitHubToken is a GitHub token; required when a repository is
	// configured (GitHubRepo or a rule's github.repo).
	GitHubToken Secret `envconfig:"COESYNC_GITHUB_TOKEN"`
	// GitHubRepo is the default route's "owner/name" for action items;
	// empty means no GitHub issues unless a rule names a repository.
	GitHubRepo string `envconfig:"COESYNC_GITHUB_REPO"`

	// RulesFile is the routing rules file (YAML); see ParseRules.
	RulesFile string `envconfig:"COESYNC_RULES_FILE"`
	// COETemplate is a file overriding the built-in COE description template.
	COETemplate string `envconfig:"COESYNC_COE_TEMPLATE"`

	// GitHubWebhookSecret verifies GitHub webhook signatures.
	GitHubWebhookSecret Secret `envconfig:"COESYNC_GITHUB_WEBHOOK_SECRET"`
	// JiraWebhookSecret verifies Jira webhook calls.
	JiraWebhookSecret Secret `envconfig:"COESYNC_JIRA_WEBHOOK_SECRET"`
	// SeedActionItems creates the COE's initial action items.
	SeedActionItems bool `envconfig:"COESYNC_SEED_ACTION_ITEMS" default:"true"`
	// MaxProposedItems caps the action items created for one COE from its
	// incident's notes: the rest stay listed in the COE as proposals, so
	// that notes full of "Action:" lines cannot multiply sub-tasks and
	// GitHub issues.
	MaxProposedItems int `envconfig:"COESYNC_MAX_PROPOSED_ITEMS" default:"20"`
	// UserMapFile maps people between PagerDuty, Jira and GitHub.
	UserMapFile string `envconfig:"COESYNC_USER_MAP_FILE"`
	// JiraDoneTransitions are transition names tried, in order, to close
	// an action item's sub-task.
	JiraDoneTransitions []string `envconfig:"COESYNC_JIRA_DONE_TRANSITIONS" default:"Done,Closed,Resolved"`
	// JiraReopenTransitions are tried to reopen one.
	JiraReopenTransitions []string `envconfig:"COESYNC_JIRA_REOPEN_TRANSITIONS" default:"Reopen,To Do,Backlog"`
	// JiraWontDoTransitions are tried for an item closed as not planned;
	// empty means the done transitions.
	JiraWontDoTransitions []string `envconfig:"COESYNC_JIRA_WONTDO_TRANSITIONS"`
	// JiraCOEDoneTransition, when set, is applied to the COE ticket once
	// all its action items are done.
	JiraCOEDoneTransition string `envconfig:"COESYNC_JIRA_COE_DONE_TRANSITION"`
	// JiraSubtaskType is the issue type of action item sub-tasks.
	JiraSubtaskType string `envconfig:"COESYNC_JIRA_SUBTASK_TYPE" default:"Sub-task"`
	// JiraActionLinkType is the issue link type between a COE and its items.
	JiraActionLinkType string `envconfig:"COESYNC_JIRA_ACTION_LINK_TYPE" default:"Relates"`
	// ReconcileInterval is how often the periodic reconciliation runs.
	ReconcileInterval time.Duration `envconfig:"COESYNC_RECONCILE_INTERVAL" default:"5m"`
	// PublicURL is coesync's externally reachable base URL, for links.
	PublicURL string `envconfig:"COESYNC_PUBLIC_URL"`
	// Workers is the number of concurrent job workers.
	Workers int `envconfig:"COESYNC_WORKERS" default:"8"`
	// HTTPTimeout bounds each call to PagerDuty, Jira and GitHub.
	HTTPTimeout time.Duration `envconfig:"COESYNC_HTTP_TIMEOUT" default:"30s"`
	// JiraSearchSettle is how long Jira's search may lag behind a create:
	// a retry that cannot tell whether an earlier create landed waits this
	// long after it before trusting an empty search (Jira Cloud's search
	// is eventually consistent; Data Center's is near immediate). It is
	// the ceiling: once coesync has observed the lag, the window is twice
	// the observed lag, at least 5s (engine.SearchSettleFloor).
	JiraSearchSettle time.Duration `envconfig:"COESYNC_JIRA_SEARCH_SETTLE" default:"60s"`
	// JobTimeout bounds one job run. On PostgreSQL it also sets how soon
	// the jobs of a replica that died are handed to another (timeout plus
	// 30s at least, so a slow job is never run twice at once).
	JobTimeout time.Duration `envconfig:"COESYNC_JOB_TIMEOUT" default:"2m"`
	// RetryBackoff and RetryBackoffMax shape the retry schedule of failed
	// calls: exponential from RetryBackoff, capped at RetryBackoffMax,
	// with ±20% jitter. Rate-limited calls wait for Retry-After instead.
	RetryBackoff    time.Duration `envconfig:"COESYNC_RETRY_BACKOFF" default:"1s"`
	RetryBackoffMax time.Duration `envconfig:"COESYNC_RETRY_BACKOFF_MAX" default:"5m"`
	// LogLevel is a slog level: debug, info, warn, error (or e.g. info+2).
	LogLevel string `envconfig:"COESYNC_LOG_LEVEL" default:"info"`
	// LogFormat is "text" or "json".
	LogFormat string `envconfig:"COESYNC_LOG_FORMAT" default:"text"`

	// ReportTimezone is the time zone of report periods (IANA name).
	ReportTimezone string `envconfig:"COESYNC_REPORT_TIMEZONE" default:"UTC"`
	// ReportStaleDraftDays: a COE draft older than this is called out.
	ReportStaleDraftDays int `envconfig:"COESYNC_REPORT_STALE_DRAFT_DAYS" default:"7"`
	// ReportSchedule is when the weekly report is delivered (cron, in
	// ReportTimezone).
	ReportSchedule string `envconfig:"COESYNC_REPORT_SCHEDULE" default:"0 9 * * MON"`
	// ReportSlackWebhookURL is a Slack incoming webhook; the URL is the
	// credential, so it is a secret.
	ReportSlackWebhookURL Secret `envconfig:"COESYNC_REPORT_SLACK_WEBHOOK_URL"`
	// ReportGitHubIssue is "owner/repo#N": the report is commented there.
	ReportGitHubIssue string `envconfig:"COESYNC_REPORT_GITHUB_ISSUE"`
	// ReportDir receives the Markdown report as a file per period.
	ReportDir string `envconfig:"COESYNC_REPORT_DIR"`

	// ActionSLA gives action items without a due date one: created + the
	// SLA of the incident's priority ("P1=14d,P2=30d,default=45d"); see
	// ParseSLA. Empty turns it off.
	ActionSLA string `envconfig:"COESYNC_ACTION_SLA"`
	// TrustedLinkDomains are the domains whose links from vendor content
	// (an alert's monitoring link, the conference bridge, an address in a
	// note or status update) stay clickable
	// in a COE, subdomains included ("grafana.acme.com,acme.zoom.us");
	// every other such link is shown as inert text.
	TrustedLinkDomains []string `envconfig:"COESYNC_TRUSTED_LINK_DOMAINS"`
	// ReminderInterval is the least time between two reminders about the
	// same action item.
	ReminderInterval time.Duration `envconfig:"COESYNC_REMINDER_INTERVAL" default:"168h"`

	// ChangeWindow is how far before an incident's trigger the COE lists
	// the deployments and merged pull requests of the service's
	// repositories (the rules file's services.repos): days ("1d"), weeks
	// or a Go duration; see ChangeWindowDuration.
	ChangeWindow string `envconfig:"COESYNC_CHANGE_WINDOW" default:"24h"`
	// RecurrenceWindow: an earlier COE of the same service or incident key
	// created within it makes the new one a recurrence (flagged, labelled
	// coe-recurrence, counted in the weekly report).
	RecurrenceWindow string `envconfig:"COESYNC_RECURRENCE_WINDOW" default:"90d"`
	// Retention is how long webhook bodies and failed jobs are kept
	// (at least 1d); deduplication keys are kept at least 7 days whatever
	// it is. See RetentionDuration.
	Retention string `envconfig:"COESYNC_RETENTION" default:"30d"`
}

// Defaults returns the configuration with every default of the table in
// Config's tags and nothing else: the base for a Config built in code
// (tests, the demo), which must still pass Validate.
func Defaults() Config {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		def, ok := v.Type().Field(i).Tag.Lookup("default")
		if !ok {
			continue
		}
		f := v.Field(i)
		switch {
		case f.Type() == reflect.TypeFor[time.Duration]():
			d, err := time.ParseDuration(def)
			if err != nil {
				panic("config: bad default " + def)
			}
			f.SetInt(int64(d))
		case f.Kind() == reflect.String:
			f.SetString(def)
		case f.Kind() == reflect.Bool:
			f.SetBool(def == "true")
		case f.Kind() == reflect.Int:
			n, err := strconv.Atoi(def)
			if err != nil {
				panic("config: bad default " + def)
			}
			f.SetInt(int64(n))
		case f.Type() == reflect.TypeFor[[]string]():
			f.Set(reflect.ValueOf(cleanList(strings.Split(def, ","))))
		default:
			panic("config: no default for " + f.Type().String())
		}
	}
	return c
}

// Load reads the configuration from the environment and validates it.
// A variable that cannot be parsed stops loading with one error; otherwise
// every problem Validate finds is reported. On error the Config is zero.
func Load() (Config, error) {
	var c Config
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, envError(err)
	}
	c.normalize()
	if p := c.problems(); len(p) > 0 {
		return Config{}, withNearMisses(p, os.Environ()).err()
	}
	return c, nil
}

// envError rewords an envconfig error as one line naming the variable.
// Secret values are never echoed (and never fail to parse anyway).
func envError(err error) error {
	var pe *envconfig.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.TypeName {
	case "config.Secret", "config.Secrets", "config.DSN":
		return fmt.Errorf("%s: invalid value", pe.KeyName)
	case "bool":
		return fmt.Errorf("%s: want true or false, got %s", pe.KeyName, quote(pe.Value))
	case "time.Duration":
		return fmt.Errorf("%s: want a duration such as 30s or 5m, got %s", pe.KeyName, quote(pe.Value))
	case "int":
		return fmt.Errorf("%s: want an integer, got %s", pe.KeyName, quote(pe.Value))
	}
	return fmt.Errorf("%s: invalid value %s", pe.KeyName, quote(pe.Value))
}

// quote quotes a (non-secret) value for an error, cut to a sane length.
func quote(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

// normalize tidies values Load read: list items are trimmed (empty ones
// dropped), the GitHub API URL gets its trailing slash, the log format is
// lower-cased.
func (c *Config) normalize() {
	c.JiraDoneTransitions = cleanList(c.JiraDoneTransitions)
	c.JiraReopenTransitions = cleanList(c.JiraReopenTransitions)
	c.JiraWontDoTransitions = cleanList(c.JiraWontDoTransitions)
	c.TrustedLinkDomains = cleanList(c.TrustedLinkDomains)
	if strings.Contains(c.GitHubAPIURL, "://") && !strings.HasSuffix(c.GitHubAPIURL, "/") {
		c.GitHubAPIURL += "/"
	}
	c.LogFormat = strings.ToLower(c.LogFormat)
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// problems collects one-line errors.
type problems []error

func (p *problems) addf(key, format string, args ...any) {
	*p = append(*p, errors.New(key+": "+fmt.Sprintf(format, args...)))
}

func (p problems) err() error { return errors.Join(p...) }

// repoRE is GitHub's owner/name: an owner of letters, digits and inner
// hyphens, a name of letters, digits, '.', '-' and '_'.
var repoRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)

// validRepo reports whether s is a GitHub "owner/name".
func validRepo(s string) bool {
	if !repoRE.MatchString(s) {
		return false
	}
	name := s[strings.IndexByte(s, '/')+1:]
	return name != "." && name != ".."
}

// Validate checks the configuration. It reports every problem, one line
// each ("COESYNC_JIRA_URL: required"), joined with errors.Join in the order
// of Config's fields. It reads no files: LoadRouter checks the rules file.
func (c Config) Validate() error { return c.problems().err() }

// problems lists every problem of the configuration, each naming its
// variable.
func (c Config) problems() problems {
	var p problems

	if c.ListenAddr == "" {
		p.addf("COESYNC_LISTEN_ADDR", `empty; unset it for the default ":8080"`)
	} else if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		p.addf("COESYNC_LISTEN_ADDR", "want host:port such as :8080, got %s", quote(c.ListenAddr))
	}
	if c.AdminListenAddr == "" {
		p.addf("COESYNC_ADMIN_LISTEN_ADDR", `empty; unset it for the default "127.0.0.1:9090"`)
	} else if _, _, err := net.SplitHostPort(c.AdminListenAddr); err != nil {
		p.addf("COESYNC_ADMIN_LISTEN_ADDR", "want host:port such as 127.0.0.1:9090, got %s", quote(c.AdminListenAddr))
	} else if c.AdminListenAddr == c.ListenAddr && !strings.HasSuffix(c.ListenAddr, ":0") {
		p.addf("COESYNC_ADMIN_LISTEN_ADDR", "must differ from COESYNC_LISTEN_ADDR: the admin paths must not be on the webhook listener")
	}
	if c.MaxInflightBytes < 1<<20 {
		p.addf("COESYNC_MAX_INFLIGHT_BYTES", "want at least 1048576 (one 1 MiB body), got %d", c.MaxInflightBytes)
	}
	if c.DatabaseURL == "" {
		p.addf("COESYNC_DATABASE_URL", `empty; unset it for the default "coesync.db"`)
	} else if _, _, err := parseDatabase(string(c.DatabaseURL)); err != nil {
		p.addf("COESYNC_DATABASE_URL", "%v", err)
	}

	checkURL(&p, "COESYNC_PAGERDUTY_API_URL", c.PagerDutyAPIURL, "https://api.pagerduty.com")
	if c.PagerDutyToken == "" {
		p.addf("COESYNC_PAGERDUTY_TOKEN", "required")
	}
	if len(c.PagerDutyWebhookSecrets) == 0 && !c.InsecureSkipVerify {
		p.addf("COESYNC_PAGERDUTY_WEBHOOK_SECRETS", "required unless COESYNC_INSECURE_SKIP_VERIFY=true")
	}
	if c.PagerDutyFrom != "" {
		a, err := mail.ParseAddress(c.PagerDutyFrom)
		if err != nil || a.Name != "" || a.Address != c.PagerDutyFrom {
			p.addf("COESYNC_PAGERDUTY_FROM", "want an email address, got %s", quote(c.PagerDutyFrom))
		}
	}

	if c.JiraURL == "" {
		p.addf("COESYNC_JIRA_URL", "required")
	} else {
		checkURL(&p, "COESYNC_JIRA_URL", c.JiraURL, "")
	}
	if c.JiraToken == "" {
		p.addf("COESYNC_JIRA_TOKEN", "required")
	}
	if c.JiraProject == "" && c.RulesFile == "" {
		p.addf("COESYNC_JIRA_PROJECT", "required unless COESYNC_RULES_FILE is set")
	}
	if c.JiraIssueType == "" {
		p.addf("COESYNC_JIRA_ISSUE_TYPE", `empty; unset it for the default "Task"`)
	}

	checkURL(&p, "COESYNC_GITHUB_API_URL", c.GitHubAPIURL, "https://api.github.com/")
	if c.GitHubRepo != "" {
		if !validRepo(c.GitHubRepo) {
			p.addf("COESYNC_GITHUB_REPO", "want owner/name, got %s", quote(c.GitHubRepo))
		} else if c.GitHubToken == "" {
			p.addf("COESYNC_GITHUB_TOKEN", "required when COESYNC_GITHUB_REPO is set")
		}
	}
	if c.GitHubToken != "" && c.GitHubWebhookSecret == "" && !c.InsecureSkipVerify {
		// GitHub's own libraries skip verification on an empty secret;
		// coesync refuses to start instead.
		p.addf("COESYNC_GITHUB_WEBHOOK_SECRET", "required when COESYNC_GITHUB_TOKEN is set, unless COESYNC_INSECURE_SKIP_VERIFY=true")
	}
	if c.GitHubToken != "" && c.JiraWebhookSecret == "" && !c.InsecureSkipVerify {
		// With a GitHub token coesync serves /webhooks/jira; without its
		// secret every Jira delivery would get 401 and nobody would know.
		p.addf("COESYNC_JIRA_WEBHOOK_SECRET", "required when COESYNC_GITHUB_TOKEN is set (action items are synced from Jira webhooks), unless COESYNC_INSECURE_SKIP_VERIFY=true")
	}

	if c.JiraSubtaskType == "" {
		p.addf("COESYNC_JIRA_SUBTASK_TYPE", `empty; unset it for the default "Sub-task"`)
	}
	if c.JiraActionLinkType == "" {
		p.addf("COESYNC_JIRA_ACTION_LINK_TYPE", `empty; unset it for the default "Relates"`)
	}
	_, tzErr := time.LoadLocation(c.ReportTimezone)
	if tzErr != nil || c.ReportTimezone == "" {
		p.addf("COESYNC_REPORT_TIMEZONE", "want an IANA time zone such as Europe/Berlin, got %s", quote(c.ReportTimezone))
	}
	if c.ReportStaleDraftDays < 1 {
		p.addf("COESYNC_REPORT_STALE_DRAFT_DAYS", "want at least 1, got %d", c.ReportStaleDraftDays)
	}
	if _, err := c.ReportCron(); err != nil && tzErr == nil {
		p.addf("COESYNC_REPORT_SCHEDULE", "want a cron schedule such as \"0 9 * * MON\", got %s: %v", quote(c.ReportSchedule), err)
	}
	if c.ReportGitHubIssue != "" {
		if _, _, ok := c.ReportIssue(); !ok {
			p.addf("COESYNC_REPORT_GITHUB_ISSUE", "want owner/repo#N, got %s", quote(c.ReportGitHubIssue))
		} else if c.GitHubToken == "" {
			p.addf("COESYNC_GITHUB_TOKEN", "required when COESYNC_REPORT_GITHUB_ISSUE is set")
		}
	}
	if c.ReportSlackWebhookURL != "" {
		if u, err := url.Parse(c.ReportSlackWebhookURL.Reveal()); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			// The value is a credential: do not echo it.
			p.addf("COESYNC_REPORT_SLACK_WEBHOOK_URL", "want an https URL")
		}
	}
	if c.ReconcileInterval <= 0 {
		p.addf("COESYNC_RECONCILE_INTERVAL", "want a positive duration, got %s", c.ReconcileInterval)
	}
	if c.PublicURL != "" {
		checkURL(&p, "COESYNC_PUBLIC_URL", c.PublicURL, "")
	}
	if c.MaxProposedItems < 1 {
		p.addf("COESYNC_MAX_PROPOSED_ITEMS", "want at least 1, got %d (COESYNC_SEED_ACTION_ITEMS=false creates none)", c.MaxProposedItems)
	}
	if c.Workers < 1 {
		p.addf("COESYNC_WORKERS", "want at least 1, got %d", c.Workers)
	}
	if c.JobTimeout < time.Second {
		p.addf("COESYNC_JOB_TIMEOUT", "want a duration of at least 1s, got %s", c.JobTimeout)
	}
	if c.JiraSearchSettle < 0 {
		p.addf("COESYNC_JIRA_SEARCH_SETTLE", "want a duration >= 0, got %s", c.JiraSearchSettle)
	}
	if c.RetryBackoff <= 0 {
		p.addf("COESYNC_RETRY_BACKOFF", "want a positive duration, got %s", c.RetryBackoff)
	}
	if c.RetryBackoffMax < c.RetryBackoff {
		p.addf("COESYNC_RETRY_BACKOFF_MAX", "want a duration >= COESYNC_RETRY_BACKOFF (%s), got %s", c.RetryBackoff, c.RetryBackoffMax)
	}
	if c.HTTPTimeout <= 0 {
		p.addf("COESYNC_HTTP_TIMEOUT", "want a positive duration, got %s", c.HTTPTimeout)
	}
	if _, err := ParseSLA(c.ActionSLA); err != nil {
		p.addf("COESYNC_ACTION_SLA", "%v", err)
	}
	for _, d := range c.TrustedLinkDomains {
		if err := checkTrustedDomain(d); err != nil {
			p.addf("COESYNC_TRUSTED_LINK_DOMAINS", "%v", err)
		}
	}
	if c.ReminderInterval < time.Hour {
		p.addf("COESYNC_REMINDER_INTERVAL", "want at least 1h, got %s", c.ReminderInterval)
	}
	if w := strings.TrimSpace(c.ChangeWindow); w == "" || badWindow(w) {
		p.addf("COESYNC_CHANGE_WINDOW", "want a duration such as 24h or 2d, got %s", quote(c.ChangeWindow))
	}
	if w := strings.TrimSpace(c.RecurrenceWindow); w == "" || badWindow(w) {
		p.addf("COESYNC_RECURRENCE_WINDOW", "want a duration such as 90d or 12w, got %s", quote(c.RecurrenceWindow))
	}
	if w := strings.TrimSpace(c.Retention); w == "" || badWindow(w) || c.RetentionDuration() < 24*time.Hour {
		p.addf("COESYNC_RETENTION", "want a duration of at least 1d such as 30d or 8w, got %s", quote(c.Retention))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		p.addf("COESYNC_LOG_LEVEL", "want debug, info, warn or error, got %s", quote(c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.addf("COESYNC_LOG_FORMAT", "want text or json, got %s", quote(c.LogFormat))
	}
	return p
}

// checkURL checks that s is an absolute http(s) URL; an empty s is
// reported as such with def, the variable's default. The error shows the
// URL without its user info, query and fragment, which may hold
// credentials.
func checkURL(p *problems, key, s, def string) {
	if s == "" {
		p.addf(key, "empty; unset it for the default %q", def)
		return
	}
	u, err := url.Parse(s)
	if err != nil {
		p.addf(key, "want an http(s) URL, got an unparsable value")
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
		p.addf(key, "want an http(s) URL, got %s", quote(u.String()))
	}
}

func badWindow(w string) bool { _, err := parseDays(w); return err != nil }

// ChangeWindowDuration is COESYNC_CHANGE_WINDOW (24h if invalid;
// Validate reports that).
func (c Config) ChangeWindowDuration() time.Duration {
	if w := strings.TrimSpace(c.ChangeWindow); w != "" && !badWindow(w) {
		d, _ := parseDays(w)
		return d
	}
	return 24 * time.Hour
}

// RecurrenceWindowDuration is COESYNC_RECURRENCE_WINDOW (90 days if
// invalid; Validate reports that).
func (c Config) RecurrenceWindowDuration() time.Duration {
	if w := strings.TrimSpace(c.RecurrenceWindow); w != "" && !badWindow(w) {
		d, _ := parseDays(w)
		return d
	}
	return 90 * 24 * time.Hour
}

// RetentionDuration is COESYNC_RETENTION (30 days if invalid; Validate
// reports that).
func (c Config) RetentionDuration() time.Duration {
	if w := strings.TrimSpace(c.Retention); w != "" && !badWindow(w) {
		d, _ := parseDays(w)
		return d
	}
	return 30 * 24 * time.Hour
}

// SlogLevel returns LogLevel as a slog.Level (info if invalid).
func (c Config) SlogLevel() slog.Level {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return slog.LevelInfo
	}
	return lvl
}

// DefaultRoute is where an incident's COE goes when no rule decides:
// COESYNC_JIRA_PROJECT, COESYNC_JIRA_ISSUE_TYPE, COESYNC_GITHUB_REPO.
func (c Config) DefaultRoute() coe.Route {
	return coe.Route{
		Project:    c.JiraProject,
		IssueType:  c.JiraIssueType,
		GitHubRepo: c.GitHubRepo,
	}
}

// LoadRouter loads COESYNC_RULES_FILE, when set, and binds it to
// DefaultRoute. Without COESYNC_JIRA_PROJECT it checks that the rules route
// every incident to a project (every rule up to a catch-all sets
// jira.project or skip); without COESYNC_GITHUB_TOKEN, that no rule names a
// GitHub repository. Every error line starts with the variable at fault.
func (c Config) LoadRouter() (*Router, error) {
	if c.RulesFile == "" {
		return NewRouter(nil, c.DefaultRoute()), nil
	}
	rules, err := LoadRules(c.RulesFile)
	if err != nil {
		return nil, prefixLines("COESYNC_RULES_FILE: ", err)
	}
	var p problems
	if c.JiraProject == "" {
		if msg := rules.projectGap(); msg != "" {
			p.addf("COESYNC_JIRA_PROJECT", "required unless the rules route every incident to a project: %s", msg)
		}
	}
	if c.GitHubToken == "" {
		if line := rules.firstRepoLine(); line > 0 {
			p.addf("COESYNC_GITHUB_TOKEN", "required: %s:%d sets github.repo", rules.name, line)
		}
		if line := rules.firstChangeRepoLine(); line > 0 {
			p.addf("COESYNC_GITHUB_TOKEN", "required: %s:%d lists repositories (services) whose changes a COE shows", rules.name, line)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return NewRouter(rules, c.DefaultRoute()), nil
}

// prefixLines puts prefix before every line of err, keeping it (and any
// joined errors) reachable through errors.Is and errors.As.
func prefixLines(prefix string, err error) error {
	return &prefixedError{prefix: prefix, err: err}
}

type prefixedError struct {
	prefix string
	err    error
}

func (e *prefixedError) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i := range lines {
		lines[i] = e.prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func (e *prefixedError) Unwrap() error { return e.err }

// ReportLocation is the report's time zone (UTC when invalid; Validate
// reports that).
func (c Config) ReportLocation() *time.Location {
	loc, err := time.LoadLocation(c.ReportTimezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ReportCron parses COESYNC_REPORT_SCHEDULE in the report's time zone.
func (c Config) ReportCron() (cron.Schedule, error) {
	spec := strings.TrimSpace(c.ReportSchedule)
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=" + c.ReportTimezone + " " + spec
	}
	return cron.ParseStandard(spec)
}

// ReportIssue splits COESYNC_REPORT_GITHUB_ISSUE.
func (c Config) ReportIssue() (repo string, number int, ok bool) {
	repo, n, found := strings.Cut(c.ReportGitHubIssue, "#")
	if !found || !validRepo(repo) {
		return "", 0, false
	}
	number, err := strconv.Atoi(n)
	if err != nil || number < 1 {
		return "", 0, false
	}
	return repo, number, true
}
