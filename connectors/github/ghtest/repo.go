package ghtest

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RepoAccess is how a repository looks to the token, for `coesync check`.
// The zero value is a writable repository with issues (the default).
type RepoAccess struct {
	// ReadOnly makes permissions.push false (the token may only read).
	ReadOnly bool
	// Archived marks the repository archived.
	Archived bool
	// NoIssues turns the repository's issues off.
	NoIssues bool
}

// SetRepoAccess changes how repository full ("owner/name") looks in GET
// /repos/{owner}/{repo}. It only changes that answer; issue writes still
// succeed. It reports whether the repository exists.
func (s *Server) SetRepoAccess(full string, a RepoAccess) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(full)]
	if rp == nil {
		return false
	}
	rp.access = a
	return true
}

// repoJSON answers GET /repos/{owner}/{repo} with the fields of GitHub's
// "full repository" that matter here, permissions for the token included.
func (s *Server) repoJSON(rp *repo) reply {
	full := rp.fullName()
	api := s.apiBase + "repos/" + full
	push := !rp.access.ReadOnly
	return jsonReply(http.StatusOK, map[string]any{
		"id": rp.id, "node_id": fmt.Sprintf("R_kgDO%d", rp.id), "name": rp.name, "full_name": full,
		"private": true, "owner": s.wireUser(rp.owner), "html_url": s.htmlURL + full,
		"description": nil, "fork": false, "url": api,
		"issues_url":     api + "/issues{/number}",
		"created_at":     rp.created.UTC().Format(time.RFC3339),
		"updated_at":     rp.created.UTC().Format(time.RFC3339),
		"pushed_at":      rp.created.UTC().Format(time.RFC3339),
		"default_branch": "main", "visibility": "private",
		"has_issues": !rp.access.NoIssues, "archived": rp.access.Archived, "disabled": false,
		"open_issues_count": len(rp.issues),
		"permissions": map[string]bool{
			"admin": false, "maintain": false, "push": push, "triage": push, "pull": true,
		},
	})
}

// viewerJSON answers GET /user: the token's user.
func (s *Server) viewerJSON() reply {
	return jsonReply(http.StatusOK, s.wireUser(s.opts.Login))
}
