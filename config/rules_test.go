package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/coe"
)

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // every line of the error
	}{
		{"syntax", "rules:\n  - name: x\n    skip: true\n    jira: project: PAY\n", []string{`rules.yaml:4: mapping values are not allowed in this context`}},
		// yaml.v3 names the line where the enclosing block or flow starts.
		{"syntax flow", "rules:\n  - name: x\n    match: {a: b\n  - skip: true\n", []string{`rules.yaml:2: did not find expected ',' or '}'`}},
		{"syntax no line", "rules:\n  - match: *nope\n", []string{`rules.yaml: unknown anchor 'nope' referenced`}},
		{"syntax tab", "rules:\n\t- name: x\n", []string{`rules.yaml:2: found character that cannot start any token`}},
		{"two documents", "rules: []\n---\nrules: []\n", []string{`rules.yaml:3: more than one YAML document`}},
		{"top level list", "- name: x\n", []string{`rules.yaml:1: want a mapping with a rules key, got a list`}},
		{"top level unknown key", "rule:\n  - skip: true\n", []string{`rules.yaml: not a coesync rules file: no rules or services key (the file's content is not shown)`}},
		{"top level unknown key beside rules", "rules: []\nrulez: 1\n", []string{`rules.yaml:2: unknown key "rulez"`}},
		{"unknown key not a name", "rules: []\n\"root:$6$salt$hash:19000\": 1\n", []string{`rules.yaml:2: unknown key (not shown: not a name of letters, digits, '-' or '_')`}},
		{"rules not a list", "rules:\n  name: x\n", []string{`rules.yaml:2: rules: want a list of rules, got a mapping`}},
		{"rule not a mapping", "rules:\n  - payments\n", []string{`rules.yaml:2: rule 1: want a mapping, got a string`}},
		{"unknown rule key", "rules:\n  - name: x\n    skip: true\n    jira_project: PAY\n", []string{`rules.yaml:4: unknown key "jira_project"`}},
		{"unknown match key", "rules:\n  - match:\n      servce: Payments\n    skip: true\n", []string{`rules.yaml:3: unknown key "servce"`}},
		{"unknown jira key", "rules:\n  - jira:\n      projct: PAY\n", []string{`rules.yaml:3: unknown key "projct"`}},
		{"unknown github key", "rules:\n  - github:\n      repository: a/b\n", []string{`rules.yaml:3: unknown key "repository"`}},
		{"duplicate key", "rules:\n  - skip: true\n    skip: false\n", []string{`rules.yaml:3: duplicate key "skip" (first at line 2)`}},
		{"merge key", "base: &b {project: PAY}\nrules:\n  - jira:\n      <<: *b\n", []string{`rules.yaml:1: unknown key "base"`, `rules.yaml:4: merge keys (<<) are not supported`}},
		{"name not a string", "rules:\n  - name: [a]\n    skip: true\n", []string{`rules.yaml:2: name: want a string, got a list`}},
		{"name empty", "rules:\n  - name: \"\"\n    skip: true\n", []string{`rules.yaml:2: name: want a non-empty string`}},
		{"match not a mapping", "rules:\n  - match: Payments\n    skip: true\n", []string{`rules.yaml:2: match: want a mapping, got a string`}},
		{"service mapping", "rules:\n  - match:\n      service: {id: P1}\n    skip: true\n", []string{`rules.yaml:3: match.service: want a string or a list of strings, got a mapping`}},
		{"service list of lists", "rules:\n  - match:\n      service: [[P1]]\n    skip: true\n", []string{`rules.yaml:3: match.service: want a string or a list of strings, got a list holding a list`}},
		{"service null", "rules:\n  - match:\n      service:\n    skip: true\n", []string{`rules.yaml:3: match.service: want a string or a list of strings, got null`}},
		{"team empty list", "rules:\n  - match:\n      team: []\n    skip: true\n", []string{`rules.yaml:3: match.team: empty list matches nothing`}},
		{"priority bool", "rules:\n  - match:\n      priority: true\n    skip: true\n", []string{`rules.yaml:3: match.priority: want a string or a list of strings, got a boolean`}},
		{"bad urgency", "rules:\n  - match:\n      urgency: urgent\n    skip: true\n", []string{`rules.yaml:3: match.urgency: want high or low, got "urgent"`}},
		{"bad urgency in list", "rules:\n  - match:\n      urgency: [high, meh]\n    skip: true\n", []string{`rules.yaml:3: match.urgency: want high or low, got "meh"`}},
		{"bad duration", "rules:\n  - match:\n      min_duration: 10 minutes\n    skip: true\n", []string{`rules.yaml:3: match.min_duration: want a duration such as 10m or 1h30m, got "10 minutes"`}},
		{"duration without unit", "rules:\n  - match:\n      min_duration: 600\n    skip: true\n", []string{`rules.yaml:3: match.min_duration: want a duration such as 10m or 1h30m, got "600"`}},
		{"negative duration", "rules:\n  - match:\n      min_duration: -5m\n    skip: true\n", []string{`rules.yaml:3: match.min_duration: want a positive duration, got "-5m"`}},
		{"zero duration", "rules:\n  - match:\n      min_duration: 0s\n    skip: true\n", []string{`rules.yaml:3: match.min_duration: want a positive duration, got "0s"`}},
		{"bare zero duration", "rules:\n  - match:\n      min_duration: 0\n    skip: true\n", []string{`rules.yaml:3: match.min_duration: want a positive duration, got "0"`}},
		{"skip not bool", "rules:\n  - skip: yes\n", []string{`rules.yaml:2: skip: want true or false, got "yes"`}},
		{"skip list", "rules:\n  - skip: [true]\n", []string{`rules.yaml:2: skip: want true or false, got a list`}},
		{"project list", "rules:\n  - jira:\n      project: [PAY]\n", []string{`rules.yaml:3: jira.project: want a string, got a list`}},
		{"label with space", "rules:\n  - jira:\n      labels: [ok, on call]\n", []string{`rules.yaml:3: jira.labels: "on call" contains white space, which Jira labels cannot`}},
		{"components mapping", "rules:\n  - jira:\n      components: {a: b}\n", []string{`rules.yaml:3: jira.components: want a string or a list of strings, got a mapping`}},
		{"priority list", "rules:\n  - jira:\n      priority: [P1]\n", []string{`rules.yaml:3: jira.priority: want a mapping of PagerDuty priority or urgency to Jira priority, got a list`}},
		{"priority duplicate", "rules:\n  - jira:\n      priority:\n        P1: Highest\n        p1: High\n", []string{`rules.yaml:5: jira.priority: duplicate key "p1"`}},
		{"priority value", "rules:\n  - jira:\n      priority:\n        P1: [Highest]\n", []string{`rules.yaml:4: jira.priority.P1: want a string, got a list`}},
		{"bad repo", "rules:\n  - github:\n      repo: payments\n", []string{`rules.yaml:3: github.repo: want owner/name, got "payments"`}},
		{"bad repo url", "rules:\n  - github:\n      repo: https://github.com/acme/payments\n", []string{`rules.yaml:3: github.repo: want owner/name, got "https://github.com/acme/payments"`}},
		{"does nothing", "rules:\n  - name: noop\n    match:\n      urgency: high\n", []string{`rules.yaml:2: rule "noop" does nothing: set skip: true, jira or github`}},
		{"does nothing unnamed", "rules:\n  - skip: true\n  - match: {urgency: high}\n    skip: false\n", []string{`rules.yaml:3: rule 2 does nothing: set skip: true, jira or github`}},
		{"empty jira does nothing", "rules:\n  - jira: {}\n    github:\n", []string{`rules.yaml:2: rule 1 does nothing: set skip: true, jira or github`}},
		{"skip and jira", "rules:\n  - name: s\n    skip: true\n    jira: {project: PAY}\n", []string{`rules.yaml:3: rule "s": skip: true conflicts with jira: a skipped incident gets no COE`}},
		{"skip and github", "rules:\n  - skip: true\n    github: {repo: a/b}\n", []string{`rules.yaml:2: rule 1: skip: true conflicts with github: a skipped incident gets no COE`}},
		{"duplicate name", "rules:\n  - name: a\n    match: {urgency: high}\n    skip: true\n  - name: A\n    skip: true\n", []string{`rules.yaml:5: rule name "A" already used at line 2`}},
		{"unreachable", "rules:\n  - name: all\n    jira: {project: OPS}\n  - name: late\n    match: {urgency: high}\n    skip: true\n  - skip: true\n", []string{
			`rules.yaml:4: rule "late" is unreachable: rule "all" at line 2 matches every incident`,
			`rules.yaml:7: rule 3 is unreachable: rule "all" at line 2 matches every incident`,
		}},
		{"several", "rules:\n  - match:\n      servce: x\n    skip: maybe\n  - github: {repo: nope}\n", []string{
			`rules.yaml:3: unknown key "servce"`,
			`rules.yaml:4: skip: want true or false, got "maybe"`,
			`rules.yaml:5: github.repo: want owner/name, got "nope"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := config.ParseRules("rules.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("ParseRules succeeded with %d rules, want %q", r.Len(), tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseRules error\n got %q\nwant %q", got, tt.want)
			}
			if r != nil {
				t.Errorf("ParseRules returned rules with an error")
			}
		})
	}
}

func TestParseRulesAccepts(t *testing.T) {
	for name, y := range map[string]string{
		"empty file":        "",
		"comments only":     "# nothing yet\n",
		"null":              "~\n",
		"null rules":        "rules:\n",
		"no rules":          "rules: []\n",
		"empty mapping":     "{}\n",
		"null match":        "rules:\n  - match:\n    skip: true\n",
		"numeric name":      "rules:\n  - match: {service: 2024}\n    skip: true\n",
		"anchors":           "rules:\n  - match: &m {urgency: low}\n    skip: true\n  - match: *m\n    jira: {project: X}\n",
		"labels cleared":    "rules:\n  - jira: {labels: []}\n",
		"document start":    "---\nrules: []\n",
		"shortest duration": "rules:\n  - match: {min_duration: 1ns}\n    skip: true\n",
	} {
		if _, err := config.ParseRules("rules.yaml", []byte(y)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoadRulesExample(t *testing.T) {
	r, err := config.LoadRules("testdata/rules.example.yaml")
	if err != nil {
		t.Fatalf("LoadRules: %v", err)
	}
	if r.Len() != 5 {
		t.Errorf("Len() = %d, want 5", r.Len())
	}
	def := coe.Route{Project: "DEF", IssueType: "Task", GitHubRepo: "acme/default"}
	resolved := func(inc coe.Incident, d time.Duration) coe.Incident {
		inc.CreatedAt = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
		inc.ResolvedAt = inc.CreatedAt.Add(d)
		return inc
	}
	tests := []struct {
		name string
		inc  coe.Incident
		want coe.Route
	}{
		{"synthetics skipped", coe.Incident{ServiceName: "synthetic checks", Urgency: "high"},
			coe.Route{Rule: "ignore-synthetics", Skip: true, Project: "DEF", IssueType: "Task", Priority: "High", GitHubRepo: "acme/default"}},
		{"payments major", resolved(coe.Incident{ServiceID: "PXXXXXX", Priority: "P1", Urgency: "high"}, 15*time.Minute),
			coe.Route{Rule: "payments-major", Project: "PAY", IssueType: "COE", Labels: []string{"payments", "coe"}, Components: []string{"API"}, Priority: "Highest", GitHubRepo: "acme/payments", ChangeRepos: []string{"acme/payments", "acme/payments-web"}}},
		{"payments too short", resolved(coe.Incident{ServiceName: "Payments API", Priority: "P1", Urgency: "low"}, 5*time.Minute),
			coe.Route{Rule: "low-urgency", Project: "DEF", IssueType: "Task", Labels: []string{"low-urgency"}, Priority: "Highest", GitHubRepo: "acme/default", ChangeRepos: []string{"acme/payments", "acme/payments-web"}}},
		{"sre", coe.Incident{ServiceName: "DB", Urgency: "high", Teams: []coe.Team{{ID: "PX", Name: "Data"}, {ID: "PY", Name: "sre"}}},
			coe.Route{Rule: "sre", Project: "SRE", IssueType: "Task", Priority: "High", GitHubRepo: "acme/infrastructure"}},
		{"catch-all", coe.Incident{ServiceName: "DB", Urgency: "high", Priority: "P4"},
			coe.Route{Rule: "everything-else", Project: "OPS", IssueType: "Task", Priority: "Low", GitHubRepo: "acme/default"}},
	}
	for _, tt := range tests {
		if got := r.Route(tt.inc, def); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Route =\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}
}

func TestLoadRulesMissing(t *testing.T) {
	_, err := config.LoadRules("testdata/nope.yaml")
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open testdata/nope.yaml: no such file or directory" {
		t.Errorf("LoadRules = %v", err)
	}
}

func mustRules(t *testing.T, y string) *config.Rules {
	t.Helper()
	r, err := config.ParseRules("rules.yaml", []byte(y))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	return r
}

func TestRouteOrderAndFallbacks(t *testing.T) {
	r := mustRules(t, `
rules:
  - name: first
    match: {service: Payments}
    jira: {project: PAY}
  - name: second
    match: {service: [payments, Billing]}
    jira: {project: BILL, issue_type: Bug, labels: [billing], components: [Core]}
    github: {repo: acme/billing}
  - name: clear-labels
    match: {service: Search}
    jira: {labels: [], components: []}
`)
	def := coe.Route{Project: "DEF", IssueType: "Task", Labels: []string{"coe"}, Components: []string{"Ops"}, GitHubRepo: "acme/def"}
	tests := []struct {
		name string
		inc  coe.Incident
		want coe.Route
	}{
		{"first match wins", coe.Incident{ServiceName: "PAYMENTS"},
			coe.Route{Rule: "first", Project: "PAY", IssueType: "Task", Labels: []string{"coe"}, Components: []string{"Ops"}, GitHubRepo: "acme/def"}},
		{"second", coe.Incident{ServiceName: "billing"},
			coe.Route{Rule: "second", Project: "BILL", IssueType: "Bug", Labels: []string{"billing"}, Components: []string{"Core"}, GitHubRepo: "acme/billing"}},
		{"cleared", coe.Incident{ServiceName: "Search"},
			coe.Route{Rule: "clear-labels", Project: "DEF", IssueType: "Task", Labels: []string{}, Components: []string{}, GitHubRepo: "acme/def"}},
		{"no match", coe.Incident{ServiceName: "Other"}, def},
		{"empty name does not match", coe.Incident{}, def},
	}
	for _, tt := range tests {
		got := r.Route(tt.inc, def)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Route =\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}

	// The result is the caller's: changing it changes neither the rules nor def.
	got := r.Route(coe.Incident{ServiceName: "billing"}, def)
	got.Labels[0] = "changed"
	got = r.Route(coe.Incident{ServiceName: "other"}, def)
	got.Labels[0] = "changed"
	if again := r.Route(coe.Incident{ServiceName: "billing"}, def); again.Labels[0] != "billing" {
		t.Errorf("rule labels were changed through a route")
	}
	if def.Labels[0] != "coe" {
		t.Errorf("def labels were changed through a route")
	}

	// A nil *Rules routes everything to def.
	var none *config.Rules
	if got := none.Route(coe.Incident{ServiceName: "billing"}, def); !reflect.DeepEqual(got, def) {
		t.Errorf("nil rules: Route = %+v", got)
	}
}

func TestRouteMatchers(t *testing.T) {
	r := mustRules(t, `
rules:
  - name: svc-id
    match: {service: PSVC001}
    skip: true
  - name: team
    match: {team: [PTEAM1, "Site Reliability"]}
    jira: {project: SRE}
  - name: all-of
    match:
      priority: [P1, p2]
      urgency: high
      min_duration: 30m
    jira: {project: BIG}
  - name: long
    match:
      min_duration: 2h
    jira: {project: LONG}
  - name: low
    match:
      urgency: LOW
    jira: {project: LOW}
`)
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	long := func(d time.Duration) (time.Time, time.Time) { return start, start.Add(d) }
	inc := func(mod func(*coe.Incident)) coe.Incident {
		i := coe.Incident{ServiceID: "POTHER", ServiceName: "Other", Urgency: "high"}
		mod(&i)
		return i
	}
	tests := []struct {
		name string
		inc  coe.Incident
		want string // rule
	}{
		{"service by id, case-insensitive", inc(func(i *coe.Incident) { i.ServiceID = "psvc001" }), "svc-id"},
		{"service name is not the id", inc(func(i *coe.Incident) { i.ServiceName = "PSVC001x" }), ""},
		{"team by id", inc(func(i *coe.Incident) { i.Teams = []coe.Team{{ID: "PTEAM9", Name: "x"}, {ID: "PTEAM1"}} }), "team"},
		{"team by name", inc(func(i *coe.Incident) { i.Teams = []coe.Team{{ID: "PT", Name: "site reliability"}} }), "team"},
		{"no team", inc(func(i *coe.Incident) { i.Teams = nil }), ""},
		{"other team", inc(func(i *coe.Incident) { i.Teams = []coe.Team{{ID: "PT", Name: "Data"}} }), ""},
		{"all of: holds", inc(func(i *coe.Incident) { i.Priority = "P2"; i.CreatedAt, i.ResolvedAt = long(30 * time.Minute) }), "all-of"},
		{"all of: too short", inc(func(i *coe.Incident) { i.Priority = "P1"; i.CreatedAt, i.ResolvedAt = long(29 * time.Minute) }), ""},
		{"all of: wrong priority", inc(func(i *coe.Incident) { i.Priority = "P3"; i.CreatedAt, i.ResolvedAt = long(time.Hour) }), ""},
		{"all of: no priority", inc(func(i *coe.Incident) { i.CreatedAt, i.ResolvedAt = long(time.Hour) }), ""},
		{"all of: low urgency, long", inc(func(i *coe.Incident) {
			i.Priority = "P1"
			i.Urgency = "low"
			i.CreatedAt, i.ResolvedAt = long(3 * time.Hour)
		}), "long"},
		{"unresolved has no duration", inc(func(i *coe.Incident) { i.Priority = "P1"; i.CreatedAt = start }), ""},
		{"urgency case-insensitive", inc(func(i *coe.Incident) { i.Urgency = "Low" }), "low"},
	}
	for _, tt := range tests {
		got := r.Route(tt.inc, coe.Route{Project: "DEF"})
		if got.Rule != tt.want {
			t.Errorf("%s: matched %q, want %q", tt.name, got.Rule, tt.want)
		}
	}
}

func TestRoutePriority(t *testing.T) {
	r := mustRules(t, `
rules:
  - name: mapped
    match: {service: Mapped}
    jira:
      priority:
        p1: Blocker
        HIGH: Critical
  - name: unmapped
    match: {service: Unmapped}
    jira: {project: X}
`)
	tests := []struct {
		service, priority, urgency string
		def                        string // def.Priority
		want                       string
	}{
		// The rule's mapping: priority first, then urgency.
		{"Mapped", "P1", "low", "", "Blocker"},
		{"Mapped", "P2", "high", "", "Critical"},
		{"Mapped", "", "high", "", "Critical"},
		// Not mapped by the rule: def.Priority, else the default mapping.
		{"Mapped", "P2", "low", "", "High"},
		{"Mapped", "P2", "low", "Medium", "Medium"},
		{"Unmapped", "P1", "high", "", "Highest"},
		{"Unmapped", "P2", "high", "", "High"},
		{"Unmapped", "P3", "high", "", "Medium"},
		{"Unmapped", "p4", "high", "", "Low"},
		{"Unmapped", "P5", "high", "", "Lowest"},
		{"Unmapped", "", "high", "", "High"},
		{"Unmapped", "", "low", "", "Low"},
		{"Unmapped", "SEV-1", "high", "", "High"}, // unknown priority: by urgency
		{"Unmapped", "", "", "", ""},
		// No rule matches: the default mapping.
		{"Other", "P1", "low", "", "Highest"},
		{"Other", "", "low", "", "Low"},
	}
	for _, tt := range tests {
		inc := coe.Incident{ServiceName: tt.service, Priority: tt.priority, Urgency: tt.urgency}
		got := r.Route(inc, coe.Route{Project: "DEF", Priority: tt.def}).Priority
		if got != tt.want {
			t.Errorf("%s %q/%q (def %q): priority %q, want %q", tt.service, tt.priority, tt.urgency, tt.def, got, tt.want)
		}
	}
}

func TestRouter(t *testing.T) {
	def := coe.Route{Project: "DEF", IssueType: "Task", Labels: []string{"coe"}}
	r := config.NewRouter(nil, def)
	want := coe.Route{Project: "DEF", IssueType: "Task", Labels: []string{"coe"}, Priority: "Highest"}
	if got := r.Route(coe.Incident{Priority: "P1"}); !reflect.DeepEqual(got, want) {
		t.Errorf("nil rules: Route = %+v, want %+v", got, want)
	}
	def.Labels[0] = "changed" // NewRouter kept its own copy
	if got := r.Route(coe.Incident{Priority: "P1"}); !reflect.DeepEqual(got, want) {
		t.Errorf("after changing def: Route = %+v, want %+v", got, want)
	}

	rules := mustRules(t, "rules:\n  - match: {urgency: low}\n    skip: true\n")
	r = config.NewRouter(rules, coe.Route{Project: "DEF"})
	if got := r.Route(coe.Incident{Urgency: "low"}); !got.Skip || got.Rule != "rule 1" {
		t.Errorf("Route = %+v, want skipped by rule 1", got)
	}
	if got := r.Route(coe.Incident{Urgency: "high"}); got.Skip || got.Rule != "" || got.Project != "DEF" {
		t.Errorf("Route = %+v, want the default", got)
	}
}

// COESYNC_RULES_FILE pointing at a file that is not a rules file (a
// mistyped path, /etc/shadow) is refused naming the variable and the
// problem, never quoting the file's lines.
func TestLoadRouterOtherFileContentNotShown(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "shadow")
	const line1 = "root:$6$s4lt$SECRETHASH:19000:0:99999:7:::"
	if err := os.WriteFile(shadow, []byte(line1+"\ndaemon:*:19000:0:99999:7:::\nbin: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"shadow", shadow, "COESYNC_RULES_FILE: " + shadow + ": not a coesync rules file: no rules or services key (the file's content is not shown)"},
		{"directory", dir, "COESYNC_RULES_FILE: " + dir + ": not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Config{RulesFile: tc.path, JiraProject: "COE"}
			_, err := c.LoadRouter()
			if err == nil || err.Error() != tc.want {
				t.Fatalf("LoadRouter error\n got %v\nwant %s", err, tc.want)
			}
			for _, leak := range []string{"SECRETHASH", "daemon", "root", "bin"} {
				if strings.Contains(strings.TrimPrefix(err.Error(), "COESYNC_RULES_FILE: "+tc.path), leak) {
					t.Errorf("error quotes the file: %v", err)
				}
			}
		})
	}
}
