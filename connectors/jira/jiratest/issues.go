package jiratest

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Issue is an issue as the fake stores it. Accessors return copies.
type Issue struct {
	ID          string
	Key         string
	Project     string
	IssueType   string
	Summary     string
	Description string // wiki markup
	Labels      []string
	Components  []string
	Priority    string // "Medium" unless set
	Status      string
	Resolution  string // "Done" once in a done-category status, else ""
	Parent      string // parent key, for sub-tasks
	Assignee    string // accountId, "" when unassigned
	Reporter    string // the account that created it
	DueDate     string // yyyy-mm-dd or ""
	Created     time.Time
	Updated     time.Time
	Resolved    time.Time
	RemoteLinks []RemoteLink
	Comments    []Comment
}

// RemoteLink is a remote issue link.
type RemoteLink struct {
	ID           int
	GlobalID     string
	Relationship string
	URL          string
	Title        string
	Summary      string
}

// Comment is an issue comment.
type Comment struct {
	ID      string
	Author  string
	Body    string // wiki markup
	Created time.Time
	Updated time.Time
}

func (i *Issue) clone() Issue {
	c := *i
	c.Labels = slices.Clone(i.Labels)
	c.Components = slices.Clone(i.Components)
	c.RemoteLinks = slices.Clone(i.RemoteLinks)
	c.Comments = slices.Clone(i.Comments)
	return c
}

// Issues returns a copy of every issue, in creation order.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Issue, len(s.issues))
	for i, is := range s.issues {
		out[i] = is.clone()
	}
	return out
}

// Issue returns a copy of the issue with key (or id).
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return Issue{}, false
	}
	return is.clone(), true
}

// SetStatus puts the issue in status out-of-band, as a person editing the
// workflow would; it reports whether the issue exists. Like every
// out-of-band change it sends a webhook (SendWebhooks) as HumanAccountID.
func (s *Server) SetStatus(key, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	before := is.clone()
	s.setStatus(is, status, s.now())
	s.hookUpdated(before, is, HumanAccountID)
	return true
}

// Edit changes the issue out-of-band. Updated is set to now unless fn sets
// it. ID and Key cannot change. It reports whether the issue exists.
func (s *Server) Edit(key string, fn func(*Issue)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	c := is.clone()
	fn(&c)
	c.ID, c.Key = is.ID, is.Key
	if c.Updated.Equal(is.Updated) {
		c.Updated = s.now()
	}
	before := *is
	*is = c
	s.hookUpdated(before, is, HumanAccountID)
	return true
}

// lookup finds an issue by key (case-insensitive) or id; s.mu held.
func (s *Server) lookup(key string) *Issue {
	if is := s.byKey[strings.ToUpper(key)]; is != nil {
		return is
	}
	return s.byID[key]
}

func (s *Server) setStatus(is *Issue, status string, now time.Time) {
	is.Status = status
	is.Updated = now
	if s.category(status) == CategoryDone {
		if is.Resolution == "" {
			is.Resolution = "Done"
			is.Resolved = now
		}
	} else {
		is.Resolution = ""
		is.Resolved = time.Time{}
	}
}

// category of a status name.
func (s *Server) category(status string) string {
	if c, ok := s.opts.StatusCategories[status]; ok {
		return c
	}
	switch status {
	case StatusToDo:
		return CategoryNew
	case StatusDone:
		return CategoryDone
	}
	return CategoryIndeterminate
}

// statusID gives every status name a stable id; s.mu held.
func (s *Server) statusID(status string) string {
	if id, ok := s.statusIDs[status]; ok {
		return id
	}
	id := strconv.Itoa(10100 + len(s.statusIDs))
	s.statusIDs[status] = id
	return id
}

// subtasks of key in creation order; s.mu held.
func (s *Server) subtasks(key string) []*Issue {
	var out []*Issue
	for _, is := range s.issues {
		if is.Parent == key {
			out = append(out, is)
		}
	}
	return out
}

func (s *Server) issueType(project, name string) (IssueType, bool) {
	p := s.projects[strings.ToUpper(project)]
	if p == nil {
		return IssueType{}, false
	}
	for _, t := range p.IssueTypes {
		if strings.EqualFold(t.Name, name) {
			return t, true
		}
	}
	return IssueType{}, false
}

func (s *Server) issueTypeID(project, name string) string {
	p := s.projects[strings.ToUpper(project)]
	if p != nil {
		for i, t := range p.IssueTypes {
			if strings.EqualFold(t.Name, name) {
				return strconv.Itoa(10001 + i)
			}
		}
	}
	return "10000"
}

var priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}

func priorityID(name string) string {
	for i, p := range priorities {
		if strings.EqualFold(p, name) {
			return strconv.Itoa(i + 1)
		}
	}
	return "3"
}

func canonicalPriority(name string) (string, bool) {
	for _, p := range priorities {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return "", false
}
