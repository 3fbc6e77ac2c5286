package report

import (
	"slices"
	"strings"
	"time"
)

// SyncHealth is the state of the sync and the verdict on whether the
// report's numbers can be trusted.
type SyncHealth struct {
	// Verdict is Healthy, Degraded (the numbers may miss some changes) or
	// Unreliable (do not trust them): the worst severity of Reasons.
	Verdict string `json:"verdict"`
	// Reasons explain a verdict other than Healthy, worst first.
	Reasons                  []Reason `json:"reasons"`
	WebhooksReceived         int      `json:"webhooks_received"`
	WebhooksReceivedBySource []Count  `json:"webhooks_received_by_source"`
	WebhooksRejected         int      `json:"webhooks_rejected"`
	WebhooksRejectedByReason []Count  `json:"webhooks_rejected_by_reason"`
	JobsFailed               int      `json:"jobs_failed"`
	JobsWaiting              int      `json:"jobs_waiting"`
	DriftRepaired            int      `json:"drift_repaired"`
	MissingTransitions       int      `json:"missing_transitions"`
	RateLimitWaits           int      `json:"rate_limit_waits"`
	RemindersSent            int      `json:"reminders_sent,omitempty"`
	ReconcileIntervalSeconds int64    `json:"reconcile_interval_seconds"`
	// Reconcile has one entry per system, by name; "github" and "jira"
	// are always there.
	Reconcile []ReconcileState `json:"reconcile"`
}

// Reason is one finding that lowers the verdict.
type Reason struct {
	// Code is stable: reconcile_never, reconcile_stale,
	// webhooks_rejected_signature, jobs_failed, missing_transitions,
	// item_problems.
	Code     string `json:"code"`
	Severity string `json:"severity"` // Degraded or Unreliable
	// Summary states the finding in a few words ("2 jobs failed");
	// Detail says what it means for the numbers and what to check.
	Summary string `json:"summary"`
	Detail  string `json:"detail"`
}

// ReconcileState is the last successful reconcile of one system.
type ReconcileState struct {
	System string `json:"system"`
	// Last is null when the system never reconciled.
	Last *time.Time `json:"last"`
	// AgeSeconds is the time since Last; null when never.
	AgeSeconds *int64 `json:"age_seconds"`
	// State is "ok", "late" (more than two intervals ago) or "never".
	State string `json:"state"`
}

// expectedSystems are the systems reconcile must cover.
var expectedSystems = []string{"github", "jira"}

func severityRank(s string) int {
	switch s {
	case Unreliable:
		return 2
	case Degraded:
		return 1
	}
	return 0
}

// add records a reason and lowers the verdict to its severity.
func (h *SyncHealth) add(r Reason) {
	h.Reasons = append(h.Reasons, r)
	slices.SortStableFunc(h.Reasons, func(a, b Reason) int {
		return severityRank(b.Severity) - severityRank(a.Severity)
	})
	if severityRank(r.Severity) > severityRank(h.Verdict) {
		h.Verdict = r.Severity
	}
}

// Assess judges the health of the sync at now:
//
//   - unreliable: jira or github never reconciled, or a
//     system's last successful reconcile is more than two intervals old
//     (drift is not being repaired); or, for a source that also sent
//     valid deliveries, at least half of its signed deliveries carried a
//     bad signature (its signing secret is wrong, so events are lost);
//   - degraded: any such bad signature, failed jobs,
//     missing Jira transitions (and, in Build, action items with a sync
//     problem);
//   - healthy otherwise. Jobs waiting for a retry, rate-limit waits and
//     repaired drift are shown but lower nothing: they are the sync
//     working as designed.
func Assess(h Health, now time.Time) SyncHealth {
	interval := h.ReconcileInterval
	if interval <= 0 {
		interval = DefaultReconcileInterval
	}
	s := SyncHealth{
		Verdict:                  Healthy,
		Reasons:                  []Reason{},
		WebhooksReceivedBySource: tally(h.WebhooksReceived, nil),
		WebhooksRejectedByReason: tally(h.WebhooksRejected, func(k string) string {
			return strings.TrimPrefix(k, "rejected_")
		}),
		JobsFailed:               max(0, h.JobsFailed),
		JobsWaiting:              max(0, h.JobsWaiting),
		DriftRepaired:            max(0, h.DriftRepaired),
		MissingTransitions:       max(0, h.MissingTransitions),
		RateLimitWaits:           max(0, h.RateLimitWaits),
		RemindersSent:            max(0, h.RemindersSent),
		ReconcileIntervalSeconds: int64(interval / time.Second),
	}
	for _, c := range s.WebhooksReceivedBySource {
		s.WebhooksReceived += c.Count
	}
	for _, c := range s.WebhooksRejectedByReason {
		s.WebhooksRejected += c.Count
	}
	// A secret is judged from signed deliveries of the sources that also
	// send valid ones: bad signatures for a source nothing valid came
	// from, like unsigned deliveries, are anyone's traffic and stay
	// counts in WebhooksRejectedByReason.
	received := map[string]int{}
	for _, c := range s.WebhooksReceivedBySource {
		received[c.Name] += c.Count
	}
	sig, sigTotal, wrongSources := 0, 0, []string{}
	for _, c := range tally(h.WebhooksBadSignature, nil) {
		ok := received[c.Name]
		if ok == 0 {
			continue
		}
		sig += c.Count
		sigTotal += c.Count + ok
		if 2*c.Count >= c.Count+ok {
			wrongSources = append(wrongSources, c.Name)
		}
	}

	// Reconcile, per system: the latest time under any spelling of its name.
	last := map[string]time.Time{}
	for _, sys := range expectedSystems {
		last[sys] = time.Time{}
	}
	for k, t := range h.LastReconcile {
		k = cleanField(strings.ToLower(k), maxName)
		if k == "" {
			continue
		}
		if t.After(last[k]) {
			last[k] = t
		}
	}
	systems := make([]string, 0, len(last))
	for k := range last {
		systems = append(systems, k)
	}
	slices.Sort(systems)
	var never, late []string
	for _, sys := range systems {
		t := last[sys]
		st := ReconcileState{System: sys, State: "never"}
		if !t.IsZero() {
			t = t.In(now.Location())
			age := max(0, now.Sub(t))
			secs := int64(age / time.Second)
			st.Last, st.AgeSeconds, st.State = &t, &secs, "ok"
			if age > 2*interval {
				st.State = "late"
				late = append(late, sys+" "+fmtDuration(age)+" ago")
			}
		} else {
			never = append(never, sys)
		}
		s.Reconcile = append(s.Reconcile, st)
	}
	if len(never) > 0 {
		s.add(Reason{Code: "reconcile_never", Severity: Unreliable,
			Summary: "no successful reconcile of " + strings.Join(never, ", ") + " on record",
			Detail:  "changes missed by webhooks are not being repaired"})
	}
	if len(late) > 0 {
		s.add(Reason{Code: "reconcile_stale", Severity: Unreliable,
			Summary: "no successful reconcile for more than two intervals",
			Detail:  "last of " + strings.Join(late, ", ") + " (interval " + fmtDuration(interval) + "); changes missed by webhooks are not being repaired"})
	}
	if sig > 0 {
		r := Reason{Code: "webhooks_rejected_signature", Severity: Degraded,
			Summary: plural(sig, "webhook", "webhooks") + " rejected for a bad signature",
			Detail:  "their events are missing until reconcile repairs them"}
		if len(wrongSources) > 0 {
			r.Severity = Unreliable
			r.Summary = itoa(sig) + " of " + itoa(sigTotal) + " signed webhooks rejected for a bad signature"
			r.Detail = "the signing secret of " + strings.Join(wrongSources, ", ") + " is probably wrong; their events are missing"
		}
		s.add(r)
	}
	if s.JobsFailed > 0 {
		s.add(Reason{Code: "jobs_failed", Severity: Degraded,
			Summary: plural(s.JobsFailed, "job", "jobs") + " failed",
			Detail:  "some COEs or action items may be missing or stale (coesync status lists them)"})
	}
	if s.MissingTransitions > 0 {
		s.add(Reason{Code: "missing_transitions", Severity: Degraded,
			Summary: plural(s.MissingTransitions, "Jira transition", "Jira transitions") + " missing",
			Detail:  "some items may show the wrong state in Jira; check the project's workflow"})
	}
	return s
}

// tally turns counts by name into Counts, cleaning the names and merging
// the ones that clean to the same name; zero and negative counts are
// dropped.
func tally(m map[string]int, norm func(string) string) []Count {
	t := map[string]int{}
	for k, v := range m {
		if v <= 0 {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if norm != nil {
			k = norm(k)
		}
		t[orNone(cleanField(k, maxName), "(unknown)")] += v
	}
	return counts(t)
}
