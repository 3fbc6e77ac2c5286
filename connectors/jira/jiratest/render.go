package jiratest

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Jira's timestamp format, e.g. "2024-12-29T08:41:23.303+0530".
const jiraTime = "2006-01-02T15:04:05.000-0700"

func (s *Server) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(s.opts.Location).Format(jiraTime)
}

// fieldSet is the "fields" parameter of GET issue and search/jql.
type fieldSet struct {
	idOnly  bool
	all     bool
	include map[string]bool
	exclude map[string]bool
}

// parseFields reads fields=a,b,-c,*all. With no list, GET issue returns all
// fields and search/jql ids only (its documented default).
func parseFields(list []string, idOnlyByDefault bool) fieldSet {
	fs := fieldSet{include: map[string]bool{}, exclude: map[string]bool{}}
	n := 0
	for _, item := range list {
		for _, f := range strings.Split(item, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
				continue
			case f == "*all" || f == "*navigable":
				fs.all = true
			case strings.HasPrefix(f, "-"):
				fs.exclude[f[1:]] = true
			default:
				fs.include[f] = true
			}
			n++
		}
	}
	if n == 0 {
		fs.idOnly = idOnlyByDefault
		fs.all = !idOnlyByDefault
	}
	return fs
}

func (fs fieldSet) want(f string) bool {
	if fs.exclude[f] {
		return false
	}
	return fs.all || fs.include[f]
}

// renderIssue is the issue bean of GET issue and search/jql; s.mu held.
func (s *Server) renderIssue(base string, is *Issue, fs fieldSet) map[string]any {
	if fs.idOnly {
		return map[string]any{"id": is.ID}
	}
	// Fields are computed only when asked for: search pages ask for few.
	all := map[string]func() any{
		"summary":                  func() any { return is.Summary },
		"description":              func() any { return nullIfEmpty(is.Description) },
		"labels":                   func() any { return nonNil(is.Labels) },
		"status":                   func() any { return s.renderStatus(base, is.Status) },
		"issuetype":                func() any { return s.renderIssueType(base, is.Project, is.IssueType) },
		"project":                  func() any { return s.renderProject(base, is.Project) },
		"priority":                 func() any { return renderPriority(base, is.Priority) },
		"created":                  func() any { return s.ts(is.Created) },
		"updated":                  func() any { return s.ts(is.Updated) },
		"statuscategorychangedate": func() any { return s.ts(is.Updated) },
		"resolutiondate":           func() any { return s.ts(is.Resolved) },
		"resolution":               func() any { return renderResolution(base, is.Resolution) },
		"duedate":                  func() any { return nullIfEmpty(is.DueDate) },
		"assignee":                 func() any { return s.renderUser(base, is.Assignee) },
		"reporter":                 func() any { return s.renderUser(base, is.Reporter) },
		"creator":                  func() any { return s.renderUser(base, is.Reporter) },
		"components":               func() any { return s.renderComponents(base, is) },
		"subtasks":                 func() any { return s.renderSubtasks(base, is) },
		"issuelinks":               func() any { return s.renderIssueLinks(base, is) },
		"fixVersions":              func() any { return []any{} },
		"versions":                 func() any { return []any{} },
		"comment":                  func() any { return s.renderCommentPage(base, is, 0, len(is.Comments)) },
	}
	if is.Parent != "" {
		if p := s.lookup(is.Parent); p != nil {
			all["parent"] = func() any { return s.renderLinkedIssue(base, p) }
		}
	}
	fields := map[string]any{}
	for k, v := range all {
		if fs.want(k) {
			fields[k] = v()
		}
	}
	return map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     is.ID,
		"self":   base + "/rest/api/2/issue/" + is.ID,
		"key":    is.Key,
		"fields": fields,
	}
}

// renderLinkedIssue is the short form of parent and subtasks entries.
func (s *Server) renderLinkedIssue(base string, is *Issue) map[string]any {
	return map[string]any{
		"id":   is.ID,
		"key":  is.Key,
		"self": base + "/rest/api/2/issue/" + is.ID,
		"fields": map[string]any{
			"summary":   is.Summary,
			"status":    s.renderStatus(base, is.Status),
			"priority":  renderPriority(base, is.Priority),
			"issuetype": s.renderIssueType(base, is.Project, is.IssueType),
		},
	}
}

func (s *Server) renderSubtasks(base string, is *Issue) []any {
	out := []any{}
	for _, st := range s.subtasks(is.Key) {
		out = append(out, s.renderLinkedIssue(base, st))
	}
	return out
}

var categories = map[string]map[string]any{
	// As a Jira Cloud capture names them (webhooks/skill-sync-jira_issue_created.json).
	CategoryNew:           {"id": 2, "key": "new", "colorName": "blue-gray", "name": "New"},
	CategoryIndeterminate: {"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"},
	CategoryDone:          {"id": 3, "key": "done", "colorName": "green", "name": "Done"},
}

func (s *Server) renderStatus(base, name string) map[string]any {
	cat := categories[s.category(name)]
	if cat == nil {
		cat = categories[CategoryIndeterminate]
	}
	sc := map[string]any{"self": base + "/rest/api/2/statuscategory/" + strconv.Itoa(cat["id"].(int))}
	for k, v := range cat {
		sc[k] = v
	}
	id := s.statusID(name)
	return map[string]any{
		"self":           base + "/rest/api/2/status/" + id,
		"description":    "",
		"iconUrl":        base + "/",
		"name":           name,
		"id":             id,
		"statusCategory": sc,
	}
}

func (s *Server) renderIssueType(base, project, name string) map[string]any {
	t, _ := s.issueType(project, name)
	id := s.issueTypeID(project, name)
	level := 0
	desc := "A small, distinct piece of work."
	if t.Subtask {
		level = -1
		desc = "A small piece of work that's part of a larger task."
	}
	return map[string]any{
		"self":           base + "/rest/api/2/issuetype/" + id,
		"id":             id,
		"description":    desc,
		"iconUrl":        base + "/rest/api/2/universal_avatar/view/type/issuetype/avatar/10318?size=medium",
		"name":           name,
		"subtask":        t.Subtask,
		"avatarId":       10318,
		"hierarchyLevel": level,
	}
}

func (s *Server) projectID(key string) string {
	for i, p := range s.opts.Projects {
		if strings.EqualFold(p.Key, key) {
			return strconv.Itoa(10000 + i)
		}
	}
	return "10000"
}

// projectByRef finds a project by key (any case) or id.
func (s *Server) projectByRef(ref string) *Project {
	if p := s.projects[strings.ToUpper(ref)]; p != nil {
		return p
	}
	for i, p := range s.opts.Projects {
		if strconv.Itoa(10000+i) == ref {
			return s.projects[strings.ToUpper(p.Key)]
		}
	}
	return nil
}

func (s *Server) renderProject(base, key string) map[string]any {
	p := s.projects[key]
	name := key
	if p != nil {
		name = p.Name
	}
	id := s.projectID(key)
	return map[string]any{
		"self":           base + "/rest/api/2/project/" + id,
		"id":             id,
		"key":            key,
		"name":           name,
		"projectTypeKey": "software",
		"simplified":     false,
		"avatarUrls":     avatars(base + "/rest/api/2/universal_avatar/view/type/project/avatar/10421"),
	}
}

func renderPriority(base, name string) map[string]any {
	id := priorityID(name)
	return map[string]any{
		"self":    base + "/rest/api/2/priority/" + id,
		"iconUrl": base + "/images/icons/priorities/" + strings.ToLower(name) + ".svg",
		"name":    name,
		"id":      id,
	}
}

func renderResolution(base, name string) any {
	if name == "" {
		return nil
	}
	return map[string]any{
		"self":        base + "/rest/api/2/resolution/10000",
		"id":          "10000",
		"description": "Work has been completed on this issue.",
		"name":        name,
	}
}

func (s *Server) renderUser(base, accountID string) any {
	if accountID == "" {
		return nil
	}
	u := map[string]any{
		"self":         base + "/rest/api/2/user?accountId=" + url.QueryEscape(accountID),
		"accountId":    accountID,
		"avatarUrls":   avatars(base + "/avatar/" + url.PathEscape(accountID)),
		"displayName":  accountID,
		"active":       true,
		"timeZone":     s.opts.Location.String(),
		"accountType":  "atlassian",
		"emailAddress": accountID,
	}
	// Users of the directory (AddUser) show their name, and their email
	// only when they have one: Jira Cloud hides most.
	if d, ok := s.users[accountID]; ok {
		u["displayName"] = firstNonEmpty(d.DisplayName, accountID)
		if d.Email != "" {
			u["emailAddress"] = d.Email
		} else {
			delete(u, "emailAddress")
		}
	}
	return u
}

func avatars(u string) map[string]any {
	return map[string]any{"48x48": u, "24x24": u + "?size=small", "16x16": u + "?size=xsmall", "32x32": u + "?size=medium"}
}

func (s *Server) renderComponents(base string, is *Issue) []any {
	out := []any{}
	for _, c := range is.Components {
		id := s.componentID(is.Project, c)
		out = append(out, map[string]any{"self": base + "/rest/api/2/component/" + id, "id": id, "name": c})
	}
	return out
}

func (s *Server) componentID(project, name string) string {
	if p := s.projects[project]; p != nil {
		for i, c := range p.Components {
			if c == name {
				return strconv.Itoa(10000 + i)
			}
		}
	}
	return strconv.Itoa(10500 + int(crc(name)%500))
}

func crc(s string) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

func (s *Server) renderComment(base string, is *Issue, c Comment) map[string]any {
	author := s.renderUser(base, c.Author)
	return map[string]any{
		"self":         base + "/rest/api/2/issue/" + is.ID + "/comment/" + c.ID,
		"id":           c.ID,
		"author":       author,
		"body":         c.Body,
		"updateAuthor": author,
		"created":      s.ts(c.Created),
		"updated":      s.ts(c.Updated),
		"jsdPublic":    true,
	}
}

func (s *Server) renderCommentPage(base string, is *Issue, start, max int) map[string]any {
	cs := []any{}
	for i := start; i < len(is.Comments) && i < start+max; i++ {
		cs = append(cs, s.renderComment(base, is, is.Comments[i]))
	}
	return map[string]any{"comments": cs, "self": base + "/rest/api/2/issue/" + is.ID + "/comment", "maxResults": max, "total": len(is.Comments), "startAt": start}
}

func (s *Server) renderRemoteLink(base string, is *Issue, l RemoteLink) map[string]any {
	obj := map[string]any{"url": l.URL, "title": l.Title}
	if l.Summary != "" {
		obj["summary"] = l.Summary
	}
	out := map[string]any{
		"id":     l.ID,
		"self":   base + "/rest/api/2/issue/" + is.Key + "/remotelink/" + strconv.Itoa(l.ID),
		"object": obj,
	}
	if l.GlobalID != "" {
		out["globalId"] = l.GlobalID
	}
	if l.Relationship != "" {
		out["relationship"] = l.Relationship
	}
	return out
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
