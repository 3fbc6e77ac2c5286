package github_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/coesync/coesync/connectors/github"
	"github.com/coesync/coesync/connectors/github/ghtest"
	"github.com/coesync/coesync/sync/engine"
)

func TestRepoAccess(t *testing.T) {
	srv, c := newPair(t, ghtest.Options{Repos: []string{"acme/ops", "acme/ro", "acme/old"}})
	srv.SetRepoAccess("acme/ro", ghtest.RepoAccess{ReadOnly: true})
	srv.SetRepoAccess("acme/old", ghtest.RepoAccess{Archived: true, NoIssues: true})
	ctx := context.Background()
	tests := []struct {
		repo   string
		want   github.RepoAccess
		status int
	}{
		{repo: "acme/ops", want: github.RepoAccess{FullName: "acme/ops", Push: true, HasIssues: true}},
		{repo: "acme/ro", want: github.RepoAccess{FullName: "acme/ro", Push: false, HasIssues: true}},
		{repo: "acme/old", want: github.RepoAccess{FullName: "acme/old", Push: true, Archived: true}},
		{repo: "acme/missing", status: http.StatusNotFound},
	}
	for _, tt := range tests {
		got, err := c.RepoAccess(ctx, tt.repo)
		if tt.status != 0 {
			if engine.StatusOf(err) != tt.status {
				t.Errorf("%s: err %v, want status %d", tt.repo, err, tt.status)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: %+v, %v; want %+v", tt.repo, got, err, tt.want)
		}
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("RepoAccess sent %s %s", r.Method, r.Path)
		}
	}
	login, err := c.Viewer(ctx)
	if err != nil || login != ghtest.DefaultLogin {
		t.Errorf("Viewer() = %q, %v", login, err)
	}
	bad, err := github.New(github.Options{BaseURL: srv.URL(), Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Viewer(ctx); engine.StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("wrong token: %v, want 401", err)
	}
}
