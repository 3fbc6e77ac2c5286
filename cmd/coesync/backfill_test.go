package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
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

type listSource []coe.Incident

func (s listSource) ListResolvedIncidents(_ context.Context, _, _ time.Time, listed func(int)) ([]coe.Incident, error) {
	for i := range s {
		if listed != nil {
			listed(i + 1)
		}
	}
	return s, nil
}

type routeAll struct{}

func (routeAll) Route(coe.Incident) coe.Route { return coe.Route{} }

type queueStore struct{ queued []string }

func (*queueStore) COE(context.Context, string) (store.COE, error) {
	return store.COE{}, store.ErrNotFound
}
func (*queueStore) Jobs(context.Context, ...string) ([]store.JobInfo, error) {
	return nil, nil
}
func (q *queueStore) Enqueue(_ context.Context, jobs ...store.Job) error {
	for _, j := range jobs {
		q.queued = append(q.queued, j.Args.(engine.DraftCOEArgs).IncidentID)
	}
	return nil
}

func TestBackfillServiceLimitAndConfirm(t *testing.T) {
	var incs listSource
	for i := range 120 {
		svc := "Payments API"
		if i%2 == 1 {
			svc = "Storage"
		}
		incs = append(incs, coe.Incident{ID: fmt.Sprintf("P%03d", i), Number: i + 1, ServiceID: fmt.Sprintf("PS%d", i%2), ServiceName: svc})
	}
	since, until := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		b       backfill
		answer  bool
		asked   int // COEs the question named (0: not asked)
		queued  int
		wantErr error
		wantOut []string
	}{
		{name: "a service by name, listing shown every 100", b: backfill{Service: "payments api"}, answer: true, asked: 60, queued: 60,
			wantOut: []string{"listed 100 incidents", "60 resolved incidents of service payments api", "60 created"}},
		{name: "a service by ID", b: backfill{Service: "PS1"}, answer: true, asked: 60, queued: 60},
		{name: "a limit keeps the oldest", b: backfill{Limit: 7}, queued: 7,
			wantOut: []string{"P006 #7", "P007 #8 : left out: over --limit 7", "7 created"}},
		{name: "over 50 asks, and no queues nothing", b: backfill{}, answer: false, asked: 120, wantErr: errDeclined},
		{name: "over 50 asks, and yes queues", b: backfill{}, answer: true, asked: 120, queued: 120},
		{name: "50 or fewer does not ask", b: backfill{Limit: 50}, answer: false, queued: 50},
		{name: "a dry run lists every incident and never asks", b: backfill{DryRun: true}, answer: false,
			wantOut: []string{"[120/120] P119 #120", "120 would be created (dry run: nothing written)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			st := &queueStore{}
			asked := 0
			b := tt.b
			b.Source, b.Router, b.Store, b.Out = incs, routeAll{}, st, &out
			b.Confirm = func(n int) (bool, error) { asked = n; return tt.answer, nil }
			_, err := b.run(context.Background(), since, until)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if asked != tt.asked {
				t.Errorf("asked to confirm %d COEs, want %d", asked, tt.asked)
			}
			if len(st.queued) != tt.queued {
				t.Errorf("queued %d, want %d", len(st.queued), tt.queued)
			}
			for i, id := range st.queued {
				if b.Limit > 0 && id != incs[i].ID {
					t.Errorf("queued %s at %d; a limit keeps the oldest", id, i)
					break
				}
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestBackfillSinceInTheFutureSaysSo(t *testing.T) {
	var out, errOut strings.Builder
	err := run(context.Background(), []string{"backfill", "--since", time.Now().AddDate(0, 0, 2).Format(time.DateOnly)}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "is in the future (--until defaults to now)") {
		t.Errorf("backfill --since in the future: %v", err)
	}
}
