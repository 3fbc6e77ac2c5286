package jiratest

import (
	"net/http"
	"strings"
	"time"
)

// HumanAccountID is the account that makes out-of-band changes (SetStatus,
// Edit, Assign, SetDue, EditSummary, Link, Delete): the "user" of their
// webhooks.
const HumanAccountID = "jiratest-human"

// User is an entry of the fake's user directory.
type User struct {
	AccountID   string
	Email       string // "" when hidden, as Jira Cloud hides most
	DisplayName string
}

// AddUser adds or replaces a user of the directory. Issue beans and
// webhooks show a known assignee, reporter or actor with its display name
// and email; an unknown account id shows as itself.
func (s *Server) AddUser(accountID, email, displayName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUser(User{AccountID: accountID, Email: email, DisplayName: displayName})
}

func (s *Server) addUser(u User) {
	if u.AccountID == "" {
		return
	}
	if s.users == nil {
		s.users = map[string]User{}
	}
	s.users[u.AccountID] = u
}

// getMyself serves GET /rest/api/2/myself: the caller, with the time zone
// JQL dates are read in (Options.Location).
func (s *Server) getMyself(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, _ := s.renderUser(s.baseURL(r), s.user(r)).(map[string]any)
	u["locale"] = "en_US"
	writeJSON(w, http.StatusOK, u)
}

// ---- out-of-band changes ----

// Assign assigns the issue to accountID out-of-band (unassigns it when
// accountID is empty), adding the user to the directory when email or
// displayName is given. It reports whether the issue exists.
func (s *Server) Assign(key, accountID, email, displayName string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	if accountID != "" && (email != "" || displayName != "") {
		s.addUser(User{AccountID: accountID, Email: email, DisplayName: displayName})
	}
	s.change(is, func(i *Issue) { i.Assignee = accountID })
	return true
}

// SetDue sets the due date ("2026-12-01") out-of-band; "" clears it. It
// reports whether the issue exists and the date is valid.
func (s *Server) SetDue(key, date string) bool {
	if date != "" {
		if _, err := time.Parse("2006-01-02", date); err != nil {
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	s.change(is, func(i *Issue) { i.DueDate = date })
	return true
}

// EditSummary changes the summary out-of-band. It reports whether the
// issue exists and the summary is valid (not blank, one line).
func (s *Server) EditSummary(key, summary string) bool {
	if strings.TrimSpace(summary) == "" || strings.ContainsAny(summary, "\r\n") {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	s.change(is, func(i *Issue) { i.Summary = summary })
	return true
}

// Delete deletes the issue out-of-band, with its sub-tasks (as Jira does
// with deleteSubtasks=true) and its links, sending a jira:issue_deleted
// webhook for each deleted issue, sub-tasks first. It reports whether the
// issue existed.
func (s *Server) Delete(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(key)
	if is == nil {
		return false
	}
	for _, st := range s.subtasks(is.Key) {
		s.remove(st)
	}
	s.remove(is)
	return true
}

// remove deletes one issue; s.mu held.
func (s *Server) remove(is *Issue) {
	s.hookDeleted(is, HumanAccountID) // rendered while links and parent exist
	s.dropLinks(is.Key)
	delete(s.byKey, is.Key)
	delete(s.byID, is.ID)
	for i, x := range s.issues {
		if x == is {
			s.issues = append(s.issues[:i:i], s.issues[i+1:]...)
			break
		}
	}
}

// change applies fn to the issue as HumanAccountID, bumps Updated and sends
// the webhook; s.mu held.
func (s *Server) change(is *Issue, fn func(*Issue)) {
	before := is.clone()
	fn(is)
	is.Updated = s.now()
	s.hookUpdated(before, is, HumanAccountID)
}
