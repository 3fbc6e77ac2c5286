package coe

import (
	"strconv"
	"strings"
	"time"
)

// Metrics are the numbers a COE reviewer asks for first.
type Metrics struct {
	// TimeToAcknowledge runs from the incident's creation to its first
	// acknowledgement; valid when Acknowledged.
	TimeToAcknowledge time.Duration
	// TimeToMitigate runs from the creation to the first mitigation note
	// (see IsMitigationNote); valid when Mitigated. The log alone does not
	// tell it: NewDraft sets it from the timeline.
	TimeToMitigate time.Duration
	// TimeToResolve runs from the creation to the resolution; valid when
	// Resolved.
	TimeToResolve time.Duration

	// Acknowledged, Mitigated and Resolved say whether the incident was
	// acknowledged, had a "Mitigated:" note, and was resolved.
	Acknowledged, Mitigated, Resolved bool

	// Escalations counts escalate log entries.
	Escalations int
	// Notifications counts notify log entries (each page, call, SMS, push
	// or email sent).
	Notifications int
	// PeoplePaged counts the distinct people notified.
	PeoplePaged int
	// Responders counts the distinct people who took part: those notified
	// or assigned, and those who acknowledged.
	Responders int
	// ResponderNames are the responders in the order they first appear in
	// the log; untrusted text.
	ResponderNames []string
}

// ComputeMetrics derives the metrics of inc from its log entries. The start
// is inc.CreatedAt, or the earliest trigger when CreatedAt is unset; the end
// is inc.ResolvedAt, or the last resolve entry when ResolvedAt is unset.
// Durations are never negative (clock skew between the two counts as zero).
func ComputeMetrics(inc Incident, log []LogEntry) Metrics {
	var m Metrics
	start := inc.CreatedAt
	var firstTrigger, firstAck, lastResolve time.Time
	responders := newNameSet()
	paged := newNameSet()
	for _, e := range log {
		switch e.Kind {
		case LogTrigger:
			if firstTrigger.IsZero() || e.At.Before(firstTrigger) {
				firstTrigger = e.At
			}
		case LogAcknowledge:
			if firstAck.IsZero() || e.At.Before(firstAck) {
				firstAck = e.At
			}
			responders.add(e.Actor)
		case LogResolve:
			if lastResolve.IsZero() || e.At.After(lastResolve) {
				lastResolve = e.At
			}
		case LogEscalate:
			m.Escalations++
		case LogNotify:
			m.Notifications++
			responders.add(e.Subject)
			paged.add(e.Subject)
		case LogAssign:
			responders.add(e.Subject)
		}
	}
	if start.IsZero() {
		start = firstTrigger
	}
	if !firstAck.IsZero() {
		m.Acknowledged = true
		m.TimeToAcknowledge = since(start, firstAck)
	}
	end := inc.ResolvedAt
	if end.IsZero() {
		end = lastResolve
	}
	if !end.IsZero() {
		m.Resolved = true
		m.TimeToResolve = since(start, end)
	}
	m.Responders = len(responders.names)
	m.ResponderNames = responders.names
	m.PeoplePaged = len(paged.names)
	return m
}

// since is end - start, or zero when either is unknown or end is earlier.
func since(start, end time.Time) time.Duration {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return 0
	}
	return end.Sub(start)
}

// nameSet collects distinct people's names in order of first appearance,
// ignoring case and surrounding spaces.
type nameSet struct {
	seen  map[string]bool
	names []string
}

func newNameSet() *nameSet { return &nameSet{seen: make(map[string]bool)} }

func (s *nameSet) add(name string) {
	name = strings.TrimSpace(name)
	key := strings.ToLower(name)
	if name == "" || s.seen[key] {
		return
	}
	s.seen[key] = true
	s.names = append(s.names, name)
}

// FormatDuration formats d for people, with its two most significant units
// and the second left out when zero: "45s", "4m 12s", "1h 3m", "1h",
// "2d 4h". Seconds are truncated; anything under a second is "0s".
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	secs := int64(d / time.Second)
	units := []struct {
		size   int64
		suffix string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	for i, u := range units {
		if secs < u.size && u.size > 1 {
			continue
		}
		out := strconv.FormatInt(secs/u.size, 10) + u.suffix
		if i+1 < len(units) {
			next := units[i+1]
			if rest := (secs % u.size) / next.size; rest > 0 {
				out += " " + strconv.FormatInt(rest, 10) + next.suffix
			}
		}
		return out
	}
	return "0s"
}
