package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestUnknownSettings(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"a typo names the setting", []string{"COESYNC_JIRA_PROJET=OPS"},
			[]string{"COESYNC_JIRA_PROJET is not a coesync setting; did you mean COESYNC_JIRA_PROJECT?"}},
		{"a transposition", []string{"COESYNC_WOKRERS=8"},
			[]string{"COESYNC_WOKRERS is not a coesync setting; did you mean COESYNC_WORKERS?"}},
		{"nothing near", []string{"COESYNC_FAVOURITE_COLOUR=blue"},
			[]string{"COESYNC_FAVOURITE_COLOUR is not a coesync setting"}},
		{"known settings, test switches and other variables pass", []string{"COESYNC_JIRA_PROJECT=OPS",
			"COESYNC_LONG_TESTS=1", "COESYNC_TEST_POSTGRES_URL=postgres://x", "HOME=/root", "XCOESYNC_FOO=1"}, nil},
		{"the value is never shown", []string{"COESYNC_JIRA_TOKN=hunter2"},
			[]string{"COESYNC_JIRA_TOKN is not a coesync setting; did you mean COESYNC_JIRA_TOKEN?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := UnknownSettings(tt.environ); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("UnknownSettings(%q) = %q, want %q", tt.environ, got, tt.want)
			}
		})
	}
}

func TestMissingSettingNamesItsNearMiss(t *testing.T) {
	t.Setenv("COESYNC_PAGERDUTY_TOKEN", "pd")
	t.Setenv("COESYNC_PAGERDUTY_WEBHOOK_SECRETS", "s")
	t.Setenv("COESYNC_JIRA_URL", "https://acme.atlassian.net")
	t.Setenv("COESYNC_JIRA_USER", "bot@acme.com")
	t.Setenv("COESYNC_JIRA_TOKEN", "jt")
	t.Setenv("COESYNC_JIRA_PROJET", "OPS")
	_, err := Load()
	if err == nil {
		t.Fatal("Load accepted a configuration without COESYNC_JIRA_PROJECT")
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(line, "COESYNC_JIRA_PROJECT:") {
			if !strings.Contains(line, "COESYNC_JIRA_PROJET is set: did you mean COESYNC_JIRA_PROJECT?") {
				t.Errorf("the missing setting's line does not name the near miss: %q", line)
			}
			return
		}
	}
	t.Errorf("no line for COESYNC_JIRA_PROJECT in %q", err)
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "abc", 0}, {"abc", "ab", 1}, {"ab", "abc", 1}, {"abc", "abd", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
