package pdtest

import (
	"net/http"
	"slices"
	"strings"
)

// requesterNotFound is PagerDuty's answer to a write whose From header is
// not the email of a user of the account.
var requesterNotFound = wireError{Message: "Requester User Not Found", Code: 1008}

// accessDenied is PagerDuty's answer to a write with a read-only API key.
var accessDenied = wireError{Message: "Access Denied", Code: 2010,
	Errors: []string{"The access level of this API key does not allow this action"}}

// AddUser makes u a user of the account: it may be a note's From, and GET
// /users lists it. Alice, Bob, Carol and the people of the incidents added
// are users already.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

// ReadOnly makes the API key read-only (true): every write answers 403, as
// PagerDuty does for a key created without full access.
func (s *Server) ReadOnly(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readOnly = on
}

// refuseWrite answers 403 to a write with a read-only key.
func (s *Server) refuseWrite(w http.ResponseWriter) bool {
	s.mu.Lock()
	ro := s.readOnly
	s.mu.Unlock()
	if ro {
		writeError(w, http.StatusForbidden, accessDenied)
	}
	return ro
}

// accountUsers returns every user of the account, each once; s.mu held.
func (s *Server) accountUsers() []User {
	all := append([]User{Alice, Bob, Carol}, s.users...)
	for _, fx := range s.incidents {
		all = append(all, fx.Assignees...)
		for _, n := range fx.Notes {
			all = append(all, n.Author)
		}
		for _, le := range fx.LogEntries {
			if le.User != nil {
				all = append(all, *le.User)
			}
			all = append(all, le.Assignees...)
		}
	}
	seen := map[string]bool{}
	out := all[:0]
	for _, u := range all {
		if u.Email == "" || seen[strings.ToLower(u.Email)] {
			continue
		}
		seen[strings.ToLower(u.Email)] = true
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// userByEmail finds a user of the account by email; s.mu held.
func (s *Server) userByEmail(email string) (User, bool) {
	for _, u := range s.accountUsers() {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return User{}, false
}

type wireUser struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Summary string `json:"summary"`
	Self    string `json:"self"`
	HTMLURL string `json:"html_url"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Role    string `json:"role"`
}

// listUsers serves GET /users: query filters by name or email
// (case-insensitive substring, as PagerDuty does).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, err1 := intParam(q, "offset", 0)
	limit, err2 := intParam(q, "limit", 25)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 {
		writeError(w, http.StatusBadRequest, wireError{Message: "Invalid Input Provided", Code: 2001,
			Errors: []string{"offset and limit must be non-negative integers, limit at least 1"}})
		return
	}
	limit = min(limit, 100)
	query := strings.ToLower(q.Get("query"))
	s.mu.Lock()
	var match []User
	for _, u := range s.accountUsers() {
		if query == "" || strings.Contains(strings.ToLower(u.Email), query) || strings.Contains(strings.ToLower(u.Name), query) {
			match = append(match, u)
		}
	}
	s.mu.Unlock()
	lo, hi := min(offset, len(match)), min(offset+limit, len(match))
	out := struct {
		Users  []wireUser `json:"users"`
		Limit  int        `json:"limit"`
		Offset int        `json:"offset"`
		More   bool       `json:"more"`
	}{Users: []wireUser{}, Limit: limit, Offset: offset, More: hi < len(match)}
	for _, u := range match[lo:hi] {
		out.Users = append(out.Users, wireUser{ID: u.ID, Type: "user", Summary: u.Name, Self: "https://api.pagerduty.com/users/" + u.ID,
			HTMLURL: "https://acme.pagerduty.com/users/" + u.ID, Name: u.Name, Email: u.Email, Role: "user"})
	}
	writeJSON(w, http.StatusOK, out)
}
