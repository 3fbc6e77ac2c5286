package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/store"
)

// diff lists the fields in which got differs from want (structs of one
// type). Times compare with Equal: a store may hand them back in any
// location, but a zero time must stay zero.
func diff[T any](want, got T) []string {
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	var out []string
	for i := range wv.NumField() {
		w, g := wv.Field(i).Interface(), gv.Field(i).Interface()
		same := reflect.DeepEqual(w, g)
		if wt, ok := w.(time.Time); ok {
			same = wt.Equal(g.(time.Time))
		}
		if !same {
			out = append(out, fmt.Sprintf("%s = %#v, want %#v", wv.Type().Field(i).Name, g, w))
		}
	}
	return out
}

func checkSame[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if d := diff(want, got); len(d) > 0 {
		t.Errorf("%s:", what)
		for _, l := range d {
			t.Errorf("\t%s", l)
		}
	}
}

// fullItem sets every field, times with millisecond parts.
func fullItem() store.ActionItem {
	ms := func(d time.Duration, n int) time.Time { return t0.Add(d + time.Duration(n)*time.Millisecond) }
	return store.ActionItem{
		JiraKey: "AI-1", JiraID: "20001", COEKey: "OPS-7", IncidentID: "P1",
		Repo: "acme/api", Number: 42, IssueURL: "https://github.com/acme/api/issues/42",
		State: store.MirrorLinked, IntentAt: ms(0, 123),
		Title: "Add an index — für «orders»", Closed: true, Assignee: "octocat", Owner: "Ada Lovelace",
		Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Priority: "High", BodyHash: "sha256:0f1e2d",
		JiraUpdated: ms(time.Hour, 456), GitHubUpdated: ms(2*time.Hour, 789),
		Problem: `no transition to "Done" in project OPS`, OpenedAt: ms(time.Minute, 1), ClosedAt: ms(3*time.Hour, 999),
	}
}

func testActionItemPutGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.ActionItem(ctx, "AI-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing item: err = %v, want ErrNotFound", err)
	}
	if _, err := s.ActionItemByIssue(ctx, "acme/api", 42); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing issue: err = %v, want ErrNotFound", err)
	}

	full := fullItem()
	if err := s.PutActionItem(ctx, full); err != nil {
		t.Fatal(err)
	}
	got, err := s.ActionItem(ctx, "AI-1")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ActionItem after insert", full, got)
	got, err = s.ActionItemByIssue(ctx, "acme/api", 42)
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ActionItemByIssue after insert", full, got)

	// The same issue number in another repository is another issue.
	other := store.ActionItem{JiraKey: "AI-2", COEKey: "OPS-7", Repo: "acme/web", Number: 42, State: store.MirrorLinked}
	if err := s.PutActionItem(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ActionItemByIssue(ctx, "acme/web", 42); err != nil || got.JiraKey != "AI-2" {
		t.Fatalf("ActionItemByIssue(acme/web, 42) = %+v, %v; want AI-2", got, err)
	}
	if _, err := s.ActionItemByIssue(ctx, "acme/api", 43); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other number: err = %v, want ErrNotFound", err)
	}

	// A put replaces every field, zero values included: nothing of the
	// previous record survives.
	bare := store.ActionItem{JiraKey: "AI-1", COEKey: "OPS-8", Repo: "acme/ops", Number: 7, State: store.MirrorIntent}
	if err := s.PutActionItem(ctx, bare); err != nil {
		t.Fatal(err)
	}
	got, err = s.ActionItem(ctx, "AI-1")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ActionItem after replace with zero fields", bare, got)
	for _, tm := range []time.Time{got.IntentAt, got.Due, got.JiraUpdated, got.GitHubUpdated, got.OpenedAt, got.ClosedAt} {
		if !tm.IsZero() {
			t.Errorf("zero time came back as %v", tm)
		}
	}
	if _, err := s.ActionItemByIssue(ctx, "acme/api", 42); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old issue after replace: err = %v, want ErrNotFound", err)
	}
	if got, err = s.ActionItemByIssue(ctx, "acme/ops", 7); err != nil || got.JiraKey != "AI-1" {
		t.Fatalf("new issue after replace = %+v, %v", got, err)
	}

	// And back: Closed false → true, Problem "" → set, times zero → set.
	full.COEKey = "OPS-8"
	if err := s.PutActionItem(ctx, full); err != nil {
		t.Fatal(err)
	}
	got, err = s.ActionItem(ctx, "AI-1")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ActionItem after replace with full fields", full, got)

	// Reopened, problem solved.
	full.Closed, full.ClosedAt, full.Problem, full.State = false, time.Time{}, "", store.MirrorDeleted
	if err := s.PutActionItem(ctx, full); err != nil {
		t.Fatal(err)
	}
	got, err = s.ActionItem(ctx, "AI-1")
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, "ActionItem after reopen", full, got)

	// Other records are untouched by all this.
	if got, err = s.ActionItem(ctx, "AI-2"); err != nil {
		t.Fatal(err)
	}
	checkSame(t, "other item", other, got)
}

func testActionItemsList(t *testing.T, s store.Store) {
	ctx := context.Background()
	if items, err := s.ActionItems(ctx, ""); err != nil || len(items) != 0 {
		t.Fatalf("empty store: ActionItems = %+v, %v", items, err)
	}
	// Inserted out of order; AI-0 belongs to the later COE.
	put := []struct{ key, coe string }{{"AI-3", "OPS-1"}, {"AI-0", "OPS-2"}, {"AI-1", "OPS-1"}, {"AI-4", "OPS-2"}, {"AI-2", "OPS-1"}}
	for i, p := range put {
		it := store.ActionItem{JiraKey: p.key, COEKey: p.coe, IncidentID: "P" + p.coe, Repo: "acme/api", Number: 100 + i,
			State: store.MirrorLinked, Title: "item " + p.key, Closed: i%2 == 0, OpenedAt: t0.Add(time.Duration(i) * time.Minute)}
		if p.key == "AI-2" {
			it = fullItem()
			it.JiraKey, it.COEKey, it.IncidentID, it.Number = p.key, p.coe, "P"+p.coe, 100+i
		}
		if err := s.PutActionItem(ctx, it); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(items []store.ActionItem) string {
		var out []string
		for _, it := range items {
			out = append(out, it.COEKey+"/"+it.JiraKey)
		}
		return fmt.Sprint(out)
	}

	items, err := s.ActionItems(ctx, "OPS-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(items), "[OPS-1/AI-1 OPS-1/AI-2 OPS-1/AI-3]"; got != want {
		t.Fatalf("ActionItems(OPS-1) = %s, want %s (ordered by Jira key)", got, want)
	}
	want := fullItem()
	want.JiraKey, want.COEKey, want.IncidentID, want.Number = "AI-2", "OPS-1", "POPS-1", 104
	checkSame(t, "listed item", want, items[1])

	if items, err = s.ActionItems(ctx, "OPS-2"); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(items), "[OPS-2/AI-0 OPS-2/AI-4]"; got != want {
		t.Fatalf("ActionItems(OPS-2) = %s, want %s", got, want)
	}
	if items, err = s.ActionItems(ctx, "OPS-9"); err != nil || len(items) != 0 {
		t.Fatalf("ActionItems(unknown COE) = %s, %v; want none", keys(items), err)
	}

	// All COEs: grouped by COE key, then by Jira key.
	if items, err = s.ActionItems(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(items), "[OPS-1/AI-1 OPS-1/AI-2 OPS-1/AI-3 OPS-2/AI-0 OPS-2/AI-4]"; got != want {
		t.Fatalf("ActionItems(all) = %s, want %s (by COE key, then Jira key)", got, want)
	}

	// A replace that moves an item to another COE moves it in the lists.
	moved := store.ActionItem{JiraKey: "AI-3", COEKey: "OPS-2", State: store.MirrorGone}
	if err := s.PutActionItem(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if items, err = s.ActionItems(ctx, "OPS-2"); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(items), "[OPS-2/AI-0 OPS-2/AI-3 OPS-2/AI-4]"; got != want {
		t.Fatalf("after move: ActionItems(OPS-2) = %s, want %s", got, want)
	}
	if items, err = s.ActionItems(ctx, ""); err != nil || len(items) != len(put) {
		t.Fatalf("after move: ActionItems(all) = %s, %v; want %d items", keys(items), err, len(put))
	}
}

// coeFull sets every field BeginCOE stores, the newer ones included.
func coeFull(id string) store.COE {
	return store.COE{IncidentID: id, Label: "pd-incident-" + id, Rule: "sev1", Project: "OPS",
		Title: "DB down — «primary»", ServiceID: "PSVC", ServiceName: "db", Teams: "SRE,DBA",
		IntentAt: t0.Add(321 * time.Millisecond), Repo: "acme/db", IncidentURL: "https://acme.pagerduty.com/incidents/" + id,
		IncidentNumber: 1234}
}

func testCOENewFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	in := coeFull("P1")
	want := in
	want.State = store.COEIntent
	got, created, err := s.BeginCOE(ctx, in)
	if err != nil || !created {
		t.Fatalf("BeginCOE: created=%v err=%v", created, err)
	}
	checkSame(t, "BeginCOE result", want, got)
	if got, err = s.COE(ctx, "P1"); err != nil {
		t.Fatal(err)
	}
	checkSame(t, "COE after BeginCOE", want, got)

	// A second BeginCOE returns the first record, not its own fields.
	again := in
	again.Repo, again.IncidentURL, again.IncidentNumber, again.Title = "acme/other", "https://other", 99, "other"
	if got, created, err = s.BeginCOE(ctx, again); err != nil || created {
		t.Fatalf("second BeginCOE: created=%v err=%v", created, err)
	}
	checkSame(t, "second BeginCOE result", want, got)

	// The fields survive the later steps.
	if err := s.SetCOETicket(ctx, "P1", "OPS-7", "10007", "https://jira/browse/OPS-7", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err = s.COE(ctx, "P1"); err != nil {
		t.Fatal(err)
	}
	if got.Repo != in.Repo || got.IncidentURL != in.IncidentURL || got.IncidentNumber != in.IncidentNumber {
		t.Fatalf("after SetCOETicket: Repo=%q IncidentURL=%q IncidentNumber=%d, want %q %q %d",
			got.Repo, got.IncidentURL, got.IncidentNumber, in.Repo, in.IncidentURL, in.IncidentNumber)
	}

	// Zero values stay zero.
	bare := store.COE{IncidentID: "P2", Label: "l2", IntentAt: t0}
	if got, _, err = s.BeginCOE(ctx, bare); err != nil {
		t.Fatal(err)
	}
	bare.State = store.COEIntent
	checkSame(t, "bare BeginCOE", bare, got)
}

func testCOEByKey(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.COEByKey(ctx, "OPS-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty store: err = %v, want ErrNotFound", err)
	}
	// An intent and a skipped COE: no ticket, so no key to find them by.
	if _, _, err := s.BeginCOE(ctx, store.COE{IncidentID: "P0", Label: "l0", IntentAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.SkipCOE(ctx, store.COE{IncidentID: "P9", Label: "l9", Rule: "low", IntentAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"P1", "P2"} {
		if _, _, err := s.BeginCOE(ctx, coeFull(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetCOETicket(ctx, "P1", "OPS-1", "10001", "https://jira/browse/OPS-1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCOETicket(ctx, "P2", "OPS-2", "10002", "https://jira/browse/OPS-2", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"OPS-1", "OPS-2"} {
		got, err := s.COEByKey(ctx, key)
		if err != nil {
			t.Fatalf("COEByKey(%s): %v", key, err)
		}
		want, err := s.COE(ctx, got.IncidentID)
		if err != nil {
			t.Fatal(err)
		}
		if got.TicketKey != key || got.State != store.COECreated {
			t.Fatalf("COEByKey(%s) = %+v", key, got)
		}
		checkSame(t, "COEByKey("+key+") against COE", want, got)
	}
	if got, _ := s.COEByKey(ctx, "OPS-2"); got.IncidentID != "P2" || got.Repo != "acme/db" || got.IncidentNumber != 1234 {
		t.Fatalf("COEByKey(OPS-2) = %+v", got)
	}
	for _, key := range []string{"", "OPS-3", "ops-1"} {
		if c, err := s.COEByKey(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("COEByKey(%q) = %+v, %v; want ErrNotFound", key, c, err)
		}
	}
}

func testCOERollup(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, id := range []string{"P1", "P2"} {
		if _, _, err := s.BeginCOE(ctx, coeFull(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetCOETicket(ctx, "P1", "OPS-1", "10001", "https://jira/browse/OPS-1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	before, err := s.COE(ctx, "P1")
	if err != nil {
		t.Fatal(err)
	}
	if before.RollupComment != "" || !before.CompletedAt.IsZero() {
		t.Fatalf("new COE has roll-up %q, completed %v", before.RollupComment, before.CompletedAt)
	}
	other, _ := s.COE(ctx, "P2")

	step := func(comment string, completed time.Time) {
		t.Helper()
		if err := s.SetCOERollup(ctx, "P1", comment, completed); err != nil {
			t.Fatal(err)
		}
		want := before
		want.RollupComment, want.CompletedAt = comment, completed
		got, err := s.COE(ctx, "P1")
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, fmt.Sprintf("COE after SetCOERollup(%q, %v)", comment, completed), want, got)
		if got, err = s.COEByKey(ctx, "OPS-1"); err != nil {
			t.Fatal(err)
		}
		checkSame(t, "COEByKey after SetCOERollup", want, got)
		if got, err = s.COE(ctx, "P2"); err != nil {
			t.Fatal(err)
		}
		checkSame(t, "other COE after SetCOERollup", other, got)
	}
	step("30001", time.Time{})                               // comment posted, items open
	step("30001", t0.Add(5*24*time.Hour+7*time.Millisecond)) // last item closed
	step("30001", time.Time{})                               // reopened: zero clears
	step("30002", t0.Add(6*24*time.Hour))                    // comment recreated, complete again
	step("", time.Time{})                                    // both cleared
}

func testSyncState(t *testing.T, s store.Store) {
	ctx := context.Background()
	if v, err := s.State(ctx, "etag:issues"); err != nil || v != "" {
		t.Fatalf("missing key: State = %q, %v; want \"\", nil", v, err)
	}
	set := func(k, v string) {
		t.Helper()
		if err := s.SetState(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	get := func(k, want string) {
		t.Helper()
		if v, err := s.State(ctx, k); err != nil || v != want {
			t.Fatalf("State(%q) = %q, %v; want %q", k, v, err, want)
		}
	}
	set("etag:issues", `W/"abc"`)
	set("reconcile:jira", t0.Format(time.RFC3339Nano))
	get("etag:issues", `W/"abc"`)
	get("reconcile:jira", t0.Format(time.RFC3339Nano))
	set("etag:issues", `W/"def"`)
	get("etag:issues", `W/"def"`)
	get("reconcile:jira", t0.Format(time.RFC3339Nano))
	set("etag:issues", "")
	get("etag:issues", "")
	get("etag:other", "")
}

func testCounters(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC) // a day boundary
	const day = 24 * time.Hour
	counts := []struct {
		name string
		at   time.Time
		n    int
	}{
		{store.CounterDriftRepaired, d.Add(time.Hour), 2},
		{store.CounterDriftRepaired, d.Add(20 * time.Hour), 3}, // same day: accumulates
		{store.CounterDriftRepaired, d.Add(day + 5*time.Hour), 1},
		{store.CounterMissingTransition, d.Add(2 * time.Hour), 1},
		{store.CounterJobsFailed, d.Add(3 * day), 4},
		{store.CounterRateLimitWaits, d.Add(7*day - time.Millisecond), 7}, // last moment of the range
		{store.CounterDriftRepaired, d.Add(-time.Millisecond), 100},       // the day before
		{store.CounterDriftRepaired, d.Add(7 * day), 1000},                // the day after
		{store.CounterJobsFailed, d.Add(3*day + time.Hour), 1},
	}
	for _, c := range counts {
		if err := s.Count(ctx, c.name, c.at, c.n); err != nil {
			t.Fatal(err)
		}
	}
	check := func(since, until time.Time, want map[string]int) {
		t.Helper()
		got, err := s.Counts(ctx, since, until)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("Counts(%v, %v) = %v, want %v", since, until, got, want)
		}
	}
	check(d, d.Add(7*day), map[string]int{
		store.CounterDriftRepaired:     6,
		store.CounterMissingTransition: 1,
		store.CounterJobsFailed:        5,
		store.CounterRateLimitWaits:    7,
	})
	check(d.Add(day), d.Add(2*day), map[string]int{store.CounterDriftRepaired: 1})
	check(d.Add(-day), d, map[string]int{store.CounterDriftRepaired: 100})
	check(d.Add(7*day), d.Add(8*day), map[string]int{store.CounterDriftRepaired: 1000})
	check(d.Add(10*day), d.Add(11*day), map[string]int{})
	// Counters are daily: a range covering part of a day sees that day's
	// whole bucket (coesync status and the e2e tests ask for now±1h).
	check(d.Add(12*time.Hour), d.Add(13*time.Hour), map[string]int{
		store.CounterDriftRepaired:     5,
		store.CounterMissingTransition: 1,
	})

	// Increments keep accumulating into an existing bucket.
	if err := s.Count(ctx, store.CounterMissingTransition, d.Add(23*time.Hour), 2); err != nil {
		t.Fatal(err)
	}
	check(d, d.Add(day), map[string]int{store.CounterDriftRepaired: 5, store.CounterMissingTransition: 3})
}

func testLeases(t *testing.T, s store.Store) {
	ctx := context.Background()
	now := time.Now()
	later, past := now.Add(time.Hour), now.Add(-time.Hour)
	lock := func(name, owner string, until time.Time, want bool) {
		t.Helper()
		ok, err := s.TryLock(ctx, name, owner, until)
		if err != nil {
			t.Fatalf("TryLock(%s, %s): %v", name, owner, err)
		}
		if ok != want {
			t.Fatalf("TryLock(%s, %s, %s) = %v, want %v", name, owner, until.Sub(now).Round(time.Second), ok, want)
		}
	}
	unlock := func(name, owner string) {
		t.Helper()
		if err := s.Unlock(ctx, name, owner); err != nil {
			t.Fatalf("Unlock(%s, %s): %v", name, owner, err)
		}
	}

	lock("item:AI-1", "a", later, true)  // free
	lock("item:AI-1", "b", later, false) // held, not expired
	lock("item:AI-1", "a", later, true)  // the owner takes it again
	lock("item:AI-2", "b", later, true)  // another name is another lease
	unlock("item:AI-1", "b")             // not b's: nothing happens
	lock("item:AI-1", "c", later, false)
	unlock("item:AI-1", "a")
	lock("item:AI-1", "b", later, true) // freed by its owner
	lock("item:AI-1", "a", later, false)
	unlock("item:AI-2", "b")
	lock("item:AI-2", "a", later, true)
	unlock("nothing", "a") // unlocking a free lease is no error

	// An expired lease goes to whoever asks.
	lock("coe:OPS-1", "a", past, true)
	lock("coe:OPS-1", "b", later, true)
	lock("coe:OPS-1", "a", later, false)
	unlock("coe:OPS-1", "a") // a lost it: its unlock must not free b's lease
	lock("coe:OPS-1", "c", later, false)

	// Taking one's own lease again moves its expiry.
	lock("coe:OPS-2", "a", past, true)
	lock("coe:OPS-2", "a", later, true)
	lock("coe:OPS-2", "b", later, false)
}

func testLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 20
	until := time.Now().Add(time.Hour)
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprintf("owner-%d", i)
			<-start
			ok, err := s.TryLock(ctx, "item:race", owner, until)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				winners = append(winners, owner)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(winners) != 1 {
		t.Fatalf("%d goroutines won the lease (%v), want exactly one", len(winners), winners)
	}
	// The winner holds it; the others still cannot take it.
	if ok, err := s.TryLock(ctx, "item:race", winners[0], until); err != nil || !ok {
		t.Fatalf("winner TryLock again = %v, %v", ok, err)
	}
	loser := "owner-0"
	if winners[0] == loser {
		loser = "owner-1"
	}
	if ok, err := s.TryLock(ctx, "item:race", loser, until); err != nil || ok {
		t.Fatalf("loser TryLock = %v, %v; want false", ok, err)
	}
}

// The deliveries about one resource come back newest limit first-to-last,
// bounded by since, without other sources' or resources'.
func testRecentDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	d := func(source, id, resource string, at time.Duration) store.Delivery {
		return store.Delivery{Source: source, ID: id, EventType: "jira:issue_updated", ResourceID: resource,
			ReceivedAt: t0.Add(at), Body: []byte(`{"id":"` + id + `"}`)}
	}
	if _, err := s.Ingest(ctx, []store.Delivery{
		d("jira", "old", "OPS-2", -time.Hour), d("jira", "a", "OPS-2", time.Second), d("jira", "b", "OPS-2", 2*time.Second),
		d("jira", "c", "OPS-2", 3*time.Second), d("jira", "other", "OPS-3", 2*time.Second), d("github", "gh", "OPS-2", 2*time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		since time.Time
		limit int
		want  string
	}{
		{"since bounds", t0, 10, "[a b c]"},
		{"newest within limit", t0, 2, "[b c]"},
		{"all", t0.Add(-2 * time.Hour), 10, "[old a b c]"},
		{"none", t0.Add(time.Minute), 10, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.RecentDeliveries(ctx, "jira", "OPS-2", tt.since, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, g := range got {
				ids = append(ids, g.ID)
				if g.Source != "jira" || g.ResourceID != "OPS-2" || string(g.Body) != `{"id":"`+g.ID+`"}` || g.ReceivedAt.IsZero() {
					t.Fatalf("delivery %+v", g)
				}
			}
			if fmt.Sprint(ids) != tt.want {
				t.Fatalf("got %v, want %s", ids, tt.want)
			}
		})
	}
}
