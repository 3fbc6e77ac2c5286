package ghtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The JSON shapes below follow GitHub's REST responses and the octokit
// webhook examples, field for field where coesync or go-github may look.

type wireUser struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

type wireLabel struct {
	ID          int64   `json:"id"`
	NodeID      string  `json:"node_id"`
	URL         string  `json:"url"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Default     bool    `json:"default"`
	Description *string `json:"description"`
}

type wireReactions struct {
	URL        string `json:"url"`
	TotalCount int    `json:"total_count"`
	PlusOne    int    `json:"+1"`
	MinusOne   int    `json:"-1"`
	Laugh      int    `json:"laugh"`
	Hooray     int    `json:"hooray"`
	Confused   int    `json:"confused"`
	Heart      int    `json:"heart"`
	Rocket     int    `json:"rocket"`
	Eyes       int    `json:"eyes"`
}

type wireIssue struct {
	URL                   string        `json:"url"`
	RepositoryURL         string        `json:"repository_url"`
	LabelsURL             string        `json:"labels_url"`
	CommentsURL           string        `json:"comments_url"`
	EventsURL             string        `json:"events_url"`
	HTMLURL               string        `json:"html_url"`
	ID                    int64         `json:"id"`
	NodeID                string        `json:"node_id"`
	Number                int           `json:"number"`
	Title                 string        `json:"title"`
	User                  wireUser      `json:"user"`
	Labels                []wireLabel   `json:"labels"`
	State                 string        `json:"state"`
	Locked                bool          `json:"locked"`
	Assignee              *wireUser     `json:"assignee"`
	Assignees             []wireUser    `json:"assignees"`
	Milestone             *struct{}     `json:"milestone"`
	Comments              int           `json:"comments"`
	CreatedAt             string        `json:"created_at"`
	UpdatedAt             string        `json:"updated_at"`
	ClosedAt              *string       `json:"closed_at"`
	AuthorAssociation     string        `json:"author_association"`
	ActiveLockReason      *string       `json:"active_lock_reason"`
	Body                  *string       `json:"body"`
	ClosedBy              *wireUser     `json:"closed_by,omitempty"`
	Reactions             wireReactions `json:"reactions"`
	TimelineURL           string        `json:"timeline_url"`
	PerformedViaGitHubApp *struct{}     `json:"performed_via_github_app"`
	StateReason           *string       `json:"state_reason"`
}

type wireComment struct {
	URL                   string        `json:"url"`
	HTMLURL               string        `json:"html_url"`
	IssueURL              string        `json:"issue_url"`
	ID                    int64         `json:"id"`
	NodeID                string        `json:"node_id"`
	User                  wireUser      `json:"user"`
	CreatedAt             string        `json:"created_at"`
	UpdatedAt             string        `json:"updated_at"`
	AuthorAssociation     string        `json:"author_association"`
	Body                  string        `json:"body"`
	Reactions             wireReactions `json:"reactions"`
	PerformedViaGitHubApp *struct{}     `json:"performed_via_github_app"`
}

type wireRepo struct {
	ID              int64    `json:"id"`
	NodeID          string   `json:"node_id"`
	Name            string   `json:"name"`
	FullName        string   `json:"full_name"`
	Private         bool     `json:"private"`
	Owner           wireUser `json:"owner"`
	HTMLURL         string   `json:"html_url"`
	Description     *string  `json:"description"`
	Fork            bool     `json:"fork"`
	URL             string   `json:"url"`
	IssuesURL       string   `json:"issues_url"`
	CreatedAt       string   `json:"created_at"`
	UpdatedAt       string   `json:"updated_at"`
	PushedAt        string   `json:"pushed_at"`
	HasIssues       bool     `json:"has_issues"`
	Archived        bool     `json:"archived"`
	Disabled        bool     `json:"disabled"`
	OpenIssuesCount int      `json:"open_issues_count"`
	DefaultBranch   string   `json:"default_branch"`
	Visibility      string   `json:"visibility"`
}

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// stableID derives a positive id from a name, so that users and labels keep
// their ids across calls.
func stableID(kind, name string) int64 {
	sum := sha256.Sum256([]byte(kind + "\x00" + strings.ToLower(name)))
	return int64(binary.BigEndian.Uint32(sum[:4])>>1) + 1
}

func nodeID(prefix string, id int64) string {
	return prefix + base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprint(id)))
}

func (s *Server) wireUser(login string) wireUser {
	id := stableID("user", login)
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	api := s.apiBase + "users/" + login
	return wireUser{
		Login: login, ID: id, NodeID: nodeID("U_kgDO", id),
		AvatarURL:         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		URL:               api,
		HTMLURL:           s.htmlURL + login,
		FollowersURL:      api + "/followers",
		FollowingURL:      api + "/following{/other_user}",
		GistsURL:          api + "/gists{/gist_id}",
		StarredURL:        api + "/starred{/owner}{/repo}",
		SubscriptionsURL:  api + "/subscriptions",
		OrganizationsURL:  api + "/orgs",
		ReposURL:          api + "/repos",
		EventsURL:         api + "/events{/privacy}",
		ReceivedEventsURL: api + "/received_events",
		Type:              typ,
	}
}

func (s *Server) wireLabel(rp *repo, name string) wireLabel {
	id := stableID("label/"+rp.fullName(), name)
	return wireLabel{
		ID: id, NodeID: nodeID("LA_kwDO", id),
		URL:  s.apiBase + "repos/" + rp.fullName() + "/labels/" + name,
		Name: name, Color: "ededed",
	}
}

func (s *Server) repoAPIURL(rp *repo) string { return s.apiBase + "repos/" + rp.fullName() }

func (s *Server) issueAPIURL(is *issue) string {
	return fmt.Sprintf("%s/issues/%d", s.repoAPIURL(is.repo), is.number)
}

func (s *Server) commentAPIURL(c *comment) string {
	return fmt.Sprintf("%s/issues/comments/%d", s.repoAPIURL(c.issue.repo), c.id)
}

func (s *Server) wireIssue(is *issue, single bool) wireIssue {
	u := s.issueAPIURL(is)
	w := wireIssue{
		URL:               u,
		RepositoryURL:     s.repoAPIURL(is.repo),
		LabelsURL:         u + "/labels{/name}",
		CommentsURL:       u + "/comments",
		EventsURL:         u + "/events",
		HTMLURL:           fmt.Sprintf("%s%s/issues/%d", s.htmlURL, is.repo.fullName(), is.number),
		ID:                is.id,
		NodeID:            nodeID("I_kwDO", is.id),
		Number:            is.number,
		Title:             is.title,
		User:              s.wireUser(is.user),
		Labels:            []wireLabel{},
		State:             is.state,
		Assignees:         []wireUser{},
		Comments:          len(is.comments),
		CreatedAt:         ts(is.createdAt),
		UpdatedAt:         ts(is.updatedAt),
		AuthorAssociation: "OWNER",
		Reactions:         wireReactions{URL: u + "/reactions"},
		TimelineURL:       u + "/timeline",
	}
	if is.user != s.opts.Login {
		w.AuthorAssociation = "MEMBER"
	}
	for _, l := range is.labels {
		w.Labels = append(w.Labels, s.wireLabel(is.repo, l))
	}
	for _, a := range is.assignees {
		w.Assignees = append(w.Assignees, s.wireUser(a))
	}
	if len(w.Assignees) > 0 {
		a := w.Assignees[0]
		w.Assignee = &a
	}
	if !is.closedAt.IsZero() {
		c := ts(is.closedAt)
		w.ClosedAt = &c
		if single && is.closedBy != "" {
			u := s.wireUser(is.closedBy)
			w.ClosedBy = &u
		}
	}
	if is.body != "" {
		b := is.body
		w.Body = &b
	}
	if is.stateReason != "" {
		r := is.stateReason
		w.StateReason = &r
	}
	return w
}

func (s *Server) wireComment(c *comment) wireComment {
	u := s.commentAPIURL(c)
	return wireComment{
		URL:               u,
		HTMLURL:           fmt.Sprintf("%s%s/issues/%d#issuecomment-%d", s.htmlURL, c.issue.repo.fullName(), c.issue.number, c.id),
		IssueURL:          s.issueAPIURL(c.issue),
		ID:                c.id,
		NodeID:            nodeID("IC_kwDO", c.id),
		User:              s.wireUser(c.user),
		CreatedAt:         ts(c.createdAt),
		UpdatedAt:         ts(c.updatedAt),
		AuthorAssociation: "OWNER",
		Body:              c.body,
		Reactions:         wireReactions{URL: u + "/reactions"},
	}
}

func (s *Server) wireRepo(rp *repo) wireRepo {
	open := 0
	for _, is := range rp.issues {
		if is.live() && is.state == "open" {
			open++
		}
	}
	return wireRepo{
		ID: rp.id, NodeID: nodeID("R_kgDO", rp.id),
		Name: rp.name, FullName: rp.fullName(),
		Owner:     s.wireUser(rp.owner),
		HTMLURL:   s.htmlURL + rp.fullName(),
		URL:       s.repoAPIURL(rp),
		IssuesURL: s.repoAPIURL(rp) + "/issues{/number}",
		CreatedAt: ts(rp.created), UpdatedAt: ts(rp.created), PushedAt: ts(rp.created),
		HasIssues: true, OpenIssuesCount: open, DefaultBranch: "main", Visibility: "public",
	}
}

// ---- replies ----

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic("ghtest: marshal reply: " + err.Error())
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return reply{status: status, header: h, body: b}
}

func errReply(status int, msg, doc string) reply {
	return jsonReply(status, map[string]any{"message": msg, "documentation_url": doc, "status": fmt.Sprint(status)})
}

func notFound() reply {
	return errReply(http.StatusNotFound, "Not Found", docRoot)
}

// validation is GitHub's 422 body.
// tooLong is GitHub's 422 for a text over its limit (in characters).
func tooLong(resource, field string, max int) reply {
	return jsonReply(http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation Failed",
		"errors": []map[string]string{{"resource": resource, "field": field, "code": "custom",
			"message": fmt.Sprintf("%s is too long (maximum is %d characters)", field, max)}},
		"documentation_url": docRoot,
		"status":            "422",
	})
}

func validation(resource, field, code string) reply {
	return jsonReply(http.StatusUnprocessableEntity, map[string]any{
		"message":           "Validation Failed",
		"errors":            []map[string]string{{"resource": resource, "field": field, "code": code}},
		"documentation_url": docRoot,
		"status":            "422",
	})
}
