package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/coesync/coesync/sync/coe"
	"github.com/coesync/coesync/sync/store"
)

// A COE with many linked action items, each with a long title, makes a
// roll-up table longer than a Jira comment may be: the comment is cut to
// Jira's limit with a visible notice, and keeps the marker it is found by.
func TestRollupFitsJirasLimit(t *testing.T) {
	for _, n := range []int{10, 200} {
		var items []store.ActionItem
		for i := range n {
			items = append(items, store.ActionItem{JiraKey: fmt.Sprintf("OPS-%d", i+1), COEKey: "OPS-0",
				Title: strings.Repeat("long title 🙂 ", 18), Owner: "Lee", Repo: "acme/x", Number: i + 1,
				IssueURL: fmt.Sprintf("https://github.com/acme/x/issues/%d", i+1)})
		}
		body := rollupBody(items)
		if l := coe.JiraText.Len(body); l > coe.JiraText.Max {
			t.Errorf("%d items: roll-up of %d UTF-16 units, over Jira's %d", n, l, coe.JiraText.Max)
		}
		if !strings.HasSuffix(body, "("+rollupMarker+")_") {
			t.Errorf("%d items: the roll-up does not end with its marker", n)
		}
		if cut := strings.Contains(body, coe.JiraText.Notice()); cut != (n == 200) {
			t.Errorf("%d items: cut notice present = %v", n, cut)
		}
	}
}

// A GitHub title edited to 256 characters without the key prefix becomes
// a Jira summary within Jira's 255.
func TestSummaryFromTitleFitsJira(t *testing.T) {
	title := strings.Repeat("t", coe.GitHubTitle.Max)
	if got := summaryFromTitle("OPS-1", title); coe.JiraSummary.Len(got) > coe.JiraSummary.Max || !strings.HasSuffix(got, "…") {
		t.Errorf("summary of %d characters from a 256-character title", coe.JiraSummary.Len(got))
	}
	if got := issueTitle("OPS-1", strings.Repeat("s", 255)); coe.GitHubTitle.Len(got) != coe.GitHubTitle.Max || !strings.HasPrefix(got, "[OPS-1] ") {
		t.Errorf("issue title of %d characters", coe.GitHubTitle.Len(got))
	}
}
