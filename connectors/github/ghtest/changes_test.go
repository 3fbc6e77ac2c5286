package ghtest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/github/ghtest"
)

func TestDeploymentAndPullEndpoints(t *testing.T) {
	srv := ghtest.New(ghtest.Options{Repos: []string{"acme/api"}, MaxPerPage: 2})
	defer srv.Close()
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if _, err := srv.AddDeployment("acme/api", ghtest.Deployment{Ref: "v" + string(rune('1'+i)), CreatedAt: t0.Add(time.Duration(i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	n1, _ := srv.AddPullRequest("acme/api", ghtest.PullRequest{Title: "merged", MergedAt: t0})
	n2, _ := srv.AddPullRequest("acme/api", ghtest.PullRequest{Title: "open"})
	n3, _ := srv.AddPullRequest("acme/api", ghtest.PullRequest{Title: "release", Base: "release", MergedAt: t0.Add(time.Hour)})
	if n1 != 1 || n2 != 2 || n3 != 3 {
		t.Fatalf("numbers %d %d %d", n1, n2, n3)
	}
	if _, err := srv.AddDeployment("acme/nope", ghtest.Deployment{}); err == nil {
		t.Error("deployment in an unknown repository")
	}

	resp, b := do(t, srv, call{method: "GET", path: "/repos/acme/api/deployments"})
	var deps []map[string]any
	if err := json.Unmarshal(b, &deps); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if len(deps) != 2 || deps[0]["ref"] != "v3" || deps[1]["ref"] != "v2" || !strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Errorf("deployments page 1 (newest first, 2 a page): %s, Link %q", b, resp.Header.Get("Link"))
	}
	for _, k := range []string{"id", "sha", "ref", "task", "environment", "creator", "created_at", "statuses_url"} {
		if _, ok := deps[0][k]; !ok {
			t.Errorf("deployment lacks %q", k)
		}
	}
	_, b = do(t, srv, call{method: "GET", path: "/repos/acme/api/deployments?ref=v1"})
	if !strings.Contains(string(b), `"ref":"v1"`) || strings.Count(string(b), `"ref":"v`) != 1 {
		t.Errorf("ref filter: %s", b)
	}

	var prs []map[string]any
	_, b = do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls?state=closed&base=main"})
	if err := json.Unmarshal(b, &prs); err != nil || len(prs) != 1 || prs[0]["title"] != "merged" || prs[0]["merged_at"] != "2026-11-20T12:00:00Z" ||
		prs[0]["merge_commit_sha"] == nil || prs[0]["base"].(map[string]any)["ref"] != "main" {
		t.Errorf("closed pulls into main: %s", b)
	}
	_, b = do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls"})
	if err := json.Unmarshal(b, &prs); err != nil || len(prs) != 1 || prs[0]["title"] != "open" || prs[0]["merged_at"] != nil {
		t.Errorf("default state is open: %s", b)
	}
	_, b = do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls?state=all&sort=updated&direction=desc"})
	if err := json.Unmarshal(b, &prs); err != nil || len(prs) != 2 || prs[0]["title"] != "open" {
		t.Errorf("all, by update: %s", b)
	}
	if resp, _ := do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls?state=merged"}); resp.StatusCode != 422 {
		t.Errorf("state=merged: %d, want 422", resp.StatusCode)
	}
	if resp, _ := do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls/3"}); resp.StatusCode != 200 {
		t.Errorf("single pull: %d", resp.StatusCode)
	}
	if resp, _ := do(t, srv, call{method: "GET", path: "/repos/acme/api/pulls/9"}); resp.StatusCode != 404 {
		t.Errorf("unknown pull: %d", resp.StatusCode)
	}
	// A pull request takes an issue number: the next issue gets 4.
	if n, err := srv.OpenIssue("acme/api", "bug", ""); err != nil || n != 4 {
		t.Errorf("next issue number %d %v", n, err)
	}
}
