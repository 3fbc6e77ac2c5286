package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/coesync/coesync/sync/store"
)

type monitorStore struct {
	stats []store.QueueStat
	err   error
	state map[string]string
}

func (m monitorStore) QueueStats(context.Context) ([]store.QueueStat, error) { return m.stats, m.err }
func (m monitorStore) State(_ context.Context, k string) (string, error)     { return m.state[k], nil }

func TestQueueCollector(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		store monitorStore
		want  string
	}{
		{
			name:  "every series at zero on an empty store",
			store: monitorStore{},
			want: `
# HELP coesync_jobs_failed Jobs that failed for good (discarded; coesync status lists them, coesync replay runs them), by kind.
# TYPE coesync_jobs_failed gauge
coesync_jobs_failed{kind="draft_coe"} 0
coesync_jobs_failed{kind="reconcile"} 0
# HELP coesync_jobs_oldest_queued_seconds How long the oldest job ready to run has waited for a worker, by kind (0: none waiting).
# TYPE coesync_jobs_oldest_queued_seconds gauge
coesync_jobs_oldest_queued_seconds{kind="draft_coe"} 0
coesync_jobs_oldest_queued_seconds{kind="reconcile"} 0
# HELP coesync_jobs_queued Jobs not finished yet (available, scheduled, retrying or running), by kind.
# TYPE coesync_jobs_queued gauge
coesync_jobs_queued{kind="draft_coe"} 0
coesync_jobs_queued{kind="reconcile"} 0
# HELP coesync_queue_stats_up 1 when the last scrape could read the queue from the store, else 0.
# TYPE coesync_queue_stats_up gauge
coesync_queue_stats_up 1
# HELP coesync_rate_limit_hold_seconds How much longer calls to a service are held for its rate limit, cluster-wide (0: not held).
# TYPE coesync_rate_limit_hold_seconds gauge
coesync_rate_limit_hold_seconds{service="github"} 0
coesync_rate_limit_hold_seconds{service="jira"} 0
# HELP coesync_reconcile_last_success_timestamp_seconds Start of the last successful reconcile pass per system, as a Unix time (0: never).
# TYPE coesync_reconcile_last_success_timestamp_seconds gauge
coesync_reconcile_last_success_timestamp_seconds{system="github"} 0
coesync_reconcile_last_success_timestamp_seconds{system="jira"} 0
# HELP coesync_report_last_delivery_timestamp_seconds When the weekly report last reached a sink, as a Unix time (0: never).
# TYPE coesync_report_last_delivery_timestamp_seconds gauge
coesync_report_last_delivery_timestamp_seconds{sink="slack"} 0
`,
		},
		{
			name: "counts by kind, age of the oldest available, times from state",
			store: monitorStore{
				stats: []store.QueueStat{
					{Kind: "draft_coe", State: "available", Count: 3, Oldest: now.Add(-90 * time.Second)},
					{Kind: "draft_coe", State: "retryable", Count: 2, Oldest: now.Add(time.Minute)},
					{Kind: "draft_coe", State: "discarded", Count: 1, Oldest: now.Add(-time.Hour)},
					{Kind: "rollup_coe", State: "running", Count: 1, Oldest: now.Add(-time.Hour)},
				},
				state: map[string]string{
					StateReconcileJira:       "2026-12-04T11:55:00.5Z",
					LastDeliveryKey("slack"): "2026-11-30T09:00:00Z",
					GateStateKey("jira"):     "2026-12-04T12:00:42Z",
					GateStateKey("github"):   "2026-12-04T11:00:00Z",
				},
			},
			want: `
# HELP coesync_jobs_failed Jobs that failed for good (discarded; coesync status lists them, coesync replay runs them), by kind.
# TYPE coesync_jobs_failed gauge
coesync_jobs_failed{kind="draft_coe"} 1
coesync_jobs_failed{kind="reconcile"} 0
coesync_jobs_failed{kind="rollup_coe"} 0
# HELP coesync_jobs_oldest_queued_seconds How long the oldest job ready to run has waited for a worker, by kind (0: none waiting).
# TYPE coesync_jobs_oldest_queued_seconds gauge
coesync_jobs_oldest_queued_seconds{kind="draft_coe"} 90
coesync_jobs_oldest_queued_seconds{kind="reconcile"} 0
coesync_jobs_oldest_queued_seconds{kind="rollup_coe"} 0
# HELP coesync_jobs_queued Jobs not finished yet (available, scheduled, retrying or running), by kind.
# TYPE coesync_jobs_queued gauge
coesync_jobs_queued{kind="draft_coe"} 5
coesync_jobs_queued{kind="reconcile"} 0
coesync_jobs_queued{kind="rollup_coe"} 1
# HELP coesync_queue_stats_up 1 when the last scrape could read the queue from the store, else 0.
# TYPE coesync_queue_stats_up gauge
coesync_queue_stats_up 1
# HELP coesync_rate_limit_hold_seconds How much longer calls to a service are held for its rate limit, cluster-wide (0: not held).
# TYPE coesync_rate_limit_hold_seconds gauge
coesync_rate_limit_hold_seconds{service="github"} 0
coesync_rate_limit_hold_seconds{service="jira"} 42
# HELP coesync_reconcile_last_success_timestamp_seconds Start of the last successful reconcile pass per system, as a Unix time (0: never).
# TYPE coesync_reconcile_last_success_timestamp_seconds gauge
coesync_reconcile_last_success_timestamp_seconds{system="github"} 0
coesync_reconcile_last_success_timestamp_seconds{system="jira"} 1.7963853005e+09
# HELP coesync_report_last_delivery_timestamp_seconds When the weekly report last reached a sink, as a Unix time (0: never).
# TYPE coesync_report_last_delivery_timestamp_seconds gauge
coesync_report_last_delivery_timestamp_seconds{sink="slack"} 1.7960292e+09
`,
		},
		{
			name:  "a store that cannot answer says so",
			store: monitorStore{err: errors.New("database is locked")},
			want: `
# HELP coesync_queue_stats_up 1 when the last scrape could read the queue from the store, else 0.
# TYPE coesync_queue_stats_up gauge
coesync_queue_stats_up 0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &QueueCollector{Store: tt.store, Kinds: []string{"draft_coe", "reconcile"},
				Systems: []string{"jira", "github"}, Sinks: []string{"slack"}, Services: []string{"jira", "github"}, Now: func() time.Time { return now }}
			names := []string{"coesync_queue_stats_up"}
			if tt.store.err == nil {
				names = append(names, "coesync_jobs_queued", "coesync_jobs_failed", "coesync_jobs_oldest_queued_seconds",
					"coesync_reconcile_last_success_timestamp_seconds", "coesync_report_last_delivery_timestamp_seconds",
					"coesync_rate_limit_hold_seconds")
			}
			if err := testutil.CollectAndCompare(c, strings.NewReader(tt.want), names...); err != nil {
				t.Error(err)
			}
		})
	}
}
