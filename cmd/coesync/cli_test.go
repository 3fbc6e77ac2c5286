package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/version"
)

func TestBadConfigurationExitsTwoNamingTheVariable(t *testing.T) {
	t.Setenv("COESYNC_PAGERDUTY_TOKEN", "pd-secret-value-123")
	t.Setenv("COESYNC_JIRA_TOKEN", "jira-secret-value-456")
	t.Setenv("COESYNC_PAGERDUTY_WEBHOOK_SECRETS", "whsec-secret-789")
	t.Setenv("COESYNC_JIRA_URL", "not a url")
	t.Setenv("COESYNC_JIRA_PROJECT", "OPS")
	var out strings.Builder
	err := run(context.Background(), []string{"serve"}, &out, &out)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err = %v, want exit status 2", err)
	}
	if !strings.HasPrefix(err.Error(), "COESYNC_JIRA_URL: ") {
		t.Errorf("error %q does not start with the variable's name", err)
	}
	for _, secret := range []string{"pd-secret-value-123", "jira-secret-value-456", "whsec-secret-789"} {
		if strings.Contains(err.Error()+out.String(), secret) {
			t.Errorf("a secret value appears in the output: %q", err.Error()+out.String())
		}
	}
}

func TestReportAndPreviewCommands(t *testing.T) {
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.RichIncident("PCLI001", time.Now().UTC().Add(-2*time.Hour).Truncate(time.Second))
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-cli"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	if _, err := e.WaitCOE(ctx, fx.ID, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	settle(t, e)
	setDemoEnv(t, e)
	t.Setenv("COESYNC_PAGERDUTY_API_URL", e.PD.URL())

	// coesync report reads the store only.
	var out, errOut strings.Builder
	since := time.Now().UTC().Add(-24 * time.Hour).Format("2006-01-02")
	if err := run(ctx, []string{"report", "--since", since, "--format", "json"}, &out, &errOut); err != nil {
		t.Fatalf("report: %v\n%s", err, errOut.String())
	}
	var rep struct {
		Summary map[string]any `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report --format json is not JSON: %v\n%s", err, out.String())
	}
	if rep.Summary["coes_created"] != float64(1) || rep.Summary["items_opened"] != float64(2) {
		t.Errorf("report summary = %v, want 1 COE and 2 action items opened", rep.Summary)
	}
	out.Reset()
	if err := run(ctx, []string{"report", "--week", "2026-W99"}, &out, &errOut); err == nil {
		t.Error("report accepted week 99")
	}

	// coesync preview renders without writing.
	issuesBefore, notesBefore := len(e.Jira.Issues()), len(e.PD.Notes(fx.ID))
	out.Reset()
	if err := run(ctx, []string{"preview", fx.ID}, &out, &errOut); err != nil {
		t.Fatalf("preview: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Routing: project OPS", "h2. Summary", "h2. Timeline", "h2. Five whys", fx.Title} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("preview output lacks %q", want)
		}
	}
	if len(e.Jira.Issues()) != issuesBefore || len(e.PD.Notes(fx.ID)) != notesBefore {
		t.Error("preview wrote to Jira or PagerDuty")
	}
}

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out, errb strings.Builder
	if err := run(context.Background(), []string{"version"}, &out, &errb); err != nil {
		t.Fatalf("version: %v", err)
	}
	if got, want := out.String(), version.Get().String()+"\n"; got != want {
		t.Errorf("version printed %q, want %q", got, want)
	}
	var ee *exitError
	if err := run(context.Background(), []string{"version", "extra"}, &out, &errb); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("version extra: %v, want a usage error (exit 2)", err)
	}
}

func TestServingLogLineNamesTheVersion(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	startTestDemo(t, demoOptions{log: slog.New(slog.NewTextHandler(&logs, nil))})
	var line string
	waitFor(t, "the start-up log line", 10*time.Second, func() bool {
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, `msg="coesync serving"`) {
				line = l
				return true
			}
		}
		return false
	})
	bi := version.Get()
	for _, want := range []string{"version=" + bi.Version, "revision=" + bi.Revision} {
		if !strings.Contains(line, want) {
			t.Errorf("start-up line %q lacks %s", line, want)
		}
	}
}

func TestHelpExitsZeroAndUsageErrorsTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Available Commands"},
		{[]string{"help", "status"}, 0, "-exit-code"},
		{[]string{"status", "--help"}, 0, "Examples:"},
		{[]string{"preview", "-h"}, 0, "preview <incident-id|number|URL>"},
		{[]string{"replay", "--help"}, 0, "coesync replay 42"},
		{[]string{"completion", "bash"}, 0, "bash completion"},
		{[]string{"statsu"}, 2, ""},
		{[]string{"status", "-o", "yaml"}, 2, ""},
		{nil, 2, "Available Commands"},
	} {
		var out, errb strings.Builder
		err := run(context.Background(), tc.args, &out, &errb)
		code := 0
		if err != nil {
			code = 1
			var ee *exitError
			if errors.As(err, &ee) {
				code = ee.code
			}
		}
		if code != tc.code {
			t.Errorf("coesync %q: exit %d (%v), want %d", tc.args, code, err, tc.code)
		}
		if !strings.Contains(out.String()+errb.String(), tc.want) {
			t.Errorf("coesync %q: output lacks %q:\n%s%s", tc.args, tc.want, out.String(), errb.String())
		}
	}
}

// A rules file that does not parse is a configuration error: exit 2, as
// for a bad variable, not 1.
func TestBadRulesFileExitsTwo(t *testing.T) {
	rules := t.TempDir() + "/rules.yaml"
	if err := os.WriteFile(rules, []byte("rules:\n  - name: x\n    match: {servce: a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("COESYNC_PAGERDUTY_TOKEN", "pd")
	t.Setenv("COESYNC_PAGERDUTY_WEBHOOK_SECRETS", "s")
	t.Setenv("COESYNC_JIRA_URL", "https://acme.atlassian.net")
	t.Setenv("COESYNC_JIRA_USER", "bot@acme.com")
	t.Setenv("COESYNC_JIRA_TOKEN", "jt")
	t.Setenv("COESYNC_JIRA_PROJECT", "OPS")
	t.Setenv("COESYNC_RULES_FILE", rules)
	t.Setenv("COESYNC_DATABASE_URL", t.TempDir()+"/c.db")
	var out strings.Builder
	err := run(context.Background(), []string{"serve"}, &out, &out)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("serve with a bad rules file: %v, want exit status 2", err)
	}
}

// status -o json lists a failed job with its whole error, --job shows one
// job, and --exit-code turns a failed job into exit status 1.
func TestStatusJSONJobAndExitCode(t *testing.T) {
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.SimpleIncident("PGHOST2", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	// Not added to the fake: PagerDuty answers 404 and the job fails for good.
	if code, _ := e.SendResolved(ctx, fx, "evt-ghost-2"); code != http.StatusAccepted {
		t.Fatalf("webhook: %d", code)
	}
	waitFor(t, "the job to fail for good", 10*time.Second, func() bool {
		jobs, _ := e.App.Store.Jobs(ctx, "cancelled", "discarded")
		return len(jobs) == 1
	})
	setDemoEnv(t, e)
	var out, errb strings.Builder
	if err := run(ctx, []string{"status", "-o", "json"}, &out, &errb); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, errb.String())
	}
	var st struct {
		Jobs []struct {
			ID        int64  `json:"id"`
			Kind      string `json:"kind"`
			State     string `json:"state"`
			LastError string `json:"last_error"`
		} `json:"jobs"`
		Problems []any `json:"action_item_problems"`
	}
	if err := json.Unmarshal([]byte(out.String()), &st); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	var failed int64
	for _, j := range st.Jobs {
		if j.Kind == "draft_coe" && (j.State == "cancelled" || j.State == "discarded") && strings.Contains(j.LastError, "404") {
			failed = j.ID
		}
	}
	if failed == 0 {
		t.Fatalf("status -o json lists no failed draft_coe job with its 404: %s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"status", "--job", fmt.Sprint(failed)}, &out, &errb); err != nil || !strings.Contains(out.String(), "last error:") || !strings.Contains(out.String(), "404") {
		t.Errorf("status --job %d: %v\n%s", failed, err, out.String())
	}
	err := run(ctx, []string{"status", "--exit-code"}, io.Discard, io.Discard)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Errorf("status --exit-code with a failed job: %v, want exit status 1", err)
	}
}
