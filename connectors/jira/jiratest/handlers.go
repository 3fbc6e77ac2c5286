package jiratest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Messages as Jira Cloud words them.
const (
	msgNoIssue      = "Issue does not exist or you do not have permission to see it."
	msgBadPayload   = "Invalid request payload. Refer to the REST API documentation and try again."
	msgUnrecognized = "Unrecognized field \"%s\" (Class com.atlassian.jira.rest.v2.search.SearchRequestBean), not marked as ignorable"
	msgSearchGone   = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
	msgNotString    = "Operation value must be a string"
	msgHierarchy    = "Given parent work item does not belong to appropriate hierarchy."
	msgEmptyBody    = "Comment body can not be empty!"
	msgCannotSetFn  = "Field '%s' cannot be set. It is not on the appropriate screen, or unknown."
)

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(b, v)
}

// ref is a {"id"}, {"key"} or {"name"} object, ids as strings or numbers.
type ref struct{ ID, Key, Name, AccountID string }

func decodeRef(raw json.RawMessage) (ref, bool) {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return ref{}, false
	}
	str := func(k string) string {
		switch v := m[k].(type) {
		case string:
			return v
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	return ref{ID: str("id"), Key: str("key"), Name: str("name"), AccountID: str("accountId")}, true
}

func isNull(raw json.RawMessage) bool { return strings.TrimSpace(string(raw)) == "null" }

// ---- issues ----

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Fields map[string]json.RawMessage `json:"fields"`
		Update map[string]json.RawMessage `json:"update"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is, errs := s.create(r, body.Fields, body.Update)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, nil, errs)
		return
	}
	writeJSON(w, http.StatusCreated, s.createdIssue(r, is))
}

// createdIssue is the answer's entry for a created issue.
func (s *Server) createdIssue(r *http.Request, is *Issue) map[string]any {
	return map[string]any{
		"id":   is.ID,
		"key":  is.Key,
		"self": s.baseURL(r) + "/rest/api/2/issue/" + is.ID,
	}
}

// createIssues is POST /rest/api/2/issue/bulk: each element is created as
// POST /rest/api/2/issue would (same checks, same webhook); 201 with the
// created issues and an error per refused element when any was created,
// 400 with the same document when none was. At most 50 elements.
func (s *Server) createIssues(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IssueUpdates *[]struct {
			Fields map[string]json.RawMessage `json:"fields"`
			Update map[string]json.RawMessage `json:"update"`
		} `json:"issueUpdates"`
	}
	if err := decodeBody(r, &body); err != nil || body.IssueUpdates == nil {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	if n := len(*body.IssueUpdates); n > maxBulk {
		writeError(w, http.StatusBadRequest, []string{fmt.Sprintf("You can create up to %d issues in a single request.", maxBulk)}, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	issues, failures := []any{}, []any{}
	for i, u := range *body.IssueUpdates {
		is, errs := s.create(r, u.Fields, u.Update)
		if len(errs) > 0 {
			failures = append(failures, map[string]any{
				"status":              http.StatusBadRequest,
				"elementErrors":       map[string]any{"errorMessages": []string{}, "errors": errs},
				"failedElementNumber": i,
			})
			continue
		}
		issues = append(issues, s.createdIssue(r, is))
	}
	status := http.StatusCreated
	if len(issues) == 0 && len(failures) > 0 {
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]any{"issues": issues, "errors": failures})
}

// maxBulk is the most issues Jira creates in one bulk request.
const maxBulk = 50

// create validates fields and update and creates the issue (s.mu held),
// or returns the errors by field.
func (s *Server) create(r *http.Request, f, update map[string]json.RawMessage) (*Issue, map[string]string) {
	errs := map[string]string{}
	now := s.now()

	is := &Issue{Status: s.opts.InitialStatus, Priority: "Medium", Reporter: s.user(r), Created: now, Updated: now}

	var proj *Project
	if raw, ok := f["project"]; !ok || isNull(raw) {
		errs["project"] = "Specify a valid project ID or key"
	} else if pr, ok := decodeRef(raw); !ok {
		errs["project"] = "Specify a valid project ID or key"
	} else if proj = s.projectByRef(firstNonEmpty(pr.Key, pr.ID)); proj == nil {
		errs["project"] = "valid project is required"
	}

	var itype IssueType
	if proj != nil {
		if raw, ok := f["issuetype"]; !ok || isNull(raw) {
			errs["issuetype"] = "Specify an issue type"
		} else if tr, ok := decodeRef(raw); !ok {
			errs["issuetype"] = "Specify an issue type"
		} else if t, ok := s.issueTypeByRef(proj, tr); !ok {
			errs["issuetype"] = "The issue type selected is invalid."
		} else {
			itype = t
		}
	}
	if proj != nil {
		is.Project = proj.Key
		is.IssueType = itype.Name
	}

	if raw, ok := f["summary"]; !ok || isNull(raw) {
		errs["summary"] = "You must specify a summary of the issue."
	}

	// parent: required for sub-tasks, refused for other types.
	if raw, ok := f["parent"]; ok && !isNull(raw) {
		pr, _ := decodeRef(raw)
		parent := s.lookup(firstNonEmpty(pr.Key, pr.ID))
		switch {
		case pr.Key == "" && pr.ID == "":
			errs["parent"] = "Could not find valid 'id' or 'key' in the parent object."
		case parent == nil:
			errs["parent"] = "Could not find issue by id or key."
		case itype.Name != "" && !itype.Subtask:
			errs["parent"] = msgHierarchy
		case parent.Parent != "":
			errs["parent"] = msgHierarchy
		case proj != nil && parent.Project != proj.Key:
			errs["parent"] = "Sub-tasks must be created in the same project as their parent."
		default:
			is.Parent = parent.Key
		}
	} else if itype.Subtask {
		errs["parent"] = "Issue type is a sub-task but parent issue key or id not specified."
	}

	for name, raw := range f {
		switch name {
		case "project", "issuetype", "parent":
			continue
		case "reporter":
			if rr, ok := decodeRef(raw); ok && firstNonEmpty(rr.AccountID, rr.Name, rr.ID) != "" {
				is.Reporter = firstNonEmpty(rr.AccountID, rr.Name, rr.ID)
			}
			continue
		}
		s.applyField(is, proj, name, raw, errs)
	}
	s.applyUpdate(is, proj, update, errs)

	if len(errs) > 0 {
		return nil, errs
	}

	s.nextID++
	s.nextNum[is.Project]++
	is.ID = strconv.Itoa(s.nextID)
	is.Key = is.Project + "-" + strconv.Itoa(s.nextNum[is.Project])
	s.setStatus(is, is.Status, now)
	s.issues = append(s.issues, is)
	s.byKey[is.Key] = is
	s.byID[is.ID] = is
	s.hookCreated(is, s.user(r))
	return is, nil
}

func (s *Server) issueTypeByRef(p *Project, tr ref) (IssueType, bool) {
	for i, t := range p.IssueTypes {
		if (tr.Name != "" && strings.EqualFold(t.Name, tr.Name)) || (tr.ID != "" && tr.ID == strconv.Itoa(10001+i)) {
			return t, true
		}
	}
	return IssueType{}, false
}

// applyField sets one editable field, or records why it cannot.
func (s *Server) applyField(is *Issue, proj *Project, name string, raw json.RawMessage, errs map[string]string) {
	switch name {
	case "summary":
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs[name] = msgNotString
		} else if strings.TrimSpace(v) == "" {
			errs[name] = "You must specify a summary of the issue."
		} else if utf8Len(v) > 255 {
			errs[name] = "Summary must be less than 255 characters."
		} else if strings.ContainsAny(v, "\r\n") {
			errs[name] = "The summary is invalid because it contains newline characters."
		} else {
			is.Summary = v
		}
	case "description", "environment":
		if isNull(raw) {
			is.Description = ""
			return
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs[name] = msgNotString
		} else if utf16Len(v) > maxText {
			errs[name] = msgTextTooLong
		} else if name == "description" {
			is.Description = v
		}
	case "labels":
		var v []string
		if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
			errs[name] = msgBadPayload
			return
		}
		for _, l := range v {
			if msg := badLabel(l); msg != "" {
				errs[name] = msg
				return
			}
		}
		is.Labels = dedupe(v)
	case "components":
		if proj == nil {
			return // the project error says it all
		}
		var v []json.RawMessage
		if !isNull(raw) && json.Unmarshal(raw, &v) != nil {
			errs[name] = msgBadPayload
			return
		}
		var names []string
		for _, c := range v {
			cr, _ := decodeRef(c)
			n, ok := s.componentByRef(proj, cr)
			if !ok {
				errs[name] = fmt.Sprintf("Component name '%s' is not valid", firstNonEmpty(cr.Name, cr.ID))
				return
			}
			names = append(names, n)
		}
		is.Components = dedupe(names)
	case "priority":
		pr, ok := decodeRef(raw)
		p := ""
		if ok && pr.Name != "" {
			p, ok = canonicalPriority(pr.Name)
		} else if ok && pr.ID != "" {
			n, err := strconv.Atoi(pr.ID)
			ok = err == nil && n >= 1 && n <= len(priorities)
			if ok {
				p = priorities[n-1]
			}
		} else {
			ok = false
		}
		if !ok {
			errs[name] = "The priority selected is invalid."
			return
		}
		is.Priority = p
	case "duedate":
		if isNull(raw) {
			is.DueDate = ""
			return
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			errs[name] = msgNotString
		} else if _, err := time.Parse("2006-01-02", v); err != nil {
			errs[name] = "Error parsing date string: " + v
		} else {
			is.DueDate = v
		}
	case "assignee":
		if isNull(raw) {
			is.Assignee = ""
			return
		}
		ar, ok := decodeRef(raw)
		if id := firstNonEmpty(ar.AccountID, ar.Name, ar.ID); ok && id != "" && id != "-1" {
			is.Assignee = id
		} else if ok && id == "-1" {
			is.Assignee = ""
		} else {
			errs[name] = "Specify a valid value for assignee"
		}
	default:
		errs[name] = fmt.Sprintf(msgCannotSetFn, name)
	}
}

// applyUpdate handles the "update" verbs the fake knows: labels add/remove/set,
// summary and description set.
func (s *Server) applyUpdate(is *Issue, proj *Project, update map[string]json.RawMessage, errs map[string]string) {
	for name, raw := range update {
		var ops []map[string]json.RawMessage
		if json.Unmarshal(raw, &ops) != nil {
			errs[name] = msgBadPayload
			continue
		}
		for _, op := range ops {
			for verb, arg := range op {
				switch {
				case verb == "set":
					s.applyField(is, proj, name, arg, errs)
				case name == "labels" && (verb == "add" || verb == "remove"):
					var l string
					if json.Unmarshal(arg, &l) != nil {
						errs[name] = msgNotString
						continue
					}
					if verb == "add" {
						if msg := badLabel(l); msg != "" {
							errs[name] = msg
							continue
						}
						is.Labels = dedupe(append(is.Labels, l))
					} else {
						is.Labels = slices.DeleteFunc(is.Labels, func(x string) bool { return x == l })
					}
				default:
					errs[name] = fmt.Sprintf("jiratest does not support the '%s' operation on field '%s'", verb, name)
				}
			}
		}
	}
}

func badLabel(l string) string {
	switch {
	case l == "":
		return "The label '' is empty."
	case strings.ContainsAny(l, " \t\r\n"):
		return fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
	case utf8Len(l) > 255:
		return fmt.Sprintf("The label '%s' exceeds the 255 character limit.", l)
	}
	return ""
}

func (s *Server) componentByRef(p *Project, cr ref) (string, bool) {
	if p == nil {
		return "", false
	}
	if p.Components == nil {
		if cr.Name == "" {
			return "", false
		}
		return cr.Name, true
	}
	for i, c := range p.Components {
		if (cr.Name != "" && strings.EqualFold(c, cr.Name)) || (cr.ID != "" && cr.ID == strconv.Itoa(10000+i)) {
			return c, true
		}
	}
	return "", false
}

func (s *Server) getIssue(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	writeJSON(w, http.StatusOK, s.renderIssue(s.baseURL(r), is, parseFields(r.URL.Query()["fields"], false)))
}

func (s *Server) editIssue(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Fields map[string]json.RawMessage `json:"fields"`
		Update map[string]json.RawMessage `json:"update"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	c := is.clone()
	errs := map[string]string{}
	proj := s.projects[c.Project]
	for name, raw := range body.Fields {
		s.applyField(&c, proj, name, raw, errs)
	}
	s.applyUpdate(&c, proj, body.Update, errs)
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, nil, errs)
		return
	}
	c.Updated = s.now()
	before := *is
	*is = c
	s.hookUpdated(before, is, s.user(r))
	w.WriteHeader(http.StatusNoContent)
}

// ---- search ----

func (s *Server) searchGone(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusGone, []string{msgSearchGone}, nil)
}

func (s *Server) searchJQL(w http.ResponseWriter, r *http.Request) {
	var (
		jql, token string
		max        int
		fields     []string
		reconcile  []string
	)
	if r.Method == http.MethodPost {
		var body struct {
			JQL             string          `json:"jql"`
			NextPageToken   string          `json:"nextPageToken"`
			MaxResults      json.RawMessage `json:"maxResults"`
			Fields          []string        `json:"fields"`
			ReconcileIssues []int64         `json:"reconcileIssues"`
		}
		if err := decodeBody(r, &body); err != nil {
			writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
			return
		}
		jql, token, fields = body.JQL, body.NextPageToken, body.Fields
		for _, id := range body.ReconcileIssues {
			reconcile = append(reconcile, strconv.FormatInt(id, 10))
		}
		if len(body.MaxResults) > 0 && !isNull(body.MaxResults) {
			if json.Unmarshal(body.MaxResults, &max) != nil {
				writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
				return
			}
		}
	} else {
		q := r.URL.Query()
		jql, token, fields = q.Get("jql"), q.Get("nextPageToken"), q["fields"]
		for _, v := range q["reconcileIssues"] {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					reconcile = append(reconcile, id)
				}
			}
		}
		if v := q.Get("maxResults"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, []string{fmt.Sprintf("The value '%s' is invalid for the 'maxResults' parameter.", v)}, nil)
				return
			}
			max = n
		}
	}
	if len(reconcile) > maxReconcile {
		writeError(w, http.StatusBadRequest, []string{fmt.Sprintf("The number of issues to reconcile must not exceed %d.", maxReconcile)}, nil)
		return
	}
	if max <= 0 {
		max = 50
	}
	if max > s.opts.MaxResults {
		max = s.opts.MaxResults
	}
	offset := 0
	if token != "" {
		n, ok := decodeToken(token)
		if !ok {
			writeError(w, http.StatusBadRequest, []string{"The provided next page token is invalid or expired."}, nil)
			return
		}
		offset = n
	}
	out, total, ok := s.searchPage(w, r, jql, reconcile, fields, true, offset, max)
	if !ok {
		return
	}
	end := offset + len(out)
	resp := map[string]any{"issues": out, "isLast": end >= total}
	if end < total {
		resp["nextPageToken"] = encodeToken(end)
	}
	writeJSON(w, http.StatusOK, resp)
}

// searchPage runs jql and renders the issues [offset, offset+limit) of the
// hits, for both search endpoints (Cloud's /search/jql and Data Center's
// /search); it answers 400 itself and reports !ok on bad JQL. idOnly is
// /search/jql's default of returning only ids when no fields are asked for.
func (s *Server) searchPage(w http.ResponseWriter, r *http.Request, jql string, reconcile, fields []string,
	idOnly bool, offset, limit int) (out []any, total int, ok bool) {
	q, err := parseJQL(jql, s.opts.Location)
	if err != nil {
		writeError(w, http.StatusBadRequest, []string{err.Error()}, nil)
		return nil, 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	hits, err := s.searchHits(q, reconcile)
	if err != nil {
		writeError(w, http.StatusBadRequest, []string{err.Error()}, nil)
		return nil, 0, false
	}
	fs := parseFields(fields, idOnly)
	base := s.baseURL(r)
	out = []any{}
	for i := offset; i < min(offset+limit, len(hits)); i++ {
		out = append(out, s.renderIssue(base, hits[i], fs))
	}
	return out, len(hits), true
}

// searchHits returns, sorted, the issues q matches that search sees now:
// those indexed (created SearchLag ago or more) and those reconciled. s.mu
// is held.
func (s *Server) searchHits(q *jqlQuery, reconcile []string) ([]*Issue, error) {
	if err := s.checkJQL(q); err != nil {
		return nil, err
	}
	now := s.now()
	var hits []*Issue
	for _, is := range s.issues {
		if now.Sub(is.Created) < s.opts.SearchLag && !slices.Contains(reconcile, is.ID) {
			continue // not indexed yet, and not reconciled
		}
		if q.match(s, is) {
			hits = append(hits, is)
		}
	}
	q.sort(hits)
	return hits, nil
}

// classicSearchFields are the members of Data Center's search request bean;
// it refuses any other (reconcileIssues is Cloud's).
var classicSearchFields = []string{"jql", "startAt", "maxResults", "fields", "expand", "validateQuery", "properties", "fieldsByKeys"}

// searchClassic is Jira Data Center's /rest/api/2/search: startAt,
// maxResults and total paging, every navigable field by default, no
// reconcileIssues.
func (s *Server) searchClassic(w http.ResponseWriter, r *http.Request) {
	var (
		jql          string
		start, limit int
		fields       []string
	)
	if r.Method == http.MethodPost {
		var raw map[string]json.RawMessage
		if err := decodeBody(r, &raw); err != nil || raw == nil {
			writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
			return
		}
		for _, k := range slices.Sorted(maps.Keys(raw)) {
			if !slices.Contains(classicSearchFields, k) {
				writeError(w, http.StatusBadRequest, []string{fmt.Sprintf(msgUnrecognized, k)}, nil)
				return
			}
		}
		var body struct {
			JQL        string   `json:"jql"`
			StartAt    *int     `json:"startAt"`
			MaxResults *int     `json:"maxResults"`
			Fields     []string `json:"fields"`
		}
		b, _ := json.Marshal(raw)
		if json.Unmarshal(b, &body) != nil {
			writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
			return
		}
		jql, fields = body.JQL, body.Fields
		if body.StartAt != nil {
			start = *body.StartAt
		}
		if body.MaxResults != nil {
			limit = *body.MaxResults
		}
	} else {
		q := r.URL.Query()
		jql, fields = q.Get("jql"), q["fields"]
		for _, p := range []struct {
			name string
			dst  *int
		}{{"startAt", &start}, {"maxResults", &limit}} {
			if v := q.Get(p.name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					writeError(w, http.StatusBadRequest, []string{fmt.Sprintf("The value '%s' is invalid for the '%s' parameter.", v, p.name)}, nil)
					return
				}
				*p.dst = n
			}
		}
	}
	start = max(start, 0)
	if limit <= 0 {
		limit = 50
	}
	if limit > s.opts.MaxResults {
		limit = s.opts.MaxResults
	}
	out, total, ok := s.searchPage(w, r, jql, nil, fields, false, start, limit)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"expand":     "names,schema",
		"startAt":    start,
		"maxResults": limit,
		"total":      total,
		"issues":     out,
	})
}

// notFoundDC is Data Center's answer for a REST resource it does not have,
// such as Cloud's /rest/api/2/search/jql.
func (s *Server) notFoundDC(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]any{
		"message":     "null for uri: " + s.baseURL(r) + r.URL.RequestURI(),
		"status-code": http.StatusNotFound,
	})
}

func encodeToken(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("jiratest:" + strconv.Itoa(offset)))
}

func decodeToken(t string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return 0, false
	}
	v, ok := strings.CutPrefix(string(b), "jiratest:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 0
}

// ---- remote links ----

func (s *Server) getRemoteLinks(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	base := s.baseURL(r)
	if g := r.URL.Query().Get("globalId"); g != "" {
		for _, l := range is.RemoteLinks {
			if l.GlobalID == g {
				writeJSON(w, http.StatusOK, s.renderRemoteLink(base, is, l))
				return
			}
		}
		writeError(w, http.StatusNotFound, []string{"No remote link with the given globalId was found."}, nil)
		return
	}
	out := []any{}
	for _, l := range is.RemoteLinks {
		out = append(out, s.renderRemoteLink(base, is, l))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) postRemoteLink(w http.ResponseWriter, r *http.Request) {
	var body struct {
		GlobalID     string `json:"globalId"`
		Relationship string `json:"relationship"`
		Object       *struct {
			URL     string `json:"url"`
			Title   string `json:"title"`
			Summary string `json:"summary"`
		} `json:"object"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	errs := map[string]string{}
	if body.Object == nil {
		errs["object"] = "The remote object is required."
	} else {
		if strings.TrimSpace(body.Object.URL) == "" {
			errs["url"] = "Link URL is required."
		}
		if strings.TrimSpace(body.Object.Title) == "" {
			errs["title"] = "Link title is required."
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	if len(errs) > 0 {
		writeError(w, http.StatusBadRequest, nil, errs)
		return
	}
	l := RemoteLink{GlobalID: body.GlobalID, Relationship: body.Relationship, URL: body.Object.URL, Title: body.Object.Title, Summary: body.Object.Summary}
	status := http.StatusCreated
	idx := -1
	if l.GlobalID != "" {
		idx = slices.IndexFunc(is.RemoteLinks, func(x RemoteLink) bool { return x.GlobalID == l.GlobalID })
	}
	if idx >= 0 {
		l.ID = is.RemoteLinks[idx].ID
		is.RemoteLinks[idx] = l
		status = http.StatusOK
	} else {
		s.nextLinkID++
		l.ID = s.nextLinkID
		is.RemoteLinks = append(is.RemoteLinks, l)
	}
	writeJSON(w, status, map[string]any{
		"id":   l.ID,
		"self": s.baseURL(r) + "/rest/api/2/issue/" + is.Key + "/remotelink/" + strconv.Itoa(l.ID),
	})
}

// ---- transitions ----

// available lists the transitions from the issue's status; s.mu held.
func (s *Server) available(is *Issue) []Transition {
	var out []Transition
	for _, t := range s.opts.Transitions {
		if len(t.From) == 0 {
			if !strings.EqualFold(t.To, is.Status) {
				out = append(out, t)
			}
			continue
		}
		if slices.ContainsFunc(t.From, func(f string) bool { return strings.EqualFold(f, is.Status) }) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) getTransitions(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	base := s.baseURL(r)
	out := []any{}
	for _, t := range s.available(is) {
		out = append(out, map[string]any{
			"id":            t.ID,
			"name":          t.Name,
			"to":            s.renderStatus(base, t.To),
			"hasScreen":     false,
			"isGlobal":      len(t.From) == 0,
			"isInitial":     false,
			"isAvailable":   true,
			"isConditional": false,
			"isLooped":      false,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": out})
}

func (s *Server) postTransition(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Transition *struct {
			ID json.RawMessage `json:"id"`
		} `json:"transition"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	id := ""
	if body.Transition != nil && len(body.Transition.ID) > 0 {
		var v any
		_ = json.Unmarshal(body.Transition.ID, &v)
		switch x := v.(type) {
		case string:
			id = x
		case float64:
			id = strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	if id == "" {
		writeError(w, http.StatusBadRequest, []string{"Missing 'transition' identifier"}, nil)
		return
	}
	for _, t := range s.available(is) {
		if t.ID == id {
			before := is.clone()
			s.setStatus(is, t.To, s.now())
			s.hookUpdated(before, is, s.user(r))
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	writeError(w, http.StatusBadRequest, []string{fmt.Sprintf("Transition id '%s' is not valid for this issue.", id)}, nil)
}

// ---- comments ----

func (s *Server) getComments(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, max := 0, 5000
	if v := q.Get("startAt"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, []string{"The value '" + v + "' is invalid for the 'startAt' parameter."}, nil)
			return
		}
		start = n
	}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, []string{"The value '" + v + "' is invalid for the 'maxResults' parameter."}, nil)
			return
		}
		max = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	writeJSON(w, http.StatusOK, s.renderCommentPage(s.baseURL(r), is, start, max))
}

// commentBody reads {"body": "..."}; v2 bodies are wiki-markup strings.
func commentBody(r *http.Request) (string, map[string]string, bool) {
	var body struct {
		Body json.RawMessage `json:"body"`
	}
	if err := decodeBody(r, &body); err != nil {
		return "", nil, false
	}
	var text string
	if len(body.Body) > 0 && !isNull(body.Body) && json.Unmarshal(body.Body, &text) != nil {
		return "", map[string]string{"comment": msgNotString}, true
	}
	if strings.TrimSpace(text) == "" {
		return "", map[string]string{"comment": msgEmptyBody}, true
	}
	if utf16Len(text) > maxText {
		return "", map[string]string{"comment": msgTextTooLong}, true
	}
	return text, nil, true
}

func (s *Server) addComment(w http.ResponseWriter, r *http.Request) {
	text, errs, ok := commentBody(r)
	if !ok {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	if errs != nil {
		writeError(w, http.StatusBadRequest, nil, errs)
		return
	}
	now := s.now()
	s.nextComment++
	c := Comment{ID: strconv.Itoa(s.nextComment), Author: s.user(r), Body: text, Created: now, Updated: now}
	is.Comments = append(is.Comments, c)
	is.Updated = now
	s.hookComment(is, c, s.user(r), false)
	writeJSON(w, http.StatusCreated, s.renderComment(s.baseURL(r), is, c))
}

func (s *Server) updateComment(w http.ResponseWriter, r *http.Request) {
	text, errs, ok := commentBody(r)
	if !ok {
		writeError(w, http.StatusBadRequest, []string{msgBadPayload}, nil)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookup(r.PathValue("key"))
	if is == nil {
		writeError(w, http.StatusNotFound, []string{msgNoIssue}, nil)
		return
	}
	id := r.PathValue("id")
	i := slices.IndexFunc(is.Comments, func(c Comment) bool { return c.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, []string{"Can not find a comment for the id: " + id + "."}, nil)
		return
	}
	if errs != nil {
		writeError(w, http.StatusBadRequest, nil, errs)
		return
	}
	now := s.now()
	is.Comments[i].Body = text
	is.Comments[i].Updated = now
	is.Updated = now
	s.hookComment(is, is.Comments[i], s.user(r), true)
	writeJSON(w, http.StatusOK, s.renderComment(s.baseURL(r), is, is.Comments[i]))
}

// maxReconcile is the most reconcileIssues /search/jql accepts.
const maxReconcile = 50

// ---- helpers ----

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func dedupe(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func utf8Len(s string) int { return len([]rune(s)) }

// maxText is Jira's default limit on a text field (a description, a
// comment), in Java characters (UTF-16 code units).
const maxText = 32767

// msgTextTooLong is Jira's answer to a text over maxText.
const msgTextTooLong = "The entered text is too long. It exceeds the allowed limit of 32,767 characters."

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
