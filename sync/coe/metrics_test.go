package coe

import (
	"slices"
	"testing"
	"time"
)

func TestComputeMetricsRich(t *testing.T) {
	inc, log, _ := richIncident()
	m := ComputeMetrics(inc, log)
	want := Metrics{
		TimeToAcknowledge: 4*time.Minute + 12*time.Second,
		TimeToResolve:     time.Hour + 3*time.Minute + 20*time.Second,
		Acknowledged:      true,
		Resolved:          true,
		Escalations:       1,
		Notifications:     4,
		PeoplePaged:       3,
		Responders:        3,
		ResponderNames:    []string{"Earline Greenholt", "Lee Turner", "Jane Doe"},
	}
	if m.TimeToAcknowledge != want.TimeToAcknowledge || m.TimeToResolve != want.TimeToResolve ||
		m.Acknowledged != want.Acknowledged || m.Resolved != want.Resolved ||
		m.Escalations != want.Escalations || m.Notifications != want.Notifications ||
		m.PeoplePaged != want.PeoplePaged || m.Responders != want.Responders ||
		!slices.Equal(m.ResponderNames, want.ResponderNames) {
		t.Errorf("ComputeMetrics =\n %+v\nwant\n %+v", m, want)
	}
	if m.Mitigated {
		t.Error("ComputeMetrics cannot know mitigation from the log")
	}
	if got := FormatDuration(m.TimeToAcknowledge); got != "4m 12s" {
		t.Errorf("TTA formatted %q", got)
	}
	if got := FormatDuration(m.TimeToResolve); got != "1h 3m" {
		t.Errorf("TTR formatted %q", got)
	}
}

func TestComputeMetricsEdges(t *testing.T) {
	tests := []struct {
		name  string
		inc   Incident
		log   []LogEntry
		check func(t *testing.T, m Metrics)
	}{
		{
			name: "unacknowledged and unresolved",
			inc:  Incident{CreatedAt: t0},
			log:  []LogEntry{{Kind: LogTrigger, At: t0}},
			check: func(t *testing.T, m Metrics) {
				if m.Acknowledged || m.Resolved || m.TimeToAcknowledge != 0 || m.TimeToResolve != 0 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "resolve entry stands in for ResolvedAt; first ack by time even when listed later",
			inc:  Incident{CreatedAt: t0},
			log: []LogEntry{
				{Kind: LogAcknowledge, At: at(9 * time.Minute), Actor: "B"},
				{Kind: LogAcknowledge, At: at(2 * time.Minute), Actor: "A"},
				{Kind: LogResolve, At: at(30 * time.Minute)},
			},
			check: func(t *testing.T, m Metrics) {
				if m.TimeToAcknowledge != 2*time.Minute || m.TimeToResolve != 30*time.Minute || !m.Resolved {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "no creation time: the first trigger starts the clock",
			inc:  Incident{ResolvedAt: at(time.Hour)},
			log: []LogEntry{
				{Kind: LogTrigger, At: at(10 * time.Minute)},
				{Kind: LogAcknowledge, At: at(15 * time.Minute)},
			},
			check: func(t *testing.T, m Metrics) {
				if m.TimeToAcknowledge != 5*time.Minute || m.TimeToResolve != 50*time.Minute {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "unsorted log: the earliest trigger starts, the latest resolve ends",
			log: []LogEntry{
				{Kind: LogResolve, At: at(20 * time.Minute)},
				{Kind: LogTrigger, At: at(8 * time.Minute)},
				{Kind: LogAcknowledge, At: at(12 * time.Minute)},
				{Kind: LogTrigger, At: at(3 * time.Minute)},
				{Kind: LogResolve, At: at(40 * time.Minute)},
				{Kind: LogTrigger, At: at(5 * time.Minute)},
				{Kind: LogResolve, At: at(30 * time.Minute)},
			},
			check: func(t *testing.T, m Metrics) {
				if m.TimeToAcknowledge != 9*time.Minute || m.TimeToResolve != 37*time.Minute {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "unknown start: acknowledged and resolved, with no durations",
			inc:  Incident{ResolvedAt: at(time.Hour)},
			log:  []LogEntry{{Kind: LogAcknowledge, At: at(15 * time.Minute)}},
			check: func(t *testing.T, m Metrics) {
				if !m.Acknowledged || !m.Resolved || m.TimeToAcknowledge != 0 || m.TimeToResolve != 0 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "ResolvedAt wins over a resolve entry",
			inc:  Incident{CreatedAt: t0, ResolvedAt: at(10 * time.Minute)},
			log:  []LogEntry{{Kind: LogResolve, At: at(50 * time.Minute)}},
			check: func(t *testing.T, m Metrics) {
				if m.TimeToResolve != 10*time.Minute {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "clock skew never gives a negative duration",
			inc:  Incident{CreatedAt: at(time.Minute)},
			log:  []LogEntry{{Kind: LogAcknowledge, At: t0}},
			check: func(t *testing.T, m Metrics) {
				if !m.Acknowledged || m.TimeToAcknowledge != 0 {
					t.Errorf("%+v", m)
				}
			},
		},
		{
			name: "responders are distinct people, case and spaces ignored, empty names skipped",
			log: []LogEntry{
				{Kind: LogNotify, Subject: "Lee Turner"},
				{Kind: LogNotify, Subject: " lee turner "},
				{Kind: LogAssign, Subject: "Jane"},
				{Kind: LogAcknowledge, Actor: "LEE TURNER"},
				{Kind: LogAcknowledge, Actor: ""},
				{Kind: LogResolve, Actor: "Not A Responder"},
			},
			check: func(t *testing.T, m Metrics) {
				if m.Responders != 2 || m.PeoplePaged != 1 || m.Notifications != 2 ||
					!slices.Equal(m.ResponderNames, []string{"Lee Turner", "Jane"}) {
					t.Errorf("%+v", m)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, ComputeMetrics(tt.inc, tt.log)) })
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                              "0s",
		500 * time.Millisecond:         "0s",
		45 * time.Second:               "45s",
		4*time.Minute + 12*time.Second: "4m 12s",
		5 * time.Minute:                "5m",
		time.Hour + 3*time.Minute + 59*time.Second: "1h 3m",
		time.Hour + 30*time.Second:                 "1h",
		52*time.Hour + 10*time.Minute:              "2d 4h",
		48 * time.Hour:                             "2d",
		-90 * time.Second:                          "-1m 30s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
