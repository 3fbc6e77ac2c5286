package jira_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coesync/coesync/connectors/jira"
	"github.com/coesync/coesync/connectors/jira/jiratest"
	"github.com/coesync/coesync/sync/engine"
)

const (
	pathSearchJQL = "/rest/api/2/search/jql"
	pathSearch    = "/rest/api/2/search" // the classic search: 410 on Cloud
	dcToken       = "dc-personal-access-token"
)

// setupDC starts a fake Jira Data Center that accepts only a bearer personal
// access token, and a client with that token and no user.
func setupDC(t testing.TB, so jiratest.Options) (*jiratest.Server, *jira.Client) {
	t.Helper()
	so.DataCenter = true
	so.BearerToken = dcToken
	srv := jiratest.New(so)
	t.Cleanup(srv.Close)
	c, err := jira.New(jira.Options{BaseURL: srv.URL, Token: dcToken, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

// searches splits the recorded search requests by endpoint, and gives the
// startAt of each classic one, from its query (GET) or body (POST).
func searches(t *testing.T, srv *jiratest.Server) (jql, classic int, startAt []int) {
	t.Helper()
	for _, r := range srv.Requests() {
		switch r.Path {
		case pathSearchJQL:
			jql++
		case pathSearch:
			classic++
			at := 0
			if r.Method == "GET" {
				if v := r.Query.Get("startAt"); v != "" {
					at, _ = strconv.Atoi(v)
				}
			} else {
				var b map[string]any
				if err := json.Unmarshal([]byte(r.Body), &b); err != nil {
					t.Fatal(err)
				}
				if _, ok := b["reconcileIssues"]; ok {
					t.Fatalf("classic search sent reconcileIssues: %s", r.Body)
				}
				f, _ := b["startAt"].(float64)
				at = int(f)
			}
			startAt = append(startAt, at)
		}
	}
	return jql, classic, startAt
}

// searchCase is an operation that searches, run against a fake Jira set up
// for it; it returns the keys it found.
type searchCase struct {
	name   string
	method string // of the search requests
	// prepare creates the issues (the fake pages by 2) and returns run.
	prepare func(t *testing.T, srv *jiratest.Server, c *jira.Client, clk *clock) (run func() ([]string, error), want []string)
	pages   int // search pages per run
	gets    int // GET issue requests per run
}

func searchCases() []searchCase {
	ctx := context.Background()
	return []searchCase{
		{
			name: "FindByLabel", method: "GET", pages: 3,
			prepare: func(t *testing.T, srv *jiratest.Server, c *jira.Client, _ *clock) (func() ([]string, error), []string) {
				var want []string
				for i := range 5 {
					want = append(want, mustCreate(t, c, spec(fmt.Sprint("COE ", i), "coe-x")).Key)
				}
				mustCreate(t, c, spec("other", "coe-y"))
				return func() ([]string, error) {
					refs, err := c.FindByLabel(ctx, "coe-x")
					for _, r := range refs {
						if r.URL != srv.URL+"/browse/"+r.Key || r.ID == "" {
							t.Errorf("ref %+v", r)
						}
					}
					return keys(refs), err
				}, want
			},
		},
		{
			name: "Subtasks", method: "POST", pages: 3, gets: 1,
			prepare: func(t *testing.T, _ *jiratest.Server, c *jira.Client, _ *clock) (func() ([]string, error), []string) {
				parent := mustCreate(t, c, spec("COE", "coe"))
				var want []string
				for i := range 5 {
					want = append(want, mustSubtask(t, c, parent.Key, fmt.Sprint("item ", i), actionLabel).Key)
				}
				return func() ([]string, error) {
					items, err := c.Subtasks(ctx, parent.Key)
					for i, it := range items {
						if it.Summary != fmt.Sprint("item ", i) || it.Parent != parent.Key || !it.HasLabel(actionLabel) || it.Status != "To Do" {
							t.Errorf("item %d: %+v", i, it)
						}
					}
					return itemKeys(items), err
				}, want
			},
		},
		{
			name: "LinkedItems", method: "POST", pages: 2, gets: 1,
			prepare: func(t *testing.T, srv *jiratest.Server, c *jira.Client, _ *clock) (func() ([]string, error), []string) {
				cr := mustCreate(t, c, spec("COE", "coe"))
				var want []string
				for i := range 3 {
					k := mustCreate(t, c, spec(fmt.Sprint("item ", i), actionLabel)).Key
					srv.Link(cr.Key, k, "Relates")
					want = append(want, k)
				}
				return func() ([]string, error) {
					items, err := c.LinkedItems(ctx, cr.Key, "Relates", actionLabel)
					return itemKeys(items), err
				}, want
			},
		},
		{
			name: "UpdatedSince", method: "POST", pages: 2,
			prepare: func(t *testing.T, srv *jiratest.Server, c *jira.Client, clk *clock) (func() ([]string, error), []string) {
				var all []string
				for i := range 5 {
					all = append(all, mustCreate(t, c, spec(fmt.Sprint("x", i))).Key)
				}
				clk.Add(2 * time.Hour)
				for _, k := range all[1:4] {
					srv.SetStatus(k, "In Progress")
				}
				since := clk.Now().Add(-time.Minute)
				return func() ([]string, error) {
					items, err := c.UpdatedSince(ctx, "OPS", since)
					for _, it := range items {
						if it.Status != "In Progress" || it.Project != "OPS" {
							t.Errorf("item %+v", it)
						}
					}
					return itemKeys(items), err
				}, all[1:4]
			},
		},
	}
}

// Against Jira Data Center every search falls back to the classic /search,
// paging with startAt, after exactly one 404 from /search/jql per client.
func TestDataCenterSearch(t *testing.T) {
	for _, tt := range searchCases() {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, c := setupDC(t, jiratest.Options{Now: clk.Now, MaxResults: 2})
			run, want := tt.prepare(t, srv, c, clk)
			srv.ResetRequests()
			for i := 1; i <= 3; i++ {
				got, err := run()
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("run %d: %v, want %v", i, got, want)
				}
				jql, classic, startAt := searches(t, srv)
				if jql != 1 {
					t.Fatalf("run %d: %d calls to /search/jql, want the one 404", i, jql)
				}
				if classic != i*tt.pages {
					t.Fatalf("run %d: %d classic searches, want %d", i, classic, i*tt.pages)
				}
				for p, at := range startAt {
					if want := p % tt.pages * 2; at != want {
						t.Fatalf("run %d: startAt %v, want pages of 2", i, startAt)
					}
				}
				if n := srv.Count("GET", "/rest/api/2/issue/"); n != i*tt.gets {
					t.Fatalf("run %d: %d GET issue, want %d", i, n, i*tt.gets)
				}
			}
			for _, r := range srv.Requests() {
				if r.Auth != "bearer" {
					t.Fatalf("%s %s authenticated with %q", r.Method, r.Path, r.Auth)
				}
				if r.Path == pathSearch && r.Method != tt.method {
					t.Fatalf("classic search by %s", r.Method)
				}
			}
		})
	}
}

// Data Center has no reconcileIssues: what its index does not show yet is
// read with GET issue.
func TestDataCenterItemsFallBackToGet(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	srv, c := setupDC(t, jiratest.Options{Now: clk.Now, SearchLag: time.Hour})
	parent := mustCreate(t, c, spec("COE", "coe"))
	var want []string
	for i := range 3 {
		want = append(want, mustSubtask(t, c, parent.Key, fmt.Sprint("item ", i)).Key)
	}
	for _, tt := range []struct {
		name    string
		advance time.Duration
		gets    int // of sub-tasks
	}{
		{"not indexed yet", 0, 3},
		{"indexed", time.Hour, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk.Add(tt.advance)
			srv.ResetRequests()
			items, err := c.Subtasks(ctx, parent.Key)
			if err != nil {
				t.Fatal(err)
			}
			if got := itemKeys(items); !reflect.DeepEqual(got, want) {
				t.Fatalf("sub-tasks %v, want %v", got, want)
			}
			if g := srv.Count("GET", "/rest/api/2/issue/") - 1; g != tt.gets {
				t.Fatalf("%d GETs of sub-tasks, want %d", g, tt.gets)
			}
			if _, classic, _ := searches(t, srv); classic != 1 {
				t.Fatalf("%d classic searches", classic)
			}
		})
	}
}

// Against Jira Cloud the classic /search, which answers 410, is never
// called.
func TestCloudNeverCallsClassicSearch(t *testing.T) {
	for _, tt := range searchCases() {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv, c := setup(t, jiratest.Options{Now: clk.Now, MaxResults: 2})
			run, want := tt.prepare(t, srv, c, clk)
			srv.ResetRequests()
			for i := 1; i <= 2; i++ {
				got, err := run()
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("run %d: %v, want %v", i, got, want)
				}
				if jql, classic, _ := searches(t, srv); jql != i*tt.pages || classic != 0 {
					t.Fatalf("run %d: %d /search/jql and %d /search calls, want %d and 0", i, jql, classic, i*tt.pages)
				}
			}
		})
	}
}

// Only a 404 on the first page of /search/jql switches to /search.
func TestOnlySearchJQL404Switches(t *testing.T) {
	ctx := context.Background()
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	tests := []struct {
		name string
		// fail answers the nth (from 1) /search/jql request instead of the
		// fake, or returns nil to let it through.
		fail     func(n int64, r *http.Request) http.Handler
		wantErr  int // status of the first FindByLabel's error; 0 for none
		kind     engine.ErrorKind
		jql      int // /search/jql calls by the first FindByLabel
		jqlAfter int // and by the second
	}{
		{"500", func(n int64, _ *http.Request) http.Handler {
			if n == 1 {
				return answer(500, `{"errorMessages":["Internal server error"],"errors":{}}`)
			}
			return nil
		}, 500, engine.Retryable, 1, 3},
		{"400", func(n int64, _ *http.Request) http.Handler {
			if n == 1 {
				return answer(400, `{"errorMessages":["Error in the JQL Query"],"errors":{}}`)
			}
			return nil
		}, 400, engine.Permanent, 1, 3},
		{"404 on a later page", func(_ int64, r *http.Request) http.Handler {
			if r.URL.Query().Get("nextPageToken") != "" {
				return answer(404, `{"errorMessages":["Not found"],"errors":{}}`)
			}
			return nil
		}, 404, engine.Permanent, 2, 4},
		// A stray 404 on Cloud: /search answers 410, and the client goes
		// back to /search/jql.
		{"404 then 410", func(n int64, _ *http.Request) http.Handler {
			if n == 1 {
				return answer(404, `{"message":"null for uri","status-code":404}`)
			}
			return nil
		}, 0, 0, 3, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv, c := intercept(t, jiratest.Options{MaxResults: 2}, func(_ *jiratest.Server, next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if isSearch(r) {
						if h := tt.fail(n.Add(1), r); h != nil {
							h.ServeHTTP(w, r)
							return
						}
					}
					next.ServeHTTP(w, r)
				})
			})
			var want []string
			for i := range 3 {
				want = append(want, mustCreate(t, c, spec(fmt.Sprint("COE ", i), "coe")).Key)
			}
			srv.ResetRequests()

			refs, err := c.FindByLabel(ctx, "coe")
			if tt.wantErr != 0 {
				if engine.StatusOf(err) != tt.wantErr {
					t.Fatalf("error %v, want status %d", err, tt.wantErr)
				}
				if k, _ := engine.Classify(err); k != tt.kind {
					t.Fatalf("error %v is %v, want %v", err, k, tt.kind)
				}
			} else if err != nil || !reflect.DeepEqual(keys(refs), want) {
				t.Fatalf("%v %v, want %v", keys(refs), err, want)
			}
			if got := n.Load(); got != int64(tt.jql) {
				t.Fatalf("%d /search/jql calls, want %d", got, tt.jql)
			}
			// The next search goes to /search/jql, which now answers.
			if tt.name == "404 on a later page" {
				tt.fail = func(int64, *http.Request) http.Handler { return nil }
			}
			refs, err = c.FindByLabel(ctx, "coe")
			if err != nil || !reflect.DeepEqual(keys(refs), want) {
				t.Fatalf("second search: %v %v, want %v", keys(refs), err, want)
			}
			if got := n.Load(); got != int64(tt.jqlAfter) {
				t.Fatalf("%d /search/jql calls in all, want %d", got, tt.jqlAfter)
			}
			wantClassic := 0
			if tt.name == "404 then 410" {
				wantClassic = 1
			}
			if _, classic, _ := searches(t, srv); classic != wantClassic {
				t.Fatalf("%d /search calls, want %d", classic, wantClassic)
			}
		})
	}
}

// A failure of the classic search keeps its classification and does not
// send the client back to /search/jql.
func TestDataCenterSearchErrors(t *testing.T) {
	ctx := context.Background()
	srv, c := setupDC(t, jiratest.Options{})
	mustCreate(t, c, spec("COE", "coe"))
	if _, err := c.FindByLabel(ctx, "coe"); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, 503, 0)
	_, err := c.FindByLabel(ctx, "coe")
	if k, _ := engine.Classify(err); k != engine.Retryable || engine.StatusOf(err) != 503 {
		t.Fatalf("503: %v", err)
	}
	if _, err := c.UpdatedSince(ctx, "NOPE", time.Time{}); engine.StatusOf(err) != 400 {
		t.Fatalf("unknown project: %v", err)
	}
	if jql, classic, _ := searches(t, srv); jql != 1 || classic != 3 {
		t.Fatalf("%d /search/jql and %d /search calls, want 1 and 3", jql, classic)
	}
}
