package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/coesync/coesync/sync/coe"
)

// fakeClock is a manual clock whose Sleep advances it: a gate under test
// never really waits.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  []time.Duration
	onWait func(d time.Duration)
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	f := c.onWait
	c.mu.Unlock()
	if f != nil {
		f(d)
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// memState is an in-memory GateState (the store's State/SetState).
type memState struct {
	mu     sync.Mutex
	m      map[string]string
	reads  int
	writes int
}

func (s *memState) State(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.m[key], nil
}

func (s *memState) SetState(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.writes++
	s.m[key] = value
	return nil
}

func limited(service string, after time.Duration) error {
	return fmt.Errorf("create issue: %w", &Error{Kind: RateLimited, Service: service, Status: 429, RetryAfter: after})
}

func TestRateGateObserve(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		dflt     time.Duration
		wantOK   bool
		wantWait time.Duration
		service  string
	}{
		{"retry-after", limited("jira", 2*time.Second), 0, true, 2 * time.Second, "jira"},
		{"no retry-after: default one second", limited("github", 0), 0, true, time.Second, "github"},
		{"no retry-after: configured default", limited("jira", 0), 5 * time.Second, true, 5 * time.Second, "jira"},
		{"server error is not a rate limit", &Error{Kind: Retryable, Service: "jira", Status: 503, RetryAfter: time.Second}, 0, false, 0, "jira"},
		{"permanent", &Error{Kind: Permanent, Service: "jira", Status: 400}, 0, false, 0, "jira"},
		{"unclassified", errors.New("boom"), 0, false, 0, "jira"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			g := &RateGate{Now: clk.Now, Sleep: clk.Sleep, DefaultWait: tt.dflt}
			wait, ok := g.Observe(context.Background(), tt.err)
			if ok != tt.wantOK || wait != tt.wantWait {
				t.Fatalf("Observe = %v, %v; want %v, %v", wait, ok, tt.wantWait, tt.wantOK)
			}
			if !ok {
				if u := g.Until(tt.service); !u.IsZero() {
					t.Errorf("gate of %s held until %v after a non-rate-limit error", tt.service, u)
				}
				return
			}
			if got, want := g.Until(tt.service), clk.Now().Add(tt.wantWait); !got.Equal(want) {
				t.Errorf("Until(%s) = %v, want %v", tt.service, got, want)
			}
		})
	}
}

func TestRateGateWaitHoldsOnlyThatService(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	start := clk.Now()
	g.Observe(ctx, limited("jira", 3*time.Second))

	if err := g.Wait(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 0 {
		t.Fatalf("github calls waited %v for a Jira hold", s)
	}
	clk.Advance(time.Second)
	if err := g.Wait(ctx, "jira"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] != 2*time.Second {
		t.Fatalf("jira wait slept %v, want the 2s left of the hold", s)
	}
	if got := clk.Now().Sub(start); got != 3*time.Second {
		t.Errorf("released %v after the 429, want 3s", got)
	}
	// Once over, the gate is open.
	if err := g.Wait(ctx, "jira"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 {
		t.Errorf("waited again after the hold ended: %v", s)
	}
}

func TestRateGateHoldOnlyExtends(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	g.Observe(ctx, limited("jira", 10*time.Second))
	g.Observe(ctx, limited("jira", 2*time.Second))
	if got, want := g.Until("jira"), clk.Now().Add(10*time.Second); !got.Equal(want) {
		t.Errorf("a shorter Retry-After shortened the hold: until %v, want %v", got, want)
	}
	g.Observe(ctx, limited("jira", 20*time.Second))
	if got, want := g.Until("jira"), clk.Now().Add(20*time.Second); !got.Equal(want) {
		t.Errorf("a longer Retry-After did not extend the hold: until %v, want %v", got, want)
	}
}

func TestRateGateWaitCancelled(t *testing.T) {
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	g.Observe(context.Background(), limited("jira", time.Minute))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Wait(ctx, "jira"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

// Two replicas share holds through the store's key/value state.
func TestRateGateSharedAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	state := &memState{}
	a := &RateGate{Now: clk.Now, Sleep: clk.Sleep, Shared: state}
	b := &RateGate{Now: clk.Now, Sleep: clk.Sleep, Shared: state, SharedRefresh: time.Second}

	// b reads the shared state (nothing held), then a is rate limited.
	if err := b.Wait(ctx, "jira"); err != nil {
		t.Fatal(err)
	}
	a.Observe(ctx, limited("jira", 5*time.Second))
	if v := state.m[GateStateKey("jira")]; v == "" {
		t.Fatalf("hold not written to the shared state: %v", state.m)
	}
	// Within the refresh b trusts what it read; after it b sees the hold.
	clk.Advance(time.Second)
	if err := b.Wait(ctx, "jira"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] != 4*time.Second {
		t.Fatalf("replica b slept %v, want the 4s left of a's hold", s)
	}
	if !b.Until("jira").Equal(a.Until("jira")) {
		t.Errorf("b holds until %v, a until %v", b.Until("jira"), a.Until("jira"))
	}
	// Repeated 429s with the same end are written once.
	writes := state.writes
	a.Hold(ctx, "jira", a.Until("jira"))
	if state.writes != writes {
		t.Errorf("an unchanged hold was written again")
	}
}

func TestRateGateSharedReadsAreRationed(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	state := &memState{}
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep, Shared: state, SharedRefresh: time.Second}
	for range 100 {
		if err := g.Wait(ctx, "jira"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Millisecond)
	}
	if state.reads != 1 {
		t.Errorf("100 calls within one second read the shared state %d times, want 1", state.reads)
	}
}

// scriptedTickets answers CreateTicket from a script of errors.
type scriptedTickets struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (s *scriptedTickets) FindByLabel(context.Context, string) ([]coe.TicketRef, error) {
	return nil, nil
}

func (s *scriptedTickets) CreateTicket(context.Context, coe.TicketSpec) (coe.TicketRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return coe.TicketRef{}, err
		}
	}
	return coe.TicketRef{Key: "OPS-1"}, nil
}

func (s *scriptedTickets) EnsureRemoteLink(context.Context, string, coe.RemoteLink) error {
	return nil
}

func TestGatedCallRetriesAfterTheHold(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		maxHold   time.Duration
		wantCalls int
		wantSlept []time.Duration
		wantErr   bool
	}{
		{"no limit", nil, 0, 1, nil, false},
		{"two 429s then created", []error{limited("jira", time.Second), limited("jira", 2*time.Second)}, 0, 3,
			[]time.Duration{time.Second, 2 * time.Second}, false},
		{"patience runs out", []error{limited("jira", 2*time.Second), limited("jira", 2*time.Second), limited("jira", 2*time.Second)},
			3 * time.Second, 2, []time.Duration{2 * time.Second}, true},
		{"other errors are returned at once", []error{&Error{Kind: Retryable, Service: "jira", Status: 502}}, 0, 1, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			g := &RateGate{Now: clk.Now, Sleep: clk.Sleep, MaxHold: tt.maxHold}
			tr := &scriptedTickets{errs: tt.errs}
			ref, err := GateTickets(tr, g).CreateTicket(context.Background(), coe.TicketSpec{})
			if (err != nil) != tt.wantErr {
				t.Fatalf("CreateTicket = %v, %v; want error %v", ref, err, tt.wantErr)
			}
			if tr.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", tr.calls, tt.wantCalls)
			}
			if got := clk.Slept(); fmt.Sprint(got) != fmt.Sprint(tt.wantSlept) {
				t.Errorf("slept %v, want %v", got, tt.wantSlept)
			}
		})
	}
}

// A 429 seen by one job holds the others' calls to the same service: they
// wait for the hold instead of being refused themselves.
func TestGatedCallsWaitForAnotherJobsHold(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	first := &scriptedTickets{errs: []error{limited("jira", 2*time.Second)}}
	other := &scriptedTickets{}
	// While the first job waits out its hold, the second job's call
	// arrives: it must sleep to the same moment before calling.
	var otherSlept []time.Duration
	var otherErr error
	clk.onWait = func(time.Duration) {
		clk.onWait = nil
		before := len(clk.Slept())
		clk.Advance(-time.Second) // the second job calls 1s into the 2s hold
		_, otherErr = GateTickets(other, g).CreateTicket(ctx, coe.TicketSpec{})
		otherSlept = clk.Slept()[before:]
	}
	if _, err := GateTickets(first, g).CreateTicket(ctx, coe.TicketSpec{}); err != nil {
		t.Fatal(err)
	}
	if otherErr != nil {
		t.Fatal(otherErr)
	}
	if fmt.Sprint(otherSlept) != fmt.Sprint([]time.Duration{time.Second}) {
		t.Errorf("the other job slept %v, want the 1s left of the hold", otherSlept)
	}
	if other.calls != 1 || first.calls != 2 {
		t.Errorf("calls: other %d (want 1), first %d (want 2)", other.calls, first.calls)
	}
}

// The Runner snoozes a job that still failed for a rate limit until the
// gate opens, and holds the gate for everyone else.
func TestRunnerRateLimitedHoldsGate(t *testing.T) {
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	g.Observe(context.Background(), limited("jira", 30*time.Second))
	r := &Runner{Log: slog.New(slog.DiscardHandler), Gate: g}
	err := r.result(context.Background(), "draft_coe", 1, limited("jira", time.Second), r.Log)
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) {
		t.Fatalf("result = %v, want a snooze", err)
	}
	if snooze.Duration != 30*time.Second {
		t.Errorf("snoozed %v, want the 30s until the gate opens (not the job's own 1s Retry-After)", snooze.Duration)
	}
	if !g.Until("jira").Equal(clk.Now().Add(30 * time.Second)) {
		t.Errorf("gate shortened to %v", g.Until("jira"))
	}
}

type countingHistory struct{ calls int }

func (h *countingHistory) FindByLabel(context.Context, string) ([]coe.TicketRef, error) {
	h.calls++
	return nil, nil
}
func (h *countingHistory) GetItem(context.Context, string) (coe.JiraItem, error) {
	h.calls++
	return coe.JiraItem{}, nil
}
func (h *countingHistory) Subtasks(context.Context, string) ([]coe.JiraItem, error) {
	h.calls++
	return nil, nil
}

type countingChanges struct{ calls int }

func (c *countingChanges) Deployments(context.Context, string, time.Time, time.Time) ([]coe.Change, bool, error) {
	c.calls++
	return []coe.Change{{Title: "d"}}, true, nil
}
func (c *countingChanges) MergedPulls(context.Context, string, string, time.Time, time.Time) ([]coe.Change, bool, error) {
	c.calls++
	return nil, false, nil
}

// The recurrence lookups and the change listings wait out a hold on their
// service like every other call, and pass answers through unchanged.
func TestGatedHistoryAndChangesWaitForTheHold(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	if _, ok := g.Observe(ctx, limited("jira", 2*time.Second)); !ok {
		t.Fatal("Observe did not take the Jira hold")
	}
	h := &countingHistory{}
	if _, err := GateHistory(h, g).FindByLabel(ctx, "pd-service-x"); err != nil || h.calls != 1 {
		t.Fatalf("FindByLabel: %v after %d calls", err, h.calls)
	}
	if got := clk.Slept(); fmt.Sprint(got) != fmt.Sprint([]time.Duration{2 * time.Second}) {
		t.Fatalf("slept %v before the Jira lookup, want the 2s hold", got)
	}
	// GitHub is not held by Jira's 429 ...
	c := &countingChanges{}
	changes, truncated, err := GateChanges(c, g).Deployments(ctx, "acme/x", time.Time{}, time.Time{})
	if err != nil || len(changes) != 1 || !truncated || len(clk.Slept()) != 1 {
		t.Fatalf("Deployments = %v, %v, %v after sleeping %v", changes, truncated, err, clk.Slept())
	}
	// ... but by its own.
	g.Observe(ctx, limited("github", 3*time.Second))
	if _, _, err := GateChanges(c, g).MergedPulls(ctx, "acme/x", "", time.Time{}, time.Time{}); err != nil || c.calls != 2 {
		t.Fatalf("MergedPulls: %v after %d calls", err, c.calls)
	}
	if got := clk.Slept(); len(got) != 2 || got[1] != 3*time.Second {
		t.Fatalf("slept %v, want the 3s GitHub hold last", got)
	}
	if GateHistory(nil, g) != nil || GateChanges(nil, g) != nil {
		t.Fatal("nil ports must stay nil")
	}
}

// A create records its intent before the call; when the gate then holds
// the call, the intent is recorded again right before the request leaves,
// so that a retry's settle window counts from the send. Without a wait
// nothing is recorded a second time.
func TestGatedCreateRecordsItsIntentWhenSent(t *testing.T) {
	tests := []struct {
		name       string
		holdBefore time.Duration // another job's hold, already on
		errs       []error
		want       []time.Duration // recordings, as offsets from the start
	}{
		{"no hold: none", 0, nil, nil},
		{"another job's hold", 3 * time.Second, nil, []time.Duration{3 * time.Second}},
		{"refused for its rate, tried again", 0, []error{limited("jira", 2*time.Second), limited("jira", time.Second)},
			[]time.Duration{2 * time.Second, 3 * time.Second}},
		{"other errors are not tried again", 0, []error{&Error{Kind: Retryable, Service: "jira", Status: 502}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			start := clk.Now()
			g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
			if tt.holdBefore > 0 {
				g.Hold(context.Background(), ServiceJira, start.Add(tt.holdBefore))
			}
			var recorded []time.Duration
			ctx := beforeAttempt(context.Background(), func(context.Context) error {
				recorded = append(recorded, clk.Now().Sub(start))
				return nil
			})
			tr := &scriptedTickets{errs: tt.errs}
			GateTickets(tr, g).CreateTicket(ctx, coe.TicketSpec{})
			if fmt.Sprint(recorded) != fmt.Sprint(tt.want) {
				t.Errorf("intent recorded at %v, want %v", recorded, tt.want)
			}
		})
	}
}

// A recorder that fails stops the call: a create must not leave without
// its intent on record.
func TestGatedCreateNotSentWithoutItsIntent(t *testing.T) {
	clk := newFakeClock()
	g := &RateGate{Now: clk.Now, Sleep: clk.Sleep}
	g.Hold(context.Background(), ServiceJira, clk.Now().Add(time.Second))
	boom := errors.New("store down")
	ctx := beforeAttempt(context.Background(), func(context.Context) error { return boom })
	tr := &scriptedTickets{}
	if _, err := GateTickets(tr, g).CreateTicket(ctx, coe.TicketSpec{}); !errors.Is(err, boom) {
		t.Fatalf("CreateTicket = %v, want the recorder's error", err)
	}
	if tr.calls != 0 {
		t.Errorf("%d calls made without the intent recorded", tr.calls)
	}
}
