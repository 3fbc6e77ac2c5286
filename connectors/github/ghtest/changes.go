package ghtest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Deployments and pull requests, for the "what changed" part of a COE:
//
//	GET /repos/{owner}/{repo}/deployments  sha, ref, task, environment filters; newest first
//	GET /repos/{owner}/{repo}/pulls        state, base, head, sort, direction
//	GET /repos/{owner}/{repo}/pulls/{n}
//
// with GitHub's JSON shapes, Link pagination and (through ServeHTTP) ETags.
// Pull requests share the number sequence of the repository's issues, as
// on GitHub; the issues endpoint of the fake does not list them.

// Deployment is a deployment to add with AddDeployment.
type Deployment struct {
	Ref, SHA, Environment, Description string
	Task                               string // default "deploy"
	Creator                            string // login; default Options.Human
	CreatedAt                          time.Time
}

// PullRequest is a pull request to add with AddPullRequest. It is merged
// when MergedAt is set, closed unmerged when only ClosedAt is, open
// otherwise.
type PullRequest struct {
	Title, Body string
	Author      string // login; default Options.Human
	Base, Head  string // branches; Base defaults to "main", Head to "feature-<n>"
	CreatedAt   time.Time
	UpdatedAt   time.Time // default: the latest of the other times
	MergedAt    time.Time
	ClosedAt    time.Time // set to MergedAt when merged and zero
	MergeSHA    string    // default derived from the number
	Draft       bool
}

type repoChanges struct {
	deployments []*deployment
	pulls       []*pull
	nextDeploy  int64
}

type deployment struct {
	id int64
	Deployment
}

type pull struct {
	id     int64
	number int
	PullRequest
}

// AddDeployment records a deployment of repo and returns its id.
func (s *Server) AddDeployment(repo string, d Deployment) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(repo)]
	if rp == nil {
		return 0, fmt.Errorf("ghtest: no repository %q", repo)
	}
	if d.Task == "" {
		d.Task = "deploy"
	}
	if d.Creator == "" {
		d.Creator = s.opts.Human
	}
	if d.Environment == "" {
		d.Environment = "production"
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = s.now()
	}
	if d.SHA == "" {
		d.SHA = fakeSHA("deploy", repo, d.Ref, d.CreatedAt.String())
	}
	rp.changes.nextDeploy++
	dep := &deployment{id: 300000000 + rp.id%1000*10000 + rp.changes.nextDeploy, Deployment: d}
	rp.changes.deployments = append(rp.changes.deployments, dep)
	return dep.id, nil
}

// AddPullRequest records a pull request of repo and returns its number.
func (s *Server) AddPullRequest(repo string, p PullRequest) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(repo)]
	if rp == nil {
		return 0, fmt.Errorf("ghtest: no repository %q", repo)
	}
	rp.lastNumber++
	n := rp.lastNumber
	if p.Author == "" {
		p.Author = s.opts.Human
	}
	if p.Base == "" {
		p.Base = "main"
	}
	if p.Head == "" {
		p.Head = "feature-" + strconv.Itoa(n)
	}
	if p.ClosedAt.IsZero() && !p.MergedAt.IsZero() {
		p.ClosedAt = p.MergedAt
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now()
		for _, t := range []time.Time{p.MergedAt, p.ClosedAt} {
			if !t.IsZero() && t.Before(p.CreatedAt) {
				p.CreatedAt = t.Add(-time.Hour)
			}
		}
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
		for _, t := range []time.Time{p.MergedAt, p.ClosedAt} {
			if t.After(p.UpdatedAt) {
				p.UpdatedAt = t
			}
		}
	}
	if p.MergeSHA == "" && !p.MergedAt.IsZero() {
		p.MergeSHA = fakeSHA("merge", repo, strconv.Itoa(n))
	}
	s.nextIssID++
	rp.changes.pulls = append(rp.changes.pulls, &pull{id: s.nextIssID, number: n, PullRequest: p})
	return n, nil
}

// fakeSHA is a stable 40-hex-digit commit id.
func fakeSHA(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(fmt.Sprintf("%016x", uint64(stableID("sha", p+b.String()))))
	}
	s := b.String()
	for len(s) < 40 {
		s += s
	}
	return s[:40]
}

// routeChanges serves the deployment and pull request endpoints of rp;
// ok is false for other paths.
func (s *Server) routeChanges(r *http.Request, rp *repo, rest []string) (reply, bool) {
	if len(rest) == 0 || r.Method != http.MethodGet {
		return reply{}, false
	}
	switch {
	case len(rest) == 1 && rest[0] == "deployments":
		return s.listDeployments(r, rp), true
	case len(rest) == 1 && rest[0] == "pulls":
		return s.listPulls(r, rp), true
	case len(rest) == 2 && rest[0] == "pulls":
		n, err := strconv.Atoi(rest[1])
		if err != nil {
			return notFound(), true
		}
		for _, p := range rp.changes.pulls {
			if p.number == n {
				return jsonReply(http.StatusOK, s.wirePull(rp, p)), true
			}
		}
		return notFound(), true
	}
	return reply{}, false
}

func (s *Server) listDeployments(r *http.Request, rp *repo) reply {
	q := r.URL.Query()
	var list []*deployment
	for _, d := range rp.changes.deployments {
		if (q.Has("sha") && q.Get("sha") != d.SHA) || (q.Has("ref") && q.Get("ref") != d.Ref) ||
			(q.Has("task") && q.Get("task") != d.Task) || (q.Has("environment") && q.Get("environment") != d.Environment) {
			continue
		}
		list = append(list, d)
	}
	// Newest first, as GitHub lists them.
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].CreatedAt.Equal(list[j].CreatedAt) {
			return list[i].CreatedAt.After(list[j].CreatedAt)
		}
		return list[i].id > list[j].id
	})
	_, lo, hi, link := s.paginate(r, len(list))
	out := make([]map[string]any, 0, hi-lo)
	for _, d := range list[lo:hi] {
		out = append(out, s.wireDeployment(rp, d))
	}
	rep := jsonReply(http.StatusOK, out)
	if link != "" {
		rep.header.Set("Link", link)
	}
	return rep
}

func (s *Server) listPulls(r *http.Request, rp *repo) reply {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		return validation("PullRequest", "state", "invalid")
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	if sortBy != "created" && sortBy != "updated" && sortBy != "popularity" && sortBy != "long-running" {
		return validation("PullRequest", "sort", "invalid")
	}
	// GitHub: desc by default when sort is created (or not given), asc otherwise.
	desc := sortBy == "created"
	switch q.Get("direction") {
	case "asc":
		desc = false
	case "desc":
		desc = true
	case "":
	default:
		return validation("PullRequest", "direction", "invalid")
	}
	var list []*pull
	for _, p := range rp.changes.pulls {
		closed := !p.ClosedAt.IsZero()
		if (state == "open" && closed) || (state == "closed" && !closed) {
			continue
		}
		if b := q.Get("base"); b != "" && b != p.Base {
			continue
		}
		if h := q.Get("head"); h != "" && h != rp.owner+":"+p.Head {
			continue
		}
		list = append(list, p)
	}
	key := func(p *pull) time.Time {
		if sortBy == "updated" {
			return p.UpdatedAt
		}
		return p.CreatedAt
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := key(list[i]), key(list[j])
		if a.Equal(b) {
			return (list[i].number > list[j].number) == desc
		}
		return a.After(b) == desc
	})
	_, lo, hi, link := s.paginate(r, len(list))
	out := make([]map[string]any, 0, hi-lo)
	for _, p := range list[lo:hi] {
		out = append(out, s.wirePull(rp, p))
	}
	rep := jsonReply(http.StatusOK, out)
	if link != "" {
		rep.header.Set("Link", link)
	}
	return rep
}

// wireDeployment is GitHub's deployment object.
func (s *Server) wireDeployment(rp *repo, d *deployment) map[string]any {
	u := fmt.Sprintf("%s/deployments/%d", s.repoAPIURL(rp), d.id)
	var desc any
	if d.Description != "" {
		desc = d.Description
	}
	return map[string]any{
		"url": u, "id": d.id, "node_id": nodeID("DE_kwDO", d.id),
		"sha": d.SHA, "ref": d.Ref, "task": d.Task, "payload": map[string]any{},
		"original_environment": d.Environment, "environment": d.Environment,
		"description": desc, "creator": s.wireUser(d.Creator),
		"created_at": ts(d.CreatedAt), "updated_at": ts(d.CreatedAt),
		"statuses_url": u + "/statuses", "repository_url": s.repoAPIURL(rp),
		"transient_environment": false, "production_environment": d.Environment == "production",
		"performed_via_github_app": nil,
	}
}

// wirePull is GitHub's pull request object (the list's "simple" form plus
// merged_at and merge_commit_sha, which both forms carry).
func (s *Server) wirePull(rp *repo, p *pull) map[string]any {
	api := fmt.Sprintf("%s/pulls/%d", s.repoAPIURL(rp), p.number)
	html := fmt.Sprintf("%s%s/pull/%d", s.htmlURL, rp.fullName(), p.number)
	state := "open"
	if !p.ClosedAt.IsZero() {
		state = "closed"
	}
	opt := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return ts(t)
	}
	var body, sha any
	if p.Body != "" {
		body = p.Body
	}
	if p.MergeSHA != "" {
		sha = p.MergeSHA
	}
	ref := func(branch, commit string) map[string]any {
		return map[string]any{"label": rp.owner + ":" + branch, "ref": branch, "sha": commit,
			"user": s.wireUser(rp.owner), "repo": s.wireRepo(rp)}
	}
	return map[string]any{
		"url": api, "id": p.id, "node_id": nodeID("PR_kwDO", p.id),
		"html_url": html, "diff_url": html + ".diff", "patch_url": html + ".patch",
		"issue_url":   fmt.Sprintf("%s/issues/%d", s.repoAPIURL(rp), p.number),
		"commits_url": api + "/commits", "review_comments_url": api + "/comments",
		"review_comment_url": s.repoAPIURL(rp) + "/pulls/comments{/number}",
		"comments_url":       fmt.Sprintf("%s/issues/%d/comments", s.repoAPIURL(rp), p.number),
		"statuses_url":       s.repoAPIURL(rp) + "/statuses/" + fakeSHA("head", rp.fullName(), p.Head),
		"number":             p.number, "state": state, "locked": false, "title": p.Title,
		"user": s.wireUser(p.Author), "body": body, "labels": []any{}, "milestone": nil,
		"active_lock_reason": nil,
		"created_at":         ts(p.CreatedAt), "updated_at": ts(p.UpdatedAt),
		"closed_at": opt(p.ClosedAt), "merged_at": opt(p.MergedAt), "merge_commit_sha": sha,
		"assignee": nil, "assignees": []any{}, "requested_reviewers": []any{}, "requested_teams": []any{},
		"head":               ref(p.Head, fakeSHA("head", rp.fullName(), p.Head)),
		"base":               ref(p.Base, fakeSHA("base", rp.fullName(), p.Base)),
		"author_association": "MEMBER", "auto_merge": nil, "draft": p.Draft,
	}
}
