package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/server"
	"github.com/coesync/coesync/sync/store"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func startTestDemo(t *testing.T, o demoOptions) *demoEnv {
	t.Helper()
	if o.log == nil {
		o.log = testLogger(t)
	}
	if o.dbPath == "" {
		o.dbPath = migratedSQLite(t)
	}
	e, err := startDemo(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// sqliteTemplate is a SQLite store migrated once per test binary: a demo
// environment starts from a copy instead of migrating coesync's and
// River's schema again (the migrations are tested on empty stores in
// sync/store and by the tests that pass their own dbPath).
var sqliteTemplate = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "coesync-e2e-template-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "coesync.db")
	_, err = store.MigrateSQLite(context.Background(), path)
	return path, err
})

// Most tests run in parallel: each has its own fakes, store and listener,
// and they spend most of their time waiting on jobs. (More at once than
// go test's default -parallel, one per CPU, made their 15-20 s waits time
// out on a loaded 2-core machine.) Those that call t.Setenv, and those whose
// scenario is a cut-off at a timeout (CPU contention would move the
// moment), run first, one at a time.
func TestMain(m *testing.M) {
	code := m.Run()
	if path, err := sqliteTemplate(); err == nil {
		os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}

// migratedSQLite copies the migrated template into the test's directory.
func migratedSQLite(t *testing.T) string {
	t.Helper()
	from, err := sqliteTemplate()
	if err != nil {
		t.Fatalf("migrate the SQLite template: %v", err)
	}
	// Closing the migrating connection checkpointed the WAL: the main
	// file holds the whole schema.
	if _, err := os.Stat(from + "-wal"); err == nil {
		t.Fatal("SQLite template still has a WAL file")
	}
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(t.TempDir(), "coesync.db")
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return to
}

var sections = []string{"Summary", "Impact", "Timeline", "Metrics", "Incident questions", "Detection", "Diagnosis",
	"Mitigation", "Prevention", "Triggering event", "Five whys", "Root causes", "Contributing factors", "Lessons learned",
	"What went well", "What went wrong", "Where we got lucky", "Action items", "Related items"}

func TestResolvedWebhookCreatesOneCompleteCOE(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{pdFrom: "coesync@example.com"})
	ctx := context.Background()
	base := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	fx := pdtest.RichIncident("PRICH01", base)
	e.PD.AddIncident(fx)

	if code, err := e.SendResolved(ctx, fx, "evt-1"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	c, err := e.WaitCOE(ctx, fx.ID, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	issues := coeTickets(e)
	if len(issues) != 1 {
		t.Fatalf("%d COE tickets in Jira, want 1", len(issues))
	}
	is := issues[0]
	if is.Key != c.TicketKey {
		t.Fatalf("store maps %s to %s, Jira has %s", fx.ID, c.TicketKey, is.Key)
	}
	if want := fmt.Sprintf("COE: %s (PagerDuty #%d)", fx.Title, fx.Number); is.Summary != want {
		t.Errorf("summary = %q, want %q", is.Summary, want)
	}
	if !contains(is.Labels, "coe") || !contains(is.Labels, "pd-incident-prich01") {
		t.Errorf("labels = %v, want coe and the incident label", is.Labels)
	}
	for _, s := range sections {
		if !regexp.MustCompile(`(?m)^h\d\. .*` + regexp.QuoteMeta(s)).MatchString(is.Description) {
			t.Errorf("description has no %q heading", s)
		}
	}
	// One timeline row per log entry, each at its UTC time.
	for _, le := range fx.LogEntries {
		stamp := le.At.UTC().Format("2006-01-02 15:04:05")
		if !strings.Contains(is.Description, "|"+stamp) && !strings.Contains(is.Description, "| "+stamp) {
			t.Errorf("timeline has no row at %s for %s entry", stamp, le.Kind)
		}
	}
	rows := regexp.MustCompile(`(?m)^\| ?\*?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`).FindAllString(timelineSection(is.Description), -1)
	if len(rows) < len(fx.LogEntries) {
		t.Errorf("timeline has %d rows, want at least one per log entry (%d)", len(rows), len(fx.LogEntries))
	}
	tta, ttr := firstAck(fx).Sub(fx.CreatedAt), fx.ResolvedAt.Sub(fx.CreatedAt)
	metrics := section(is.Description, "Metrics")
	for name, d := range map[string]time.Duration{"acknowledge": tta, "resolve": ttr} {
		if !strings.Contains(metrics, formatDurationForTest(d)) {
			t.Errorf("metrics section lacks time to %s %s:\n%s", name, formatDurationForTest(d), metrics)
		}
	}
	if len(is.RemoteLinks) != 1 || is.RemoteLinks[0].GlobalID != engine.GlobalID(fx.ID) {
		t.Errorf("remote links = %+v, want one with the incident's globalId", is.RemoteLinks)
	}
	// The note and the remote link are added side by side; WaitCOE waits
	// for the link.
	waitFor(t, "the note on the incident", 15*time.Second, func() bool {
		c, err := e.App.Store.COE(ctx, fx.ID)
		return err == nil && !c.NotedAt.IsZero()
	})
	notes := e.PD.Notes(fx.ID)
	var ours int
	for _, n := range notes {
		if strings.Contains(n.Content, c.TicketURL) {
			ours++
		}
	}
	if ours != 1 {
		t.Errorf("%d PagerDuty notes link the COE, want 1", ours)
	}
}

func TestDuplicateConcurrentDeliveriesYieldOneCOE(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.SimpleIncident("PDUP01", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	e.PD.AddIncident(fx)
	var wg sync.WaitGroup
	var accepted atomic.Int32
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, err := e.SendResolved(ctx, fx, "evt-dup"); err == nil && code == http.StatusAccepted {
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 5 {
		t.Fatalf("%d of 5 deliveries answered 202", accepted.Load())
	}
	// A different event for the same incident (a second subscription, a
	// re-resolve) must not make a second COE either.
	if code, _ := e.SendResolved(ctx, fx, "evt-other"); code != http.StatusAccepted {
		t.Fatalf("second event: %d", code)
	}
	if _, err := e.WaitCOE(ctx, fx.ID, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let any wrongly queued second job run
	if n := len(e.Jira.Issues()); n != 1 {
		t.Fatalf("%d Jira issues, want 1", n)
	}
	if n := e.Jira.Count(http.MethodPost, "/rest/api/2/issue"); n < 1 {
		t.Fatalf("no create call recorded")
	}
	if n := countExact(e, http.MethodPost, "/rest/api/2/issue"); n != 1 {
		t.Fatalf("%d create calls, want 1", n)
	}
}

// crashingStore fails to record the ticket key once, as if the process
// died between Jira's answer and the commit.
type crashingStore struct {
	engine.COEStore
	crashed atomic.Bool
	onCrash func()
}

func (s *crashingStore) SetCOETicket(ctx context.Context, id, key, tid, url string, at time.Time) error {
	if s.crashed.CompareAndSwap(false, true) {
		s.onCrash()
		return errors.New("simulated crash after Jira create")
	}
	return s.COEStore.SetCOETicket(ctx, id, key, tid, url, at)
}

func TestCrashAfterCreateBeforeMappingYieldsOneCOE(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "coesync.db")
	// Jira's search lags creates by 500ms; coesync trusts an empty search
	// only 2s after its intent, so the retry must wait and then find it.
	o := demoOptions{dbPath: db, searchLag: 500 * time.Millisecond, searchSettle: 2 * time.Second, log: testLogger(t)}
	e := startTestDemo(t, o)
	fx := pdtest.SimpleIncident("PCRASH1", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	e.PD.AddIncident(fx)
	crashed := make(chan struct{})
	e.App.Drafter.Store = &crashingStore{COEStore: e.App.Store, onCrash: func() { close(crashed) }}
	if code, err := e.SendResolved(ctx, fx, "evt-crash"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("the job never reached the create")
	}
	// Restart coesync on the same database, keeping the fakes.
	pd, jira := e.PD, e.Jira
	e.stop()
	<-e.stopped
	e.stop = nil
	e.App.Close()
	if n := len(jira.Issues()); n != 1 {
		t.Fatalf("before restart Jira has %d issues, want the 1 created before the crash", n)
	}
	cfg := demoConfig(pd.URL(), jira.URL, e.GitHub.URL(), db, "")
	app, err := NewApp(ctx, cfg, o.log, appOptions{workers: true, pollInterval: 20 * time.Millisecond,
		searchSettle: o.searchSettle, backoff: func(int) time.Duration { return 100 * time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	e.App = app
	sctx, stop := context.WithCancel(ctx)
	e.stop, e.stopped = stop, make(chan error, 1)
	ln, adminLn := listen(t), listen(t)
	go func() { e.stopped <- app.Serve(sctx, ln, adminLn) }()

	c, err := e.WaitCOE(ctx, fx.ID, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(jira.Issues()); n != 1 {
		t.Fatalf("after restart Jira has %d issues, want 1", n)
	}
	if c.TicketKey != jira.Issues()[0].Key {
		t.Fatalf("store maps to %s, Jira has %s", c.TicketKey, jira.Issues()[0].Key)
	}
	if n := countExact(e, http.MethodPost, "/rest/api/2/issue"); n != 1 {
		t.Fatalf("%d create calls, want 1", n)
	}
	if jira.Count(http.MethodGet, "/rest/api/2/search/jql")+jira.Count(http.MethodPost, "/rest/api/2/search/jql") == 0 {
		t.Fatal("recovery did not search Jira by label")
	}
	if countExact(e, http.MethodGet, "/rest/api/2/search")+countExact(e, http.MethodPost, "/rest/api/2/search") != 0 {
		t.Fatal("the removed /rest/api/2/search was called")
	}
}

func TestWebhookStatusCodes(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.SimpleIncident("PSTAT01", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	valid := pdtest.ResolvedWebhook(fx, "evt-valid")
	other := pdtest.ResolvedWebhook(fx, "evt-other")
	note := []byte(`{"event":{"id":"evt-note","event_type":"incident.annotated","resource_type":"incident","occurred_at":"2026-11-20T08:00:00Z","data":{"type":"incident_note","id":"N1","content":"x","incident":{"id":"PSTAT01","type":"incident_reference"}}}}`)
	big := make([]byte, MaxBodyForTest+1)
	for i := range big {
		big[i] = ' '
	}
	cases := []struct {
		name   string
		method string
		ctype  string
		body   []byte
		sig    string
		want   int
	}{
		{"valid resolved", http.MethodPost, "application/json", valid, pdtest.Sign(demoSecret, valid), 202},
		{"duplicate delivery", http.MethodPost, "application/json", valid, pdtest.Sign(demoSecret, valid), 202},
		{"other event type accepted", http.MethodPost, "application/json", note, pdtest.Sign(demoSecret, note), 202},
		{"rotation: second v1 entry", http.MethodPost, "application/json", other, "v1=00ff, " + pdtest.Sign(demoSecret, other), 202},
		{"missing signature", http.MethodPost, "application/json", valid, "", 401},
		{"wrong secret", http.MethodPost, "application/json", valid, pdtest.Sign("not-the-secret", valid), 401},
		{"signature of another body", http.MethodPost, "application/json", valid, pdtest.Sign(demoSecret, other), 401},
		{"garbage header", http.MethodPost, "application/json", valid, "v1=zz, v2=, ,,,=", 401},
		{"body over 1 MiB", http.MethodPost, "application/json", big, pdtest.Sign(demoSecret, big), 413},
		{"empty body", http.MethodPost, "application/json", nil, pdtest.Sign(demoSecret, nil), 400},
		{"not JSON", http.MethodPost, "application/json", []byte("hello"), pdtest.Sign(demoSecret, []byte("hello")), 400},
		{"JSON, not an envelope", http.MethodPost, "application/json", []byte(`{"messages":[]}`), pdtest.Sign(demoSecret, []byte(`{"messages":[]}`)), 400},
		{"wrong content type", http.MethodPost, "text/plain", valid, pdtest.Sign(demoSecret, valid), 415},
		{"GET", http.MethodGet, "", nil, "", 405},
		{"PUT", http.MethodPut, "application/json", valid, pdtest.Sign(demoSecret, valid), 405},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, tc.method, e.URL+"/webhooks/pagerduty", strings.NewReader(string(tc.body)))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.sig != "" {
				req.Header.Set("X-PagerDuty-Signature", tc.sig)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// Only the accepted deliveries were stored: valid, note, other. (The
	// periodic jobs run on start are not the webhooks' doing.)
	if _, err := e.App.Store.DispatchDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := e.App.Store.JobsOfKind(ctx, "draft_coe")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("%d jobs queued, want 1 (one incident resolved)", len(jobs))
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(e.AdminURL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
		}
	}
	// The webhook listener faces the internet: no incident data there.
	for _, path := range []string{"/", "/report", "/readyz", "/metrics"} {
		resp, err := http.Get(e.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("webhook listener: GET %s = %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestDownstreamFailureNeverAnswers4xx(t *testing.T) {
	t.Parallel()
	// PagerDuty and Jira failing must not turn into a 4xx for the webhook:
	// the event is stored, the job retries until they recover.
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.SimpleIncident("PFAIL01", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	e.PD.AddIncident(fx)
	e.PD.FailNext(2, http.StatusServiceUnavailable, 0)
	e.Jira.FailNext(1, http.StatusTooManyRequests, time.Second)
	if code, err := e.SendResolved(ctx, fx, "evt-fail"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	if _, err := e.WaitCOE(ctx, fx.ID, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := len(e.Jira.Issues()); n != 1 {
		t.Fatalf("%d issues, want 1", n)
	}
}

func TestUnknownIncidentFailsPermanentlyAndIsListed(t *testing.T) {
	t.Parallel()
	e := startTestDemo(t, demoOptions{})
	ctx := context.Background()
	fx := pdtest.SimpleIncident("PGHOST1", time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC))
	// Not added to the fake: PagerDuty answers 404.
	if code, _ := e.SendResolved(ctx, fx, "evt-ghost"); code != http.StatusAccepted {
		t.Fatalf("webhook: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		jobs, err := e.App.Store.Jobs(ctx, "cancelled")
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 {
			if !strings.Contains(jobs[0].LastError, "404") {
				t.Fatalf("failed job's reason %q does not say 404", jobs[0].LastError)
			}
			if n := len(e.Jira.Issues()); n != 0 {
				t.Fatalf("%d Jira issues for an unknown incident", n)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the job for an unknown incident did not fail permanently")
}

// coeTickets are the Jira issues that are not sub-tasks (action items).
func coeTickets(e *demoEnv) []jiratest.Issue {
	var out []jiratest.Issue
	for _, is := range e.Jira.Issues() {
		if is.Parent == "" {
			out = append(out, is)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func countExact(e *demoEnv, method, path string) int {
	n := 0
	for _, r := range e.Jira.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func firstAck(fx pdtest.Incident) time.Time {
	var at time.Time
	for _, le := range fx.LogEntries {
		if le.Kind == "acknowledge" && (at.IsZero() || le.At.Before(at)) {
			at = le.At
		}
	}
	return at
}

// section returns the text under the heading that contains name, up to the
// next heading of any level.
func section(desc, name string) string {
	lines := strings.Split(desc, "\n")
	var out []string
	in := false
	for _, l := range lines {
		if regexp.MustCompile(`^h\d\. `).MatchString(l) {
			if in {
				break
			}
			in = strings.Contains(l, name)
			continue
		}
		if in {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func timelineSection(desc string) string { return section(desc, "Timeline") }

const MaxBodyForTest = server.MaxBody

func formatDurationForTest(d time.Duration) string { return coe.FormatDuration(d) }

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// checkOneCOENote waits for the note step of incident id to finish and,
// at landed (when every note sent has certainly been applied), checks
// that the incident carries exactly one COE note.
func checkOneCOENote(t *testing.T, e *demoEnv, id string, landed time.Time) {
	t.Helper()
	waitFor(t, "the note step to finish", 30*time.Second, func() bool {
		c, err := e.App.Store.COE(context.Background(), id)
		return err == nil && !c.NotedAt.IsZero()
	})
	time.Sleep(time.Until(landed))
	n := 0
	for _, note := range e.PD.Notes(id) {
		if strings.HasPrefix(note.Content, "COE draft ") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d COE notes on the incident, want 1", n)
	}
}

// TestNoteHeldByARateLimitThenCutOffIsNotAddedTwice: PagerDuty refuses the
// note with a 429 and "Retry-After: 2"; the rate gate holds the call and
// sends it again two seconds after the intent was first recorded, and that
// attempt is applied after coesync gave up waiting. The retry's settle
// window must count from the second send: counted from the first, it ends
// before the note lands and the retry adds a second one.
func TestNoteHeldByARateLimitThenCutOffIsNotAddedTwice(t *testing.T) {
	e := startTestDemo(t, demoOptions{pdFrom: "coesync@example.com", edit: func(c *config.Config) { c.HTTPTimeout = 2 * time.Second }})
	ctx := context.Background()
	startJobsDone(t, e)
	notes := func() int { return e.PD.Count(http.MethodPost, "/incidents/PNOTE02/notes") }
	e.PD.FailNext(1, http.StatusTooManyRequests, 2*time.Second, http.MethodPost, "/notes")
	fx := pdtest.SimpleIncident("PNOTE02", time.Now().UTC().Add(-time.Hour).Truncate(time.Second))
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-note2"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	// The gate holds the second attempt for two seconds: make it the one
	// that is applied 1.5s after the client's 2s timeout.
	waitFor(t, "the refused note", 20*time.Second, func() bool { return notes() == 1 })
	refused := time.Now()
	e.PD.SlowNext(1, 3500*time.Millisecond, http.MethodPost, "/notes")
	// Count once the slow note has certainly landed.
	checkOneCOENote(t, e, fx.ID, refused.Add(6*time.Second))
	if f, d := e.PD.Injected(); d.Slow != 1 || f.RateLimited != 1 {
		t.Fatalf("%d slow answers and %d 429s, want 1 each: the scenario did not run", d.Slow, f.RateLimited)
	}
	if got := notes(); got != 2 {
		t.Errorf("%d note requests, want 2 (the refused one and the one cut off)", got)
	}
}

// TestNoteCutOffByTheTimeoutIsNotAddedTwice: PagerDuty applies the note
// with the COE link after coesync gave up waiting for its answer. The
// retry does not see it in its fresh read of the notes yet; it must wait
// for it rather than add a second one.
func TestNoteCutOffByTheTimeoutIsNotAddedTwice(t *testing.T) {
	e := startTestDemo(t, demoOptions{pdFrom: "coesync@example.com", edit: func(c *config.Config) { c.HTTPTimeout = 2 * time.Second }})
	ctx := context.Background()
	// Applied 1.5s after the client gave up (at 2s); the retry comes half
	// a second after the failure and must wait until 4s (twice the
	// timeout) before it trusts the notes it reads.
	e.PD.SlowNext(1, 3500*time.Millisecond, http.MethodPost, "/notes")
	sent := time.Now()
	fx := pdtest.SimpleIncident("PNOTE01", time.Now().UTC().Add(-time.Hour).Truncate(time.Second))
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-note"); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	// Count once the slow note has certainly landed.
	checkOneCOENote(t, e, fx.ID, sent.Add(4*time.Second))
	if _, d := e.PD.Injected(); d.Slow != 1 {
		t.Fatalf("%d slow answers, want 1: the note was not cut off", d.Slow)
	}
	if got := e.PD.Count(http.MethodPost, "/incidents/"+fx.ID+"/notes"); got != 1 {
		t.Errorf("%d note requests, want 1", got)
	}
}
