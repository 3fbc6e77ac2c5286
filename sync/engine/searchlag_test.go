package engine

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// The settle window follows the search lag coesync observed: a ticket
// that showed `observed` after its create's intent makes the next
// unknown-outcome create wait twice that (at least SearchSettleFloor, at
// most the configured 60 s) before an empty search is trusted, all on a
// fake clock.
func TestSettleWindowFollowsTheObservedSearchLag(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		empty    int           // empty answers before the first ticket shows; -1: none observed
		observed time.Duration // the lag that records (fake time of the search that shows it)
		last     time.Duration // fake time of the second incident's last search
		wait     bool          // the second incident's attempt ends in a WaitError (window past the poll budget)
	}{
		// 0.25 s: twice is under the floor, the window is 5 s.
		{"a short lag: the floor", 1, 250 * time.Millisecond, 5 * time.Second, false},
		// 0.25+0.5+1+2 = 3.75 s: the window is 7.5 s.
		{"a 3.75 s lag: twice that", 4, 3750 * time.Millisecond, 7500 * time.Millisecond, false},
		// Nothing observed: the configured 60 s, past one attempt's budget.
		{"no lag observed: the configured window", -1, 0, 11750 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			js := &laggingSearch{empty: tc.empty, now: t0, start: t0}
			d := &Drafter{Tracker: js, Store: st, SearchSettle: time.Minute, Log: slog.New(slog.DiscardHandler),
				Now:   func() time.Time { return js.now },
				Sleep: func(_ context.Context, dur time.Duration) error { js.now = js.now.Add(dur); return nil }}
			if tc.empty >= 0 {
				rec, _, err := st.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: t0})
				if err != nil {
					t.Fatal(err)
				}
				if _, outcome, err := d.recover(ctx, rec); err != nil || outcome != OutcomeFound {
					t.Fatalf("first incident: %q, %v", outcome, err)
				}
				if lags := d.observedLags(ctx); len(lags) != 1 || lags[0] != tc.observed {
					t.Fatalf("observed %v, want [%s]", lags, tc.observed)
				}
			}
			// A second incident's create failed with a 5xx and nothing
			// landed: its search stays empty.
			js.empty, js.searches, js.at, js.start = -1, 0, nil, js.now
			rec, _, err := st.BeginCOE(ctx, store.COE{IncidentID: "PINC2", Label: coe.IncidentLabel("PINC2"), IntentAt: js.now})
			if err != nil {
				t.Fatal(err)
			}
			_, outcome, err := d.recover(ctx, rec)
			var we *WaitError
			if tc.wait != errors.As(err, &we) || (!tc.wait && err != nil) || outcome != "" {
				t.Fatalf("second incident: %q, %v; want a WaitError %v", outcome, err, tc.wait)
			}
			if got := js.at[len(js.at)-1]; got != tc.last {
				t.Errorf("last search at %s (%v), want %s", got, js.at, tc.last)
			}
		})
	}
}

// Twice a lag longer than half the configured window is the configured
// window: it is the ceiling.
func TestSettleWindowCeiling(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := &Drafter{Store: st, SearchSettle: time.Minute, Log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		lag, want time.Duration
	}{{0, time.Minute}, {time.Second, SearchSettleFloor}, {10 * time.Second, 20 * time.Second}, {45 * time.Second, time.Minute}} {
		if c.lag > 0 {
			d.recordSearchLag(ctx, c.lag)
		}
		if got := d.searchSettle(ctx); got != c.want {
			t.Errorf("after a lag of %s: window %s, want %s", c.lag, got, c.want)
		}
	}
}
