package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
)

func draftJobs(t *testing.T, e *demoEnv) int {
	t.Helper()
	jobs, err := e.App.Store.Jobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range jobs {
		if j.Kind == "draft_coe" {
			n++
		}
	}
	return n
}

func TestBackfillCreatesExactlyTheMissingCOEs(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rules, []byte("rules:\n  - name: ignore-storage\n    match:\n      service: Storage\n    skip: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.RulesFile = rules }})
	ctx := context.Background()
	base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	// PBF1 came through the webhook; PBF2 and PBF3 were missed; PBF4 is
	// skipped by the rule; PBF5 is still open; PBF6 is older than --since.
	for _, fx := range []pdtest.Incident{
		pdtest.RichIncident("PBF1", base), pdtest.RichIncident("PBF2", base.Add(time.Minute)),
		pdtest.RichIncident("PBF3", base.Add(2*time.Minute)), pdtest.SimpleIncident("PBF4", base.Add(3*time.Minute)),
		{ID: "PBF5", CreatedAt: base},
		pdtest.RichIncident("PBF6", base.AddDate(0, 0, -10)),
	} {
		e.PD.AddIncident(fx)
	}
	fx1 := pdtest.RichIncident("PBF1", base)
	if code, err := e.SendResolved(ctx, fx1, "evt-bf1"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	if _, err := e.WaitCOE(ctx, "PBF1", 20*time.Second); err != nil {
		t.Fatal(err)
	}
	settle(t, e)
	setDemoEnv(t, e)
	t.Setenv("COESYNC_PAGERDUTY_API_URL", e.PD.URL())
	t.Setenv("COESYNC_RULES_FILE", rules)
	since := time.Now().UTC().AddDate(0, 0, -2).Format(time.DateOnly)
	backfill := func(args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		if err := run(ctx, append([]string{"backfill", "--since", since}, args...), &out, &errOut); err != nil {
			t.Fatalf("backfill %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}

	// Dry run: says what it would do, queues nothing.
	jobsBefore, issuesBefore := draftJobs(t, e), len(coeTicketKeys(e))
	out := backfill("--dry-run")
	if !strings.Contains(out, "4 resolved incidents") || !strings.Contains(out, "2 would be created (dry run: nothing written), 1 skipped by rule, 1 already present") {
		t.Errorf("dry run output:\n%s", out)
	}
	for _, want := range []string{"[1/4] PBF1", "already present: OPS-", "PBF2 #", "would queue a COE draft", `PBF4 #`, `skipped by rule "ignore-storage"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if draftJobs(t, e) != jobsBefore {
		t.Error("dry run queued jobs")
	}

	// The run queues the two missing ones; run again at once, before they
	// ran: nothing more (they are queued or done).
	out = backfill()
	if !strings.Contains(out, "2 created (queued for the running service), 1 skipped by rule, 1 already present") {
		t.Errorf("backfill output:\n%s", out)
	}
	again := backfill()
	if !strings.Contains(again, "0 created (queued for the running service), 1 skipped by rule, 3 already present") {
		t.Errorf("second backfill output:\n%s", again)
	}
	for _, id := range []string{"PBF2", "PBF3"} {
		if _, err := e.WaitCOE(ctx, id, 20*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	settle(t, e)
	// After the COEs exist: still nothing to create.
	third := backfill()
	if !strings.Contains(third, "0 created (queued for the running service), 1 skipped by rule, 3 already present") {
		t.Errorf("third backfill output:\n%s", third)
	}
	if got := len(coeTicketKeys(e)); got != issuesBefore+2 {
		t.Errorf("%d COE tickets, want %d (exactly the two missing ones)", got, issuesBefore+2)
	}
	if c, err := e.App.Store.COE(ctx, "PBF4"); err == nil && c.TicketKey != "" {
		t.Errorf("skipped incident got a COE %s", c.TicketKey)
	}
}

func TestBackfillFlagsAndProgressBar(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"--since", "yesterday"}, {"--since", "2026-10-02", "--until", "2026-10-01"}, {"--since", "2026-10-01", "extra"}} {
		var out, errOut strings.Builder
		err := run(context.Background(), append([]string{"backfill"}, args...), &out, &errOut)
		var ee *exitError
		if err == nil || !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("backfill %v: %v, want exit status 2", args, err)
		}
	}
	var buf bytes.Buffer
	b := &backfill{Out: &buf, TTY: true}
	b.progress(1, 4, coe.Incident{ID: "PX"}, "")
	b.progress(4, 4, coe.Incident{ID: "PY", Title: "\x1b]0;evil\x07"}, "")
	b.endBar()
	if got := buf.String(); !strings.Contains(got, "\r\x1b[K[=======                       ] 1/4 PX") ||
		!strings.Contains(got, "[==============================] 4/4 PY") || strings.Contains(got, "evil") {
		t.Errorf("progress bar = %q", got)
	}
	if isTerminal(&buf) {
		t.Error("a buffer is a terminal")
	}
	if got := termSafe("a\x1b[31mred\u202e\nb", 80); got != "a [31mred  b" {
		t.Errorf("termSafe = %q", got)
	}
}
