package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"

	"github.com/coesync/coesync/sync/longtest"
)

// TestMigrateStoreMovesAWorkingDeployment runs a deployment on SQLite
// (the real binary), kills it with webhooks accepted but not yet worked,
// moves its store to PostgreSQL with `coesync migrate-store`, and starts
// it there: the queued work is finished, redelivered webhooks and
// resyncs create no second COE or mirror, new incidents get theirs, and
// action items keep flowing both ways.
func TestMigrateStoreMovesAWorkingDeployment(t *testing.T) {
	longtest.Require(t) // builds the binary and runs it on SQLite, then PostgreSQL
	pgURL := testPostgresDB(t)
	ctx := context.Background()
	bin := buildBinary(t)
	dir := t.TempDir()
	sqlitePath := filepath.Join(dir, "coesync.db")

	pd := pdtest.New(demoPDToken)
	defer pd.Close()
	jira := jiratest.New(jiratest.Options{User: demoJiraUser, Token: demoJiraToken, Transitions: demoWorkflow()})
	defer jira.Close()
	gh := ghtest.New(ghtest.Options{Repos: []string{demoRepo}, Quota: -1})
	defer gh.Close()

	env := func(db string) []string {
		e := []string{
			"COESYNC_DATABASE_URL=" + db,
			"COESYNC_PAGERDUTY_API_URL=" + pd.URL(), "COESYNC_PAGERDUTY_TOKEN=" + demoPDToken,
			"COESYNC_PAGERDUTY_WEBHOOK_SECRETS=" + demoSecret,
			"COESYNC_JIRA_URL=" + jira.URL, "COESYNC_JIRA_USER=" + demoJiraUser, "COESYNC_JIRA_TOKEN=" + demoJiraToken,
			"COESYNC_JIRA_PROJECT=OPS",
			"COESYNC_GITHUB_API_URL=" + gh.URL(), "COESYNC_GITHUB_TOKEN=" + ghtest.DefaultToken, "COESYNC_GITHUB_REPO=" + demoRepo,
			"COESYNC_GITHUB_WEBHOOK_SECRET=" + demoGHSecret, "COESYNC_JIRA_WEBHOOK_SECRET=" + demoJiraHook,
			"COESYNC_WORKERS=4", "COESYNC_RECONCILE_INTERVAL=1h", "COESYNC_RETRY_BACKOFF=100ms", "COESYNC_RETRY_BACKOFF_MAX=1s",
		}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "COESYNC_") {
				e = append(e, kv)
			}
		}
		return e
	}
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{bin: bin, env: env(sqlitePath), addr: addr, admin: admin, out: &syncBuffer{}}
	defer r.kill()
	defer func() {
		if t.Failed() {
			t.Logf("coesync output:\n%s", r.out.String())
		}
	}()
	if err := r.start(ctx); err != nil {
		t.Fatal(err)
	}
	gh.SendWebhooks(r.url()+"/webhooks/github", demoGHSecret)
	jira.SendWebhooks(r.url()+"/webhooks/jira", demoJiraHook)

	at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	var incidents []pdtest.Incident
	add := func(n int) []pdtest.Incident {
		var out []pdtest.Incident
		for range n {
			i := len(incidents)
			id := fmt.Sprintf("PMIG%03d", i)
			fx := pdtest.SimpleIncident(id, at.Add(time.Duration(i)*time.Hour))
			if i%2 == 0 {
				fx = pdtest.RichIncident(id, at.Add(time.Duration(i)*time.Hour))
			}
			pd.AddIncident(fx)
			incidents = append(incidents, fx)
			out = append(out, fx)
		}
		return out
	}
	send := func(fxs []pdtest.Incident) {
		t.Helper()
		client := &http.Client{Timeout: 10 * time.Second}
		for _, fx := range fxs {
			body := pdtest.ResolvedWebhook(fx, "evt-"+fx.ID)
			code, err := postWebhook(ctx, client, r.url()+"/webhooks/pagerduty", body, "X-PagerDuty-Signature", pdtest.Sign(demoSecret, body))
			if err != nil || code != http.StatusAccepted {
				t.Fatalf("webhook for %s: %d, %v", fx.ID, code, err)
			}
		}
	}
	expectedItems := func() int {
		n := 0
		for i := range incidents {
			if i%2 == 0 {
				n += 2
			}
		}
		return n
	}
	converge := func(phase string) trackerCounts {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			c := countTrackers(jira, gh)
			if c.coes == len(incidents) && c.items == expectedItems() && c.mirrored == c.items {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: COEs %d/%d, items %d/%d, mirrored %d", phase, c.coes, len(incidents), c.items, expectedItems(), c.mirrored)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// On SQLite: six incidents worked through, one item closed on GitHub.
	send(add(6))
	converge("on SQLite")
	closeFirstOpen := func() (jiraKey string) {
		t.Helper()
		for _, is := range gh.Issues(demoRepo) {
			if k := actionItemKey(is.Body); k != "" && is.State == "open" {
				if err := gh.CloseIssue(demoRepo, is.Number, "completed"); err != nil {
					t.Fatal(err)
				}
				return k
			}
		}
		t.Fatal("no open action item on GitHub")
		return ""
	}
	waitDone := func(key string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			if is, _ := jira.Issue(key); is.Status == jiratest.StatusDone {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s did not follow its GitHub issue to Done", key)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitDone(closeFirstOpen())

	// Three more accepted, then the process dies before working them:
	// PagerDuty is slow, so the jobs are still queued at the SIGKILL.
	pd.Latency(3 * time.Second)
	send(add(3))
	r.kill()
	pd.Latency(0)

	out, err := exec.Command(bin, "migrate-store", "--from", sqlitePath, "--to", pgURL).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate-store: %v\n%s", err, out)
	}
	t.Logf("migrate-store: %s", out)
	if !strings.Contains(string(out), "queued jobs") {
		t.Fatalf("migrate-store output: %s", out)
	}

	// On PostgreSQL: the queued three are finished, everything is
	// redelivered, two new incidents arrive, another item is closed.
	r.env = env(pgURL)
	if err := r.start(ctx); err != nil {
		t.Fatal(err)
	}
	converge("after the move, the queued work")
	send(incidents)
	send(add(2))
	c := converge("on PostgreSQL")
	waitDone(closeFirstOpen())
	// A redelivered webhook is a no-op; give the queue a moment to prove
	// it created nothing, then count.
	time.Sleep(time.Second)
	c = countTrackers(jira, gh)
	if c.coes != len(incidents) || c.dupCOEs != 0 || c.dupItems != 0 || c.dupIssues != 0 || c.orphans != 0 || c.issues != c.items || c.disagree != 0 {
		t.Fatalf("after the move: %+v for %d incidents", c, len(incidents))
	}
	if n := len(jira.Issues()); n != len(incidents)+expectedItems() {
		t.Fatalf("Jira holds %d issues, want %d COEs and %d items", n, len(incidents), expectedItems())
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}
