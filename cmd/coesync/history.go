package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/store"
)

// previewStore opens the store for `coesync preview` to look up earlier
// COEs, read-only in effect: a SQLite file that does not exist is not
// created (there is no history to find), and a store that cannot be opened
// only costs the preview its history. The caller closes the store.
func previewStore(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer) (store.Store, bool) {
	if driver, dsn := cfg.Database(); driver == "sqlite" {
		if _, err := os.Stat(dsn); err != nil {
			log.Info("no store yet: the preview lists no earlier COEs", "database", dsn)
			return nil, false
		}
	}
	st, err := openStore(ctx, cfg, storeOptionsCLI(cfg, stderr))
	if err != nil {
		log.Warn("could not open the store: the preview lists no earlier COEs", "err", err)
		return nil, false
	}
	return st, true
}

// demoServicesRules is a rules file that gives the demo's rich incident
// service (PSVC001, "Checkout API") the demo repository for "what changed";
// the demo writes it to a file and sets COESYNC_RULES_FILE to it.
const demoServicesRules = `services:
  - service: PSVC001
    repos: [` + demoRepo + `]
`

// seedDemoChanges adds a deployment and two merged pull requests to the
// demo repository inside the 24 hours before trigger, and one of each
// outside it (which the COE must not list).
func seedDemoChanges(gh *ghtest.Server, trigger time.Time) error {
	for _, d := range []ghtest.Deployment{
		{Ref: "v2.31.0", Description: "release 2.31.0", Creator: "deploy-bot", CreatedAt: trigger.Add(-40 * time.Minute)},
		{Ref: "v2.30.0", Description: "release 2.30.0", Creator: "deploy-bot", CreatedAt: trigger.Add(-30 * time.Hour)},
	} {
		if _, err := gh.AddDeployment(demoRepo, d); err != nil {
			return err
		}
	}
	for _, p := range []ghtest.PullRequest{
		{Title: "Raise the payments DB pool to 50 connections", Author: "alice", MergedAt: trigger.Add(-3 * time.Hour)},
		{Title: "Retry the payment provider on 502", Author: "bob", MergedAt: trigger.Add(-time.Hour)},
		{Title: "Refactor the cart service", Author: "carol", MergedAt: trigger.Add(-36 * time.Hour)},
	} {
		if _, err := gh.AddPullRequest(demoRepo, p); err != nil {
			return err
		}
	}
	return nil
}
