package jiratest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errs decodes Jira's error collection.
func (r resp) errs(t *testing.T) (msgs []string, fields map[string]string) {
	t.Helper()
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	r.json(t, &e)
	if e.ErrorMessages == nil || e.Errors == nil {
		t.Fatalf("error body lacks errorMessages or errors: %s", r.body)
	}
	return e.ErrorMessages, e.Errors
}

func call(t *testing.T, s *Server, method, path string, body any, auth func(*http.Request)) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth == nil {
		req.SetBasicAuth(DefaultUser, DefaultToken)
	} else {
		auth(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func do(t *testing.T, s *Server, method, path string, body any) resp {
	t.Helper()
	return call(t, s, method, path, body, nil)
}

func create(t *testing.T, s *Server, fields map[string]any) string {
	t.Helper()
	r := do(t, s, "POST", "/rest/api/2/issue", map[string]any{"fields": fields})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var out struct{ ID, Key, Self string }
	r.json(t, &out)
	if out.ID == "" || out.Key == "" || !strings.HasSuffix(out.Self, "/rest/api/2/issue/"+out.ID) {
		t.Fatalf("create response %s", r.body)
	}
	return out.Key
}

func task(summary string, labels ...string) map[string]any {
	f := map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Task"}, "summary": summary}
	if labels != nil {
		f["labels"] = labels
	}
	return f
}

func TestAuth(t *testing.T) {
	basic := func(u, p string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(u, p) } }
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	none := func(*http.Request) {}
	tests := []struct {
		name string
		opts Options
		auth func(*http.Request)
		want int
	}{
		{"default creds", Options{}, basic(DefaultUser, DefaultToken), 200},
		{"no creds", Options{}, none, 401},
		{"wrong token", Options{}, basic(DefaultUser, "nope"), 401},
		{"wrong user", Options{}, basic("x@example.com", DefaultToken), 401},
		{"bearer not configured", Options{}, bearer(DefaultToken), 401},
		{"custom basic", Options{User: "a@b.c", Token: "t1"}, basic("a@b.c", "t1"), 200},
		{"bearer", Options{BearerToken: "pat"}, bearer("pat"), 200},
		{"bearer wrong", Options{BearerToken: "pat"}, bearer("pat2"), 401},
		{"basic when only bearer", Options{BearerToken: "pat"}, basic(DefaultUser, DefaultToken), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts)
			defer s.Close()
			r := call(t, s, "GET", "/rest/api/2/search/jql?jql=project%3DOPS", nil, tt.auth)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d: %s", r.status, tt.want, r.body)
			}
			if r.status == 401 {
				if msgs, _ := r.errs(t); len(msgs) == 0 {
					t.Fatal("401 without a message")
				}
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	s := New(Options{Projects: []Project{{Key: "OPS", IssueTypes: DefaultIssueTypes(), Components: []string{"api", "db"}}}})
	defer s.Close()
	parent := create(t, s, task("parent"))
	sub := create(t, s, map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Sub-task"}, "summary": "s", "parent": map[string]string{"key": parent}})

	with := func(k string, v any) map[string]any {
		f := task("x")
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string // error field expected
	}{
		{"ok", map[string]any{"fields": task("x")}, 201, ""},
		{"missing project", map[string]any{"fields": with("project", nil)}, 400, "project"},
		{"unknown project", map[string]any{"fields": with("project", map[string]string{"key": "NOPE"})}, 400, "project"},
		{"project by id", map[string]any{"fields": with("project", map[string]string{"id": "10000"})}, 201, ""},
		{"missing issuetype", map[string]any{"fields": with("issuetype", nil)}, 400, "issuetype"},
		{"unknown issuetype", map[string]any{"fields": with("issuetype", map[string]string{"name": "Story"})}, 400, "issuetype"},
		{"missing summary", map[string]any{"fields": with("summary", nil)}, 400, "summary"},
		{"blank summary", map[string]any{"fields": with("summary", "  ")}, 400, "summary"},
		{"long summary", map[string]any{"fields": with("summary", strings.Repeat("x", 256))}, 400, "summary"},
		{"ADF description on v2", map[string]any{"fields": with("description", map[string]any{"type": "doc"})}, 400, "description"},
		{"label with space", map[string]any{"fields": with("labels", []string{"a b"})}, 400, "labels"},
		{"known component", map[string]any{"fields": with("components", []map[string]string{{"name": "api"}})}, 201, ""},
		{"unknown component", map[string]any{"fields": with("components", []map[string]string{{"name": "web"}})}, 400, "components"},
		{"priority by name", map[string]any{"fields": with("priority", map[string]string{"name": "high"})}, 201, ""},
		{"unknown priority", map[string]any{"fields": with("priority", map[string]string{"name": "P1"})}, 400, "priority"},
		{"bad duedate", map[string]any{"fields": with("duedate", "tomorrow")}, 400, "duedate"},
		{"read-only field", map[string]any{"fields": with("created", "2024-01-01T00:00:00.000+0000")}, 400, "created"},
		{"custom field", map[string]any{"fields": with("customfield_10000", "x")}, 400, "customfield_10000"},
		{"sub-task without parent", map[string]any{"fields": with("issuetype", map[string]string{"name": "Sub-task"})}, 400, "parent"},
		{"task with parent", map[string]any{"fields": with("parent", map[string]string{"key": parent})}, 400, "parent"},
		{"sub-task of sub-task", map[string]any{"fields": func() map[string]any {
			f := with("issuetype", map[string]string{"name": "Sub-task"})
			f["parent"] = map[string]string{"key": sub}
			return f
		}()}, 400, "parent"},
		{"sub-task of unknown", map[string]any{"fields": func() map[string]any {
			f := with("issuetype", map[string]string{"name": "Sub-task"})
			f["parent"] = map[string]string{"key": "OPS-999"}
			return f
		}()}, 400, "parent"},
		{"not JSON", "{", 400, ""},
		{"empty body", "", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Issues())
			r := do(t, s, "POST", "/rest/api/2/issue", tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if r.status == 400 {
				msgs, fields := r.errs(t)
				if tt.field != "" && fields[tt.field] == "" {
					t.Fatalf("no error for field %q: %s", tt.field, r.body)
				}
				if tt.field == "" && len(msgs) == 0 {
					t.Fatalf("no error message: %s", r.body)
				}
				if n := len(s.Issues()); n != before {
					t.Fatalf("a rejected create stored an issue")
				}
			}
		})
	}
}

func TestKeysAreSequentialPerProject(t *testing.T) {
	s := New(Options{Projects: []Project{{Key: "OPS"}, {Key: "SEC"}}})
	defer s.Close()
	var got []string
	for _, p := range []string{"OPS", "SEC", "OPS", "sec"} {
		f := task("x")
		f["project"] = map[string]string{"key": p}
		got = append(got, create(t, s, f))
	}
	if want := []string{"OPS-1", "SEC-1", "OPS-2", "SEC-2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
}

func TestGetIssue(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	f := task("COE: db down", "coe", "pd-P123")
	f["description"] = "h2. Timeline\n* 10:00 triggered"
	f["priority"] = map[string]string{"name": "High"}
	f["components"] = []map[string]string{{"name": "db"}}
	f["duedate"] = "2025-04-01"
	f["assignee"] = map[string]string{"accountId": "acc-1"}
	key := create(t, s, f)
	clk.Add(time.Minute)
	subKey := create(t, s, map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Sub-task"}, "summary": "fix alert", "parent": map[string]string{"key": key}})

	var got struct {
		ID, Key, Self string
		Fields        struct {
			Summary     string
			Description string
			Labels      []string
			Status      struct {
				Name           string
				StatusCategory struct{ Key string } `json:"statusCategory"`
			}
			IssueType struct {
				Name    string
				Subtask bool
			} `json:"issuetype"`
			Priority   struct{ Name string }
			Components []struct{ Name string }
			DueDate    string                     `json:"duedate"`
			Assignee   struct{ AccountID string } `json:"assignee"`
			Created    string
			Updated    string
			Subtasks   []struct {
				Key    string
				Fields struct{ Summary string }
			}
			Parent *struct{ Key string }
		}
	}
	r := do(t, s, "GET", "/rest/api/2/issue/"+strings.ToLower(key), nil)
	if r.status != 200 {
		t.Fatalf("GET: %d %s", r.status, r.body)
	}
	r.json(t, &got)
	fl := got.Fields
	if got.Key != key || fl.Summary != "COE: db down" || fl.Description != f["description"] ||
		!reflect.DeepEqual(fl.Labels, []string{"coe", "pd-P123"}) || fl.Status.Name != "To Do" ||
		fl.Status.StatusCategory.Key != "new" || fl.IssueType.Name != "Task" || fl.IssueType.Subtask ||
		fl.Priority.Name != "High" || len(fl.Components) != 1 || fl.Components[0].Name != "db" ||
		fl.DueDate != "2025-04-01" || fl.Assignee.AccountID != "acc-1" || fl.Parent != nil {
		t.Fatalf("issue %+v", got)
	}
	if fl.Created != "2025-03-04T10:00:00.000+0000" {
		t.Fatalf("created %q", fl.Created)
	}
	if len(fl.Subtasks) != 1 || fl.Subtasks[0].Key != subKey || fl.Subtasks[0].Fields.Summary != "fix alert" {
		t.Fatalf("subtasks %+v", fl.Subtasks)
	}

	r = do(t, s, "GET", "/rest/api/2/issue/"+subKey+"?fields=parent,summary", nil)
	var sub struct {
		Fields map[string]json.RawMessage
	}
	r.json(t, &sub)
	if len(sub.Fields) != 2 || !strings.Contains(string(sub.Fields["parent"]), `"key":"`+key+`"`) {
		t.Fatalf("fields filter / parent: %s", r.body)
	}

	r = do(t, s, "GET", "/rest/api/2/issue/OPS-404", nil)
	if msgs, _ := r.errs(t); r.status != 404 || msgs[0] != msgNoIssue {
		t.Fatalf("missing issue: %d %s", r.status, r.body)
	}
}

func TestEditIssue(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	key := create(t, s, task("old", "a", "b"))
	clk.Add(time.Hour)
	r := do(t, s, "PUT", "/rest/api/2/issue/"+key, map[string]any{
		"fields": map[string]any{"summary": "new", "duedate": "2025-05-05"},
		"update": map[string]any{"labels": []map[string]string{{"add": "c"}, {"remove": "a"}}},
	})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	is, _ := s.Issue(key)
	if is.Summary != "new" || is.DueDate != "2025-05-05" || !reflect.DeepEqual(is.Labels, []string{"b", "c"}) || !is.Updated.Equal(clk.Now()) {
		t.Fatalf("after edit %+v", is)
	}
	r = do(t, s, "PUT", "/rest/api/2/issue/"+key, map[string]any{"fields": map[string]any{"status": "Done"}})
	if _, f := r.errs(t); r.status != 400 || f["status"] == "" {
		t.Fatalf("setting status by edit: %d %s", r.status, r.body)
	}
}

func TestSearchGone(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	for _, m := range []string{"GET", "POST"} {
		for _, p := range []string{"/rest/api/2/search?jql=project%3DOPS", "/rest/api/3/search"} {
			r := do(t, s, m, p, map[string]any{"jql": "project = OPS"})
			msgs, _ := r.errs(t)
			if r.status != http.StatusGone || len(msgs) != 1 || !strings.Contains(msgs[0], "/rest/api/3/search/jql") {
				t.Fatalf("%s %s: %d %s", m, p, r.status, r.body)
			}
		}
	}
}

func searchKeys(t *testing.T, s *Server, jql string) (int, []string, []string) {
	t.Helper()
	r := do(t, s, "GET", "/rest/api/2/search/jql?fields=key&jql="+url.QueryEscape(jql), nil)
	if r.status != 200 {
		msgs, _ := r.errs(t)
		return r.status, nil, msgs
	}
	var out struct {
		Issues []struct{ Key string }
		IsLast bool `json:"isLast"`
	}
	r.json(t, &out)
	keys := []string{}
	for _, i := range out.Issues {
		keys = append(keys, i.Key)
	}
	return r.status, keys, nil
}

func TestSearchJQL(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, Projects: []Project{{Key: "OPS"}, {Key: "SEC"}}})
	defer s.Close()
	k1 := create(t, s, task("one", "coe", `we"ird\label`)) // OPS-1 at 10:00
	clk.Add(90 * time.Minute)
	k2 := create(t, s, task("two", "coe")) // OPS-2 at 11:30
	clk.Add(time.Hour)
	sec := task("three", "coe")
	sec["project"] = map[string]string{"key": "SEC"}
	k3 := create(t, s, sec) // SEC-1 at 12:30
	sub := create(t, s, map[string]any{"project": map[string]string{"key": "OPS"}, "issuetype": map[string]string{"name": "Sub-task"}, "summary": "s", "parent": map[string]string{"key": k1}})
	s.Edit(k2, func(i *Issue) { i.Labels = append(i.Labels, `x" OR labels = "y`) })

	tests := []struct {
		jql    string
		status int
		keys   []string
		msg    string
	}{
		{`labels = "coe"`, 200, []string{k1, k2, k3}, ""},
		{`labels = coe`, 200, []string{k1, k2, k3}, ""},
		{`LABELS = "coe" and PROJECT = ops`, 200, []string{k1, k2}, ""},
		{`labels = "we\"ird\\label"`, 200, []string{k1}, ""},
		{`labels = "x\" OR labels = \"y"`, 200, []string{k2}, ""},
		{`labels = "none"`, 200, []string{}, ""},
		{`project = SEC`, 200, []string{k3}, ""},
		{`project = "10001"`, 200, []string{k3}, ""},
		{`parent = ` + k1, 200, []string{sub}, ""},
		{`updated >= "2025/03/04 11:30"`, 200, []string{k2, k3, sub}, ""},
		{`updated >= "2025-03-04 11:31" AND project = OPS`, 200, []string{k2, sub}, ""}, // Edit bumped k2
		{`created < "2025/03/04"`, 200, []string{}, ""},
		{`created <= "2025/03/04 11:30" AND project = OPS`, 200, []string{k1, k2}, ""},
		{`labels = coe ORDER BY created DESC`, 200, []string{k3, k2, k1}, ""},
		{`labels = coe order by key desc, created`, 200, []string{k3, k2, k1}, ""},
		{`project = OPS ORDER BY updated ASC`, 200, []string{k1, k2, sub}, ""},
		{`project = NOPE`, 400, nil, "does not exist for the field 'project'"},
		{`parent = OPS-99`, 400, nil, "does not exist"},
		{`labels = coe OR project = OPS`, 400, nil, "Error in the JQL Query"},
		{`labels in (coe)`, 400, nil, "Error in the JQL Query"},
		{`labels != coe`, 400, nil, "Error in the JQL Query"},
		{`summary ~ "x"`, 400, nil, "Error in the JQL Query"},
		{`updated >= "yesterday"`, 400, nil, "Valid formats include"},
		{`labels = "unterminated`, 400, nil, "Error in the JQL Query"},
		{`labels =`, 400, nil, "Error in the JQL Query"},
		{`labels = coe ORDER BY rank`, 400, nil, "Error in the JQL Query"},
		{`ORDER BY created`, 400, nil, "Unbounded JQL"},
		{``, 400, nil, "Unbounded JQL"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			status, keys, msgs := searchKeys(t, s, tt.jql)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, msgs)
			}
			if status == 200 && !reflect.DeepEqual(keys, tt.keys) {
				t.Fatalf("keys %v, want %v", keys, tt.keys)
			}
			if tt.msg != "" && (len(msgs) == 0 || !strings.Contains(msgs[0], tt.msg)) {
				t.Fatalf("messages %q, want one containing %q", msgs, tt.msg)
			}
		})
	}
}

func TestSearchPagesAndFields(t *testing.T) {
	s := New(Options{MaxResults: 2})
	defer s.Close()
	var want []string
	for i := range 5 {
		want = append(want, create(t, s, task(fmt.Sprint("t", i), "coe")))
	}

	// Default fields: ids only, as /search/jql documents.
	r := do(t, s, "GET", "/rest/api/2/search/jql?jql=labels%3Dcoe", nil)
	var bare struct{ Issues []map[string]any }
	r.json(t, &bare)
	if len(bare.Issues) != 2 || len(bare.Issues[0]) != 1 || bare.Issues[0]["id"] == nil {
		t.Fatalf("default fields: %s", r.body)
	}

	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			var got []string
			token := ""
			for page := 0; ; page++ {
				if page > 5 {
					t.Fatal("pages never end")
				}
				var r resp
				if method == "GET" {
					q := url.Values{"jql": {"labels = coe"}, "fields": {"key,summary"}, "maxResults": {"50"}}
					if token != "" {
						q.Set("nextPageToken", token)
					}
					r = do(t, s, "GET", "/rest/api/2/search/jql?"+q.Encode(), nil)
				} else {
					r = do(t, s, "POST", "/rest/api/2/search/jql", map[string]any{"jql": "labels = coe", "fields": []string{"summary"}, "maxResults": 50, "nextPageToken": token})
				}
				if r.status != 200 {
					t.Fatalf("page %d: %d %s", page, r.status, r.body)
				}
				var out struct {
					Issues []struct {
						Key    string
						Fields map[string]any
					}
					NextPageToken *string `json:"nextPageToken"`
					IsLast        bool    `json:"isLast"`
				}
				r.json(t, &out)
				for _, is := range out.Issues {
					if is.Fields["summary"] == nil || len(is.Fields) != 1 {
						t.Fatalf("fields %v", is.Fields)
					}
					got = append(got, is.Key)
				}
				if out.IsLast {
					if out.NextPageToken != nil {
						t.Fatal("last page has a nextPageToken")
					}
					break
				}
				token = *out.NextPageToken
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("keys %v, want %v", got, want)
			}
		})
	}
	if r := do(t, s, "GET", "/rest/api/2/search/jql?jql=labels%3Dcoe&nextPageToken=garbage", nil); r.status != 400 {
		t.Fatalf("bad token: %d", r.status)
	}
}

func TestSearchLag(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now, SearchLag: 5 * time.Second})
	defer s.Close()
	key := create(t, s, task("x", "coe"))
	for _, tt := range []struct {
		after time.Duration
		found bool
	}{{0, false}, {4 * time.Second, false}, {time.Second, true}} {
		clk.Add(tt.after)
		_, keys, _ := searchKeys(t, s, "labels = coe")
		if got := slices.Contains(keys, key); got != tt.found {
			t.Fatalf("at +%v: found %v, want %v", clk.Now().Sub(newClock().Now()), got, tt.found)
		}
	}
	// GET issue is strongly consistent.
	key2 := create(t, s, task("y", "coe"))
	if r := do(t, s, "GET", "/rest/api/2/issue/"+key2, nil); r.status != 200 {
		t.Fatalf("GET just-created: %d", r.status)
	}
}

func TestRemoteLinks(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	key := create(t, s, task("x"))
	post := func(body map[string]any) resp {
		return do(t, s, "POST", "/rest/api/2/issue/"+key+"/remotelink", body)
	}
	link := func(g, title string) map[string]any {
		return map[string]any{"globalId": g, "object": map[string]string{"url": "https://pd.example/incidents/P1", "title": title}}
	}
	var id1, id2 struct {
		ID   int
		Self string
	}
	r := post(link("pd:P1", "PD P1"))
	r.json(t, &id1)
	if r.status != 201 || id1.ID == 0 || !strings.HasSuffix(id1.Self, fmt.Sprintf("/remotelink/%d", id1.ID)) {
		t.Fatalf("create link: %d %s", r.status, r.body)
	}
	r = post(link("pd:P1", "PD P1 (resolved)"))
	r.json(t, &id2)
	if r.status != 200 || id2.ID != id1.ID {
		t.Fatalf("upsert: %d %s", r.status, r.body)
	}
	if r = post(link("", "no global id")); r.status != 201 {
		t.Fatalf("link without globalId: %d", r.status)
	}
	if r = post(map[string]any{"globalId": "g"}); r.status != 400 {
		t.Fatalf("link without object: %d %s", r.status, r.body)
	}
	if r = post(link("g", "")); r.status != 400 {
		t.Fatalf("link without title: %d %s", r.status, r.body)
	}
	is, _ := s.Issue(key)
	if len(is.RemoteLinks) != 2 || is.RemoteLinks[0].Title != "PD P1 (resolved)" {
		t.Fatalf("links %+v", is.RemoteLinks)
	}
	var list []struct {
		ID       int
		GlobalID string `json:"globalId"`
		Object   struct{ URL, Title string }
	}
	do(t, s, "GET", "/rest/api/2/issue/"+key+"/remotelink", nil).json(t, &list)
	if len(list) != 2 || list[0].GlobalID != "pd:P1" || list[0].Object.Title != "PD P1 (resolved)" {
		t.Fatalf("GET links %+v", list)
	}
	if r = do(t, s, "GET", "/rest/api/2/issue/"+key+"/remotelink?globalId=pd%3AP1", nil); r.status != 200 || !strings.HasPrefix(string(r.body), "{") {
		t.Fatalf("GET by globalId: %d %s", r.status, r.body)
	}
	if r = do(t, s, "POST", "/rest/api/2/issue/OPS-9/remotelink", link("g", "t")); r.status != 404 {
		t.Fatalf("link on missing issue: %d", r.status)
	}
}

func transitions(t *testing.T, s *Server, key string) map[string]string {
	t.Helper()
	var out struct {
		Transitions []struct {
			ID, Name string
			To       struct{ Name string }
		}
	}
	r := do(t, s, "GET", "/rest/api/2/issue/"+key+"/transitions?expand=transitions.fields", nil)
	if r.status != 200 {
		t.Fatalf("GET transitions: %d %s", r.status, r.body)
	}
	r.json(t, &out)
	m := map[string]string{}
	for _, tr := range out.Transitions {
		m[tr.Name] = tr.ID + "→" + tr.To.Name
	}
	return m
}

func TestWorkflow(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	key := create(t, s, task("x"))
	move := func(id string) resp {
		return do(t, s, "POST", "/rest/api/2/issue/"+key+"/transitions", map[string]any{"transition": map[string]string{"id": id}})
	}
	steps := []struct {
		avail  map[string]string
		take   string
		status int
		after  string
		resolv string
	}{
		{map[string]string{"In Progress": "21→In Progress"}, "31", 400, "To Do", ""},
		{map[string]string{"In Progress": "21→In Progress"}, "21", 204, "In Progress", ""},
		{map[string]string{"To Do": "11→To Do", "Done": "31→Done"}, "31", 204, "Done", "Done"},
		{map[string]string{"Reopen": "41→To Do"}, "41", 204, "To Do", ""},
	}
	for i, st := range steps {
		if got := transitions(t, s, key); !reflect.DeepEqual(got, st.avail) {
			t.Fatalf("step %d: transitions %v, want %v", i, got, st.avail)
		}
		if r := move(st.take); r.status != st.status {
			t.Fatalf("step %d: POST %s: %d %s", i, st.take, r.status, r.body)
		}
		is, _ := s.Issue(key)
		if is.Status != st.after || is.Resolution != st.resolv {
			t.Fatalf("step %d: status %q resolution %q", i, is.Status, is.Resolution)
		}
	}
	if r := do(t, s, "POST", "/rest/api/2/issue/"+key+"/transitions", map[string]any{}); r.status != 400 {
		t.Fatalf("no transition id: %d", r.status)
	}

	// Configurable workflow with a global transition.
	s2 := New(Options{InitialStatus: "Open", StatusCategories: map[string]string{"Open": CategoryNew, "Closed": CategoryDone},
		Transitions: []Transition{{ID: "2", Name: "Close Issue", To: "Closed"}}})
	defer s2.Close()
	k := create(t, s2, task("y"))
	if got := transitions(t, s2, k); !reflect.DeepEqual(got, map[string]string{"Close Issue": "2→Closed"}) {
		t.Fatalf("custom workflow %v", got)
	}
	do(t, s2, "POST", "/rest/api/2/issue/"+k+"/transitions", map[string]any{"transition": map[string]any{"id": 2}})
	if is, _ := s2.Issue(k); is.Status != "Closed" || is.Resolution != "Done" {
		t.Fatalf("after close %+v", is)
	}
	if got := transitions(t, s2, k); len(got) != 0 {
		t.Fatalf("global transition offered from its own target: %v", got)
	}
}

func TestComments(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	key := create(t, s, task("x"))
	var c struct {
		ID     string
		Body   string
		Author struct{ AccountID string }
	}
	r := do(t, s, "POST", "/rest/api/2/issue/"+key+"/comment", map[string]string{"body": "h3. hi"})
	r.json(t, &c)
	if r.status != 201 || c.ID == "" || c.Body != "h3. hi" || c.Author.AccountID != DefaultUser {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	r = do(t, s, "PUT", "/rest/api/2/issue/"+key+"/comment/"+c.ID, map[string]string{"body": "edited"})
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	for _, tt := range []struct {
		method, path string
		body         any
		status       int
	}{
		{"POST", "/rest/api/2/issue/" + key + "/comment", map[string]string{"body": ""}, 400},
		{"POST", "/rest/api/2/issue/" + key + "/comment", map[string]any{"body": map[string]string{"type": "doc"}}, 400},
		{"POST", "/rest/api/2/issue/OPS-9/comment", map[string]string{"body": "x"}, 404},
		{"PUT", "/rest/api/2/issue/" + key + "/comment/1", map[string]string{"body": "x"}, 404},
	} {
		if r := do(t, s, tt.method, tt.path, tt.body); r.status != tt.status {
			t.Fatalf("%s %s: %d, want %d: %s", tt.method, tt.path, r.status, tt.status, r.body)
		}
	}
	var page struct {
		Total    int
		Comments []struct{ ID, Body string }
	}
	do(t, s, "GET", "/rest/api/2/issue/"+key+"/comment", nil).json(t, &page)
	if page.Total != 1 || page.Comments[0].Body != "edited" {
		t.Fatalf("comments %+v", page)
	}
}

func TestFailNext(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.FailNext(2, 429, 2500*time.Millisecond)
	for i := range 2 {
		r := do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil)
		if r.status != 429 || r.header.Get("Retry-After") != "3" {
			t.Fatalf("call %d: %d Retry-After %q", i, r.status, r.header.Get("Retry-After"))
		}
		r.errs(t)
	}
	if r := do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil); r.status != 404 {
		t.Fatalf("after faults: %d", r.status)
	}
	s.FailNext(1, 503, 0)
	if r := do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil); r.status != 503 || r.header.Get("Retry-After") != "" {
		t.Fatalf("503: %d %q", r.status, r.header.Get("Retry-After"))
	}
}

func TestFaultRateIsReproducible(t *testing.T) {
	run := func() []int {
		s := New(Options{})
		defer s.Close()
		s.SetFaultRate(0.3, 0.2, 42)
		var got []int
		for range 40 {
			got = append(got, do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil).status)
		}
		return got
	}
	a, b := run(), run()
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	count := map[int]int{}
	for _, st := range a {
		count[st]++
	}
	if count[500] == 0 || count[429] == 0 || count[404] == 0 {
		t.Fatalf("fault mix %v", count)
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	s.RateLimit(2)
	get := func() resp { return do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil) }
	if a, b := get(), get(); a.status != 404 || b.status != 404 {
		t.Fatalf("burst: %d %d", a.status, b.status)
	}
	r := get()
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("over the limit: %d %q", r.status, r.header.Get("Retry-After"))
	}
	clk.Add(500 * time.Millisecond)
	if r := get(); r.status != 404 {
		t.Fatalf("after refill: %d", r.status)
	}
	if r := get(); r.status != 429 {
		t.Fatalf("second after refill: %d", r.status)
	}
	s.RateLimit(0)
	if r := get(); r.status != 404 {
		t.Fatalf("limit off: %d", r.status)
	}
}

func TestLatency(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	s.Latency(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/rest/api/2/issue/OPS-1", nil)
	req.SetBasicAuth(DefaultUser, DefaultToken)
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("no timeout")
	}
	if el := time.Since(start); el > 250*time.Millisecond {
		t.Fatalf("timed out after %v", el)
	}
	s.Latency(0)
	if r := do(t, s, "GET", "/rest/api/2/issue/OPS-1", nil); r.status != 404 {
		t.Fatalf("after latency off: %d", r.status)
	}
}

func TestRequestsAndCount(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	create(t, s, task("x"))
	do(t, s, "GET", "/rest/api/2/search/jql?jql=labels%3Dx", nil)
	call(t, s, "GET", "/rest/api/2/issue/OPS-1", nil, func(r *http.Request) { r.Header.Set("Authorization", "Bearer zzz") })
	reqs := s.Requests()
	if len(reqs) != 3 || reqs[0].Method != "POST" || !strings.Contains(reqs[0].Body, `"summary":"x"`) ||
		reqs[1].Query.Get("jql") != "labels=x" || reqs[0].Auth != "basic" || reqs[2].Auth != "bearer" {
		t.Fatalf("requests %+v", reqs)
	}
	for _, r := range reqs {
		if strings.Contains(fmt.Sprint(r), DefaultToken) {
			t.Fatal("a recorded request holds the token")
		}
	}
	if n := s.Count("GET", "/rest/api/2/"); n != 2 {
		t.Fatalf("Count GET = %d", n)
	}
	if n := s.Count("", "/rest/api/2/issue"); n != 2 {
		t.Fatalf("Count issue = %d", n)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 {
		t.Fatal("ResetRequests")
	}
}

func TestOutOfBandHelpers(t *testing.T) {
	clk := newClock()
	s := New(Options{Now: clk.Now})
	defer s.Close()
	key := create(t, s, task("x"))
	clk.Add(time.Minute)
	if !s.SetStatus(key, "Done") || s.SetStatus("OPS-9", "Done") {
		t.Fatal("SetStatus result")
	}
	is, _ := s.Issue(key)
	if is.Status != "Done" || is.Resolution != "Done" || !is.Updated.Equal(clk.Now()) {
		t.Fatalf("after SetStatus %+v", is)
	}
	pinned := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Edit(key, func(i *Issue) { i.Key = "HACK-1"; i.Summary = "edited"; i.Updated = pinned })
	is, _ = s.Issue(key)
	if is.Key != key || is.Summary != "edited" || !is.Updated.Equal(pinned) {
		t.Fatalf("after Edit %+v", is)
	}
	// Copies do not alias the store.
	is.Labels = append(is.Labels, "mutated")
	if again, _ := s.Issue(key); len(again.Labels) != 0 {
		t.Fatal("Issue returned an alias")
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	var wg sync.WaitGroup
	keys := make(chan string, 40)
	for range 40 {
		wg.Go(func() {
			keys <- create(t, s, task("x", "coe"))
			_ = s.Issues()
			_ = s.Count("POST", "/")
		})
	}
	wg.Wait()
	close(keys)
	seen := map[string]bool{}
	for k := range keys {
		if seen[k] {
			t.Fatalf("duplicate key %s", k)
		}
		seen[k] = true
	}
	if len(seen) != 40 {
		t.Fatalf("%d keys", len(seen))
	}
}

func TestNotTiedToListener(t *testing.T) {
	h := NewHandler(Options{})
	req := httptest.NewRequest("POST", "http://jira.internal/rest/api/2/issue", strings.NewReader(`{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Task"},"summary":"x"}}`))
	req.SetBasicAuth(DefaultUser, DefaultToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 201 || !strings.Contains(rec.Body.String(), `"self":"http://jira.internal/rest/api/2/issue/`) {
		t.Fatalf("handler: %d %s", rec.Code, rec.Body.String())
	}
}
