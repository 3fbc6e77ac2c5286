package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coesync/coesync/sync/store"
)

// MonitorStore is what the queue gauges read at each scrape.
type MonitorStore interface {
	QueueStats(ctx context.Context) ([]store.QueueStat, error)
	State(ctx context.Context, key string) (string, error)
}

// LastDeliveryKey is the store key holding when a report last reached a sink.
func LastDeliveryKey(sink string) string { return "report:last:" + sink }

// QueueCollector exports the state of the durable queue and of the
// periodic work as gauges, read from the store at each scrape so that
// every replica reports the same cluster-wide values and a restart loses
// nothing. Every series of the given kinds, systems and sinks exists from
// start-up, at zero until something happens.
type QueueCollector struct {
	Store   MonitorStore
	Kinds   []string // job kinds
	Systems []string // reconciled systems: "jira", "github"
	Sinks   []string // report sinks
	// Services are the remote services behind the rate gate.
	Services []string
	Now      func() time.Time
	Log      *slog.Logger
	// Timeout bounds the store queries of one scrape.
	Timeout time.Duration
}

var (
	descQueued = prometheus.NewDesc("coesync_jobs_queued",
		"Jobs not finished yet (available, scheduled, retrying or running), by kind.", []string{"kind"}, nil)
	descFailed = prometheus.NewDesc("coesync_jobs_failed",
		"Jobs that failed for good (discarded; coesync status lists them, coesync replay runs them), by kind.", []string{"kind"}, nil)
	descOldest = prometheus.NewDesc("coesync_jobs_oldest_queued_seconds",
		"How long the oldest job ready to run has waited for a worker, by kind (0: none waiting).", []string{"kind"}, nil)
	descReconcile = prometheus.NewDesc("coesync_reconcile_last_success_timestamp_seconds",
		"Start of the last successful reconcile pass per system, as a Unix time (0: never).", []string{"system"}, nil)
	descReport = prometheus.NewDesc("coesync_report_last_delivery_timestamp_seconds",
		"When the weekly report last reached a sink, as a Unix time (0: never).", []string{"sink"}, nil)
	descHold = prometheus.NewDesc("coesync_rate_limit_hold_seconds",
		"How much longer calls to a service are held for its rate limit, cluster-wide (0: not held).", []string{"service"}, nil)
	descStoreUp = prometheus.NewDesc("coesync_queue_stats_up",
		"1 when the last scrape could read the queue from the store, else 0.", nil, nil)
)

// reconcileKeys maps a reconciled system to its state key.
var reconcileKeys = map[string]string{"jira": StateReconcileJira, "github": StateReconcileGitHub}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueued, descFailed, descOldest, descReconcile, descReport, descHold, descStoreUp} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	queued, failed, oldest := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, k := range c.Kinds {
		queued[k], failed[k], oldest[k] = 0, 0, 0
	}
	up := 1.0
	stats, err := c.Store.QueueStats(ctx)
	if err != nil {
		up = 0
		c.logf("queue gauges: could not read the queue", err)
	}
	for _, q := range stats {
		switch q.State {
		case "discarded":
			failed[q.Kind] += float64(q.Count)
		default:
			queued[q.Kind] += float64(q.Count)
		}
		if q.State == "available" && !q.Oldest.IsZero() {
			oldest[q.Kind] = max(oldest[q.Kind], now.Sub(q.Oldest).Seconds(), 0)
		}
	}
	for k, v := range queued {
		ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, v, k)
		ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, failed[k], k)
		ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, oldest[k], k)
	}
	for k, v := range failed {
		if _, ok := queued[k]; !ok {
			ch <- prometheus.MustNewConstMetric(descQueued, prometheus.GaugeValue, 0, k)
			ch <- prometheus.MustNewConstMetric(descFailed, prometheus.GaugeValue, v, k)
			ch <- prometheus.MustNewConstMetric(descOldest, prometheus.GaugeValue, 0, k)
		}
	}
	for _, sys := range c.Systems {
		ch <- prometheus.MustNewConstMetric(descReconcile, prometheus.GaugeValue, c.stateTime(ctx, reconcileKeys[sys]), sys)
	}
	for _, sink := range c.Sinks {
		ch <- prometheus.MustNewConstMetric(descReport, prometheus.GaugeValue, c.stateTime(ctx, LastDeliveryKey(sink)), sink)
	}
	for _, svc := range c.Services {
		hold := 0.0
		if until := c.stateTime(ctx, GateStateKey(svc)); until > 0 {
			hold = max(until-float64(now.UnixNano())/1e9, 0)
		}
		ch <- prometheus.MustNewConstMetric(descHold, prometheus.GaugeValue, hold, svc)
	}
	ch <- prometheus.MustNewConstMetric(descStoreUp, prometheus.GaugeValue, up)
}

// stateTime reads an RFC 3339 time from the store as Unix seconds (0 when
// unset or unreadable).
func (c *QueueCollector) stateTime(ctx context.Context, key string) float64 {
	if key == "" {
		return 0
	}
	v, err := c.Store.State(ctx, key)
	if err != nil {
		c.logf("queue gauges: could not read "+key, err)
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func (c *QueueCollector) logf(msg string, err error) {
	if c.Log != nil {
		c.Log.Warn(msg, "err", err)
	}
}
