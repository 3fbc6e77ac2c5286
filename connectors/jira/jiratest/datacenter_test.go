package jiratest

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// classicPage is a Data Center /rest/api/2/search answer.
type classicPage struct {
	StartAt    *int `json:"startAt"`
	MaxResults *int `json:"maxResults"`
	Total      *int `json:"total"`
	Issues     []struct {
		Key    string
		Fields map[string]any
	}
}

func (p classicPage) keys() []string {
	out := []string{}
	for _, is := range p.Issues {
		out = append(out, is.Key)
	}
	return out
}

func classicSearch(t *testing.T, s *Server, method, jql string, startAt int, fields ...string) (resp, classicPage) {
	t.Helper()
	var r resp
	if method == "GET" {
		q := url.Values{"jql": {jql}, "startAt": {fmt.Sprint(startAt)}}
		if fields != nil {
			q.Set("fields", strings.Join(fields, ","))
		}
		r = do(t, s, "GET", "/rest/api/2/search?"+q.Encode(), nil)
	} else {
		body := map[string]any{"jql": jql, "startAt": startAt}
		if fields != nil {
			body["fields"] = fields
		}
		r = do(t, s, "POST", "/rest/api/2/search", body)
	}
	var p classicPage
	if r.status == http.StatusOK {
		r.json(t, &p)
		if p.StartAt == nil || p.MaxResults == nil || p.Total == nil || p.Issues == nil {
			t.Fatalf("not a classic search page: %s", r.body)
		}
	}
	return r, p
}

func TestDataCenterHasNoSearchJQL(t *testing.T) {
	s := New(Options{DataCenter: true})
	defer s.Close()
	for _, tt := range []struct{ method, path string }{
		{"GET", "/rest/api/2/search/jql?jql=project%3DOPS"},
		{"POST", "/rest/api/2/search/jql"},
		{"GET", "/rest/api/3/search/jql?jql=project%3DOPS"},
		{"POST", "/rest/api/3/search"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := do(t, s, tt.method, tt.path, map[string]any{"jql": "project = OPS"})
			var body struct {
				Message string `json:"message"`
				Status  int    `json:"status-code"`
			}
			r.json(t, &body)
			if r.status != http.StatusNotFound || body.Status != 404 || !strings.HasPrefix(body.Message, "null for uri: "+s.URL) {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}

func TestDataCenterClassicSearch(t *testing.T) {
	clk := newClock()
	s := New(Options{DataCenter: true, Now: clk.Now, MaxResults: 2, SearchLag: 5 * time.Second})
	defer s.Close()
	var all []string
	for i := range 5 {
		all = append(all, create(t, s, task(fmt.Sprint("t", i), "coe")))
	}
	create(t, s, task("other", "not-coe"))
	clk.Add(5 * time.Second)
	late := create(t, s, task("too new to be indexed", "coe"))
	id := func(key string) string { is, _ := s.Issue(key); return is.ID }

	tests := []struct {
		name    string
		jql     string
		startAt int
		fields  []string
		status  int
		keys    []string
		total   int
		msg     string
	}{
		{"first page", "labels = coe ORDER BY created ASC", 0, []string{"summary"}, 200, all[:2], 5, ""},
		{"second page", "labels = coe ORDER BY created ASC", 2, []string{"summary"}, 200, all[2:4], 5, ""},
		{"last page", "labels = coe ORDER BY created ASC", 4, []string{"summary"}, 200, all[4:], 5, ""},
		{"past the end", "labels = coe", 9, []string{"summary"}, 200, []string{}, 5, ""},
		{"negative startAt", "labels = coe", -3, []string{"summary"}, 200, all[:2], 5, ""},
		{"order", "labels = coe ORDER BY key DESC", 0, []string{"summary"}, 200, []string{all[4], all[3]}, 5, ""},
		{"navigable fields by default", "labels = coe", 0, nil, 200, all[:2], 5, ""},
		{"id in", "id in (" + id(all[1]) + ", " + id(all[0]) + ")", 0, []string{"summary"}, 200, all[:2], 2, ""},
		{"unknown project", "project = NOPE", 0, nil, 400, nil, 0, "does not exist for the field 'project'"},
		{"unsupported JQL", "labels in (coe)", 0, nil, 400, nil, 0, "Error in the JQL Query"},
	}
	for _, method := range []string{"GET", "POST"} {
		for _, tt := range tests {
			t.Run(method+" "+tt.name, func(t *testing.T) {
				r, p := classicSearch(t, s, method, tt.jql, tt.startAt, tt.fields...)
				if r.status != tt.status {
					t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
				}
				if tt.status != 200 {
					if msgs, _ := r.errs(t); len(msgs) != 1 || !strings.Contains(msgs[0], tt.msg) {
						t.Fatalf("messages %q, want %q", msgs, tt.msg)
					}
					return
				}
				if got := p.keys(); !reflect.DeepEqual(got, tt.keys) {
					t.Fatalf("keys %v, want %v", got, tt.keys)
				}
				if *p.Total != tt.total || *p.StartAt != max(tt.startAt, 0) || *p.MaxResults != 2 {
					t.Fatalf("startAt %d maxResults %d total %d", *p.StartAt, *p.MaxResults, *p.Total)
				}
				for _, is := range p.Issues {
					if is.Fields["summary"] == nil || (tt.fields != nil) != (is.Fields["status"] == nil) {
						t.Fatalf("fields %v for asked %v", is.Fields, tt.fields)
					}
				}
			})
		}
	}

	// SearchLag applies as on /search/jql.
	clk.Add(4 * time.Second)
	if _, p := classicSearch(t, s, "GET", "labels = coe", 4); !reflect.DeepEqual(p.keys(), all[4:]) || *p.Total != 5 {
		t.Fatalf("lagging search: %v total %d", p.keys(), *p.Total)
	}
	clk.Add(time.Second)
	if _, p := classicSearch(t, s, "GET", "labels = coe", 4); !reflect.DeepEqual(p.keys(), []string{all[4], late}) || *p.Total != 6 {
		t.Fatalf("indexed search: %v total %d", p.keys(), *p.Total)
	}
}

func TestDataCenterClassicSearchRefuses(t *testing.T) {
	s := New(Options{DataCenter: true})
	defer s.Close()
	create(t, s, task("x", "coe"))
	for _, tt := range []struct {
		name, method, path string
		body               any
		msg                string
	}{
		{"reconcileIssues", "POST", "/rest/api/2/search", map[string]any{"jql": "labels = coe", "reconcileIssues": []int{10000}}, `Unrecognized field "reconcileIssues"`},
		{"nextPageToken", "POST", "/rest/api/2/search", map[string]any{"jql": "labels = coe", "nextPageToken": "x"}, `Unrecognized field "nextPageToken"`},
		{"not JSON", "POST", "/rest/api/2/search", "{", "Invalid request payload"},
		{"string startAt", "POST", "/rest/api/2/search", map[string]any{"jql": "labels = coe", "startAt": "2"}, "Invalid request payload"},
		{"bad startAt", "GET", "/rest/api/2/search?jql=labels%3Dcoe&startAt=x", nil, "'startAt'"},
		{"bad maxResults", "GET", "/rest/api/2/search?jql=labels%3Dcoe&maxResults=x", nil, "'maxResults'"},
		{"unbounded", "GET", "/rest/api/2/search", nil, "Unbounded JQL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, s, tt.method, tt.path, tt.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if msgs, _ := r.errs(t); len(msgs) != 1 || !strings.Contains(msgs[0], tt.msg) {
				t.Fatalf("messages %q, want %q", msgs, tt.msg)
			}
		})
	}
}

func TestDataCenterBearerSearch(t *testing.T) {
	s := New(Options{DataCenter: true, BearerToken: "pat"})
	defer s.Close()
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	if r := call(t, s, "GET", "/rest/api/2/search?jql=project%3DOPS", nil, bearer("pat")); r.status != 200 {
		t.Fatalf("bearer: %d %s", r.status, r.body)
	}
	if r := call(t, s, "GET", "/rest/api/2/search?jql=project%3DOPS", nil, bearer("wrong")); r.status != 401 {
		t.Fatalf("wrong bearer: %d %s", r.status, r.body)
	}
	if r := do(t, s, "GET", "/rest/api/2/search?jql=project%3DOPS", nil); r.status != 401 {
		t.Fatalf("basic: %d %s", r.status, r.body)
	}
}
