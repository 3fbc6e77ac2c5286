package config_test

import (
	"strings"
	"testing"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/coe"
)

func TestParseRulesServicesErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // every line of the error
	}{
		{"not a list", "services:\n  PAY: [a/b]\n", []string{`rules.yaml:2: services: want a list of entries with service and repos, got a mapping`}},
		{"entry not a mapping", "services:\n  - acme/pay\n", []string{`rules.yaml:2: services[1]: want a mapping with service and repos, got a string`}},
		{"unknown key", "services:\n  - service: Payments\n    repo: acme/pay\n", []string{`rules.yaml:3: unknown key "repo"`, `rules.yaml:2: services[1]: repos is required`}},
		{"no service", "services:\n  - repos: [acme/pay]\n", []string{`rules.yaml:2: services[1]: service is required`}},
		{"empty service list", "services:\n  - service: []\n    repos: acme/pay\n", []string{`rules.yaml:2: services[1].service: empty list matches nothing`}},
		{"bad repo", "services:\n  - service: Payments\n    repos: [acme/pay, payments]\n", []string{`rules.yaml:3: services[1].repos: want owner/name, got "payments"`}},
		{"empty repos", "services:\n  - service: Payments\n    repos: []\n", []string{`rules.yaml:3: services[1].repos: empty list; remove the entry instead`}},
		{"repos mapping", "services:\n  - service: Payments\n    repos: {a: b}\n", []string{`rules.yaml:3: services[1].repos: want a string or a list of strings, got a mapping`}},
		{"too many repos", "services:\n  - service: Payments\n    repos: [a/1, a/2, a/3, a/4, a/5, a/6, a/7, a/8, a/9, a/10, a/11]\n",
			[]string{`rules.yaml:3: services[1].repos: 11 repositories, at most 10 (each costs GitHub requests per COE)`}},
		{"service twice", "services:\n  - service: Payments\n    repos: a/b\n  - service: [PX, payments]\n    repos: a/c\n",
			[]string{`rules.yaml:4: services[2].service: "payments" is already listed at line 2`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.ParseRules("rules.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestRulesChangeRepos(t *testing.T) {
	rules, err := config.ParseRules("rules.yaml", []byte(`
services:
  - service: [PPAY, "Payments API"]
    repos: [acme/payments, acme/payments-web]
  - service: checkout
    repos: acme/checkout
  - service: PCHK
    repos: [acme/payments, acme/checkout-infra]
rules:
  - jira: {project: OPS}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		inc  coe.Incident
		want string
	}{
		{"by id", coe.Incident{ServiceID: "PPAY"}, "[acme/payments acme/payments-web]"},
		{"by name, any case", coe.Incident{ServiceID: "PZZZ", ServiceName: "payments api"}, "[acme/payments acme/payments-web]"},
		{"union, each once", coe.Incident{ServiceID: "PCHK", ServiceName: "Checkout"}, "[acme/checkout acme/payments acme/checkout-infra]"},
		{"none", coe.Incident{ServiceID: "POTHER", ServiceName: "Other"}, "[]"},
	} {
		route := config.NewRouter(rules, coe.Route{Project: "OPS"}).Route(tc.inc)
		if got := "[" + strings.Join(route.ChangeRepos, " ") + "]"; got != tc.want {
			t.Errorf("%s: ChangeRepos = %s, want %s", tc.name, got, tc.want)
		}
	}
	var none *config.Rules
	if got := none.ChangeRepos(coe.Incident{ServiceID: "PPAY"}); got != nil {
		t.Errorf("nil rules: %v", got)
	}
}

func TestLoadRouterServicesNeedGitHubToken(t *testing.T) {
	path := writeFile(t, "rules.yaml", "rules:\n  - jira: {project: OPS}\nservices:\n  - service: Payments\n    repos: acme/pay\n")
	c := validConfig()
	c.GitHubToken = ""
	c.RulesFile = path
	_, err := c.LoadRouter()
	if err == nil || !strings.Contains(err.Error(), "COESYNC_GITHUB_TOKEN: required: "+path+":4 lists repositories (services)") {
		t.Fatalf("err = %v", err)
	}
	c.GitHubToken = "t"
	if _, err := c.LoadRouter(); err != nil {
		t.Fatal(err)
	}
}

func TestChangeAndRecurrenceWindows(t *testing.T) {
	c := config.Defaults()
	if c.ChangeWindowDuration().String() != "24h0m0s" || c.RecurrenceWindowDuration().Hours() != 90*24 {
		t.Fatalf("defaults: %s %s", c.ChangeWindowDuration(), c.RecurrenceWindowDuration())
	}
	c.ChangeWindow, c.RecurrenceWindow = "2d", "12w"
	if c.ChangeWindowDuration().Hours() != 48 || c.RecurrenceWindowDuration().Hours() != 84*24 {
		t.Fatalf("2d/12w: %s %s", c.ChangeWindowDuration(), c.RecurrenceWindowDuration())
	}
	for _, tc := range []struct{ change, recur, want string }{
		{"", "90d", `COESYNC_CHANGE_WINDOW: want a duration such as 24h or 2d, got ""`},
		{"soon", "90d", `COESYNC_CHANGE_WINDOW: want a duration such as 24h or 2d, got "soon"`},
		{"24h", "5m", `COESYNC_RECURRENCE_WINDOW: want a duration such as 90d or 12w, got "5m"`},
	} {
		c := config.Defaults()
		c.ChangeWindow, c.RecurrenceWindow = tc.change, tc.recur
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q/%q: err = %v, want %q", tc.change, tc.recur, err, tc.want)
		}
	}
}

func TestRetention(t *testing.T) {
	c := config.Defaults()
	if c.RetentionDuration().Hours() != 30*24 {
		t.Fatalf("default retention %s, want 30d", c.RetentionDuration())
	}
	c.Retention = "8w"
	if c.RetentionDuration().Hours() != 56*24 {
		t.Fatalf("8w: %s", c.RetentionDuration())
	}
	for _, bad := range []string{"", "forever", "12h"} {
		c := config.Defaults()
		c.Retention = bad
		want := `COESYNC_RETENTION: want a duration of at least 1d such as 30d or 8w, got "` + bad + `"`
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", bad, err, want)
		}
	}
}
