package jiratest

import (
	"slices"
	"strconv"
	"strings"
)

// IssueLink is a link between two issues: From <outward> To, e.g.
// "OPS-1 blocks OPS-2" for type Blocks; To shows it inward, "OPS-2 is
// blocked by OPS-1".
type IssueLink struct {
	ID   string
	Type string // link type name, e.g. "Relates"
	From string // outward issue key
	To   string // inward issue key
}

// LinkType is an issue link type.
type LinkType struct {
	ID      string
	Name    string
	Inward  string
	Outward string
}

// DefaultLinkTypes are Jira Cloud's default issue link types.
func DefaultLinkTypes() []LinkType {
	return []LinkType{
		{ID: "10000", Name: "Blocks", Inward: "is blocked by", Outward: "blocks"},
		{ID: "10001", Name: "Cloners", Inward: "is cloned by", Outward: "clones"},
		{ID: "10002", Name: "Duplicate", Inward: "is duplicated by", Outward: "duplicates"},
		{ID: "10003", Name: "Relates", Inward: "relates to", Outward: "relates to"},
	}
}

// lookupLinkType finds a link type by name (any case); an unknown name is a type
// of its own whose inward and outward descriptions are the lower-cased name.
func lookupLinkType(name string) LinkType {
	for _, t := range DefaultLinkTypes() {
		if strings.EqualFold(t.Name, name) {
			return t
		}
	}
	lower := strings.ToLower(name)
	return LinkType{ID: strconv.Itoa(10100 + int(crc(lower)%900)), Name: name, Inward: lower, Outward: lower}
}

// Link links fromKey to toKey with linkType ("Relates", "Blocks", ... any
// case; another name makes a type of its own) out-of-band, as a person
// would, and sends a jira:issue_updated webhook for each end. It reports
// whether both issues exist; linking them again the same way is a no-op.
func (s *Server) Link(fromKey, toKey, linkType string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to := s.lookup(fromKey), s.lookup(toKey)
	if from == nil || to == nil || strings.TrimSpace(linkType) == "" {
		return false
	}
	t := lookupLinkType(linkType)
	for _, l := range s.links {
		if l.From == from.Key && l.To == to.Key && strings.EqualFold(l.Type, t.Name) {
			return true
		}
	}
	s.nextIssueLink++
	s.links = append(s.links, IssueLink{ID: strconv.Itoa(10000 + s.nextIssueLink), Type: t.Name, From: from.Key, To: to.Key})
	now := s.now()
	for _, end := range []struct {
		is, other *Issue
		desc      string
	}{{from, to, t.Outward}, {to, from, t.Inward}} {
		end.is.Updated = now
		s.hookLink(end.is, end.other, "This issue "+end.desc+" "+end.other.Key, HumanAccountID)
	}
	return true
}

// Unlink removes the link of linkType from fromKey to toKey; it reports
// whether there was one.
func (s *Server) Unlink(fromKey, toKey, linkType string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to := s.lookup(fromKey), s.lookup(toKey)
	if from == nil || to == nil {
		return false
	}
	n := len(s.links)
	s.links = slices.DeleteFunc(s.links, func(l IssueLink) bool {
		return l.From == from.Key && l.To == to.Key && strings.EqualFold(l.Type, linkType)
	})
	if len(s.links) == n {
		return false
	}
	now := s.now()
	from.Updated, to.Updated = now, now
	s.hookUnlink(from, to, HumanAccountID)
	s.hookUnlink(to, from, HumanAccountID)
	return true
}

// Links returns the links of the issue with key, in either direction, in
// the order they were made.
func (s *Server) Links(key string) []IssueLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return nil
	}
	var out []IssueLink
	for _, l := range s.links {
		if l.From == is.Key || l.To == is.Key {
			out = append(out, l)
		}
	}
	return out
}

// dropLinks forgets the links of an issue being deleted; s.mu held.
func (s *Server) dropLinks(key string) {
	s.links = slices.DeleteFunc(s.links, func(l IssueLink) bool { return l.From == key || l.To == key })
}

// renderIssueLinks is the issuelinks field: each link once, with the other
// issue as outwardIssue (this issue is the link's source) or inwardIssue;
// s.mu held.
func (s *Server) renderIssueLinks(base string, is *Issue) []any {
	out := []any{}
	for _, l := range s.links {
		var dir, other string
		switch is.Key {
		case l.From:
			dir, other = "outwardIssue", l.To
		case l.To:
			dir, other = "inwardIssue", l.From
		default:
			continue
		}
		o := s.lookup(other)
		if o == nil {
			continue
		}
		t := lookupLinkType(l.Type)
		out = append(out, map[string]any{
			"id":   l.ID,
			"self": base + "/rest/api/2/issueLink/" + l.ID,
			"type": map[string]any{
				"id":      t.ID,
				"name":    t.Name,
				"inward":  t.Inward,
				"outward": t.Outward,
				"self":    base + "/rest/api/2/issueLinkType/" + t.ID,
			},
			dir: s.renderLinkedIssue(base, o),
		})
	}
	return out
}
