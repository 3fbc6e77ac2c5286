package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/config"
	"github.com/coesync/coesync/connectors/pagerduty/pdtest"
	"github.com/coesync/coesync/sync/longtest"
	"github.com/coesync/coesync/sync/store"
)

// More "Action:" notes on one incident than COESYNC_MAX_PROPOSED_ITEMS make
// that many sub-tasks and GitHub issues; the others stay listed in the COE
// as proposals that were not created. The default run uses a cap of 4 over
// 16 notes; the long run the issue's case, the default cap of 20 over 80.
func TestProposedItemsCappedPerCOE(t *testing.T) {
	notes, max := 16, 4
	if longtest.Enabled() {
		notes, max = 80, 20
	}
	e := startTestDemo(t, demoOptions{edit: func(c *config.Config) { c.MaxProposedItems = max }})
	ctx := context.Background()
	const id = "PCAP001"
	fx := pdtest.RichIncident(id, time.Now().UTC().Add(-3*time.Hour).Truncate(time.Second))
	fx.Notes = nil
	for i := range notes {
		fx.Notes = append(fx.Notes, pdtest.Note{At: fx.CreatedAt.Add(time.Duration(i) * time.Second), Author: pdtest.Bob,
			Content: fmt.Sprintf("Action: fix cause number %d", i+1)})
	}
	e.PD.AddIncident(fx)
	if code, err := e.SendResolved(ctx, fx, "evt-"+id); err != nil || code != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", code, err)
	}
	c, err := e.WaitCOE(ctx, id, 40*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// 20 sub-tasks and 20 GitHub issues take minutes under -race on a small machine.
	waitFor(t, "the capped items mirrored", 3*time.Minute, func() bool {
		items, err := e.App.Store.ActionItems(ctx, c.TicketKey)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if it.State == store.MirrorLinked {
				n++
			}
		}
		return n >= max
	})
	settleWithin(t, e, 3*time.Minute)

	var subtasks int
	for _, is := range e.Jira.Issues() {
		if is.Parent == c.TicketKey {
			subtasks++
		}
	}
	if subtasks != max {
		t.Errorf("%d sub-tasks of %s, want %d", subtasks, c.TicketKey, max)
	}
	if n := len(e.GitHub.Issues(demoRepo)); n != max {
		t.Errorf("%d GitHub issues, want %d", n, max)
	}
	is, _ := e.Jira.Issue(c.TicketKey)
	items := section(is.Description, "Action items")
	marker := fmt.Sprintf("not created: over the cap of %d", max)
	if n := strings.Count(items, "| Proposed |"); n != max {
		t.Errorf("%d proposals listed as created, want %d", n, max)
	}
	if n := strings.Count(items, marker); n != notes-max {
		t.Errorf("%d proposals listed %q, want %d", n, marker, notes-max)
	}
	for _, want := range []string{"fix cause number 1 ", fmt.Sprintf("fix cause number %d ", max),
		fmt.Sprintf("fix cause number %d ", max+1), fmt.Sprintf("fix cause number %d ", notes)} {
		if !strings.Contains(items, want) {
			t.Errorf("the COE does not list %q", want)
		}
	}
}
