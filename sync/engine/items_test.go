package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

// itemEnv is the action-item sync against the Jira and GitHub fakes, with
// their webhooks stored as coesync's server stores them (no jobs run: the
// tests call Seed, Sync and Rollup themselves).
type itemEnv struct {
	st     *store.SQLite
	js     *jiratest.Server
	gh     *ghtest.Server
	jc     *jira.Client
	syncer *engine.ItemSyncer
	coeKey string
}

func newItemEnv(t *testing.T) *itemEnv {
	t.Helper()
	ctx := context.Background()
	flow := []jiratest.Transition{
		{ID: "31", Name: "Done", From: []string{jiratest.StatusToDo, jiratest.StatusInProgress}, To: jiratest.StatusDone},
		{ID: "41", Name: "Reopen", From: []string{jiratest.StatusDone}, To: jiratest.StatusToDo},
	}
	e := &itemEnv{st: openStore(t), js: jiratest.New(jiratest.Options{Transitions: flow}), gh: ghtest.New(ghtest.Options{})}
	t.Cleanup(e.js.Close)
	t.Cleanup(e.gh.Close)
	var n atomic.Int64
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d := store.Delivery{Source: strings.TrimPrefix(r.URL.Path, "/"), ID: strconv.FormatInt(n.Add(1), 10), ReceivedAt: time.Now().UTC(), Body: body}
		switch d.Source {
		case "jira":
			ev, err := jira.DecodeWebhook(d.ID, body)
			if err != nil {
				return
			}
			d.EventType, d.ResourceID = "jira:issue_"+ev.Kind, ev.Key
		case "github":
			ev, err := github.DecodeIssuesEvent(r.Header.Get(github.EventHeader), d.ID, body)
			if err != nil {
				return
			}
			d.EventType, d.ResourceID = "issues."+ev.Action, ev.Issue.Ref()
		}
		if _, err := e.st.Ingest(r.Context(), []store.Delivery{d}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(hooks.Close)
	e.js.SendWebhooks(hooks.URL+"/jira", "s")
	e.gh.SendWebhooks(hooks.URL+"/github", "s")

	var err error
	if e.jc, err = jira.New(jira.Options{BaseURL: e.js.URL, User: jiratest.DefaultUser, Token: jiratest.DefaultToken}); err != nil {
		t.Fatal(err)
	}
	gc, err := github.New(github.Options{BaseURL: e.gh.URL() + "/", Token: ghtest.DefaultToken})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.jc.CreateTicket(ctx, coe.TicketSpec{Project: "OPS", IssueType: "Task", Summary: "COE"})
	if err != nil {
		t.Fatal(err)
	}
	e.coeKey = ref.Key
	addCOE(t, e.st, store.COE{IncidentID: "PITEM", TicketKey: ref.Key, Project: "OPS", IncidentNumber: 7}, time.Now(), nil)
	e.syncer = &engine.ItemSyncer{Jira: e.jc, GitHub: gc, Store: e.st, DefaultRepo: ghtest.DefaultRepo,
		Transitions: engine.Transitions{Done: []string{"Done"}, Reopen: []string{"Reopen"}},
		Log:         slog.New(slog.DiscardHandler), JiraURL: e.jc.BrowseURL, WebhookWait: 5 * time.Second,
		DecodeJira: func(b []byte) (coe.JiraEvent, error) { return jira.DecodeWebhook("", b) },
		DecodeGitHub: func(event string, b []byte) (coe.GitHubIssueEvent, error) {
			return github.DecodeIssuesEvent(event, "", b)
		}}
	e.flush()
	return e
}

// flush delivers the fakes' queued webhooks and forgets the requests.
func (e *itemEnv) flush() {
	e.js.Flush()
	e.gh.Flush()
	e.js.ResetRequests()
	e.gh.ResetRequests()
}

// calls lists the requests both fakes served since the last flush.
func (e *itemEnv) calls() []string {
	var out []string
	for _, r := range e.js.Requests() {
		out = append(out, "jira "+r.Method+" "+r.Path)
	}
	for _, r := range e.gh.Requests() {
		out = append(out, "github "+r.Method+" "+r.Path)
	}
	return out
}

func seedArgs(coeKey string, summaries ...string) engine.SeedItemsArgs {
	a := engine.SeedItemsArgs{COEKey: coeKey}
	for _, s := range summaries {
		a.Items = append(a.Items, engine.SeedItem{Summary: s, Owner: "Bob"})
	}
	return a
}

func subtasks(e *itemEnv) []jiratest.Issue {
	var out []jiratest.Issue
	for _, is := range e.js.Issues() {
		if is.Parent == e.coeKey {
			out = append(out, is)
		}
	}
	return out
}

// cutOff creates through the real connector and then loses the answer,
// as a timeout after Jira applied the request does.
type cutOff struct {
	engine.JiraItems
	fail func(specs []coe.TicketSpec) (send []int, err error)
}

func (c cutOff) CreateSubtasks(ctx context.Context, parentKey string, specs []coe.TicketSpec) ([]coe.TicketRef, error) {
	send, ferr := c.fail(specs)
	var sub []coe.TicketSpec
	for _, i := range send {
		sub = append(sub, specs[i])
	}
	refs, err := c.JiraItems.CreateSubtasks(ctx, parentKey, sub)
	if err != nil {
		return nil, err
	}
	if ferr == nil {
		return refs, nil
	}
	var pe *engine.PartialCreateError
	if !errors.As(ferr, &pe) {
		return nil, ferr // nothing known: the answer was lost
	}
	out := make([]coe.TicketRef, len(specs))
	for j, i := range send {
		out[i] = refs[j]
	}
	return out, ferr
}

func TestSeedCreatesSubtasksInOneBulkCall(t *testing.T) {
	ctx := context.Background()
	lost := &engine.Error{Kind: engine.Retryable, Service: "jira", Msg: "connection reset"}
	refusedOne := &engine.PartialCreateError{Failed: []engine.CreateFailure{{Index: 1,
		Err: &engine.Error{Kind: engine.Retryable, Service: "jira", Status: 503, Msg: "unavailable"}}}}
	tests := []struct {
		name string
		// fail makes the first attempt's create lose its answer or
		// refuse elements; nil creates normally.
		fail         func(specs []coe.TicketSpec) ([]int, error)
		wantFirstErr bool
		// retry runs Seed again this long after the first attempt
		// (the settle time is a minute).
		retryAfter time.Duration
		wantWait   bool
		wantBulks  int // POST /issue/bulk over both attempts
	}{
		{name: "all in one call", wantBulks: 1},
		{name: "answer lost, retry within the settle time finds them",
			fail: func(s []coe.TicketSpec) ([]int, error) { return []int{0, 1, 2}, lost }, wantFirstErr: true,
			retryAfter: 10 * time.Second, wantBulks: 1},
		{name: "outcome unknown, nothing seen, retry within the settle time waits",
			fail: func(s []coe.TicketSpec) ([]int, error) { return nil, lost }, wantFirstErr: true,
			retryAfter: 10 * time.Second, wantWait: true},
		{name: "answer lost, retry finds them and creates none twice",
			fail: func(s []coe.TicketSpec) ([]int, error) { return []int{0, 1, 2}, lost }, wantFirstErr: true,
			retryAfter: 2 * time.Minute, wantBulks: 1},
		{name: "one element refused, retry creates only it",
			fail: func(s []coe.TicketSpec) ([]int, error) { return []int{0, 2}, refusedOne }, wantFirstErr: true,
			retryAfter: 2 * time.Minute, wantBulks: 2},
		{name: "lost before it reached Jira, retry creates all once",
			fail: func(s []coe.TicketSpec) ([]int, error) { return nil, lost }, wantFirstErr: true,
			retryAfter: 2 * time.Minute, wantBulks: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newItemEnv(t)
			now := time.Now().UTC()
			e.syncer.Now = func() time.Time { return now }
			e.syncer.CreateSettle = time.Minute
			if tt.fail != nil {
				e.syncer.Jira = cutOff{JiraItems: e.jc, fail: tt.fail}
			}
			a := seedArgs(e.coeKey, "Add a pool alarm", "Load-test payments", "Document the rollback")
			err := e.syncer.Seed(ctx, a)
			if (err != nil) != tt.wantFirstErr {
				t.Fatalf("first attempt: %v", err)
			}
			if tt.fail == nil {
				checkSeeded(t, e, 3)
				if got := e.calls(); len(got) != 1 || got[0] != "jira POST /rest/api/2/issue/bulk" {
					t.Fatalf("calls %v, want one bulk create", got)
				}
				return
			}
			e.syncer.Jira = e.jc
			now = now.Add(tt.retryAfter)
			err = e.syncer.Seed(ctx, a)
			var wait *engine.WaitError
			if tt.wantWait {
				if !errors.As(err, &wait) {
					t.Fatalf("retry within the settle time: %v, want a wait", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			checkSeeded(t, e, 3)
			bulks := 0
			for _, r := range e.js.Requests() {
				if r.Method == http.MethodPost && r.Path == "/rest/api/2/issue/bulk" {
					bulks++
				}
			}
			if bulks != tt.wantBulks {
				t.Fatalf("%d bulk creates, want %d", bulks, tt.wantBulks)
			}
		})
	}
}

// checkSeeded: n sub-tasks with distinct summaries, each recorded before
// its mirror.
func checkSeeded(t *testing.T, e *itemEnv, n int) {
	t.Helper()
	subs := subtasks(e)
	seen := map[string]bool{}
	for _, s := range subs {
		if seen[s.Summary] {
			t.Fatalf("sub-task %q created twice", s.Summary)
		}
		seen[s.Summary] = true
	}
	if len(subs) != n {
		t.Fatalf("%d sub-tasks, want %d", len(subs), n)
	}
	items, err := e.st.ActionItems(context.Background(), e.coeKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Number != 0 || it.State != store.MirrorIntent || it.Repo != ghtest.DefaultRepo || !seen[it.Title] {
			t.Fatalf("recorded item %+v", it)
		}
	}
}

// A webhook that reports coesync's own write reads neither side; one that
// reports a person's change is synced.
func TestWebhookEchoesSkippedChangesSynced(t *testing.T) {
	ctx := context.Background()
	e := newItemEnv(t)
	if err := e.syncer.Seed(ctx, seedArgs(e.coeKey, "Add a pool alarm")); err != nil {
		t.Fatal(err)
	}
	key := subtasks(e)[0].Key
	e.flush()
	// The mirror is made from the jira:issue_created payload: no read.
	if err := e.syncer.Sync(ctx, key, "seed"); err != nil {
		t.Fatal(err)
	}
	for _, c := range e.calls() {
		if strings.Contains(c, " GET ") {
			t.Fatalf("mirror read %s; the created webhook has the item", c)
		}
	}
	it, err := e.st.ActionItem(ctx, key)
	if err != nil || it.Number == 0 || it.Priority != "Medium" {
		t.Fatalf("mirrored %+v %v (priority: Jira's default, from the webhook)", it, err)
	}
	n := it.Number
	e.flush()

	steps := []struct {
		name   string
		change func() // by a person, or nothing
		source string
		synced bool // calls were made
		check  func() error
	}{
		{name: "Jira echo of the create", source: "jira"},
		{name: "GitHub echo of the mirror", source: "github"},
		{name: "seed again: already mirrored", source: "seed"},
		{name: "person edits the Jira summary", change: func() {
			// In a later second than the mirror's create: GitHub's times
			// have whole seconds, and states that tie are all compared.
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
			e.js.EditSummary(key, "Add a pool saturation alarm")
		},
			source: "jira", synced: true, check: func() error {
				if g, _ := e.gh.Issue(ghtest.DefaultRepo, n); !strings.HasSuffix(g.Title, "] Add a pool saturation alarm") {
					return errors.New("GitHub title " + g.Title)
				}
				return nil
			}},
		{name: "GitHub echo of that sync's edit", source: "github"},
		{name: "person closes the GitHub issue", change: func() { e.gh.CloseIssue(ghtest.DefaultRepo, n, "completed") },
			source: "github", synced: true, check: func() error {
				if is, _ := e.js.Issue(key); is.Status != "Done" {
					return errors.New("Jira status " + is.Status)
				}
				return nil
			}},
		{name: "Jira echo of that sync's transition", source: "jira"},
		{name: "person assigns the Jira item", change: func() { e.js.Assign(key, "acc-x", "x@example.com", "Ex Ample") },
			source: "jira", synced: true, check: func() error {
				if g, _ := e.gh.Issue(ghtest.DefaultRepo, n); !strings.Contains(g.Body, "Ex Ample") {
					return errors.New("GitHub body has no owner")
				}
				return nil
			}},
		{name: "person edits the GitHub title", change: func() { e.gh.EditTitle(ghtest.DefaultRepo, n, "Pool alarm") },
			source: "github", synced: true, check: func() error {
				if is, _ := e.js.Issue(key); is.Summary != "Pool alarm" {
					return errors.New("Jira summary " + is.Summary)
				}
				return nil
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				st.change()
			}
			e.flush() // deliver the webhooks; count only the sync's calls
			if err := e.syncer.Sync(ctx, key, st.source); err != nil {
				t.Fatal(err)
			}
			calls := e.calls()
			if st.synced != (len(calls) > 0) {
				t.Fatalf("calls %v; want synced=%v", calls, st.synced)
			}
			if st.check != nil {
				if err := st.check(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// The roll-up posts once with no look for an earlier one on a first
// attempt, waits while items are being mirrored, and looks after an
// attempt whose answer was lost.
func TestRollupFirstPostReadsNoComments(t *testing.T) {
	ctx := context.Background()
	e := newItemEnv(t)
	if err := e.syncer.Seed(ctx, seedArgs(e.coeKey, "Add a pool alarm", "Load-test payments")); err != nil {
		t.Fatal(err)
	}
	var wait *engine.WaitError
	if err := e.syncer.Rollup(ctx, e.coeKey); !errors.As(err, &wait) {
		t.Fatalf("roll-up while items are being mirrored: %v, want a wait", err)
	}
	for _, s := range subtasks(e) {
		if err := e.syncer.Sync(ctx, s.Key, "seed"); err != nil {
			t.Fatal(err)
		}
	}
	rollupPostsOnce(t, e)
}

// rollupPostsOnce runs the roll-up once every item is mirrored: it must
// post its table in one call, reading nothing.
func rollupPostsOnce(t *testing.T, e *itemEnv) {
	t.Helper()
	e.flush()
	if err := e.syncer.Rollup(context.Background(), e.coeKey); err != nil {
		t.Fatal(err)
	}
	if got := e.calls(); len(got) != 1 || got[0] != "jira POST /rest/api/2/issue/"+e.coeKey+"/comment" {
		t.Fatalf("calls %v, want the one comment post", got)
	}
}

// A sub-task whose record the seed left to a sync holding its lease is
// not in the store for a moment: the first roll-up waits for it rather
// than post a table that needs an edit right after (seen as one call above
// the minimum in CI).
func TestRollupWaitsForEverySeededItem(t *testing.T) {
	ctx := context.Background()
	e := newItemEnv(t)
	// The third sub-task's key (the COE is the first issue of the fake).
	third := fmt.Sprintf("OPS-%d", len(e.js.Issues())+3)
	if ok, err := e.st.TryLock(ctx, "item:"+third, "a sync", time.Now().Add(time.Minute)); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	if err := e.syncer.Seed(ctx, seedArgs(e.coeKey, "Add a pool alarm", "Load-test payments", "Page the DBA")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.ActionItem(ctx, third); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s recorded by the seed while its lease was held: %v", third, err)
	}
	for _, s := range subtasks(e) {
		if s.Key != third {
			if err := e.syncer.Sync(ctx, s.Key, "seed"); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.flush()
	var wait *engine.WaitError
	if err := e.syncer.Rollup(ctx, e.coeKey); !errors.As(err, &wait) || !strings.Contains(wait.Reason, third) {
		t.Fatalf("roll-up with %s not recorded: %v, want a wait for it", third, err)
	}
	if got := e.calls(); len(got) != 0 {
		t.Fatalf("a waiting roll-up made calls: %v", got)
	}
	if err := e.st.Unlock(ctx, "item:"+third, "a sync"); err != nil {
		t.Fatal(err)
	}
	if err := e.syncer.Sync(ctx, third, "seed"); err != nil {
		t.Fatal(err)
	}
	rollupPostsOnce(t, e)
}
