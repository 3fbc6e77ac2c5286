package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLanding(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		intent   time.Time
		settle   time.Duration
		now      time.Time
		wantWait time.Duration // 0: nil
	}{
		{"no intent", time.Time{}, time.Minute, t0, 0},
		{"no settle", t0, 0, t0, 0},
		{"no settle, intent ahead of the clock", t0.Add(time.Minute), 0, t0, 0},
		{"still landing", t0, 2 * time.Second, t0.Add(500 * time.Millisecond), 1500 * time.Millisecond},
		{"settled", t0, 2 * time.Second, t0.Add(2 * time.Second), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := landing(c.intent, c.settle, c.now, "why")
			var w *WaitError
			if c.wantWait == 0 {
				if err != nil {
					t.Fatalf("landing = %v, want nil", err)
				}
				return
			}
			if !errors.As(err, &w) || w.Wait != c.wantWait || w.Reason != "why" {
				t.Fatalf("landing = %v, want a wait of %s", err, c.wantWait)
			}
		})
	}
}

type mapState map[string]string

func (m mapState) State(_ context.Context, k string) (string, error) { return m[k], nil }
func (m mapState) SetState(_ context.Context, k, v string) error     { m[k] = v; return nil }

func TestIntentRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := mapState{}
	if got, err := loadIntent(ctx, st, "k"); err != nil || !got.IsZero() {
		t.Fatalf("no intent: %v, %v", got, err)
	}
	at := time.Date(2026, 11, 24, 3, 0, 0, 123456789, time.UTC)
	saveIntent(ctx, st, "k", at)
	if got, _ := loadIntent(ctx, st, "k"); !got.Equal(at) {
		t.Fatalf("loadIntent = %v, want %v", got, at)
	}
	saveIntent(ctx, st, "k", time.Time{})
	if got, _ := loadIntent(ctx, st, "k"); !got.IsZero() {
		t.Fatalf("cleared intent reads %v", got)
	}
	st["k"] = "garbage"
	if got, err := loadIntent(ctx, st, "k"); err != nil || !got.IsZero() {
		t.Fatalf("unreadable intent: %v, %v", got, err)
	}
}

// Lease owners must differ between any two holders: TryLock lets an owner
// take a lease it holds, so two jobs with one owner string would both run.
func TestLeaseOwnersAreUnique(t *testing.T) {
	const goroutines, each = 4, 5000
	owners := make(chan string, goroutines*each)
	done := make(chan struct{})
	for range goroutines {
		go func() {
			for range each {
				owners <- newLeaseOwner()
			}
			done <- struct{}{}
		}()
	}
	for range goroutines {
		<-done
	}
	close(owners)
	seen := map[string]bool{}
	for o := range owners {
		if seen[o] {
			t.Fatalf("owner %q handed out twice", o)
		}
		seen[o] = true
	}
	if !strings.HasPrefix(newLeaseOwner(), leaseOwnerPrefix+"-") || len(leaseOwnerPrefix) != 16 {
		t.Errorf("owner %q lacks the process's random prefix", newLeaseOwner())
	}
}

// intending records the intent before the call and hands the call a ctx
// that records it again before an attempt; a failed record stops it.
func TestIntending(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("store down")
	calls := 0
	if _, err := intending(ctx, func(context.Context) error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("failed record: %v after %d calls", err, calls)
	}
	calls = 0
	cctx, err := intending(ctx, func(context.Context) error { calls++; return nil })
	if err != nil || calls != 1 {
		t.Fatalf("record: %v after %d calls", err, calls)
	}
	if err := attempting(cctx); err != nil || calls != 2 {
		t.Fatalf("attempting: %v after %d calls, want the hook run", err, calls)
	}
	if err := attempting(ctx); err != nil {
		t.Fatalf("attempting without a hook: %v", err)
	}
}
