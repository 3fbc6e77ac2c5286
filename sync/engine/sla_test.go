package engine_test

import (
	"testing"
	"time"

	"github.com/coesync/coesync/sync/engine"
)

func TestSLAFor(t *testing.T) {
	day := 24 * time.Hour
	s := engine.NewSLA(map[string]time.Duration{"P1": 14 * day, "High": 7 * day, "default": 45 * day})
	noDefault := engine.NewSLA(map[string]time.Duration{"P1": 14 * day})
	tests := []struct {
		sla        *engine.SLA
		priorities []string
		want       time.Duration
		ok         bool
	}{
		{s, []string{"P1", "High"}, 14 * day, true},   // the incident's priority first
		{s, []string{"p1"}, 14 * day, true},           // case-insensitive
		{s, []string{"", "high"}, 7 * day, true},      // no incident priority: the item's
		{s, []string{"P4", "Medium"}, 45 * day, true}, // neither: default
		{s, nil, 45 * day, true},
		{noDefault, []string{"P2"}, 0, false},
		{nil, []string{"P1"}, 0, false},
		{engine.NewSLA(nil), []string{"P1"}, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.sla.For(tt.priorities...)
		if got != tt.want || ok != tt.ok {
			t.Errorf("For(%q) = %v, %v; want %v, %v", tt.priorities, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDueFor(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		created time.Time
		sla     time.Duration
		want    string
	}{
		{time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), 14 * 24 * time.Hour, "2026-11-15"},
		{time.Date(2026, 11, 1, 23, 30, 0, 0, time.UTC), 36 * time.Hour, "2026-11-03"},
		{time.Date(2026, 11, 1, 0, 30, 0, 0, berlin), 24 * time.Hour, "2026-11-01"}, // 23:30 UTC the day before
	}
	for _, tt := range tests {
		got := engine.DueFor(tt.created, tt.sla)
		if got.Format(time.DateOnly) != tt.want || got.Location() != time.UTC || got.Hour() != 0 {
			t.Errorf("DueFor(%s, %s) = %s, want %s 00:00 UTC", tt.created, tt.sla, got, tt.want)
		}
	}
}
