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

// laggingSearch is a Jira whose search shows the ticket after empty
// answers, on a fake clock that only the Drafter's Sleep advances.
type laggingSearch struct {
	empty    int // answers before the ticket shows; -1: never
	searches int
	at       []time.Duration // fake time since the start at each search
	now      time.Time
	start    time.Time
}

func (l *laggingSearch) FindByLabel(context.Context, string) ([]coe.TicketRef, error) {
	l.searches++
	l.at = append(l.at, l.now.Sub(l.start))
	if l.empty < 0 || l.searches <= l.empty {
		return nil, nil
	}
	return []coe.TicketRef{{Key: "OPS-9", ID: "10009", URL: "https://jira.example/browse/OPS-9"}}, nil
}

func (l *laggingSearch) CreateTicket(context.Context, coe.TicketSpec) (coe.TicketRef, error) {
	return coe.TicketRef{}, errors.New("not in this test")
}

func (l *laggingSearch) EnsureRemoteLink(context.Context, string, coe.RemoteLink) error { return nil }

// After a kill during the create, the retry polls Jira's search with
// backoff inside the settle window instead of sleeping the whole window:
// a ticket that shows after three empty answers is found 1.75 s (fake)
// after the retry starts, not 60 s later.
func TestRecoverPollsTheSearchWithBackoff(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		empty    int
		settle   time.Duration
		searches int
		last     time.Duration // fake time of the last search
		outcome  Outcome
		wait     time.Duration // the WaitError's, 0 for none
	}{
		{"shows after three polls", 3, time.Minute, 4, 1750 * time.Millisecond, OutcomeFound, 0},
		{"shows at once", 0, time.Minute, 1, 0, OutcomeFound, 0},
		// 0.25+0.5+1+2+4+4 s = 11.75 s of polls; a 4 s wait more would
		// pass the 15 s budget: the job looks again later.
		{"never shows: the budget is spent", -1, time.Minute, 7, 11750 * time.Millisecond, "", 4 * time.Second},
		// The window ends at 2 s: the last poll is at its end, then an
		// empty answer is the truth and the create goes ahead.
		{"never shows: the window ends", -1, 2 * time.Second, 5, 2 * time.Second, "", 0},
		// The window ends at 15 s, exactly the budget: the last wait
		// (3.25 s) still fits, and the empty answer at 15 s is the truth.
		{"never shows: the window ends at the budget", -1, 15 * time.Second, 8, 15 * time.Second, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "c.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			rec, _, err := st.BeginCOE(ctx, store.COE{IncidentID: "PINC1", Label: coe.IncidentLabel("PINC1"), IntentAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			js := &laggingSearch{empty: tc.empty, now: t0, start: t0}
			var slept []time.Duration
			d := &Drafter{Tracker: js, Store: st, SearchSettle: tc.settle, Log: slog.New(slog.DiscardHandler),
				Now: func() time.Time { return js.now },
				Sleep: func(_ context.Context, dur time.Duration) error {
					slept = append(slept, dur)
					js.now = js.now.Add(dur)
					return nil
				}}
			got, outcome, err := d.recover(ctx, rec)
			var we *WaitError
			switch {
			case tc.wait != 0 && (!errors.As(err, &we) || we.Wait != tc.wait):
				t.Fatalf("err %v, want a WaitError of %s", err, tc.wait)
			case tc.wait == 0 && err != nil:
				t.Fatal(err)
			}
			if outcome != tc.outcome || js.searches != tc.searches || js.at[len(js.at)-1] != tc.last {
				t.Errorf("outcome %q after %d searches at %v (slept %v); want %q after %d, the last at %s",
					outcome, js.searches, js.at, slept, tc.outcome, tc.searches, tc.last)
			}
			if tc.outcome == OutcomeFound && got.TicketKey != "OPS-9" {
				t.Errorf("found %q", got.TicketKey)
			}
		})
	}
}
