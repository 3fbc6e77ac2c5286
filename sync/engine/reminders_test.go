package engine_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/engine"
	"github.com/coesync/coesync/sync/store"
)

func TestReminderPeriod(t *testing.T) {
	due := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	tests := []struct {
		now     time.Time
		period  string
		overdue bool
		ok      bool
	}{
		{due.Add(-72 * time.Hour), "", false, false},
		{due.Add(-48*time.Hour - time.Second), "", false, false},
		{due.Add(-48 * time.Hour), "2026-11-20:due-soon", false, true},
		{due.Add(-time.Second), "2026-11-20:due-soon", false, true},
		{due, "2026-11-20:overdue-0", true, true},
		{due.Add(week - time.Second), "2026-11-20:overdue-0", true, true},
		{due.Add(week), "2026-11-20:overdue-1", true, true},
		{due.Add(100 * week), "2026-11-20:overdue-100", true, true},
	}
	for _, tt := range tests {
		period, overdue, ok := engine.ReminderPeriod(due, tt.now, week)
		if period != tt.period || overdue != tt.overdue || ok != tt.ok {
			t.Errorf("ReminderPeriod(now %s) = %q, %v, %v; want %q, %v, %v", tt.now, period, overdue, ok, tt.period, tt.overdue, tt.ok)
		}
	}
	if _, _, ok := engine.ReminderPeriod(time.Time{}, due, week); ok {
		t.Error("an item without a due date has a reminder period")
	}
	// A daily interval gives daily periods.
	if p, _, _ := engine.ReminderPeriod(due, due.Add(50*time.Hour), 24*time.Hour); p != "2026-11-20:overdue-2" {
		t.Errorf("daily period = %q", p)
	}
}

// memStore is an in-memory ReminderStore.
type memStore struct {
	mu     sync.Mutex
	items  []store.ActionItem
	state  map[string]string
	lock   string
	counts map[string]int
	queued []store.Job
}

func (m *memStore) ActionItems(context.Context, string) ([]store.ActionItem, error) {
	return append([]store.ActionItem(nil), m.items...), nil
}
func (m *memStore) State(_ context.Context, k string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[k], nil
}
func (m *memStore) SetState(_ context.Context, k, v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state[k] = v
	return nil
}
func (m *memStore) TryLock(_ context.Context, name, owner string, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock != "" && m.lock != owner {
		return false, nil
	}
	m.lock = owner
	return true, nil
}
func (m *memStore) Unlock(_ context.Context, name, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lock == owner {
		m.lock = ""
	}
	return nil
}
func (m *memStore) Count(_ context.Context, name string, _ time.Time, n int) error {
	m.counts[name] += n
	return nil
}
func (m *memStore) Enqueue(_ context.Context, jobs ...store.Job) error {
	m.queued = append(m.queued, jobs...)
	return nil
}

// memIssues is an in-memory ReminderIssues: comments by marker.
type memIssues struct {
	issues   map[int]coe.GitHubIssue
	comments map[int]map[string]string // number → marker → body
	fail     error
	getErr   map[int]error
}

func (g *memIssues) GetIssue(_ context.Context, repo string, n int) (coe.GitHubIssue, error) {
	if err := g.getErr[n]; err != nil {
		return coe.GitHubIssue{}, err
	}
	return g.issues[n], nil
}
func (g *memIssues) UpsertComment(_ context.Context, repo string, n int, marker, body string) error {
	if g.fail != nil {
		return g.fail
	}
	if g.comments[n] == nil {
		g.comments[n] = map[string]string{}
	}
	g.comments[n][marker] = body
	return nil
}

func TestRemindersSkipAndRetry(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	overdue := now.AddDate(0, 0, -10).Truncate(24 * time.Hour)
	item := func(key string, n int, mod func(*store.ActionItem)) store.ActionItem {
		it := store.ActionItem{JiraKey: key, Repo: "acme/ops", Number: n, State: store.MirrorLinked, Due: overdue}
		if mod != nil {
			mod(&it)
		}
		return it
	}
	st := &memStore{state: map[string]string{}, counts: map[string]int{},
		items: []store.ActionItem{
			item("OPS-1", 1, nil),
			item("OPS-2", 2, func(it *store.ActionItem) { it.Closed = true }), // closed in Jira
			item("OPS-3", 3, nil), // closed on GitHub
			item("OPS-4", 4, nil), // deleted on GitHub
			item("OPS-5", 5, func(it *store.ActionItem) { it.State = store.MirrorDeleted }), // reported mirror
			item("OPS-6", 6, func(it *store.ActionItem) { it.Due = time.Time{} }),           // no due date: SLA sync
			item("OPS-7", 7, func(it *store.ActionItem) { it.Due = now.AddDate(0, 0, 5) }),  // not due yet
		}}
	gh := &memIssues{comments: map[int]map[string]string{}, getErr: map[int]error{
		4: &engine.Error{Kind: engine.Permanent, Service: "github", Status: 410, Msg: "gone"}},
		issues: map[int]coe.GitHubIssue{
			1: {Repo: "acme/ops", Number: 1, State: coe.GitHubStateOpen, Assignees: []string{"alice-gh", "not a login"}},
			3: {Repo: "acme/ops", Number: 3, State: coe.GitHubStateClosed},
		}}
	r := &engine.Reminders{Store: st, GitHub: gh, SLA: engine.NewSLA(map[string]time.Duration{"default": time.Hour}),
		Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()

	// Another replica holds the pass: wait.
	st.lock = "someone else"
	_, err := r.Run(ctx)
	var wait *engine.WaitError
	if !errors.As(err, &wait) {
		t.Fatalf("with the lease taken: %v, want a WaitError", err)
	}
	st.lock = ""

	// GitHub fails: nothing recorded, the job retries.
	gh.fail = &engine.Error{Kind: engine.Retryable, Service: "github", Status: 502, Msg: "bad gateway"}
	if n, err := r.Run(ctx); err == nil || n != 0 {
		t.Fatalf("GitHub down: sent %d, err %v; want an error", n, err)
	}
	gh.fail = nil
	st.queued = nil
	n, err := r.Run(ctx)
	if err != nil || n != 1 {
		t.Fatalf("sent %d, err %v; want only OPS-1", n, err)
	}
	if len(gh.comments) != 1 || len(gh.comments[1]) != 1 {
		t.Fatalf("comments = %v", gh.comments)
	}
	for marker, body := range gh.comments[1] {
		if !strings.Contains(marker, "coesync:reminder:OPS-1:") || !strings.Contains(body, "@alice-gh") || strings.Contains(body, "@not") {
			t.Errorf("reminder %q:\n%s", marker, body)
		}
	}
	if len(st.queued) != 1 || st.queued[0].Args.(engine.SyncItemArgs).Key != "OPS-6" {
		t.Errorf("queued %v, want one SLA sync of OPS-6", st.queued)
	}
	// The SLA has seen OPS-6: no second sync.
	st.state[engine.SLAStateKey("OPS-6")] = "none"
	st.queued = nil
	if n, err := r.Run(ctx); err != nil || n != 0 || len(st.queued) != 0 {
		t.Errorf("second pass: sent %d, queued %d, err %v", n, len(st.queued), err)
	}
	if st.counts[engine.CounterRemindersSent] != 1 {
		t.Errorf("counted %d", st.counts[engine.CounterRemindersSent])
	}
}
