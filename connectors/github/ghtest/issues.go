package ghtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coesync/coesync/connectors/internal/fake"
)

type repo struct {
	id         int64
	owner      string
	name       string
	created    time.Time
	lastNumber int
	issues     map[int]*issue
	access     RepoAccess  // repo.go
	changes    repoChanges // changes.go: deployments and pull requests
}

func (r *repo) fullName() string { return r.owner + "/" + r.name }

type issue struct {
	repo        *repo
	number      int
	id          int64
	title       string
	body        string
	state       string
	stateReason string
	labels      []string
	assignees   []string
	user        string
	createdAt   time.Time
	updatedAt   time.Time
	closedAt    time.Time
	closedBy    string
	comments    []*comment
	deleted     bool
	movedTo     *issue
}

func (is *issue) live() bool { return !is.deleted && is.movedTo == nil }

type comment struct {
	id        int64
	issue     *issue
	body      string
	user      string
	createdAt time.Time
	updatedAt time.Time
}

// Issue is a snapshot of an issue, for inspection.
type Issue struct {
	Repo        string
	Number      int
	ID          int64
	Title       string
	Body        string
	State       string // "open" or "closed"
	StateReason string // "completed", "not_planned", "duplicate", "reopened" or ""
	Labels      []string
	Assignees   []string
	User        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	ClosedAt    time.Time
	ClosedBy    string
	Comments    []Comment
}

// Comment is a snapshot of an issue comment.
type Comment struct {
	ID        int64
	Body      string
	User      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (is *issue) snapshot() Issue {
	out := Issue{
		Repo: is.repo.fullName(), Number: is.number, ID: is.id,
		Title: is.title, Body: is.body, State: is.state, StateReason: is.stateReason,
		Labels: append([]string(nil), is.labels...), Assignees: append([]string(nil), is.assignees...),
		User: is.user, CreatedAt: is.createdAt, UpdatedAt: is.updatedAt, ClosedAt: is.closedAt, ClosedBy: is.closedBy,
	}
	for _, c := range is.comments {
		out.Comments = append(out.Comments, Comment{ID: c.id, Body: c.body, User: c.user, CreatedAt: c.createdAt, UpdatedAt: c.updatedAt})
	}
	return out
}

// Issues returns the live issues of repo (neither deleted nor transferred
// away), by number.
func (s *Server) Issues(repo string) []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(repo)]
	if rp == nil {
		return nil
	}
	var out []Issue
	for _, is := range rp.sorted() {
		if is.live() {
			out = append(out, is.snapshot())
		}
	}
	return out
}

// Issue returns live issue n of repo.
func (s *Server) Issue(repo string, n int) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.liveLocked(repo, n)
	if err != nil {
		return Issue{}, false
	}
	return is.snapshot(), true
}

func (r *repo) sorted() []*issue {
	out := make([]*issue, 0, len(r.issues))
	for _, is := range r.issues {
		out = append(out, is)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

func (s *Server) liveLocked(repo string, n int) (*issue, error) {
	rp := s.repos[strings.ToLower(repo)]
	if rp == nil {
		return nil, fmt.Errorf("ghtest: no repository %q", repo)
	}
	is := rp.issues[n]
	if is == nil || !is.live() {
		return nil, fmt.Errorf("ghtest: no live issue %s#%d", repo, n)
	}
	return is, nil
}

// ---- out-of-band changes, as a human would make them on github.com ----

// OpenIssue creates an issue as Options.Human and returns its number.
func (s *Server) OpenIssue(repo, title, body string, labels ...string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rp := s.repos[strings.ToLower(repo)]
	if rp == nil {
		return 0, fmt.Errorf("ghtest: no repository %q", repo)
	}
	is := s.newIssueLocked(rp, s.opts.Human, title, body, labels, nil)
	s.emitLocked("opened", is, s.opts.Human, nil)
	return is.number, nil
}

// CloseIssue closes the issue with reason ("completed" when empty,
// "not_planned" or "duplicate").
func (s *Server) CloseIssue(repo string, n int, reason string) error {
	if reason == "" {
		reason = "completed"
	}
	return s.oob(repo, n, map[string]any{"state": "closed", "state_reason": reason})
}

// Reopen reopens the issue.
func (s *Server) Reopen(repo string, n int) error {
	return s.oob(repo, n, map[string]any{"state": "open"})
}

// EditTitle changes the issue's title.
func (s *Server) EditTitle(repo string, n int, title string) error {
	return s.oob(repo, n, map[string]any{"title": title})
}

// EditBody changes the issue's body.
func (s *Server) EditBody(repo string, n int, body string) error {
	return s.oob(repo, n, map[string]any{"body": body})
}

// Assign sets the issue's assignees to logins (none unassigns everyone).
func (s *Server) Assign(repo string, n int, logins ...string) error {
	if logins == nil {
		logins = []string{}
	}
	return s.oob(repo, n, map[string]any{"assignees": logins})
}

func (s *Server) oob(repo string, n int, patch map[string]any) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.liveLocked(repo, n)
	if err != nil {
		return err
	}
	rep := s.applyEdit(is, raw, s.opts.Human)
	if rep.status != http.StatusOK {
		return fmt.Errorf("ghtest: edit %s#%d: HTTP %d: %s", repo, n, rep.status, rep.body)
	}
	return nil
}

// Delete deletes the issue: its URL answers 410 Gone from now on.
func (s *Server) Delete(repo string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.liveLocked(repo, n)
	if err != nil {
		return err
	}
	s.emitLocked("deleted", is, s.opts.Human, nil)
	is.deleted = true
	for _, c := range is.comments {
		delete(s.comments, c.id)
	}
	is.comments = nil
	return nil
}

// Transfer moves the issue to newRepo (added when unknown) and returns its
// number there. The old URL answers 301 Moved Permanently to
// /repositories/{id}/issues/{number}, like GitHub.
func (s *Server) Transfer(repo string, n int, newRepo string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, err := s.liveLocked(repo, n)
	if err != nil {
		return 0, err
	}
	to, err := s.addRepoLocked(newRepo)
	if err != nil {
		return 0, err
	}
	if to == is.repo {
		return 0, fmt.Errorf("ghtest: transfer %s#%d to its own repository", repo, n)
	}
	now := s.now()
	to.lastNumber++
	s.nextIssID++
	moved := &issue{
		repo: to, number: to.lastNumber, id: s.nextIssID,
		title: is.title, body: is.body, state: is.state, stateReason: is.stateReason,
		labels: append([]string(nil), is.labels...), assignees: append([]string(nil), is.assignees...),
		user: is.user, createdAt: is.createdAt, updatedAt: now, closedAt: is.closedAt, closedBy: is.closedBy,
		comments: is.comments,
	}
	for _, c := range moved.comments {
		c.issue = moved
	}
	to.issues[moved.number] = moved
	s.emitLocked("transferred", is, s.opts.Human, map[string]any{
		"new_issue":      s.wireIssue(moved, false),
		"new_repository": s.wireRepo(to),
	})
	is.movedTo = moved
	is.comments = nil
	return moved.number, nil
}

// ---- handlers (under s.mu) ----

var loginRE = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$`)

func (s *Server) newIssueLocked(rp *repo, user, title, body string, labels, assignees []string) *issue {
	now := s.now()
	rp.lastNumber++
	s.nextIssID++
	is := &issue{
		repo: rp, number: rp.lastNumber, id: s.nextIssID,
		title: title, body: body, state: "open",
		labels: dedupe(labels), assignees: dedupe(assignees),
		user: user, createdAt: now, updatedAt: now,
	}
	rp.issues[is.number] = is
	return is
}

// GitHub's limits, in characters: an issue title, and an issue or comment
// body.
const (
	maxTitle = 256
	maxBody  = 65536
)

func (s *Server) createIssue(r *http.Request, rp *repo, body []byte) reply {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest/issues/issues#create-an-issue")
	}
	title, ok := str(in["title"])
	if !ok || strings.TrimSpace(title) == "" {
		return validation("Issue", "title", "missing_field")
	}
	if utf8.RuneCountInString(title) > maxTitle {
		return tooLong("Issue", "title", maxTitle)
	}
	text, ok := strOrNull(in["body"])
	if !ok {
		return validation("Issue", "body", "invalid")
	}
	if utf8.RuneCountInString(text) > maxBody {
		return tooLong("Issue", "body", maxBody)
	}
	labels, ok := labelList(in["labels"])
	if !ok {
		return validation("Issue", "labels", "invalid")
	}
	assignees, ok := loginList(in["assignees"])
	if !ok {
		return validation("Issue", "assignees", "invalid")
	}
	if a, ok := strOrNull(in["assignee"]); ok && a != "" {
		if !loginRE.MatchString(a) {
			return validation("Issue", "assignee", "invalid")
		}
		assignees = append(assignees, a)
	}
	if len(dedupe(assignees)) > 10 {
		return validation("Issue", "assignees", "invalid")
	}
	is := s.newIssueLocked(rp, s.opts.Login, title, text, labels, assignees)
	s.emitLocked("opened", is, s.opts.Login, nil)
	rep := jsonReply(http.StatusCreated, s.wireIssue(is, false))
	rep.header.Set("Location", s.issueAPIURL(is))
	return rep
}

func (s *Server) editIssue(is *issue, body []byte) reply {
	return s.applyEdit(is, body, s.opts.Login)
}

// applyEdit applies a PATCH body to the issue, as actor, emitting the
// webhooks GitHub would: edited, assigned/unassigned, labeled/unlabeled,
// then closed/reopened.
func (s *Server) applyEdit(is *issue, body []byte, actor string) reply {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest/issues/issues#update-an-issue")
	}
	title, body2 := is.title, is.body
	if raw, ok := in["title"]; ok {
		t, ok := str(raw)
		if !ok || strings.TrimSpace(t) == "" {
			return validation("Issue", "title", "missing_field")
		}
		if utf8.RuneCountInString(t) > maxTitle {
			return tooLong("Issue", "title", maxTitle)
		}
		title = t
	}
	if raw, ok := in["body"]; ok {
		b, ok := strOrNull(raw)
		if !ok {
			return validation("Issue", "body", "invalid")
		}
		if utf8.RuneCountInString(b) > maxBody {
			return tooLong("Issue", "body", maxBody)
		}
		body2 = b
	}
	state, reason := is.state, is.stateReason
	if raw, ok := in["state"]; ok {
		st, ok := str(raw)
		if !ok || (st != "open" && st != "closed") {
			return validation("Issue", "state", "invalid")
		}
		state = st
	}
	wantReason := ""
	if raw, ok := in["state_reason"]; ok {
		r, ok := strOrNull(raw)
		if !ok || (r != "" && r != "completed" && r != "not_planned" && r != "duplicate" && r != "reopened") {
			return validation("Issue", "state_reason", "invalid")
		}
		wantReason = r
	}
	switch {
	case state == "closed" && is.state == "open":
		reason = "completed"
		if wantReason == "not_planned" || wantReason == "duplicate" {
			reason = wantReason
		}
	case state == "closed" && wantReason != "" && wantReason != "reopened":
		reason = wantReason
	case state == "open" && is.state == "closed":
		reason = "reopened"
	}
	labels := is.labels
	if raw, ok := in["labels"]; ok {
		l, ok := labelList(raw)
		if !ok {
			return validation("Issue", "labels", "invalid")
		}
		labels = l
	}
	assignees := is.assignees
	if raw, ok := in["assignees"]; ok {
		a, ok := loginList(raw)
		if !ok || len(a) > 10 {
			return validation("Issue", "assignees", "invalid")
		}
		assignees = a
	} else if raw, ok := in["assignee"]; ok {
		a, ok := strOrNull(raw)
		if !ok || (a != "" && !loginRE.MatchString(a)) {
			return validation("Issue", "assignee", "invalid")
		}
		assignees = nil
		if a != "" {
			assignees = []string{a}
		}
	}

	now := s.now()
	changes := map[string]any{}
	if title != is.title {
		changes["title"] = map[string]string{"from": is.title}
		is.title = title
	}
	if body2 != is.body {
		changes["body"] = map[string]string{"from": is.body}
		is.body = body2
	}
	if len(changes) > 0 {
		is.updatedAt = now
		s.emitLocked("edited", is, actor, changes)
	}
	added, removed := diff(is.assignees, assignees)
	if len(added)+len(removed) > 0 {
		is.updatedAt = now
		for _, l := range removed {
			is.assignees = slices.DeleteFunc(is.assignees, func(x string) bool { return strings.EqualFold(x, l) })
			s.emitLocked("unassigned", is, actor, nil, withAssignee(l))
		}
		for _, l := range added {
			is.assignees = append(is.assignees, l)
			s.emitLocked("assigned", is, actor, nil, withAssignee(l))
		}
	}
	added, removed = diff(is.labels, labels)
	if len(added)+len(removed) > 0 {
		is.updatedAt = now
		for _, l := range removed {
			is.labels = slices.DeleteFunc(is.labels, func(x string) bool { return strings.EqualFold(x, l) })
			s.emitLocked("unlabeled", is, actor, nil, withLabel(l))
		}
		for _, l := range added {
			is.labels = append(is.labels, l)
			s.emitLocked("labeled", is, actor, nil, withLabel(l))
		}
	}
	switch {
	case state != is.state:
		is.updatedAt = now
		is.state, is.stateReason = state, reason
		if state == "closed" {
			is.closedAt, is.closedBy = now, actor
			s.emitLocked("closed", is, actor, nil)
		} else {
			is.closedAt, is.closedBy = time.Time{}, ""
			s.emitLocked("reopened", is, actor, nil)
		}
	case reason != is.stateReason:
		is.updatedAt = now
		is.stateReason = reason
	}
	return jsonReply(http.StatusOK, s.wireIssue(is, true))
}

func (s *Server) listIssues(r *http.Request, rp *repo) reply {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	if state != "open" && state != "closed" && state != "all" {
		return validation("Issue", "state", "invalid")
	}
	var want []string
	if l := q.Get("labels"); l != "" {
		for _, name := range strings.Split(l, ",") {
			if name = strings.TrimSpace(name); name != "" {
				want = append(want, name)
			}
		}
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return validation("Issue", "since", "invalid")
		}
		since = t
	}
	sortBy := q.Get("sort")
	if sortBy == "" {
		sortBy = "created"
	}
	if sortBy != "created" && sortBy != "updated" && sortBy != "comments" {
		return validation("Issue", "sort", "invalid")
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
	}
	if dir != "asc" && dir != "desc" {
		return validation("Issue", "direction", "invalid")
	}
	var list []*issue
	for _, is := range rp.issues {
		if !is.live() || (state != "all" && is.state != state) || is.updatedAt.Before(since) {
			continue
		}
		ok := true
		for _, l := range want {
			if !containsFold(is.labels, l) {
				ok = false
				break
			}
		}
		if ok {
			list = append(list, is)
		}
	}
	key := func(is *issue) int64 {
		switch sortBy {
		case "updated":
			return is.updatedAt.UnixNano()
		case "comments":
			return int64(len(is.comments))
		}
		return is.createdAt.UnixNano()
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := key(list[i]), key(list[j])
		if a == b {
			a, b = int64(list[i].number), int64(list[j].number)
		}
		if dir == "asc" {
			return a < b
		}
		return a > b
	})
	_, lo, hi, link := s.paginate(r, len(list))
	out := make([]any, 0, hi-lo)
	for _, is := range list[lo:hi] {
		out = append(out, s.wireIssue(is, false))
	}
	rep := jsonReply(http.StatusOK, out)
	if link != "" {
		rep.header.Set("Link", link)
	}
	return rep
}

// paginate reads per_page and page and returns the slice bounds of the page
// and its Link header.
func (s *Server) paginate(r *http.Request, total int) (page, lo, hi int, link string) {
	q := r.URL.Query()
	per := 30
	if v, err := strconv.Atoi(q.Get("per_page")); err == nil && v > 0 {
		per = v
	}
	per = min(per, s.opts.MaxPerPage)
	page = 1
	if v, err := strconv.Atoi(q.Get("page")); err == nil && v > 0 {
		page = v
	}
	last := max(1, (total+per-1)/per)
	lo = min((page-1)*per, total)
	hi = min(lo+per, total)
	ref := func(p int) string {
		q2 := fake.CloneValues(q)
		q2.Set("page", strconv.Itoa(p))
		if q.Has("per_page") {
			q2.Set("per_page", strconv.Itoa(per))
		}
		u := url.URL{Path: strings.TrimPrefix(r.URL.Path, "/"), RawQuery: q2.Encode()}
		return "<" + s.apiBase + u.String() + ">"
	}
	var parts []string
	if page < last {
		parts = append(parts, ref(page+1)+`; rel="next"`, ref(last)+`; rel="last"`)
	}
	if page > 1 {
		parts = append(parts, ref(min(page-1, last))+`; rel="prev"`, ref(1)+`; rel="first"`)
	}
	return page, lo, hi, strings.Join(parts, ", ")
}

func (s *Server) listComments(r *http.Request, is *issue) reply {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return validation("IssueComment", "since", "invalid")
		}
		since = t
	}
	var list []*comment
	for _, c := range is.comments {
		if !c.updatedAt.Before(since) {
			list = append(list, c)
		}
	}
	_, lo, hi, link := s.paginate(r, len(list))
	out := make([]any, 0, hi-lo)
	for _, c := range list[lo:hi] {
		out = append(out, s.wireComment(c))
	}
	rep := jsonReply(http.StatusOK, out)
	if link != "" {
		rep.header.Set("Link", link)
	}
	return rep
}

func (s *Server) addComment(is *issue, body []byte) reply {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest/issues/comments#create-an-issue-comment")
	}
	text, ok := str(in["body"])
	if !ok || text == "" {
		return validation("IssueComment", "body", "missing_field")
	}
	if utf8.RuneCountInString(text) > maxBody {
		return tooLong("IssueComment", "body", maxBody)
	}
	now := s.now()
	s.nextComID++
	c := &comment{id: s.nextComID, issue: is, body: text, user: s.opts.Login, createdAt: now, updatedAt: now}
	is.comments = append(is.comments, c)
	s.comments[c.id] = c
	rep := jsonReply(http.StatusCreated, s.wireComment(c))
	rep.header.Set("Location", s.commentAPIURL(c))
	return rep
}

func (s *Server) comment(r *http.Request, rp *repo, id string, body []byte) reply {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return notFound()
	}
	c := s.comments[n]
	if c == nil {
		return notFound()
	}
	if c.issue.repo != rp {
		// A comment of a transferred issue moved with it.
		loc := fmt.Sprintf("%srepositories/%d/issues/comments/%d", s.apiBase, c.issue.repo.id, c.id)
		rep := jsonReply(http.StatusMovedPermanently, map[string]string{"message": "Moved Permanently", "url": loc, "documentation_url": docRoot})
		rep.header.Set("Location", loc)
		return rep
	}
	if r.Method == http.MethodGet {
		return jsonReply(http.StatusOK, s.wireComment(c))
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return errReply(http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest/issues/comments#update-an-issue-comment")
	}
	text, ok := str(in["body"])
	if !ok || text == "" {
		return validation("IssueComment", "body", "missing_field")
	}
	if utf8.RuneCountInString(text) > maxBody {
		return tooLong("IssueComment", "body", maxBody)
	}
	if text != c.body {
		c.body, c.updatedAt = text, s.now()
	}
	return jsonReply(http.StatusOK, s.wireComment(c))
}

// ---- JSON helpers ----

func str(raw json.RawMessage) (string, bool) {
	var s string
	if raw == nil || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// strOrNull accepts a string, null or absence ("").
func strOrNull(raw json.RawMessage) (string, bool) {
	if raw == nil || string(raw) == "null" {
		return "", true
	}
	return str(raw)
}

// labelList accepts names or {"name": ...} objects, or null/absence.
func labelList(raw json.RawMessage) ([]string, bool) {
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	out := []string{}
	for _, it := range items {
		name, ok := str(it)
		if !ok {
			var obj struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(it, &obj) != nil {
				return nil, false
			}
			name = obj.Name
		}
		name = strings.TrimSpace(name)
		if name == "" || len(name) > 50 {
			return nil, false
		}
		out = append(out, name)
	}
	return dedupe(out), true
}

func loginList(raw json.RawMessage) ([]string, bool) {
	if raw == nil || string(raw) == "null" {
		return nil, true
	}
	var items []string
	if json.Unmarshal(raw, &items) != nil {
		return nil, false
	}
	for _, l := range items {
		if !loginRE.MatchString(l) {
			return nil, false
		}
	}
	return dedupe(items), true
}

func dedupe(v []string) []string {
	out := []string{}
	for _, x := range v {
		if !containsFold(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func containsFold(v []string, x string) bool {
	for _, y := range v {
		if strings.EqualFold(x, y) {
			return true
		}
	}
	return false
}

// diff returns what is in to but not in from (added) and the reverse.
func diff(from, to []string) (added, removed []string) {
	for _, x := range to {
		if !containsFold(from, x) {
			added = append(added, x)
		}
	}
	for _, x := range from {
		if !containsFold(to, x) {
			removed = append(removed, x)
		}
	}
	return added, removed
}
