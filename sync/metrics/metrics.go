// Package metrics holds coesync's Prometheus collectors. One *Metrics is
// made per process (or per test) on its own registry, so tests never share
// global state.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/coesync/coesync/sync/version"
)

// Metrics are the counters and histograms coesync exports on /metrics.
type Metrics struct {
	Registry *prometheus.Registry

	Webhooks    *prometheus.CounterVec   // source, outcome
	Jobs        *prometheus.CounterVec   // kind, outcome
	APICalls    *prometheus.CounterVec   // service, outcome
	APILatency  *prometheus.HistogramVec // service
	COEsCreated prometheus.Counter
	// SyncProblems counts what an operator must fix (missing transition,
	// deleted mirror, no repository).
	SyncProblems *prometheus.CounterVec // kind
	IngestBatch  prometheus.Histogram
}

// New registers coesync's collectors (and the Go runtime's) on a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coesync_webhooks_total",
			Help: "Webhook deliveries by source and outcome (accepted, duplicate, rejected_*, error).",
		}, []string{"source", "outcome"}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coesync_jobs_total",
			Help: "Job runs by kind and outcome (ok, retry, snoozed, failed).",
		}, []string{"kind", "outcome"}),
		APICalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coesync_api_calls_total",
			Help: "Calls to PagerDuty, Jira and GitHub by outcome (ok, retryable, rate_limited, permanent, network_error).",
		}, []string{"service", "outcome"}),
		APILatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coesync_api_call_seconds",
			Help:    "Latency of calls to PagerDuty, Jira and GitHub.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"service"}),
		COEsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "coesync_coes_created_total",
			Help: "COE tickets created in Jira.",
		}),
		SyncProblems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coesync_sync_problems_total",
			Help: "Action-item sync problems an operator must fix, by kind (missing_transition, mirror_deleted, no_repo).",
		}, []string{"kind"}),
		IngestBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coesync_ingest_batch_size",
			Help:    "Webhook deliveries committed per transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
	}
	// coesync_build_info is 1 with the build as labels, the convention of
	// Prometheus' own *_build_info: join on it to see what each target runs.
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "coesync_build_info",
		Help: "A metric with a constant value of 1 labelled by the version, VCS revision and Go version coesync was built with.",
	}, []string{"version", "revision", "goversion"})
	bi := version.Get()
	buildInfo.WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)
	reg.MustRegister(m.Webhooks, m.Jobs, m.SyncProblems, m.APICalls, m.APILatency, m.COEsCreated, m.IngestBatch, buildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// The label values each counter can take, so that Init makes every series
// exist at zero from start-up: rate() and absent() alerts then work before
// the first event.
var (
	WebhookOutcomes = []string{"accepted", "duplicate", "error", "busy", "rejected_method", "rejected_content_type",
		"rejected_too_large", "rejected_read", "rejected_unsigned", "rejected_signature", "rejected_malformed", "rejected_unstorable"}
	JobOutcomes      = []string{"ok", "retry", "snoozed", "failed"}
	APIOutcomes      = []string{"ok", "retryable", "rate_limited", "permanent", "network_error"}
	SyncProblemKinds = []string{"missing_transition", "mirror_deleted", "no_repo"}
)

// Init creates the series of the given webhook sources, job kinds and
// remote services at zero.
func (m *Metrics) Init(sources, jobKinds, services []string) {
	for _, s := range sources {
		for _, o := range WebhookOutcomes {
			m.Webhooks.WithLabelValues(s, o)
		}
	}
	for _, k := range jobKinds {
		for _, o := range JobOutcomes {
			m.Jobs.WithLabelValues(k, o)
		}
	}
	for _, s := range services {
		for _, o := range APIOutcomes {
			m.APICalls.WithLabelValues(s, o)
		}
		m.APILatency.WithLabelValues(s)
	}
	for _, k := range SyncProblemKinds {
		m.SyncProblems.WithLabelValues(k)
	}
}

// ObserveAPICall counts one call to a remote system.
func (m *Metrics) ObserveAPICall(service, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.APICalls.WithLabelValues(service, outcome).Inc()
	m.APILatency.WithLabelValues(service).Observe(d.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}
