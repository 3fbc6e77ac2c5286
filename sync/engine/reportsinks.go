package engine

import (
	"context"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/report"
)

// GitHubReportSink comments the report on a GitHub issue. The comment
// carries a marker per period and is upserted, so a retry edits it
// instead of adding another.
type GitHubReportSink struct {
	Issues IssueTracker
	Repo   string
	Number int
}

// Name implements ReportSink.
func (GitHubReportSink) Name() string { return "github" }

// Deliver implements ReportSink.
func (s GitHubReportSink) Deliver(ctx context.Context, r report.Report) error {
	marker := "<!-- coesync:report:" + r.Period.Label + " -->"
	return s.Issues.UpsertComment(ctx, s.Repo, s.Number, marker, coe.GitHubBody.Fit(r.Markdown(), "\n"+marker+"\n"))
}

// SlackPoster posts a payload to a Slack incoming webhook.
type SlackPoster interface {
	Post(ctx context.Context, payload []byte) error
}

// SlackReportSink posts a summary with a link to the report page. Slack
// has no idempotency key: a crash between its answer and the delivery
// record can post twice; every other path posts once.
type SlackReportSink struct {
	Poster  SlackPoster
	PageURL string
}

// Name implements ReportSink.
func (SlackReportSink) Name() string { return "slack" }

// Deliver implements ReportSink.
func (s SlackReportSink) Deliver(ctx context.Context, r report.Report) error {
	payload, err := r.Slack(s.PageURL)
	if err != nil {
		return Permanently(err)
	}
	return s.Poster.Post(ctx, payload)
}

// DirReportSink writes the Markdown report into a directory.
type DirReportSink struct{ Dir string }

// Name implements ReportSink.
func (DirReportSink) Name() string { return "dir" }

// Deliver implements ReportSink.
func (s DirReportSink) Deliver(_ context.Context, r report.Report) error {
	_, err := report.WriteMarkdown(s.Dir, r)
	return err
}

// DeliverReportArgs is the periodic job that delivers the weekly report.
type DeliverReportArgs struct{}

// Kind implements river.JobArgs.
func (DeliverReportArgs) Kind() string { return "deliver_report" }
