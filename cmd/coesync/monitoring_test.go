package main

import (
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/sync/metrics"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// exposedMetrics gathers what a wired coesync exposes on /metrics before
// any event: every series the alerts and the dashboard use must be there.
func exposedMetrics(t *testing.T) []*dto.MetricFamily {
	t.Helper()
	dir := t.TempDir() // a report sink, so the report gauge exists
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.ReportDir = dir }})
	mfs, err := e.App.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

var metricName = regexp.MustCompile(`\b(coesync|process|go)_[a-z0-9_]+\b`)

func TestMonitoringNamesExposedMetrics(t *testing.T) {
	mfs := exposedMetrics(t)
	have := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		have[name] = true
		if mf.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				have[name+s] = true
			}
		}
	}
	for _, f := range []string{"../../deploy/monitoring/rules.yml", "../../deploy/monitoring/dashboard.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, n := range metricName.FindAllString(string(b), -1) {
			used[n] = true
		}
		if len(used) < 5 {
			t.Fatalf("%s names %d metrics; the pattern is broken", f, len(used))
		}
		var missing []string
		for n := range used {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s uses metrics that /metrics does not expose: %s", f, strings.Join(missing, ", "))
		}
	}
}

// TestMetricsPresentAtZeroAndLintClean checks what `promtool check metrics`
// checks (the same linter) and that the series alerts rely on exist before
// the first event.
func TestMetricsPresentAtZeroAndLintClean(t *testing.T) {
	mfs := exposedMetrics(t)
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
	}
	for name, min := range map[string]int{
		"coesync_webhooks_total":                           3 * len(metrics.WebhookOutcomes), // three sources, every outcome
		"coesync_jobs_total":                               len(jobKinds) * 4,
		"coesync_api_calls_total":                          3 * 5,
		"coesync_sync_problems_total":                      3,
		"coesync_jobs_queued":                              len(jobKinds),
		"coesync_jobs_failed":                              len(jobKinds),
		"coesync_jobs_oldest_queued_seconds":               len(jobKinds),
		"coesync_reconcile_last_success_timestamp_seconds": 2,
		"coesync_rate_limit_hold_seconds":                  3,
		"coesync_queue_stats_up":                           1,
	} {
		if series[name] < min {
			t.Errorf("%s has %d series at start-up, want at least %d", name, series[name], min)
		}
	}
}

// gaugeValue reads the gauge series of name whose only label has value
// label (NaN-free: 0 when absent).
func gaugeValue(t *testing.T, a *App, name, label string) float64 {
	t.Helper()
	mfs, err := a.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if lp := m.GetLabel(); len(lp) == 1 && lp[0].GetValue() == label {
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}
