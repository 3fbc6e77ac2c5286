package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coesync/coesync/sync/store"
)

// testEarlierCOEs: COEs are found by service or by incident key, created
// ones only, before the given time, newest first, limited; the new fields
// round-trip.
func testEarlierCOEs(t *testing.T, s store.Store) {
	ctx := context.Background()
	type rec struct {
		id, service, key string
		at               time.Time
		created          bool
	}
	recs := []rec{
		{"A", "PSVC", "", t0, true},
		{"B", "POTHER", "db-down", t0.Add(time.Hour), true},
		{"C", "PSVC", "", t0.Add(2 * time.Hour), true},
		{"D", "PSVC", "", t0.Add(3 * time.Hour), false}, // intent only: no ticket
		{"E", "PTHIRD", "", t0.Add(4 * time.Hour), true},
		{"F", "PSVC", "db-down", t0.Add(10 * time.Hour), true}, // after "before"
		{"G", "", "", t0.Add(time.Hour), true},                 // no service, no key
	}
	for i, r := range recs {
		c := store.COE{IncidentID: r.id, Label: "pd-incident-" + r.id, ServiceID: r.service, IncidentKey: r.key,
			IntentAt: r.at}
		if r.id == "C" {
			c.RecurrenceOf = "OPS-1"
		}
		if _, _, err := s.BeginCOE(ctx, c); err != nil {
			t.Fatal(err)
		}
		if r.created {
			if err := s.SetCOETicket(ctx, r.id, fmt.Sprintf("OPS-%d", i+1), "", "", r.at); err != nil {
				t.Fatal(err)
			}
		}
	}
	keys := func(cs []store.COE) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.TicketKey)
		}
		return out
	}
	before := t0.Add(5 * time.Hour)
	for _, tc := range []struct {
		name, service, key string
		limit              int
		want               []string
	}{
		{"service", "PSVC", "", 10, []string{"OPS-3", "OPS-1"}},
		{"key", "", "db-down", 10, []string{"OPS-2"}},
		{"service or key", "PSVC", "db-down", 10, []string{"OPS-3", "OPS-2", "OPS-1"}},
		{"limit", "PSVC", "db-down", 2, []string{"OPS-3", "OPS-2"}},
		{"nothing", "", "", 10, nil},
		{"unknown", "PNONE", "none", 10, nil},
	} {
		got, err := s.EarlierCOEs(ctx, store.EarlierQuery{ServiceID: tc.service, IncidentKey: tc.key, TriggeredAt: before, Limit: tc.limit})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if fmt.Sprint(keys(got)) != fmt.Sprint(tc.want) {
			t.Errorf("%s: EarlierCOEs = %v, want %v", tc.name, keys(got), tc.want)
		}
	}
	testEarlierInTriggerOrder(t, s)
	got, err := s.COE(ctx, "C")
	if err != nil {
		t.Fatal(err)
	}
	if got.RecurrenceOf != "OPS-1" || got.ServiceID != "PSVC" {
		t.Errorf("COE C: RecurrenceOf=%q ServiceID=%q", got.RecurrenceOf, got.ServiceID)
	}
	got, err = s.COE(ctx, "B")
	if err != nil {
		t.Fatal(err)
	}
	if got.IncidentKey != "db-down" || got.RecurrenceOf != "" {
		t.Errorf("COE B: IncidentKey=%q RecurrenceOf=%q", got.IncidentKey, got.RecurrenceOf)
	}
}

// testEarlierInTriggerOrder: a backfill creates the COEs of old incidents
// after those of newer ones; only incidents triggered before the asking one
// (a lower PagerDuty number, or a ticket created before it triggered when a
// number is unknown) are earlier.
func testEarlierInTriggerOrder(t *testing.T, s store.Store) {
	ctx := context.Background()
	triggered := t0.Add(-30 * 24 * time.Hour) // the backfilled incident #50
	for _, r := range []struct {
		id      string
		number  int
		created time.Time
	}{
		{"BF-OLD", 40, t0.Add(-40 * 24 * time.Hour)},     // triggered and reviewed before #50
		{"BF-LATE", 45, t0.Add(20 * time.Hour)},          // triggered before #50, reviewed after it (backfill)
		{"BF-NEW", 60, t0.Add(-10 * 24 * time.Hour)},     // triggered after #50, reviewed before the backfill
		{"BF-NEWER", 70, t0.Add(-5 * 24 * time.Hour)},    // likewise
		{"BF-NONUM", 0, t0.Add(-20 * 24 * time.Hour)},    // number unknown, ticket after #50 triggered
		{"BF-NONUMOLD", 0, t0.Add(-35 * 24 * time.Hour)}, // number unknown, ticket before #50 triggered
	} {
		c := store.COE{IncidentID: r.id, Label: "pd-incident-" + r.id, ServiceID: "PBACKFILL", IncidentNumber: r.number, IntentAt: r.created}
		if _, _, err := s.BeginCOE(ctx, c); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCOETicket(ctx, r.id, "BF-"+r.id, "", "", r.created); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(cs []store.COE) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.IncidentID)
		}
		return fmt.Sprint(out)
	}
	for _, tc := range []struct {
		name   string
		number int
		want   string
	}{
		{"by number", 50, "[BF-LATE BF-NONUMOLD BF-OLD]"},
		{"number unknown", 0, "[BF-NONUMOLD BF-OLD]"},
		{"the oldest", 1, "[BF-NONUMOLD]"},
	} {
		got, err := s.EarlierCOEs(ctx, store.EarlierQuery{ServiceID: "PBACKFILL", Number: tc.number, TriggeredAt: triggered, Limit: 10})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ids(got) != tc.want {
			t.Errorf("%s: EarlierCOEs of incident #%d = %s, want %s (only incidents triggered before it)", tc.name, tc.number, ids(got), tc.want)
		}
	}
}
