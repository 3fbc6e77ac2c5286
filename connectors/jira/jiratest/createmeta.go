package jiratest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// createMetaPage pages a createmeta list as Jira Cloud does: startAt,
// maxResults (default and cap 50), total, the list under name.
func createMetaPage(r *http.Request, name string, all []map[string]any) (map[string]any, bool) {
	q := r.URL.Query()
	start, max := 0, 50
	var err error
	if v := q.Get("startAt"); v != "" {
		if start, err = strconv.Atoi(v); err != nil || start < 0 {
			return nil, false
		}
	}
	if v := q.Get("maxResults"); v != "" {
		if max, err = strconv.Atoi(v); err != nil || max < 1 {
			return nil, false
		}
		max = min(max, 50)
	}
	lo, hi := min(start, len(all)), min(start+max, len(all))
	return map[string]any{name: all[lo:hi], "startAt": start, "maxResults": max, "total": len(all)}, true
}

// createMetaIssueTypes serves GET
// /rest/api/2/issue/createmeta/{projectIdOrKey}/issuetypes: the issue
// types the user can create in the project.
func (s *Server) createMetaIssueTypes(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projectByRef(r.PathValue("project"))
	if p == nil {
		writeError(w, http.StatusNotFound, []string{fmt.Sprintf("No project could be found with key '%s'.", r.PathValue("project"))}, nil)
		return
	}
	base := s.baseURL(r)
	types := make([]map[string]any, 0, len(p.IssueTypes))
	for _, t := range p.IssueTypes {
		types = append(types, s.renderIssueType(base, p.Key, t.Name))
	}
	page, ok := createMetaPage(r, "issueTypes", types)
	if !ok {
		writeError(w, http.StatusBadRequest, []string{"startAt and maxResults must be non-negative integers."}, nil)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// createMetaFields serves GET
// /rest/api/2/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}:
// the fields of the create screen, with required and hasDefaultValue.
func (s *Server) createMetaFields(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projectByRef(r.PathValue("project"))
	if p == nil {
		writeError(w, http.StatusNotFound, []string{fmt.Sprintf("No project could be found with key '%s'.", r.PathValue("project"))}, nil)
		return
	}
	t, ok := s.issueTypeByRef(p, ref{ID: r.PathValue("id")})
	if !ok {
		writeError(w, http.StatusNotFound, []string{"The issue type selected is invalid."}, nil)
		return
	}
	field := func(id, name, typ string, required, hasDefault bool) map[string]any {
		schema := map[string]any{"type": typ}
		if strings.HasPrefix(id, "customfield_") {
			schema["custom"] = "com.atlassian.jira.plugin.system.customfieldtypes:textfield"
			n, _ := strconv.Atoi(strings.TrimPrefix(id, "customfield_"))
			schema["customId"] = n
		} else {
			schema["system"] = id
		}
		return map[string]any{"fieldId": id, "key": id, "name": name, "required": required,
			"hasDefaultValue": hasDefault, "schema": schema, "operations": []string{"set"}}
	}
	fields := []map[string]any{
		field("summary", "Summary", "string", true, false),
		field("issuetype", "Issue Type", "issuetype", true, false),
		field("project", "Project", "project", true, false),
		field("reporter", "Reporter", "user", true, true),
		field("description", "Description", "string", false, false),
		field("labels", "Labels", "array", false, false),
		field("components", "Components", "array", false, false),
		field("priority", "Priority", "priority", false, true),
		field("duedate", "Due date", "date", false, false),
		field("assignee", "Assignee", "user", false, false),
	}
	if t.Subtask {
		fields = append(fields, field("parent", "Parent", "issuelink", true, false))
	}
	for i, name := range t.RequiredFields {
		fields = append(fields, field(fmt.Sprintf("customfield_%d", 10100+i), name, "string", true, false))
	}
	page, ok := createMetaPage(r, "fields", fields)
	if !ok {
		writeError(w, http.StatusBadRequest, []string{"startAt and maxResults must be non-negative integers."}, nil)
		return
	}
	writeJSON(w, http.StatusOK, page)
}
