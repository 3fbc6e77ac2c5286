package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/connectors/slack/slacktest"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// The chaos run (`coesync chaos`, and TestChaos at a CI size) holds
// coesync to its two promises under the failures it meets in production:
// every selected incident gets exactly one COE and every action item
// exactly one mirror, and nothing it writes or logs carries a secret. It
// runs the real binary (`coesync serve`, one or several replicas) against
// the fakes, which fail, rate-limit, stall and drop connections, kills the
// processes with SIGKILL at random moments, and then counts what the
// trackers hold.

// chaosOptions sizes and shapes a chaos run.
type chaosOptions struct {
	Incidents int
	// DupRate is the share of incidents delivered more than once: half of
	// them as the same event again (PagerDuty's retry), half as another
	// event of the same incident (a second subscription).
	DupRate float64
	// Kills is the number of SIGKILLs, each followed by a restart.
	Kills int
	// Replicas run `coesync serve` side by side; more than one needs
	// PostgreSQL (DatabaseURL).
	Replicas int
	// KillForGood is the number of replicas killed mid-run and left dead.
	KillForGood int
	// DatabaseURL is a PostgreSQL URL; empty means a SQLite file.
	DatabaseURL string
	// Fault rates of every fake, per request.
	P5xx, P429, PSlow, PDropBefore, PDropAfter float64
	// SearchLag is how long the Jira fake's search lags behind a create;
	// SearchSettle is the replicas' COESYNC_JIRA_SEARCH_SETTLE.
	SearchLag, SearchSettle time.Duration
	// RichEvery: every n-th incident carries two action items.
	RichEvery int
	// CloseRate is the share of GitHub issues closed while the run goes on.
	CloseRate float64
	// ReconcileInterval of the replicas; 0 leaves reconcile to the end of
	// the run (one pass, queued by the run).
	ReconcileInterval time.Duration
	Seed              int64
	Binary            string
	Timeout           time.Duration
	// Progress receives one line per phase; nil is silent.
	Progress io.Writer
}

func defaultChaosOptions() chaosOptions {
	return chaosOptions{Incidents: 500, DupRate: 0.30, Kills: 5, Replicas: 1,
		P5xx: 0.10, P429: 0.05, PSlow: 0.02, PDropBefore: 0.01, PDropAfter: 0.01,
		RichEvery: 4, CloseRate: 0.3, Seed: 1, Timeout: 15 * time.Minute,
		SearchLag: 300 * time.Millisecond, SearchSettle: 3 * time.Second}
}

// chaosResult is what a chaos run counted.
type chaosResult struct {
	Incidents, Deliveries, Accepted, Kills int
	// Faults injected by the fakes, by kind (all three fakes together).
	Faults5xx, Faults429, Slow, DroppedBefore, DroppedAfter int
	COEs, DuplicateCOEs, MissingCOEs                        int
	ActionItems, ExpectedItems, DuplicateItems              int
	GitHubIssues, DuplicateIssues, OrphanIssues             int
	ClosedOnGitHub, LostWebhooks                            int
	DisagreementsBefore, Disagreements                      int
	// ReconcilePeriodic are the periodic passes (before the final one).
	ReconcilePeriodic int
	// DuplicateNotes are second "COE draft" notes on an incident.
	DuplicateNotes int
	// LostAtEnd are closes whose webhook was lost after the run settled.
	LostAtEnd                          int
	ReconcilePeriods, ReconcileRepeats int
	ReportDeliveries                   int
	SecretLeaks                        []string
	ScannedBytes                       int
	Converged, Elapsed                 time.Duration
	// LastCOEAfterDelivery is the time from the last delivery accepted to
	// the last COE created in Jira (negative: every COE was there first).
	LastCOEAfterDelivery time.Duration
	Problems             []string
}

// OK reports whether every promise held.
func (r chaosResult) OK() bool { return len(r.Problems) == 0 }

// Secrets of a chaos run: distinctive values so that a scan of every
// output finds any leak.
const (
	chaosPDToken    = "chaos-pd-token-5f1e9b7c"
	chaosPDSecret   = "chaos-pd-webhook-secret-a83d"
	chaosJiraToken  = "chaos-jira-token-0c4471ee"
	chaosGHToken    = "ghp_chaosGitHubToken9d2b61f0"
	chaosGHSecret   = "chaos-gh-webhook-secret-77aa"
	chaosJiraSecret = "chaos-jira-webhook-secret-b5c2"
	chaosDBPassword = "chaos-db-password-31f9"
	// chaosPDFrom is not a secret: the note's From, a user of the account.
	chaosPDFrom = "coesync@example.com"
)

// chaosCOEBound is the promise on recovery: under the default faults every
// COE is in Jira within this long of the last delivery.
const chaosCOEBound = 60 * time.Second

var chaosSecrets = []string{chaosPDToken, chaosPDSecret, chaosJiraToken, chaosGHToken, chaosGHSecret, chaosJiraSecret, chaosDBPassword}

// syncBuffer is an io.Writer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// replica is one `coesync serve` process slot: it keeps its address
// across restarts, and the output of every incarnation.
type replica struct {
	bin  string
	env  []string
	addr string
	// admin is the admin listener's address (/readyz, /metrics, /report).
	admin string
	out   *syncBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan error
	dead atomic.Bool // killed for good
}

func (r *replica) url() string { return "http://" + r.addr }

// adminURL is the base URL of the replica's admin listener.
func (r *replica) adminURL() string { return "http://" + r.admin }

func (r *replica) start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := exec.Command(r.bin, "serve")
	cmd.Env = append(cmd.Env, r.env...)
	cmd.Env = append(cmd.Env, "COESYNC_LISTEN_ADDR="+r.addr, "COESYNC_ADMIN_LISTEN_ADDR="+r.admin)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	r.cmd, r.done = cmd, done
	return r.waitReady(ctx, done)
}

func (r *replica) waitReady(ctx context.Context, done chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(r.adminURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("replica %s exited before it was ready: %v", r.addr, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not ready after 30s", r.addr)
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *replica) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	r.cmd = nil
}

// stop sends SIGTERM and waits up to 40s, then kills.
func (r *replica) stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return nil
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	defer func() { r.cmd = nil }()
	select {
	case err := <-r.done:
		return err
	case <-time.After(40 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		return errors.New("did not exit within 40s of SIGTERM")
	}
}

func (r *replica) alive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// runChaos runs one chaos scenario and counts the outcome.
func runChaos(ctx context.Context, o chaosOptions) (res chaosResult, err error) {
	start := time.Now()
	var progressMu sync.Mutex // the killer reports too
	progress := func(format string, args ...any) {
		progressMu.Lock()
		defer progressMu.Unlock()
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		}
	}
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	if o.Replicas > 1 && o.DatabaseURL == "" {
		return res, errors.New("chaos: several replicas need PostgreSQL (--database-url)")
	}
	if o.KillForGood >= o.Replicas {
		return res, errors.New("chaos: at least one replica must survive")
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	rng := rand.New(rand.NewSource(o.Seed))

	// The fakes, failing as configured.
	pd := pdtest.New(chaosPDToken)
	defer pd.Close()
	addBot(pd, chaosPDFrom)
	jira := jiratest.New(jiratest.Options{User: demoJiraUser, Token: chaosJiraToken, Transitions: demoWorkflow(), SearchLag: o.SearchLag})
	defer jira.Close()
	gh := ghtest.New(ghtest.Options{Token: chaosGHToken, Repos: []string{demoRepo}, Quota: -1})
	defer gh.Close()
	slack := slacktest.New()
	defer slack.Close()
	const clientTimeout = time.Second
	faultsOn := func(on bool) {
		p5, p429, ps, pb, pa := o.P5xx, o.P429, o.PSlow, o.PDropBefore, o.PDropAfter
		if !on {
			p5, p429, ps, pb, pa = 0, 0, 0, 0, 0
		}
		pd.SetFaultRate(p5, p429, o.Seed+1)
		jira.SetFaultRate(p5, p429, o.Seed+2)
		gh.SetFaultRate(p5, p429, o.Seed+3)
		slow := clientTimeout + clientTimeout/2
		pd.Disrupt(ps, slow, pb, pa, o.Seed+4)
		jira.Disrupt(ps, slow, pb, pa, o.Seed+5)
		gh.Disrupt(ps, slow, pb, pa, o.Seed+6)
	}

	dir, err := os.MkdirTemp("", "coesync-chaos-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	dbURL := o.DatabaseURL
	if dbURL == "" {
		dbURL = filepath.Join(dir, "coesync.db")
	}
	reportDir := filepath.Join(dir, "reports")
	reconcile := o.ReconcileInterval
	if reconcile <= 0 {
		reconcile = time.Hour // the run queues its own pass at the end
	}
	env := []string{
		"COESYNC_DATABASE_URL=" + dbURL,
		"COESYNC_PAGERDUTY_API_URL=" + pd.URL(),
		"COESYNC_PAGERDUTY_TOKEN=" + chaosPDToken,
		"COESYNC_PAGERDUTY_WEBHOOK_SECRETS=" + chaosPDSecret,
		"COESYNC_PAGERDUTY_FROM=" + chaosPDFrom,
		"COESYNC_JIRA_URL=" + jira.URL,
		"COESYNC_JIRA_USER=" + demoJiraUser,
		"COESYNC_JIRA_TOKEN=" + chaosJiraToken,
		"COESYNC_JIRA_PROJECT=OPS",
		"COESYNC_GITHUB_API_URL=" + gh.URL(),
		"COESYNC_GITHUB_TOKEN=" + chaosGHToken,
		"COESYNC_GITHUB_REPO=" + demoRepo,
		"COESYNC_GITHUB_WEBHOOK_SECRET=" + chaosGHSecret,
		"COESYNC_JIRA_WEBHOOK_SECRET=" + chaosJiraSecret,
		"COESYNC_WORKERS=8",
		// A replica killed for good leaves its running jobs to be
		// rescued by another one after the job timeout (plus 30s).
		"COESYNC_JOB_TIMEOUT=30s",
		"COESYNC_HTTP_TIMEOUT=" + clientTimeout.String(),
		// A create cut off by a drop or a timeout waits at most this long
		// for Jira's search (o.SearchLag behind) before it trusts an empty one.
		"COESYNC_JIRA_SEARCH_SETTLE=" + o.SearchSettle.String(),
		"COESYNC_RETRY_BACKOFF=200ms",
		"COESYNC_RETRY_BACKOFF_MAX=5s",
		"COESYNC_RECONCILE_INTERVAL=" + reconcile.String(),
		"COESYNC_REPORT_DIR=" + reportDir,
		"COESYNC_REPORT_SLACK_WEBHOOK_URL=" + slack.URL(),
		"COESYNC_REPORT_SCHEDULE=* * * * *",
		"COESYNC_LOG_LEVEL=debug",
		"COESYNC_LOG_FORMAT=json",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COESYNC_") {
			env = append(env, kv)
		}
	}
	bin := o.Binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return res, err
		}
	}
	replicas := make([]*replica, o.Replicas)
	for i := range replicas {
		addr, err := freePort()
		if err != nil {
			return res, err
		}
		admin, err := freePort()
		if err != nil {
			return res, err
		}
		replicas[i] = &replica{bin: bin, env: env, addr: addr, admin: admin, out: &syncBuffer{}}
	}
	defer func() {
		for _, r := range replicas {
			r.kill()
		}
	}()
	// The first replica migrates the database; the others start after it.
	if err := replicas[0].start(ctx); err != nil {
		return res, fmt.Errorf("%w\n%s", err, replicas[0].out.String())
	}
	for _, r := range replicas[1:] {
		if err := r.start(ctx); err != nil {
			return res, fmt.Errorf("%w\n%s", err, r.out.String())
		}
	}
	// GitHub and Jira send their webhooks to the first replica; while it
	// is down they are lost, as GitHub's are: reconcile repairs that.
	gh.SendWebhooks(replicas[0].url()+"/webhooks/github", chaosGHSecret)
	jira.SendWebhooks(replicas[0].url()+"/webhooks/jira", chaosJiraSecret)
	faultsOn(true)
	progress("%d replica(s) of coesync serve up on %s; faults on: %.0f%% 5xx, %.0f%% 429, %.0f%% slow (> %s timeout), %.0f%%+%.0f%% dropped",
		o.Replicas, map[bool]string{true: "PostgreSQL", false: "SQLite"}[o.DatabaseURL != ""],
		o.P5xx*100, o.P429*100, o.PSlow*100, clientTimeout, o.PDropBefore*100, o.PDropAfter*100)

	// The incidents, and the deliveries of their webhooks, shuffled.
	base := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	incidents := make([]pdtest.Incident, o.Incidents)
	type delivery struct {
		fx    pdtest.Incident
		event string
		// replica is the one it is sent to first: a duplicate goes to
		// another replica than its original.
		replica int
	}
	var deliveries []delivery
	for i := range incidents {
		id := fmt.Sprintf("PCH%05d", i)
		at := base.Add(time.Duration(i) * time.Minute)
		if o.RichEvery > 0 && i%o.RichEvery == 0 {
			incidents[i] = pdtest.RichIncident(id, at)
			res.ExpectedItems += 2
		} else {
			incidents[i] = pdtest.SimpleIncident(id, at)
		}
		pd.AddIncident(incidents[i])
		first := rng.Intn(o.Replicas)
		deliveries = append(deliveries, delivery{incidents[i], "evt-" + id, first})
		if rng.Float64() < o.DupRate {
			other := (first + 1) % o.Replicas
			if rng.Intn(2) == 0 {
				deliveries = append(deliveries, delivery{incidents[i], "evt-" + id, other})
			} else {
				deliveries = append(deliveries, delivery{incidents[i], "evt-" + id + "-again", other})
			}
		}
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	res.Incidents, res.Deliveries = len(incidents), len(deliveries)

	// The killer: SIGKILL at random moments, then a restart; the replicas
	// killed for good stay down.
	var kills atomic.Int32
	killerDone := make(chan error, 1)
	go func() {
		krng := rand.New(rand.NewSource(o.Seed + 7))
		for k := 0; k < o.Kills+o.KillForGood; k++ {
			select {
			case <-ctx.Done():
				killerDone <- ctx.Err()
				return
			case <-time.After(time.Duration(500+krng.Intn(2500)) * time.Millisecond):
			}
			forGood := k >= o.Kills
			var r *replica
			if forGood {
				r = replicas[len(replicas)-1-(k-o.Kills)]
			} else {
				alive := []*replica{}
				for i, r := range replicas {
					if !r.dead.Load() && i < len(replicas)-o.KillForGood {
						alive = append(alive, r)
					}
				}
				r = alive[krng.Intn(len(alive))]
			}
			r.kill()
			kills.Add(1)
			if forGood {
				r.dead.Store(true)
				progress("SIGKILL %s, left dead", r.addr)
				continue
			}
			progress("SIGKILL %s (%d of %d), restarting", r.addr, k+1, o.Kills)
			time.Sleep(time.Duration(50+krng.Intn(300)) * time.Millisecond)
			if err := r.start(ctx); err != nil {
				killerDone <- fmt.Errorf("restart %s: %w", r.addr, err)
				return
			}
		}
		killerDone <- nil
	}()

	// The sender: PagerDuty's delivery, retried until it is accepted, to
	// any live replica (a load balancer); duplicates go elsewhere.
	var accepted atomic.Int32
	var lastAccepted atomic.Int64 // UnixNano of the last delivery accepted
	sendErr := make(chan error, 1)
	go func() {
		client := &http.Client{Timeout: 10 * time.Second}
		var next atomic.Int32
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for w := 0; w < 16; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(deliveries) {
						return
					}
					d := deliveries[i]
					body := pdtest.ResolvedWebhook(d.fx, d.event)
					sig := pdtest.Sign(chaosPDSecret, body)
					for try := 0; ; try++ {
						r := replicas[(d.replica+try)%len(replicas)]
						if r.dead.Load() {
							continue
						}
						code, err := postWebhook(ctx, client, r.url()+"/webhooks/pagerduty", body, "X-PagerDuty-Signature", sig)
						if err == nil && code/100 == 2 {
							accepted.Add(1)
							storeMax(&lastAccepted, time.Now().UnixNano())
							break
						}
						if err == nil && code/100 == 4 && code != http.StatusTooManyRequests {
							firstErr.CompareAndSwap(nil, fmt.Errorf("delivery %s answered %d", d.event, code))
							break
						}
						if ctx.Err() != nil {
							firstErr.CompareAndSwap(nil, ctx.Err())
							return
						}
						time.Sleep(time.Duration(50+rand.Intn(150)) * time.Millisecond)
					}
				}
			}(w)
		}
		wg.Wait()
		if e, _ := firstErr.Load().(error); e != nil {
			sendErr <- e
			return
		}
		sendErr <- nil
	}()

	// The closer: people close some action items on GitHub while the run
	// goes on; the webhook may land on a dead replica and be lost.
	closed := map[int]bool{}
	seen := map[int]bool{}
	closer := func() {
		for _, is := range gh.Issues(demoRepo) {
			if seen[is.Number] || actionItemKey(is.Body) == "" {
				continue
			}
			seen[is.Number] = true
			if rng.Float64() < o.CloseRate {
				// Every other close loses its webhook, as GitHub's are
				// lost for good when the receiver is down: only reconcile
				// can bring those to Jira.
				lose := len(closed)%2 == 1
				gh.DropWebhooks(lose)
				if err := gh.CloseIssue(demoRepo, is.Number, "completed"); err == nil {
					closed[is.Number] = true
					if lose {
						res.LostWebhooks++
					}
				}
				gh.DropWebhooks(false)
			}
		}
	}

	if err := <-sendErr; err != nil {
		return res, fmt.Errorf("chaos: sending webhooks: %w", err)
	}
	res.Accepted = int(accepted.Load())
	progress("%d deliveries of %d incidents accepted", res.Accepted, res.Incidents)

	// Wait until the trackers hold every COE and every mirror, the kills
	// are done and the queue is empty.
	cfg := chaosStoreConfig(dbURL)
	st, err := openStore(ctx, cfg, store.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return res, fmt.Errorf("chaos: open store: %w", err)
	}
	defer st.Close()
	killerFinished := false
	var lastLine time.Time
	for {
		closer()
		if !killerFinished {
			select {
			case err := <-killerDone:
				if err != nil {
					return res, err
				}
				killerFinished = true
				progress("%d kills done", kills.Load())
			default:
			}
		}
		c := countTrackers(jira, gh)
		pending, err := pendingJobs(ctx, st)
		if err != nil && ctx.Err() == nil {
			// The store may be briefly unreachable while a replica restarts.
			pending = -1
		}
		done := killerFinished && c.coes == res.Incidents && c.items == res.ExpectedItems && c.mirrored == c.items && pending == 0
		if time.Since(lastLine) > 5*time.Second || done {
			progress("COEs %d/%d, action items %d/%d, mirrored %d, jobs pending %d", c.coes, res.Incidents, c.items, res.ExpectedItems, c.mirrored, pending)
			lastLine = time.Now()
		}
		if done {
			break
		}
		if ctx.Err() != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("did not converge within %s", o.Timeout))
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	res.Converged = time.Since(start)
	res.LastCOEAfterDelivery = lastCOECreated(jira).Sub(time.Unix(0, lastAccepted.Load()))
	res.Kills = int(kills.Load())

	// One reconcile pass with the faults off repairs what lost webhooks
	// left out of step; then Jira and GitHub must agree on every item.
	faultsOn(false)
	// Most webhooks lost during the run were repaired by later syncs of
	// the same items; these last closes lose theirs with nothing else to
	// come, so only the reconcile pass can bring them to Jira.
	gh.DropWebhooks(true)
	for _, is := range gh.Issues(demoRepo) {
		if res.LostAtEnd == 5 {
			break
		}
		if actionItemKey(is.Body) != "" && is.State == "open" {
			if err := gh.CloseIssue(demoRepo, is.Number, "completed"); err == nil {
				closed[is.Number] = true
				res.LostWebhooks++
				res.LostAtEnd++
			}
		}
	}
	gh.DropWebhooks(false)
	res.DisagreementsBefore = countTrackers(jira, gh).disagree
	reconcilesBefore, _ := completedJobs(context.WithoutCancel(ctx), st, "reconcile")
	finalQueued := time.Now()
	if ctx.Err() == nil {
		if err := st.Enqueue(ctx, store.Job{Args: engine.ReconcileArgs{}}); err != nil {
			return res, fmt.Errorf("chaos: queue reconcile: %w", err)
		}
		for {
			n, err := completedJobs(ctx, st, "reconcile")
			pending, perr := pendingJobs(ctx, st)
			if err == nil && perr == nil && n > reconcilesBefore && pending == 0 {
				break
			}
			if ctx.Err() != nil {
				res.Problems = append(res.Problems, "the final reconcile did not finish")
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if jobs, err := st.JobsOfKind(context.WithoutCancel(ctx), "reconcile", "completed"); err == nil {
		// Periodic passes (those created before the final one was queued)
		// may not share an interval.
		perPeriod := map[time.Time]int{}
		for _, j := range jobs {
			if o.ReconcileInterval > 0 && j.CreatedAt.Before(finalQueued) {
				perPeriod[j.CreatedAt.Truncate(o.ReconcileInterval)]++
			}
		}
		for _, n := range perPeriod {
			res.ReconcilePeriods++
			res.ReconcilePeriodic += n
			if n > 1 {
				res.ReconcileRepeats += n - 1
			}
		}
	}
	res.ClosedOnGitHub = len(closed)

	// Count.
	counts := countTrackers(jira, gh)
	res.COEs, res.DuplicateCOEs, res.MissingCOEs = counts.coes, counts.dupCOEs, res.Incidents-counts.coes
	res.ActionItems, res.DuplicateItems = counts.items, counts.dupItems
	res.GitHubIssues, res.DuplicateIssues, res.OrphanIssues = counts.issues, counts.dupIssues, counts.orphans
	res.Disagreements = counts.disagree
	for _, fx := range incidents {
		n := 0
		for _, note := range pd.Notes(fx.ID) {
			if strings.HasPrefix(note.Content, "COE draft ") {
				n++
			}
		}
		if n > 1 {
			res.DuplicateNotes += n - 1
		}
	}
	pf, pdd := pd.Injected()
	jf, jd := jira.Injected()
	gf, gd := gh.Injected()
	res.Faults5xx = pf.Server + jf.Server + gf.Server
	res.Faults429 = pf.RateLimited + jf.RateLimited + gf.RateLimited
	res.Slow = pdd.Slow + jd.Slow + gd.Slow
	res.DroppedBefore = pdd.DroppedBefore + jd.DroppedBefore + gd.DroppedBefore
	res.DroppedAfter = pdd.DroppedAfter + jd.DroppedAfter + gd.DroppedAfter

	// Everything coesync shows or writes, scanned for the secrets.
	var outputs bytes.Buffer
	for _, r := range replicas {
		if !r.alive() {
			continue
		}
		for _, path := range []string{"/metrics", "/report", "/", "/healthz", "/readyz"} {
			if b, err := httpGet(r.adminURL() + path); err == nil {
				outputs.Write(b)
			}
		}
	}
	statusCmd := exec.CommandContext(context.WithoutCancel(ctx), bin, "status", "--all")
	statusCmd.Env = append(append([]string{}, env...), "COESYNC_LISTEN_ADDR=127.0.0.1:0")
	if b, err := statusCmd.CombinedOutput(); err == nil {
		outputs.Write(b)
	} else {
		res.Problems = append(res.Problems, fmt.Sprintf("coesync status: %v: %s", err, b))
	}
	for _, r := range replicas {
		if err := r.stop(); err != nil && !r.dead.Load() {
			res.Problems = append(res.Problems, fmt.Sprintf("replica %s: SIGTERM: %v", r.addr, err))
		}
		outputs.WriteString(r.out.String())
	}
	// The report is due once per weekly period, cluster-wide, however
	// often its schedule fires and however many replicas restart.
	res.ReportDeliveries = len(slack.Posts())
	for _, p := range slack.Posts() {
		outputs.Write(p)
	}
	if files, err := filepath.Glob(filepath.Join(reportDir, "*")); err == nil {
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				outputs.Write(b)
			}
		}
	}
	// What coesync wrote into the trackers is output too.
	for _, is := range jira.Issues() {
		outputs.WriteString(is.Description)
		for _, c := range is.Comments {
			outputs.WriteString(c.Body)
		}
	}
	for _, is := range gh.Issues(demoRepo) {
		outputs.WriteString(is.Title + is.Body)
		for _, c := range is.Comments {
			outputs.WriteString(c.Body)
		}
	}
	res.ScannedBytes = outputs.Len()
	secrets := append(chaosSecrets[:len(chaosSecrets):len(chaosSecrets)], slack.URL())
	if u, err := url.Parse(o.DatabaseURL); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p)
		}
	}
	res.SecretLeaks = scanSecrets(outputs.Bytes(), secrets)

	// The promises.
	check := func(ok bool, format string, args ...any) {
		if !ok {
			res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		}
	}
	check(res.Accepted == res.Deliveries, "%d of %d deliveries accepted", res.Accepted, res.Deliveries)
	check(res.COEs == res.Incidents, "%d COEs for %d incidents", res.COEs, res.Incidents)
	check(res.DuplicateCOEs == 0, "%d duplicate COEs", res.DuplicateCOEs)
	check(res.ActionItems == res.ExpectedItems, "%d action items, want %d", res.ActionItems, res.ExpectedItems)
	check(res.DuplicateItems == 0, "%d duplicate action items", res.DuplicateItems)
	check(res.GitHubIssues == res.ActionItems, "%d GitHub issues for %d action items", res.GitHubIssues, res.ActionItems)
	check(res.DuplicateNotes == 0, "%d duplicate COE notes on PagerDuty incidents", res.DuplicateNotes)
	check(res.DuplicateIssues == 0, "%d duplicate GitHub issues", res.DuplicateIssues)
	check(res.OrphanIssues == 0, "%d GitHub issues without an action item", res.OrphanIssues)
	check(res.DisagreementsBefore >= res.LostAtEnd && res.LostAtEnd > 0, "%d items out of step before the reconcile, %d closes lost at the end: the run did not test reconcile", res.DisagreementsBefore, res.LostAtEnd)
	check(res.Disagreements == 0, "%d action items disagree between Jira and GitHub after one reconcile", res.Disagreements)
	check(res.Kills == o.Kills+o.KillForGood, "%d kills, want %d", res.Kills, o.Kills+o.KillForGood)
	check(res.ReconcileRepeats == 0, "%d extra reconcile passes in an interval already covered", res.ReconcileRepeats)
	check(res.ReportDeliveries == 1, "the weekly report was delivered %d times, want once", res.ReportDeliveries)
	check(len(res.SecretLeaks) == 0, "secrets leaked: %v", res.SecretLeaks)
	res.Elapsed = time.Since(start)
	return res, nil
}

// chaosStoreConfig is the configuration the run reads the store with.
func chaosStoreConfig(dbURL string) config.Config {
	c := config.Defaults()
	c.DatabaseURL = config.DSN(dbURL)
	c.AutoMigrate = false
	return c
}

func postWebhook(ctx context.Context, client *http.Client, url string, body []byte, header, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(header, sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func httpGet(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

var actionItemMarker = regexp.MustCompile(`<!-- coesync:action-item:([A-Z][A-Z0-9_]*-[0-9]+) -->`)

func actionItemKey(body string) string {
	if m := actionItemMarker.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

type trackerCounts struct {
	coes, dupCOEs             int
	items, dupItems, mirrored int
	issues, dupIssues         int
	orphans, disagree         int
}

// countTrackers counts what Jira and GitHub hold: COE tickets per
// incident label, sub-tasks per COE and title, GitHub issues per action
// item marker, and items whose open/closed state differs.
// storeMax sets v to n if n is larger.
func storeMax(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}

// lastCOECreated is when Jira created the newest COE ticket.
func lastCOECreated(jira *jiratest.Server) time.Time {
	var last time.Time
	for _, is := range jira.Issues() {
		if is.Parent == "" && slices.ContainsFunc(is.Labels, func(l string) bool { return strings.HasPrefix(l, "pd-incident-") }) && is.Created.After(last) {
			last = is.Created
		}
	}
	return last
}

func countTrackers(jira *jiratest.Server, gh *ghtest.Server) trackerCounts {
	var c trackerCounts
	perIncident := map[string]int{}
	perItem := map[string]int{} // parent + summary
	subtasks := map[string]jiratest.Issue{}
	for _, is := range jira.Issues() {
		if is.Parent == "" {
			for _, l := range is.Labels {
				if strings.HasPrefix(l, "pd-incident-") {
					perIncident[l]++
				}
			}
			continue
		}
		subtasks[is.Key] = is
		perItem[is.Parent+"\x00"+is.Summary]++
	}
	c.coes = len(perIncident)
	for _, n := range perIncident {
		c.dupCOEs += n - 1
	}
	c.items = len(perItem)
	for _, n := range perItem {
		c.dupItems += n - 1
	}
	perKey := map[string][]ghtest.Issue{}
	for _, is := range gh.Issues(demoRepo) {
		if k := actionItemKey(is.Body); k != "" {
			perKey[k] = append(perKey[k], is)
		}
	}
	for k, list := range perKey {
		c.issues++
		c.dupIssues += len(list) - 1
		st, ok := subtasks[k]
		if !ok {
			c.orphans++
			continue
		}
		c.mirrored++
		if (st.Status == jiratest.StatusDone) != (list[0].State == "closed") {
			c.disagree++
		}
	}
	return c
}

// pendingJobs counts queued work that is due: periodic jobs scheduled for
// later do not count.
func pendingJobs(ctx context.Context, st store.Store) (int, error) {
	jobs, err := st.Jobs(ctx, "available", "running", "retryable", "scheduled", "pending")
	if err != nil {
		return 0, err
	}
	n := 0
	soon := time.Now().Add(30 * time.Second)
	for _, j := range jobs {
		if (j.State == "scheduled" || j.State == "retryable") && j.ScheduledAt.After(soon) {
			continue
		}
		n++
	}
	return n, nil
}

func completedJobs(ctx context.Context, st store.Store, kind string) (int, error) {
	jobs, err := st.JobsOfKind(ctx, kind, "completed")
	return len(jobs), err
}

// scanSecrets returns the secrets found in out, also in the forms a leak
// takes in URLs and JSON (escaped, percent-encoded).
func scanSecrets(out []byte, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		forms := []string{s, strconv.Quote(s)[1 : len(strconv.Quote(s))-1]}
		for _, f := range forms {
			if bytes.Contains(out, []byte(f)) {
				found = append(found, s)
				break
			}
		}
	}
	return found
}

// printChaos writes the figures table.
func printChaos(w io.Writer, o chaosOptions, r chaosResult) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v any, want string) { fmt.Fprintf(tw, "%s\t%v\t%s\t\n", name, v, want) }
	fmt.Fprintf(tw, "figure\tvalue\tpromise\t\n")
	row("replicas", o.Replicas, map[bool]string{true: "PostgreSQL", false: "SQLite"}[o.DatabaseURL != ""])
	row("incidents sent", r.Incidents, "")
	row("webhook deliveries", r.Deliveries, fmt.Sprintf("%.0f%% duplicates, shuffled", o.DupRate*100))
	row("deliveries accepted", r.Accepted, "all, retried as PagerDuty does")
	row("SIGKILLs", r.Kills, fmt.Sprintf("%d restarted, %d left dead", o.Kills, o.KillForGood))
	row("faults: 5xx", r.Faults5xx, fmt.Sprintf("%.0f%% of calls", o.P5xx*100))
	row("faults: 429 + Retry-After", r.Faults429, fmt.Sprintf("%.0f%% of calls", o.P429*100))
	row("faults: slower than the timeout", r.Slow, fmt.Sprintf("%.0f%% of calls", o.PSlow*100))
	row("faults: connection dropped before", r.DroppedBefore, fmt.Sprintf("%.0f%% of calls", o.PDropBefore*100))
	row("faults: dropped after applying", r.DroppedAfter, fmt.Sprintf("%.0f%% of calls", o.PDropAfter*100))
	row("COEs created", r.COEs, fmt.Sprintf("= %d unique incidents", r.Incidents))
	row("duplicate COEs", r.DuplicateCOEs, "0")
	row("action items (Jira sub-tasks)", r.ActionItems, fmt.Sprintf("= %d proposed", r.ExpectedItems))
	row("duplicate action items", r.DuplicateItems, "0")
	row("duplicate COE notes on incidents", r.DuplicateNotes, "0")
	row("GitHub issues", r.GitHubIssues, "= action items")
	row("duplicate GitHub issues", r.DuplicateIssues, "0")
	row("GitHub issues closed during the run", r.ClosedOnGitHub, "")
	row("closes whose webhook was lost", r.LostWebhooks, "GitHub does not redeliver")
	row("items out of step before reconcile", r.DisagreementsBefore, "")
	row("disagreements after one reconcile", r.Disagreements, "0")
	if o.ReconcileInterval > 0 {
		row("periodic reconcile passes", r.ReconcilePeriodic, fmt.Sprintf("at most one per %s interval (%d intervals had one)", o.ReconcileInterval, r.ReconcilePeriods))
	}
	row("weekly report deliveries", r.ReportDeliveries, "1 per period, cluster-wide")
	row("secrets found in outputs", len(r.SecretLeaks), fmt.Sprintf("0 (%d KiB scanned)", r.ScannedBytes/1024))
	row("converged after", r.Converged.Round(100*time.Millisecond), "")
	row("last COE after the last delivery", r.LastCOEAfterDelivery.Round(100*time.Millisecond),
		fmt.Sprintf("<= %s (Jira search %s behind, settle <= %s)", chaosCOEBound, o.SearchLag, o.SearchSettle))
	fmt.Fprintf(tw, "result\t%s\t\t\n", map[bool]string{true: "PASS", false: "FAIL"}[r.OK()])
	tw.Flush()
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  FAIL: %s\n", p)
	}
}

func runChaosCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := defaultChaosOptions()
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.Incidents, "incidents", o.Incidents, "resolved incidents to send")
	fs.Float64Var(&o.DupRate, "duplicates", o.DupRate, "share of incidents delivered twice")
	fs.IntVar(&o.Kills, "kills", o.Kills, "SIGKILLs (each followed by a restart)")
	fs.IntVar(&o.Replicas, "replicas", o.Replicas, "coesync serve processes (more than one needs --database-url)")
	fs.IntVar(&o.KillForGood, "kill-for-good", o.KillForGood, "replicas killed mid-run and not restarted")
	fs.StringVar(&o.DatabaseURL, "database-url", "", "a PostgreSQL server URL: the run creates a fresh database there (and drops it); empty: a SQLite file")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed")
	fs.DurationVar(&o.ReconcileInterval, "reconcile-interval", 0, "periodic reconcile of the replicas (0: one pass at the end only)")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after")
	fs.Float64Var(&o.P5xx, "p5xx", o.P5xx, "share of calls to each fake answered with a 500")
	fs.Float64Var(&o.P429, "p429", o.P429, "share of calls to each fake answered with a 429 and Retry-After")
	fs.DurationVar(&o.SearchLag, "search-lag", o.SearchLag, "how long the Jira fake's search lags behind a create")
	fs.DurationVar(&o.SearchSettle, "search-settle", o.SearchSettle, "COESYNC_JIRA_SEARCH_SETTLE of the replicas")
	quiet := fs.Bool("q", false, "no progress lines")
	if err := fs.Parse(args); err != nil {
		return &exitError{2, err}
	}
	if !*quiet {
		o.Progress = stderr
	}
	if o.DatabaseURL != "" {
		url, drop, err := freshPostgresDatabase(ctx, o.DatabaseURL)
		if err != nil {
			return err
		}
		defer drop()
		o.DatabaseURL = url
	}
	res, err := runChaos(ctx, o)
	if err != nil {
		return err
	}
	printChaos(stdout, o, res)
	if !res.OK() {
		return &exitError{1, errors.New("chaos: a promise was broken")}
	}
	return nil
}

// freshPostgresDatabase creates an empty database on the server of base
// and returns its URL, with a password the secrets scan looks for (trust
// authentication ignores it; a URL that has one keeps it and the scan
// looks for that), and a func that drops it.
func freshPostgresDatabase(ctx context.Context, base string) (string, func(), error) {
	pcfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return "", nil, errors.New("chaos: invalid PostgreSQL URL")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	admin, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig)
	if err != nil {
		return "", nil, fmt.Errorf("chaos: connect to PostgreSQL: %w", err)
	}
	defer admin.Close(context.Background())
	name := fmt.Sprintf("coesync_chaos_%d_%d", time.Now().Unix(), rand.Intn(1_000_000))
	if _, err := admin.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", nil, fmt.Errorf("chaos: create database: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if admin, err := pgx.ConnectConfig(ctx, pcfg.ConnConfig); err == nil {
			admin.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			admin.Close(context.Background())
		}
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		drop()
		return "", nil, errors.New("chaos: want a postgres:// URL")
	}
	u.Path = "/" + name
	if u.User == nil {
		u.User = url.UserPassword("postgres", chaosDBPassword)
	} else if _, has := u.User.Password(); !has {
		u.User = url.UserPassword(u.User.Username(), chaosDBPassword)
	}
	return u.String(), drop, nil
}
